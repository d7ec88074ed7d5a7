"""The `riskshare` command line.

    riskshare samples                          list the bundled sample systems
    riskshare reconcile PATH_OR_SAMPLE [--xlsx OUT] [--unrealistic-pct 1.0] [--basis turnover]
    riskshare template OUT.xlsx                write the blank input workbook
    riskshare presets                          list the preset agreements in models/
    riskshare apply MODEL SYSTEM [--xlsx OUT]  apply an agreement (preset name or .toml)
    riskshare explain MODEL SYSTEM ORG_ID      one member's ledger, variance to final
    riskshare simulate MODEL SYSTEM [-n N] [--shock NAME] [--xlsx OUT]   risk across scenarios
    riskshare compare SYSTEM MODEL MODEL [...] [--xlsx OUT]            agreements side by side
    riskshare optimise SYSTEM [--agreement MODEL] [--objective NAME] [--max-charge PCT] ...
                                               an optimised allocation, shadow prices in words
    riskshare fairness MODEL SYSTEM [-n N] [--risk-aversion L] [--xlsx OUT]
                                               participation certificate and fair shares
    riskshare in-year SYSTEM [MONTHLY] [--month M] [--forecast plan|run_rate|submitted]
                     [--phasing even|winter_acute|winter_for_acute]
                     [--agreement MODEL] [-n N] [--seed S] [--xlsx OUT]
                                               the year to date, forecast outturn, support by
                                               quarter and where the year will land
    riskshare risks SYSTEM [REGISTER] [--agreement MODEL] [-n N] [--seed S]
                    [--mode add|instead] [--event-correlation R] [--xlsx OUT]
                                               the risk-adjusted forecast, the reserve needed
                                               to meet the SCT and which items matter most
    riskshare sessions                         list the bundled workshop sessions
    riskshare report SESSION [--xlsx OUT] [--html OUT] [--pdf OUT]
                                               a workshop session's Excel and printable reports

Errors in what was asked for (a bad file, option or value) print one clear message, every
problem listed, and exit with status 2. Anything else is a bug in riskshare: it is reported as an
internal error (exit status 1), with the traceback under `riskshare --debug ...`.

Everything the user wrote (member names, agreement names, session titles) is printed literally:
the consoles interpret no markup or emoji codes, so "[north site]" prints as written.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import cast

import typer
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from riskshare.agreements import describe
from riskshare.agreements.incentives import incentives as measure_incentives
from riskshare.agreements.outcome import SYSTEM_LINES, Outcome
from riskshare.agreements.outcome import apply as apply_agreement
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.agreements.risk import compare, risk_table, worse_off
from riskshare.agreements.spec import Agreement, load_agreement
from riskshare.core import samples as _samples
from riskshare.core.errors import RiskshareError, visible
from riskshare.core.forecast import METHOD_WORDS as METHOD_WORDS_FORECAST
from riskshare.core.forecast import QUARTERS
from riskshare.core.format import money, money_m, named, pct
from riskshare.core.io import load_system, open_workbook
from riskshare.core.monthly import (
    MONTHLY_FILE,
    MONTHLY_SHEET,
    WORKBOOK_TYPES,
    Monthly,
    load_monthly,
)
from riskshare.core.register import REGISTER_FILE, REGISTER_SHEET, Register, load_register
from riskshare.core.schema import read_number
from riskshare.core.sources import exists, is_dir, read_bytes
from riskshare.core.sources import short as _short
from riskshare.core.system import System
from riskshare.core.write import template_workbook
from riskshare.games import certificate
from riskshare.games.certificate import describe_group
from riskshare.inyear import Landing, in_year, landing
from riskshare.inyear.position import SYSTEM_ROW, month_name
from riskshare.optimisation.optimise import OBJECTIVES, Constraints, optimise
from riskshare.reconciliation.rebalance import METHOD_WORDS, rebalance
from riskshare.reconciliation.reconcile import DEFAULT_UNREALISTIC_PCT, reconcile
from riskshare.reports.workbooks import (
    write_allocation,
    write_compare,
    write_fairness,
    write_in_year,
    write_outcome,
    write_projection,
    write_reconciliation,
    write_risks,
    write_scenarios,
)
from riskshare.risks import rank_items, reserve_needed, risk_adjusted
from riskshare.risks.adjusted import SYSTEM_ROW as RISKS_SYSTEM_ROW
from riskshare.risks.reserve import ReserveSizing
from riskshare.scenarios.simulate import REGISTER_MODES, simulate

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Reconcile NHS system and organisational control totals and test "
                       "risk-share agreements. Money in £; surplus +, deficit −.")
# Literal text only: Rich markup ("[bold]") and emoji codes (":x:") in a user's names must
# neither vanish nor crash, so styling is applied with Text objects (`bold`), never markup.
out = Console(soft_wrap=False, width=140, markup=False, emoji=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)
_debug = False


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="On an internal error (a bug "
                                        "in riskshare), print the Python traceback.")) -> None:
    """Reconcile NHS system and organisational control totals and test risk-share
    agreements. Money in £; surplus +, deficit −."""
    global _debug
    _debug = debug


def bold(head: str, tail: str = "") -> Text:
    """`head` in bold followed by `tail`, both printed exactly as written."""
    return Text.assemble((str(head), "bold"), str(tail))


class OutputFileError(RiskshareError):
    """An output file that cannot be written (no such folder, no permission)."""


def write_to(path: Path, write) -> None:
    """Run `write(path)`, turning a failure to write into one message naming the file."""
    try:
        write(path)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    out.print(f"Wrote {path}")


def warn(system: System) -> System:
    """Print the warnings a system loaded with (on stderr) and return it."""
    for w in system.warnings:
        err.print(Text.assemble(("Warning: ", "bold yellow"), str(w)))
    return system


class UsageProblem(RiskshareError):
    """A command-line argument that cannot be used."""


def resolve_system(target: str) -> System:
    """A sample name, or a path to a folder, .csv, .toml or .xlsx."""
    if target in _samples.SAMPLES:
        return _samples.load_sample(target)
    path = Path(target)
    if not exists(path):
        raise UsageProblem(f"'{_short(target)}' is neither a sample ({', '.join(_samples.SAMPLES)}) nor "
                           "an existing file or folder")
    return warn(load_system(path))


def _table(title: str, columns: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False, header_style="bold")
    for name, justify in columns:
        # every table here is built from "left"/"right" literals; rich wants its Literal type
        table.add_column(name, justify=cast(JustifyMethod, justify))
    return table


@app.command("samples")
def samples_cmd() -> None:
    """List the bundled sample systems."""
    cat = _samples.catalogue()
    table = _table("Bundled sample systems (load with: riskshare reconcile NAME)",
                   [("name", "left"), ("members", "right"), ("title", "left"),
                    ("description", "left")])
    for name, row in cat.iterrows():
        table.add_row(name, str(row["members"]), row["title"], row["description"])
    out.print(table)


@app.command("reconcile")
def reconcile_cmd(
    target: str = typer.Argument(..., metavar="PATH_OR_SAMPLE",
                                 help="A sample name, or a system folder, .csv, .toml or .xlsx."),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write the results to this "
                                        ".xlsx workbook."),
    unrealistic_pct: float = typer.Option(DEFAULT_UNREALISTIC_PCT, "--unrealistic-pct",
                                          help="Flag an OCT as unrealistic when the forecast is "
                                               "adverse by more than this % of turnover."),
    basis: str = typer.Option("turnover", "--basis", help="Rebalancing basis: a numeric column "
                              "or 'equal'."),
    method: str = typer.Option("basis", "--method", help="Rebalancing method: "
                               + "; ".join(f"{k} ({v})" for k, v in METHOD_WORDS.items())),
    keep: list[str] | None = typer.Option(None, "--keep", help="With an optimised method: a "
                                             "member whose OCT must not change (repeatable)."),
    max_change: float | None = typer.Option(None, "--max-change", help="With an optimised "
                                               "method: no OCT moves by more than this % of "
                                               "turnover."),
    ring_fence: list[str] | None = typer.Option(None, "--ring-fence", help="With an optimised "
                                                   "method: ORG_ID=growth %: its mh_spend stays "
                                                   "≥ mh_spend_last_year × (1 + growth); a "
                                                   "higher OCT falls on it pro rata to "
                                                   "mh_spend / turnover (repeatable)."),
) -> None:
    """Reconcile organisational control totals with the system control total."""
    system = resolve_system(target)
    rec = reconcile(system, unrealistic_pct=unrealistic_pct)
    reb = rebalance(system, method=method, basis=basis, keep=keep or (), max_change=max_change,
                    ring_fence=_pairs(ring_fence, "--ring-fence", "percent") or None)

    out.print(bold(system.label, f" — {system.n} members"))
    st = _table("Reconciliation statement", [("line", "left"), ("£m", "right")])
    for _, row in rec.statement.iterrows():
        st.add_row(row["label"], money_m(row["amount"], 2))
    out.print(st)

    mt = _table("Members (variance = forecast − control total)",
                [("org_id", "left"), ("name", "left"), ("OCT", "right"), ("forecast", "right"),
                 ("variance", "right"), ("% turnover", "right"), ("flag", "left"),
                 ("revised OCT", "right"), ("change", "right")])
    for org_id, r in rec.orgs.iterrows():
        flag = ", ".join(w for w, on in (("UNREALISTIC", r["unrealistic"]),
                                         ("outside SCT", not r["in_sct"])) if on)
        mt.add_row(org_id, r["name"], money_m(r["control_total"], 2), money_m(r["forecast"], 2),
                   money_m(r["variance"], 2), pct(r["variance_pct"], 2), flag,
                   money_m(reb.revised[org_id], 2), money_m(reb.table.loc[org_id, "change"], 2,
                                                            sign=True))
    out.print(mt)
    out.print(reb.describe())
    outside = system.outside_members
    out.print(f"Revised OCTs {'inside the SCT ' if outside else ''}sum to {money(reb.total, 2)}, "
              f"the SCT {money(system.control_total, 2)}."
              + (f" Outside the SCT, {named(outside)} "
                 f"{'keeps its OCT' if len(outside) == 1 else 'keep their OCTs'}."
                 if outside else ""))
    out.print("")
    for sentence in rec.flags:
        out.print(f"• {sentence}")
    _print_underlying(system)

    if xlsx is not None:
        out.print("")
        write_to(xlsx, lambda p: write_reconciliation(rec, reb, p))


def _print_underlying(system: System) -> None:
    """Reported against underlying (the forecast less its one-offs), when a member has one."""
    from riskshare.years.underlying import SYSTEM_ROW, underlying

    if not (system.orgs["non_recurrent"] > 0).any():
        return
    under = underlying(system)
    out.print("")
    t = _table("Reported and underlying (£m; underlying = forecast − non-recurrent benefit; "
               "against each member's OCT, the SYSTEM row against the SCT)",
               [("org_id", "left"), ("forecast", "right"), ("non-recurrent", "right"),
                *[(c, "right") for c in under.lines], ("underlying", "right"),
                ("reported vs OCT", "right"), ("underlying vs OCT", "right"),
                ("flag", "left")])
    for org_id, r in under.table.iterrows():
        t.add_row(str(org_id), money_m(r["forecast"], 2), money_m(r["non_recurrent"], 2),
                  *[money_m(r[c], 2) for c in under.lines], money_m(r["underlying"], 2),
                  money_m(r["forecast_vs_control_total"], 2, sign=True),
                  money_m(r["underlying_vs_control_total"], 2, sign=True),
                  "one-offs only" if r["one_offs_only"] and org_id != SYSTEM_ROW
                  else "" if not r["one_offs_only"] else "SCT met only through one-offs")
    out.print(t)
    for sentence in under.sentences():
        out.print(f"• {sentence}")


@app.command("template")
def template_cmd(path: Path = typer.Argument(..., help="Where to write the blank .xlsx.")) -> None:
    """Write the blank input workbook (sheets organisations, system and a column guide)."""
    write_to(path, lambda p: p.write_bytes(template_workbook()))


def resolve_agreement(model: str) -> Agreement:
    """A preset name, or a path to an agreement .toml."""
    if model in list_presets():
        return load_preset(model)
    if not model.strip():
        return load_agreement(model)        # says the text is empty
    path = Path(model)
    if not exists(path):
        raise UsageProblem(f"'{_short(model)}' is neither a preset ({', '.join(list_presets())}) nor an "
                           "existing .toml file")
    return load_agreement(path)


@app.command("presets")
def presets_cmd() -> None:
    """List the preset agreements (models/) and the sample each is designed for."""
    table = _table("Preset agreements (apply with: riskshare apply NAME SAMPLE)",
                   [("name", "left"), ("sample", "left"), ("agreement", "left")])
    for name in list_presets():
        a = load_preset(name)
        table.add_row(name, a.sample, bold(a.name, f"\n{a.description}"))
    out.print(table)


@app.command("apply")
def apply_cmd(
    model: str = typer.Argument(..., metavar="MODEL", help="A preset name or an agreement .toml."),
    target: str = typer.Argument(..., metavar="SYSTEM",
                                 help="A sample name, or a system folder, .csv, .toml or .xlsx."),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write the results to this "
                                        ".xlsx workbook."),
) -> None:
    """Apply a risk-share agreement to a system: where every pound goes, and incentives."""
    agreement = resolve_agreement(model)
    system = resolve_system(target)
    outcome = apply_agreement(agreement, system)
    inc = measure_incentives(agreement, system)
    out.print(bold(describe.title(agreement), f" on {system.label}"))
    # what it does, from the parameters in force (the name and description are the user's)
    out.print(describe.summary(agreement), highlight=False, markup=False)
    if describe.edited(agreement):
        out.print(describe.EDITED_NOTE, highlight=False, markup=False)
    cols = [("org_id", "left"), ("variance", "right"), ("pooled", "right"),
            ("retained", "right"), ("received", "right"), ("outturn", "right"),
            ("support", "right"), ("final", "right"), ("standalone", "right"),
            ("vs alone", "right")]
    t = _table("Members (£m; variance = forecast − control total)", cols)
    for org_id, r in outcome.table.iterrows():
        t.add_row(org_id, *(money_m(r[c], 2) for c in ("variance", "pooled", "retained",
                                                       "received", "outturn", "support_earned",
                                                       "final", "standalone")),
                  money_m(r["vs_standalone"], 2, sign=True))
    out.print(t)
    _print_system_lines(outcome)
    it = _table("Incentives (of one more £1 saved / lost, the share the member keeps / bears)",
                [("org_id", "left"), ("keeps of a gain", "right"), ("bears of a loss", "right"),
                 ("support per £", "right"), ("cliff exposure", "right")])
    for org_id, r in inc.table.iterrows():
        it.add_row(org_id, f"{r['retention_gain']:.2f}", f"{r['retention_loss']:.2f}",
                   f"{r['support_per_pound']:.2f}", money_m(r["cliff_exposure"], 2))
    out.print(it)
    worse = inc.worse_off
    out.print("Worse off than on their own: " + (", ".join(worse) if worse else "nobody") + ".")
    if xlsx is not None:
        write_to(xlsx, lambda p: write_outcome(outcome, inc, p))


@app.command("explain")
def explain_cmd(
    model: str = typer.Argument(..., metavar="MODEL", help="A preset name or an agreement .toml."),
    target: str = typer.Argument(..., metavar="SYSTEM", help="A sample name or a system file."),
    org_id: str = typer.Argument(..., metavar="ORG_ID", help="The member to explain."),
) -> None:
    """Explain, in plain English, one member's path from variance to final position."""
    system = resolve_system(target)
    if org_id not in system.members:
        raise UsageProblem(f"'{org_id}' is not a member of {system.label} (members: "
                           f"{', '.join(system.members)})")
    out.print(apply_agreement(resolve_agreement(model), system).explain(org_id),
              highlight=False, markup=False)


def _scenarios(system, n, seed, correlation, kind_correlation, distribution, df, shocks,
               volatility_scale):
    return simulate(system, n, seed=seed, correlation=correlation,
                    kind_correlation=kind_correlation, distribution=distribution, df=df,
                    shocks=shocks or (), volatility_scale=volatility_scale)


def _progress(description: str):
    """A rich progress bar on stderr and the callback that feeds it."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn(description), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                   TimeElapsedColumn(), console=err, transient=True)
    task = bar.add_task(description, total=1)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


_N = typer.Option(10_000, "-n", "--scenarios", help="Number of scenarios.")
_SEED = typer.Option(0, "--seed", help="Random seed (same seed, same numbers).")
_CORR = typer.Option(0.3, "--correlation", help="Correlation between members (0–1).")
_KCORR = typer.Option(0.0, "--kind-correlation", help="Extra correlation within a kind.")
_DIST = typer.Option("normal", "--distribution", help="normal or t.")
_DF = typer.Option(5.0, "--df", help="Degrees of freedom for the t distribution (> 2).")
_SHOCK = typer.Option(None, "--shock", help="A shock preset or .toml (repeatable).")
_VSCALE = typer.Option(1.0, "--volatility-scale", help="Multiply every volatility by this.")
_XLSX = typer.Option(None, "--xlsx", help="Also write the results to this .xlsx workbook.")


@app.command("simulate")
def simulate_cmd(
    model: str = typer.Argument(..., metavar="MODEL", help="A preset name or an agreement .toml."),
    target: str = typer.Argument(..., metavar="SYSTEM", help="A sample name or a system file."),
    n: int = _N, seed: int = _SEED, correlation: float = _CORR, kind_correlation: float = _KCORR,
    distribution: str = _DIST, df: float = _DF, shock: list[str] | None = _SHOCK,
    volatility_scale: float = _VSCALE, xlsx: Path | None = _XLSX,
) -> None:
    """Simulate scenarios and show each member's risk under an agreement."""
    agreement = resolve_agreement(model)
    system = resolve_system(target)
    scenarios = _scenarios(system, n, seed, correlation, kind_correlation, distribution, df,
                           shock, volatility_scale)
    bar, update = _progress("Applying the agreement")
    with bar:
        table = risk_table(agreement, system, scenarios, progress=update)
    out.print(bold(agreement.name, f" on {system.label}: {scenarios.describe()}"))
    _print_risk(table, "Risk by member (£m; mean final: the final position itself; VaR/CVaR "
                       "at 95% of final − control total, SYSTEM against ΣOCT; P(miss): SYSTEM "
                       "against the SCT)")
    if xlsx is not None:
        write_to(xlsx, lambda p: write_scenarios(table, scenarios, agreement, p, system))


def _print_risk(table, title: str) -> None:
    t = _table(title, [("org_id", "left"), ("mean final", "right"), ("s.d.", "right"),
                       ("alone s.d.", "right"), ("P(miss)", "right"), ("P(lose support)", "right"),
                       ("P(worse off)", "right"), ("VaR95", "right"), ("CVaR95", "right"),
                       ("tail share", "right")])
    for org_id, r in table.iterrows():
        t.add_row(org_id, money_m(r["mean_final"], 2), money_m(r["sd_final"], 2),
                  money_m(r["sd_standalone"], 2), _p(r["p_miss_control_total"]),
                  _p(r["p_lose_support"]), _p(r["p_worse_off"]), money_m(r["var95"], 2),
                  money_m(r["cvar95"], 2), money_m(r["tail_contribution"], 2))
    out.print(t)


def _p(x) -> str:
    return "" if x != x else f"{100 * x:.1f}%"


@app.command("compare")
def compare_cmd(
    target: str = typer.Argument(..., metavar="SYSTEM", help="A sample name or a system file."),
    models: list[str] = typer.Argument(..., metavar="MODEL...",
                                       help="Two or more presets or agreement .toml files."),
    n: int = _N, seed: int = _SEED, correlation: float = _CORR, kind_correlation: float = _KCORR,
    distribution: str = _DIST, df: float = _DF, shock: list[str] | None = _SHOCK,
    volatility_scale: float = _VSCALE, xlsx: Path | None = _XLSX,
) -> None:
    """Compare agreements on the same scenarios: risk, participation and incentives."""
    agreements = [resolve_agreement(m) for m in models]
    system = resolve_system(target)
    scenarios = _scenarios(system, n, seed, correlation, kind_correlation, distribution, df,
                           shock, volatility_scale)
    bar, update = _progress("Comparing agreements")
    with bar:
        table = compare(agreements, system, scenarios, progress=update)
    out.print(f"{system.label}: {scenarios.describe()}")
    for name, part in table.groupby("agreement", sort=False):
        _print_risk(part.set_index("org_id"), name)
    worse = table[worse_off(table)]
    for name, part in worse.groupby("agreement", sort=False):
        out.print(f"Under {name}, more often worse off than alone: "
                  + ", ".join(part["org_id"]) + ".")
    if xlsx is not None:
        write_to(xlsx, lambda p: write_compare(table, scenarios, p, system))


def _pairs(values: list[str] | None, option: str, unit: str = "money") -> dict:
    """['NGH=2000000', ...] -> {'NGH': 2000000.0}; a clear message for anything else. `unit`
    "money" reads £ (e.g. NGH=2000000); "percent" reads a growth % (e.g. ICB=4.4, ≥ 0)."""
    money_unit = unit == "money"
    form, example = (("ORG_ID=AMOUNT in £", "NGH=2000000") if money_unit
                     else ("ORG_ID=GROWTH in % (a number ≥ 0)", "ICB=4.4"))
    shown = (lambda x: money(x)) if money_unit else (lambda x: f"{x:g}%")
    out_: dict = {}
    for text in values or []:
        org, sep, amount = text.partition("=")
        number, why = read_number(amount.replace("_", ""), "money" if money_unit else "percent")
        bad = number is None or number != number or (not money_unit and number < 0)
        if not sep or not org.strip() or bad:
            reason = (f": the {'amount' if money_unit else 'growth'} {why}"
                      if sep and org.strip() and why else
                      ": growth cannot be negative" if sep and org.strip() and not money_unit
                      and number is not None and number < 0 else "")
            raise UsageProblem(f"{option} expects {form} (e.g. {example}), got '{text}'{reason}")
        if org.strip() in out_:
            raise UsageProblem(f"{option} gives {org.strip()} twice ({shown(out_[org.strip()])} "
                               f"and {shown(number)}): give each member once")
        out_[org.strip()] = number
    return out_


def _constraints_from(file: Path | None, **given) -> dict:
    data: dict = {}
    if file is not None:
        from riskshare.core.sources import parse_toml, read_text
        data = parse_toml(read_text(file, "constraints file"), file.name)
        data = data.get("constraints", data)
    for key, value in given.items():
        # by identity: a cap, floor or pool of 0 is a condition (0 == False, so `in` would drop it)
        if value is not None and value is not False and not (isinstance(value, dict)
                                                              and not value):
            data[key] = value
    return data


@app.command("optimise")
def optimise_cmd(
    target: str = typer.Argument(..., metavar="SYSTEM", help="A sample name or a system file."),
    agreement: str | None = typer.Option(None, "--agreement", "-a", help="Start from this "
                                            "agreement's pooled amounts (preset or .toml); "
                                            "default: none, pure transfers between members."),
    objective: str = typer.Option("minimax_shortfall", "--objective", "-o", help="One of: "
                                  + ", ".join(OBJECTIVES)),
    pool: float | None = typer.Option(None, "--pool", help="£ the transfers sum to."),
    max_charge: float | None = typer.Option(None, "--max-charge", help="% of turnover: most "
                                               "any member is charged."),
    max_charge_gbp: float | None = typer.Option(None, "--max-charge-gbp", help="£: most any "
                                                   "member is charged."),
    max_award: float | None = typer.Option(None, "--max-award", help="% of turnover: most "
                                              "any member is awarded."),
    max_award_gbp: float | None = typer.Option(None, "--max-award-gbp", help="£: most any "
                                                  "member is awarded."),
    min_retention: float | None = typer.Option(None, "--min-retention", help="0–1: each "
                                                  "member keeps at least this share of its "
                                                  "favourable variance."),
    floor: float | None = typer.Option(None, "--floor", help="% of turnover: final − control "
                                          "total is at least this (e.g. -1)."),
    floor_gbp: float | None = typer.Option(None, "--floor-gbp", help="£: final − control "
                                              "total is at least this."),
    fixed: list[str] | None = typer.Option(None, "--fixed", help="ORG_ID=£ received, fixed "
                                              "(repeatable)."),
    no_worse: bool = typer.Option(False, "--no-worse-than-standalone", help="Every member ends "
                                  "at least as well off as on its own."),
    system_ct: bool = typer.Option(False, "--system-meets-control-total", help="The system's "
                                   "outturn meets the system control total."),
    ring_fence: list[str] | None = typer.Option(None, "--ring-fence", help="ORG_ID=growth %: "
                                                   "its mh_spend stays ≥ mh_spend_last_year × "
                                                   "(1 + growth); a net charge falls on it pro "
                                                   "rata to mh_spend / turnover (repeatable)."),
    constraints_file: Path | None = typer.Option(None, "--constraints", help="A .toml file "
                                                    "of constraint keys (options override it)."),
    alternatives: int = typer.Option(0, "--alternatives", help="Also find up to this many "
                                     "materially different allocations."),
    slack: float = typer.Option(0.05, "--slack", help="Alternatives within this fraction of the "
                                "optimum (0.05 = 5%)."),
    solver: str = typer.Option("highs", "--solver", help="highs or cbc."),
    xlsx: Path | None = _XLSX,
) -> None:
    """Optimise how the pool is shared: objective, conditions, shadow prices and alternatives."""
    system = resolve_system(target)
    chosen = resolve_agreement(agreement) if agreement else None
    constraints = Constraints.from_dict(_constraints_from(
        constraints_file, pool=pool, max_charge=max_charge, max_charge_gbp=max_charge_gbp,
        max_award=max_award, max_award_gbp=max_award_gbp, min_retention=min_retention,
        floor=floor, floor_gbp=floor_gbp, fixed=_pairs(fixed, "--fixed"),
        no_worse_than_standalone=no_worse, system_meets_control_total=system_ct,
        ring_fence=_pairs(ring_fence, "--ring-fence", "percent")))
    result = optimise(system, chosen, objective=objective, constraints=constraints,
                      solver=solver)
    alts = result.alternatives(alternatives, slack) if alternatives else []
    out.print(bold(OBJECTIVES[objective].label, f" on {system.label}"
                   + (f" starting from “{chosen.name}”" if chosen else "")))
    out.print(f"{result.value_text()} — {result.status.solver.upper()} "
              f"{result.status.status} in {result.seconds:.2f} s")
    t = _table("Members (£m; position = outturn − control total; net transfer = from the "
               "pool − pooled)",
               [("org_id", "left"), ("variance", "right"), ("pooled", "right"),
                ("from the pool", "right"), ("net transfer", "right"), ("position", "right"),
                ("position %", "right"), ("support", "right"), ("final", "right"),
                ("vs alone", "right")])
    for org_id, r in result.table.iterrows():
        t.add_row(org_id, money_m(r["variance"], 2), money_m(r["pooled"], 2),
                  money_m(r["received"], 2), money_m(r["net_transfer"], 2, sign=True),
                  money_m(r["outturn"] - r["control_total"], 2), pct(-r["shortfall_pct"], 2),
                  money_m(r["support_earned"], 2), money_m(r["final"], 2),
                  money_m(r["vs_standalone"], 2, sign=True))
    out.print(t)
    if result.binding:
        out.print(bold("Binding conditions"))
        for b in result.binding:
            out.print(f"• {b.text}", highlight=False)
    if result.shadow_prices:
        out.print(bold("Shadow prices"))
        for p in result.shadow_prices:
            out.print(f"• {p.sentence}", highlight=False)
    if result.note:
        out.print(result.note, highlight=False)
    if result.boundary_warning:
        out.print(bold("Across the SCT boundary: ") + result.boundary_warning, highlight=False)
    if alternatives:
        out.print(bold(f"Alternatives within {slack:.0%} of the optimum",
                       " (received from the pool, £m; − = pays in)"))
        at = _table("",
                    [("org_id", "left"), ("optimum", "right")]
                    + [(f"alt {k}", "right") for k in range(1, len(alts) + 1)])
        for org_id in system.members:
            at.add_row(org_id, money_m(result.received[org_id], 2),
                       *(money_m(a.received[org_id], 2) for a in alts))
        out.print(at)
        for k, a in enumerate(alts, start=1):
            out.print(f"alt {k}: {a.value_text()}", highlight=False)
        if len(alts) < alternatives:
            out.print(f"Found {len(alts)} materially different allocation(s) of the "
                      f"{alternatives} asked for.")
    if xlsx is not None:
        write_to(xlsx, lambda p: write_allocation(result, p, alts))


@app.command("fairness")
def fairness_cmd(
    model: str = typer.Argument(..., metavar="MODEL", help="A preset name or an agreement .toml."),
    target: str = typer.Argument(..., metavar="SYSTEM", help="A sample name or a system file."),
    n: int = typer.Option(0, "-n", "--scenarios", help="Judge across this many scenarios "
                          "(0: at the forecast)."),
    risk_aversion: float = typer.Option(0.5, "--risk-aversion", help="With scenarios: 0 judges "
                                        "by the average year, 1 by the worst 5% of years."),
    seed: int = _SEED, correlation: float = _CORR, kind_correlation: float = _KCORR,
    distribution: str = _DIST, df: float = _DF, shock: list[str] | None = _SHOCK,
    volatility_scale: float = _VSCALE,
    show: int = typer.Option(10, "--violations", help="List at most this many coalitions "
                             "that would be better off alone."),
    allow_long: bool = typer.Option(False, "--allow-long", help="Run even when the estimate "
                                    "is above the time budget (60 s, or RISKSHARE_TIME_BUDGET)."),
    xlsx: Path | None = _XLSX,
) -> None:
    """Participation certificate: would any member or group do better in a smaller deal of its
    own, and how do the Shapley value and nucleolus split the gain from pooling?"""
    if n < 0:
        raise UsageProblem("--scenarios must be 0 (the forecast) or a positive number")
    agreement = resolve_agreement(model)
    system = resolve_system(target)
    if n > 0:
        from riskshare.games.pooling import check_time, duration, estimate_seconds
        if not allow_long:
            check_time(system.n, n)     # refused before a single scenario is drawn
        seconds = estimate_seconds(system.n, n)
        if seconds >= 5:
            err.print(f"Estimated time: {duration(seconds)}.")
    scenarios = None if n == 0 else _scenarios(system, n, seed, correlation, kind_correlation,
                                               distribution, df, shock, volatility_scale)
    cert = certificate(system, agreement, scenarios, risk_aversion=risk_aversion,
                       max_seconds=math.inf if allow_long else None)
    out.print(bold(agreement.name, f" on {system.label}"
                   + (f": {scenarios.describe()}" if scenarios is not None else "")))
    for line in cert.summary():
        out.print(line, highlight=False)
    fair = cert.fair
    labels = [("alone", "alone"), ("agreement", "agreement"), ("shapley", "Shapley")]
    labels += [(fair, fair)] if fair else []
    labels += [("least_core", "least core")] if "least_core" in cert.table else []
    t = _table("Members (£m): final position alone, under the agreement and under the fair "
               "allocations; gain = over alone",
               [("org_id", "left"), *((label, "right") for _, label in labels),
                ("agreement gain", "right"), ("Shapley gain", "right")]
               + ([(f"{fair} gain", "right")] if fair else []))
    for org_id, r in cert.table.iterrows():
        t.add_row(org_id, *(money_m(r[c], 2) for c, _ in labels),
                  money_m(r["gain_agreement"], 2, sign=True),
                  money_m(r["gain_shapley"], 2, sign=True),
                  *([money_m(r[f"gain_{fair}"], 2, sign=True)] if fair else []))
    out.print(t)
    if len(cert.violations):
        v = _table(f"Better off on their own ({len(cert.violations):,}; worst "
                   f"{min(show, len(cert.violations))} shown, £m)",
                   [("coalition", "left"), ("size", "right"), ("on its own", "right"),
                    ("under the agreement", "right"), ("shortfall", "right")])
        for _, r in cert.violations.head(max(show, 0)).iterrows():
            v.add_row(describe_group(r["players"], system.members), str(r["size"]),
                      money_m(r["value"], 2),
                      money_m(r["allocation"], 2), money_m(r["shortfall"], 2))
        out.print(v)
    if xlsx is not None:
        write_to(xlsx, lambda p: write_fairness(cert, p))


def resolve_monthly(target: str, given: str | None, system: System,
                    phasing: str = "even") -> Monthly:
    """The monthly table: MONTHLY when `given` (a .csv, an .xlsx workbook's monthly sheet or a
    system folder's monthly.csv), else the one that comes with SYSTEM (a sample's bundled
    table; a folder's monthly.csv, or the monthly.csv beside a .csv or .toml; a workbook's
    monthly sheet). Members without plans are phased by `phasing`. UsageProblem when there is
    none."""
    if given is not None:
        if not exists(Path(given)):
            raise UsageProblem(f"MONTHLY '{_short(given)}' is not an existing .csv file, .xlsx "
                               "workbook or system folder")
        return load_monthly(Path(given), system, phasing)
    if target in _samples.SAMPLES:
        monthly = _samples.sample_monthly(target, system, phasing)
        if monthly is not None:
            return monthly
        where = f"the sample {target} comes with none"
    else:
        path = Path(target)
        if path.suffix.lower() in WORKBOOK_TYPES and not is_dir(path):
            book = open_workbook(read_bytes(path, "system workbook"), path.name)
            try:
                sheets = [name.strip().lower() for name in book.sheetnames]
            finally:
                book.close()
            if MONTHLY_SHEET in sheets:
                return load_monthly(path, system, phasing)
            where = f"{_short(target)} has no '{MONTHLY_SHEET}' sheet"
        else:
            folder = path if is_dir(path) else path.parent
            if exists(folder / MONTHLY_FILE):
                return load_monthly(folder / MONTHLY_FILE, system, phasing)
            where = (f"{_short(target)} holds no {MONTHLY_FILE}" if is_dir(path) else
                     f"there is no {MONTHLY_FILE} beside {_short(target)}")
    raise UsageProblem(f"no monthly table for {system.label}: {where}. Give one as MONTHLY "
                       f"(a .csv file, an .xlsx workbook with a '{MONTHLY_SHEET}' sheet, or a "
                       f"system folder holding {MONTHLY_FILE}; columns org_id, month, plan, "
                       "actual, forecast)")


@app.command("in-year")
def in_year_cmd(
    target: str = typer.Argument(..., metavar="SYSTEM", help="A sample name (with its bundled "
                                 "monthly table), or a system folder (its monthly.csv), .csv, "
                                 ".toml or .xlsx workbook (its monthly sheet)."),
    monthly_file: str | None = typer.Argument(None, metavar="MONTHLY", help="A monthly .csv, "
                                              "an .xlsx workbook with a monthly sheet, or a "
                                              "system folder holding monthly.csv (instead of "
                                              "SYSTEM's own)."),
    month: int | None = typer.Option(None, "--month", "-m", help="The months closed, 0–12 "
                                      "(April is 1); default the latest closed by every "
                                      "member."),
    forecast: str = typer.Option("plan", "--forecast", help="How the months to come are "
                                 "forecast: " + "; ".join(f"{k} ({v})" for k, v in
                                                          METHOD_WORDS_FORECAST.items())),
    agreement: str | None = typer.Option(None, "--agreement", "-a", help="Apply this agreement "
                                         "(preset or .toml) at the in-year forecast: support "
                                         "by quarter, the outcome and where the year lands."),
    n: int = typer.Option(10_000, "-n", "--scenarios", help="With --agreement: scenarios of the "
                          "months to come for where the year lands (0: skip)."),
    phasing: str = typer.Option("even", "--phasing", help="How a member with no monthly plan "
                                "has its control total phased: even, winter_acute (every "
                                "member) or winter_for_acute (acute trusts; even for the "
                                "others)."),
    seed: int = _SEED,
    xlsx: Path | None = _XLSX,
) -> None:
    """The year month by month: year to date against plan, forecast outturn and flags per
    member and for the system, sentences for a board paper; with --agreement, support by
    quarter, the outcome at the forecast and where the year will land."""
    if n < 0:
        raise UsageProblem("--scenarios must be 0 (skip where the year lands) or a positive "
                           "number")
    chosen = resolve_agreement(agreement) if agreement else None
    system = resolve_system(target)
    monthly = resolve_monthly(target, monthly_file, system, phasing)
    iy = in_year(system, monthly, month=month, forecast=forecast)
    out.print(bold(system.label, f" — in year at {month_name(iy.month)}; forecast outturn: "
                   f"{METHOD_WORDS_FORECAST[iy.method]}"))
    if monthly.phased:
        many = len(monthly.phased) > 1
        out.print(f"No monthly plan given for {named(list(monthly.phased))}: "
                  + ("their control totals are" if many else "its control total is")
                  + f" phased ({monthly.profile}).")
    if monthly.uneven():
        out.print(f"Note: {monthly.uneven()}")
    t = _table("Year to date and forecast outturn (£m; + ahead of plan or better than the "
               "control total; SYSTEM: the members inside the SCT, against the SCT)",
               [("org_id", "left"), ("plan to date", "right"), ("actual to date", "right"),
                ("variance", "right"), ("% of plan", "right"), ("forecast", "right"),
                ("vs control total", "right"), ("moved in the month", "right"),
                ("moved since month 6", "right")])
    for org_id, r in iy.table.iterrows():
        t.add_row(str(org_id), money_m(r["ytd_plan"], 2), money_m(r["ytd_actual"], 2),
                  _decisive_m(r["ytd_variance"]),
                  pct(r["ytd_variance_pct"], 1, sign=True), money_m(r["forecast"], 2),
                  money_m(r["forecast_variance"], 2, sign=True),
                  money_m(r["movement_month"], 2, sign=True),
                  money_m(r["movement_m6"], 2, sign=True))
    out.print(t)
    flagged = iy.table[iy.table["flags"] != ""]
    out.print(bold("Flags", "" if len(flagged) else ": none"))
    for org_id, r in flagged.iterrows():
        who = "" if org_id == SYSTEM_ROW else f" ({r['name']})"
        out.print(bold(f"• {org_id}", f"{who}: {r['flags']}"))
    out.print(bold("For the board paper"))
    for sentence in iy.sentences():
        out.print(f"• {sentence}")
    outcome = land = None
    if chosen is not None:
        outcome = apply_agreement(chosen, system, monthly=iy)
        _print_in_year_outcome(outcome, system)
        if n > 0:
            land = landing(system, monthly, chosen, month=iy.month, forecast=iy.method, n=n,
                           seed=seed)
            _print_landing(land, quarterly=chosen.support.period == "quarter")
    if xlsx is not None:
        out.print("")
        write_to(xlsx, lambda p: write_in_year(iy, outcome, land, p))


def _print_in_year_outcome(outcome: Outcome, system: System) -> None:
    """The agreement at the in-year forecast: what it does, support by quarter (when judged by
    quarter), each member's outcome and the system lines."""
    agreement = outcome.agreement
    out.print("")
    out.print(bold(describe.title(agreement), " at the in-year forecast"))
    out.print(describe.summary(agreement))
    quarters = outcome.quarters
    if not quarters.empty:
        staked = quarters.groupby(level="org_id", sort=False)["at_stake"].sum()
        shown = [m for m in system.members if staked[m] > 0] or list(system.members)
        on_system = agreement.support.test == "system"
        q = _table("Support by quarter (£m; judged on the year to date at the month shown, "
                   + ("the system's inside the SCT, against the SCT phased" if on_system
                      else "the member's against its plan to date") + ")",
                   [("org_id", "left"), ("quarter", "left"), ("judged at", "left"),
                    ("on", "left"), ("variance to date", "right"), ("at stake", "right"),
                    ("earned", "right"), ("lost", "right")])
        for org_id in shown:
            for k, (quarter, r) in enumerate(quarters.loc[org_id].iterrows()):
                judged = int(r["judged_month"])
                q.add_row(str(org_id) if k == 0 else "", str(quarter),
                          "in advance" if judged == 0 else f"month {judged}",
                          str(r["judged_on"]),
                          "" if judged == 0 else _decisive_m(r["ytd_variance"]),
                          money_m(r["at_stake"], 2), money_m(r["earned"], 2),
                          money_m(r["lost"], 2))
        out.print(q)
    t = _table("Members at the in-year forecast (£m; variance = forecast outturn − control "
               "total)",
               [("org_id", "left"), ("variance", "right"), ("net transfer", "right"),
                ("outturn", "right"), ("support earned", "right"), ("final", "right"),
                ("vs alone", "right")])
    for org_id, r in outcome.table.iterrows():
        t.add_row(str(org_id), money_m(r["variance"], 2),
                  money_m(r["net_transfer"], 2, sign=True), money_m(r["outturn"], 2),
                  money_m(r["support_earned"], 2), money_m(r["final"], 2),
                  money_m(r["vs_standalone"], 2, sign=True))
    out.print(t)
    _print_system_lines(outcome)


def _decisive_m(pounds: float) -> str:
    """A variance that decides a test, in £m with its sign: to two decimals, or to the
    thousand pounds when it would show as £0.00m (−£2,899 is "-£0.003m", not "£0.00m")."""
    if 0 < abs(pounds) < 5_000:
        return f"{'-' if pounds < 0 else '+'}£{abs(pounds) / 1e6:.3f}m"
    return money_m(pounds, 2, sign=True)


def _print_system_lines(outcome) -> None:
    """The outcome's system lines (SYSTEM_LINES) as a two-column table in £m."""
    st = _table("System", [("line", "left"), ("£m", "right")])
    for key, label in SYSTEM_LINES.items():
        st.add_row(label, money_m(outcome.system[key], 2))
    out.print(st)


def _print_landing(land: Landing, quarterly: bool) -> None:
    """Where the year lands: the chance of meeting the control total (and of earning each
    quarter's support) and the spread of the year-end final position."""
    out.print("")
    out.print(bold("Where the year will land", f": {land.scenarios.describe()}"))
    quarters = [f"p_{q.lower()}" for q in QUARTERS] if quarterly else []
    t = _table("Year-end final position (£m, after the risk share and support); P(meet): of "
               "meeting the control total (SYSTEM: the SCT)"
               + ("; P(Qk): of earning all of quarter k's support" if quarterly else ""),
               [("org_id", "left"), ("P(meet)", "right")]
               + [(f"P({c[2:].upper()})", "right") for c in quarters]
               + [("p5", "right"), ("median", "right"), ("p95", "right"),
                  ("mean support", "right")])
    for org_id, r in land.table.iterrows():
        t.add_row(str(org_id), _p(r["p_meet"]), *(_p(r[c]) for c in quarters),
                  money_m(r["p5"], 2), money_m(r["p50"], 2), money_m(r["p95"], 2),
                  money_m(r["mean_support"], 2))
    out.print(t)


def _sheet_names(path: Path, what: str) -> list[str]:
    """The sheet names of workbook `path`, trimmed and in lower case."""
    book = open_workbook(read_bytes(path, what), path.name)
    try:
        return [name.strip().lower() for name in book.sheetnames]
    finally:
        book.close()


def resolve_register(target: str, given: str | None, system: System) -> tuple[Register, str]:
    """(the risk register, where it came from in words): REGISTER when `given` (a .csv, an
    .xlsx workbook's risks sheet or a system folder's risks.csv), else the one that comes with
    SYSTEM (a sample's bundled risks.csv; a folder's risks.csv, or the risks.csv beside a .csv
    or .toml; a workbook's risks sheet). UsageProblem when there is none."""
    if given is not None:
        if not exists(Path(given)):
            raise UsageProblem(f"REGISTER '{_short(given)}' is not an existing .csv file, .xlsx "
                               "workbook or system folder")
        return load_register(Path(given), system), _short(given)
    if target in _samples.SAMPLES:
        register = _samples.sample_register(target, system)
        if register is not None:
            return register, f"{target}'s bundled {REGISTER_FILE}"
        where = f"the sample {target} comes with none"
    else:
        path = Path(target)
        if path.suffix.lower() in WORKBOOK_TYPES and not is_dir(path):
            if REGISTER_SHEET in _sheet_names(path, "system workbook"):
                return load_register(path, system), f"{_short(target)}, sheet '{REGISTER_SHEET}'"
            where = f"{_short(target)} has no '{REGISTER_SHEET}' sheet"
        else:
            folder = path if is_dir(path) else path.parent
            if exists(folder / REGISTER_FILE):
                return (load_register(folder / REGISTER_FILE, system),
                        _short(folder / REGISTER_FILE))
            where = (f"{_short(target)} holds no {REGISTER_FILE}" if is_dir(path) else
                     f"there is no {REGISTER_FILE} beside {_short(target)}")
    raise UsageProblem(f"no risk register for {system.label}: {where}. Give one as REGISTER "
                       f"(a .csv file, an .xlsx workbook with a '{REGISTER_SHEET}' sheet, or a "
                       f"system folder holding {REGISTER_FILE}; columns org_id, item, type, "
                       "amount, probability and optionally group and recurrent)")


#: How many events the ranking prints (the workbook holds them all).
RANKING_SHOWN = 10


@app.command("risks")
def risks_cmd(
    target: str = typer.Argument(..., metavar="SYSTEM", help="A sample name (with its bundled "
                                 "risks.csv), or a system folder (its risks.csv), .csv, .toml "
                                 "or .xlsx workbook (its risks sheet)."),
    register_file: str | None = typer.Argument(None, metavar="REGISTER", help="A risk "
                                               "register .csv, an .xlsx workbook with a risks "
                                               "sheet, or a system folder holding risks.csv "
                                               "(instead of SYSTEM's own)."),
    agreement: str = typer.Option("standalone", "--agreement", "-a", help="The agreement "
                                  "(preset or .toml) the reserve is sized under and the items "
                                  "ranked under."),
    n: int = typer.Option(10_000, "-n", "--scenarios", help="Scenarios for the reserve needed "
                          "and the ranking (0: the risk-adjusted forecast only)."),
    seed: int = _SEED,
    mode: str = typer.Option("add", "--mode", help="How the register's events are drawn: add "
                             "(on top of the members' volatility) or instead (the events "
                             "alone)."),
    event_correlation: float = typer.Option(0.0, "--event-correlation", help="Correlation "
                                            "between the register's events, 0–1 (0: "
                                            "independent)."),
    xlsx: Path | None = _XLSX,
) -> None:
    """The risk-adjusted forecast from the system's own register of risks and mitigations,
    per member and for the system, with sentences for a board paper; unless -n 0, the system
    reserve needed to meet the SCT at 80/90/95% under an agreement, each member's part in it,
    and which risks and mitigations matter most."""
    if n < 0:
        raise UsageProblem("--scenarios must be 0 (the risk-adjusted forecast only) or a "
                           "positive number")
    if mode not in REGISTER_MODES:
        raise UsageProblem(f"--mode must be add (the events on top of the volatility) or "
                           f"instead (the events alone), not '{visible(mode)}'")
    if not 0.0 <= event_correlation <= 1.0:     # NaN fails too
        raise UsageProblem(f"--event-correlation must lie from 0 to 1, not {event_correlation:g}")
    chosen = resolve_agreement(agreement)
    system = resolve_system(target)
    register, source = resolve_register(target, register_file, system)
    adjusted = risk_adjusted(system, register)
    k = len(register.table)
    risks, mitigations = len(register.risks), len(register.mitigations)
    out.print(bold(system.label, f" — risk register: {source}; {k:,} item{'s' if k != 1 else ''} "
                   f"({risks:,} risk{'s' if risks != 1 else ''}, {mitigations:,} mitigation"
                   f"{'s' if mitigations != 1 else ''})"))
    _print_risk_adjusted(adjusted, system)
    sizing = ranking = scenarios = None
    if n > 0:
        scenarios = simulate(system, n, seed=seed, register=register, register_mode=mode,
                             event_correlation=event_correlation)
        sizing = reserve_needed(system, scenarios, chosen)
        _print_reserve(sizing, system, scenarios.describe())
        ranking = rank_items(system, register, chosen, n=n, seed=seed, register_mode=mode,
                             event_correlation=event_correlation)
        _print_ranking(ranking, n)
    if xlsx is not None:
        out.print("")
        write_to(xlsx, lambda p: write_risks(adjusted, sizing, ranking, p, scenarios, source))


def _print_risk_adjusted(adjusted, system: System) -> None:
    """The risk-adjusted table (per member and SYSTEM) and the sentences for a board paper."""
    t = _table("Risk-adjusted forecast (£m; expected = amount × probability; risk-adjusted = "
               "forecast − net risk; vs control total: risk-adjusted − control total, + better; "
               "SYSTEM: the members inside the SCT, against the SCT)",
               [("org_id", "left"), ("forecast", "right"), ("gross risk", "right"),
                ("expected risk", "right"), ("expected mitigation", "right"),
                ("net risk", "right"), ("risk-adjusted", "right"), ("worst", "right"),
                ("best", "right"), ("risk-adjusted vs control total", "right")])
    table = adjusted.table
    order = [i for i in table.index if i != RISKS_SYSTEM_ROW] + [RISKS_SYSTEM_ROW]
    for org_id in order:
        r = table.loc[org_id]
        t.add_row(str(org_id), *(money_m(r[c], 2) for c in (
            "forecast", "gross_risk", "expected_risk", "expected_mitigation", "net_risk",
            "risk_adjusted", "worst", "best")),
            money_m(r["risk_adjusted_vs_control_total"], 2, sign=True))
    out.print(t)
    out.print("Worst: every risk happens and only the mitigations certain to happen; best: no "
              "risk happens and every mitigation does.")
    if system.outside_members:
        out.print(f"Outside the SCT (in the table, not in SYSTEM): "
                  f"{named(system.outside_members)}.")
    out.print(bold("For the board paper"))
    for sentence in adjusted.sentences():
        out.print(f"• {sentence}")


def _print_reserve(sizing: ReserveSizing, system: System, recipe: str) -> None:
    """The reserve needed at each level and each member's part in it."""
    agreement = sizing.agreement
    out.print("")
    out.print(bold("Reserve needed to meet the SCT", f" under {describe.title(agreement)}: "
                   f"{recipe}"))
    lt = _table(f"System reserve (£m) so the system meets its SCT in a share of the "
                f"{sizing.n:,} scenario{'s' if sizing.n != 1 else ''} (the system's position: "
                "its outturn inside the SCT "
                "after the risk share, before support, − the SCT)",
                [("meets the SCT in", "left"), ("reserve", "right"),
                 ("scenarios meeting the SCT without it", "right"),
                 ("with it", "right")])
    for p, r in sizing.levels.iterrows():
        lt.add_row(f"{p:.0%}", money_m(r["reserve"], 2), _p(r["share_meeting_without"]),
                   _p(r["share_meeting_with"]))
    out.print(lt)
    labels = [f"{round(p * 100):d}" for p in sizing.levels.index]
    mt = _table(f"Each member's part in the reserve at each level (£m; Euler: its contribution, "
                f"its share of the system's shortfall near the quantile across the {sizing.n:,} "
                "scenarios; funded by basis: by turnover inside the SCT; by contribution: by "
                "the positive contributions)",
                [("org_id", "left")]
                + [(f"{q}%\n{what}", "right") for q in labels
                   for what in ("Euler", "by basis", "by contribution")])
    members = sizing.members
    inside = [m for m, on in zip(system.members, system.inside, strict=True) if on]
    for org_id in inside:
        mt.add_row(str(org_id), *(money_m(members.at[org_id, f"{col}_{q}"], 2)
                                  for q in labels
                                  for col in ("contribution", "by_basis", "by_contribution")))
    mt.add_row("total", *(money_m(members[f"{col}_{q}"].sum(), 2) for q in labels
                          for col in ("contribution", "by_basis", "by_contribution")))
    out.print(mt)
    if system.outside_members:
        out.print(f"Outside the SCT, {named(system.outside_members)} take"
                  f"{'s' if len(system.outside_members) == 1 else ''} no part in the reserve.")


def _print_ranking(ranking, n: int) -> None:
    """The events that matter most: effect on P(meet the SCT) and on the mean position."""
    shown = ranking.head(RANKING_SHOWN)
    out.print("")
    if ranking.empty:
        out.print("Which items matter most: the register has no items to rank.")
        return
    t = _table(f"Which items matter most: each event's effect on the chance the system meets "
               f"its SCT and on its mean position against the SCT, with the event − without, "
               f"across {n:,} scenario{'s' if n != 1 else ''} (top {len(shown):,} of "
               f"{len(ranking):,}; a group's items "
               "happen together)",
               [("rank", "right"), ("event", "left"), ("type", "left"), ("amount", "right"),
                ("probability", "right"), ("P(meet SCT), points", "right"),
                ("mean vs SCT", "right")])
    for k, (_, r) in enumerate(shown.iterrows(), start=1):
        t.add_row(str(k), str(r["event"]), str(r["type"]), money_m(r["amount"], 2),
                  f"{100 * r['probability']:.4g}%", _points(r["delta_p_meet"]),
                  money_m(r["delta_mean"], 2, sign=True))
    out.print(t)


def _points(change: float) -> str:
    """A change in a chance in percentage points, signed ("+3.8", "-2.0"; "0.0" unsigned)."""
    text = f"{100 * change:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def resolve_rules(target: str, given: str | None, system: System):
    """The projection rules: RULES when given (a bundled name or a .toml file), else the
    bundled rules of the sample SYSTEM names. UsageProblem when there are none."""
    from riskshare.years.rules import list_rules, load_rules

    if given is None:
        if target in list_rules():
            return load_rules(target, system)
        raise UsageProblem(f"give RULES for {system.label}: a rules .toml file, or one of the "
                           f"bundled rules ({', '.join(list_rules())})")
    if given not in list_rules() and not exists(Path(given)):
        raise UsageProblem(f"RULES '{_short(given)}' is neither bundled rules "
                           f"({', '.join(list_rules())}) nor an existing .toml file")
    return load_rules(given if given in list_rules() else Path(given), system)


@app.command("project")
def project_cmd(
    target: str = typer.Argument(..., metavar="SYSTEM", help="A sample name, or a system "
                                 "folder, .csv, .toml or .xlsx workbook."),
    rules_file: str | None = typer.Argument(None, metavar="RULES", help="Projection rules: "
                                            "a .toml file or bundled rules (default: the "
                                            "sample's own)."),
    years: int | None = typer.Option(None, "--years", help="The horizon, 1–10 years "
                                     "(default: the rules' own)."),
    agreement: str | None = typer.Option(None, "--agreement", "-a", help="An agreement (preset "
                                         "or .toml) applied year by year, with its [carry]."),
    register_file: str | None = typer.Option(None, "--register", help="A risk register (.csv, "
                                             ".xlsx or a system folder); default: the "
                                             "system's own, if it has one."),
    no_register: bool = typer.Option(False, "--no-register", help="Leave the risk register "
                                     "out."),
    n: int = typer.Option(0, "-n", "--scenarios", help="Scenarios over the years (0: the plan "
                          "alone)."),
    seed: int = _SEED,
    xlsx: Path | None = _XLSX,
) -> None:
    """The years ahead: each member rolled forward from its underlying position under the
    rules (savings, growth, cost pressure, one-offs that continue, repayments, recurrent
    risks), as a bridge to each year's plan; with an agreement, applied year by year with its
    carry and participation over the horizon; capital consequences; across scenarios."""
    from riskshare.years.project import project, within_budget

    if n < 0:
        raise UsageProblem("--scenarios must be 0 (the plan alone) or a positive number")
    if no_register and register_file is not None:
        raise UsageProblem("give --register or --no-register, not both")
    chosen = resolve_agreement(agreement) if agreement is not None else None
    system = resolve_system(target)
    rules = resolve_rules(target, rules_file, system)
    register = None
    if not no_register:
        if register_file is not None:
            register, _ = resolve_register(target, register_file, system)
        else:
            try:
                register, _ = resolve_register(target, None, system)
            except UsageProblem:
                register = None
    if n > 0:        # refused before anything is drawn, not after
        within_budget(n, system.n, years if years is not None else rules.years)
    scenarios = (simulate(system, n, seed=seed, register=register) if n > 0 else None)
    p = project(system, rules, years=years, agreement=chosen, register=register,
                scenarios=scenarios)
    used = ("no risk register" if register is None else
            f"{int(register.table['recurrent'].sum()):,} recurrent register item"
            f"{'s' if int(register.table['recurrent'].sum()) != 1 else ''}")
    out.print(bold(system.label, f" — the years ahead: {rules.name}; {p.years} year"
                   f"{'s' if p.years != 1 else ''} from {p.labels[0]}; {used}"))
    _print_projection(p)
    if scenarios is not None:
        _print_projection_risk(p, scenarios.describe())
    out.print(bold("For the board paper"))
    for sentence in p.sentences():
        out.print(f"• {sentence}")
    if xlsx is not None:
        out.print("")
        write_to(xlsx, lambda path: write_projection(p, path, scenarios))


def _print_projection(p) -> None:
    from riskshare.years.project import step_words
    from riskshare.years.rules import capital_words
    from riskshare.years.underlying import SYSTEM_ROW as YEARS_SYSTEM_ROW

    bridge = p.bridge_table(YEARS_SYSTEM_ROW)
    t = _table(f"Bridge for the {'system inside the SCT' if p.system.outside_members else 'system'}"
               " (£m): from the underlying position to each year's plan",
               [("step", "left"), *[(label, "right") for label in p.labels]])
    levels = {step_words("opening"), step_words("planned"), p.target(),
              "support at stake (not in the plan)"}
    for _, r in bridge.iterrows():
        t.add_row(str(r["step"]), *(money_m(r[label], 2, sign=r["step"] not in levels)
                                    for label in p.labels))
    out.print(t)
    members = [m for m in p.system.members]
    t = _table(f"Members' planned positions (£m; in brackets: − the {p.target('member')}, "
               "+ better)",
               [("org_id", "left"), *[(label, "right") for label in p.labels]])
    for m in members:
        rows = p.of(m)
        t.add_row(m + ("" if p.system.in_sct[m] else " (outside the SCT)"),
                  *(f"{money_m(r['planned'], 2)} ({money_m(r['planned_vs_control_total'], 2, sign=True)})"
                    for _, r in rows.iterrows()))
    out.print(t)
    if p.agreement is not None:
        part = p.participation
        t = _table(f"Under {describe.title(p.agreement)} (£m): final position each year (after "
                   "sharing, with support earned); over the horizon discounted at "
                   f"{p.rules.discount_rate:g}% a year, in the agreement against alone",
                   [("org_id", "left"), *[(label, "right") for label in p.labels],
                    ("discounted: agreement", "right"), ("alone", "right"),
                    ("agreement − alone", "right"), ("", "left")])
        for m in members:
            rows = p.of(m)
            r = part.loc[m]
            t.add_row(m, *(money_m(v, 2) for v in rows["final"]),
                      money_m(r["discounted_final"], 2), money_m(r["discounted_standalone"], 2),
                      money_m(r["vs_standalone"], 2, sign=True),
                      "better off outside" if r["better_off_outside"] else "")
        out.print(t)
        if p.carry is not None:
            t = _table("Carried over the years (£m; carried and written off in the position's "
                       "sign, − a shortfall; applied: into later control totals, + raised)",
                       [("org_id", "left"), ("carried", "right"), ("written off to the pool",
                                                                  "right"),
                        ("applied within the horizon", "right"), ("beyond it", "right")])
            for m, r in p.carry.iterrows():
                t.add_row(str(m), *(money_m(r[c], 2, sign=True) for c in
                                    ("carried", "written_off", "applied", "beyond")))
            out.print(t)
    if p.capital is not None:
        c = p.capital
        t = _table(f"Capital (£m): the envelope less a penalty or plus a bonus — "
                   f"{capital_words(p.rules.capital)}",
                   [("year", "left"), ("who", "left"), ("plan", "right"), ("envelope", "right"),
                    ("penalty", "right"), ("bonus", "right"), ("capital", "right")])
        for (_, who), r in c.iterrows():
            t.add_row(str(r["year_label"]), str(who), money_m(r["planned_position"], 2),
                      money_m(r["envelope"], 2), money_m(r["penalty"], 2),
                      money_m(r["bonus"], 2, sign=True), money_m(r["capital"], 2))
        out.print(t)


def _print_projection_risk(p, recipe: str) -> None:
    from riskshare.years.underlying import SYSTEM_ROW as YEARS_SYSTEM_ROW

    out.print("")
    out.print(bold("Across scenarios", f": {recipe}; each year's shocks persist into the years "
                   "after, and of the register only its recurrent items reach the years ahead "
                   "(drawn once, they persist)"))
    r = p.risk.xs(YEARS_SYSTEM_ROW, level="org_id")
    t = _table("The system inside the SCT by year (£m)",
               [("year", "left"), ("planned", "right"), ("mean", "right"),
                ("standard deviation", "right"), (f"P(short of the {p.target()})", "right")])
    planned = p.of(YEARS_SYSTEM_ROW)["planned"]
    for year, row in r.iterrows():
        t.add_row(str(row["year_label"]), money_m(planned.loc[year], 2),
                  money_m(row["mean_position"], 2), money_m(row["sd_position"], 2),
                  _p(row["p_short"]))
    out.print(t)
    if p.horizon_risk is not None:
        t = _table("Each member over the horizon (£m; gain = discounted Σ (final in the "
                   "agreement − alone))",
                   [("org_id", "left"), ("mean gain", "right"), ("5th percentile", "right"),
                    ("P(worse off)", "right")])
        for m, row in p.horizon_risk.iterrows():
            t.add_row(str(m), money_m(row["mean_gain"], 2, sign=True),
                      money_m(row["p5_gain"], 2, sign=True), _p(row["p_worse_off"]))
        out.print(t)


@app.command("sessions")
def sessions_cmd() -> None:
    """List the bundled example workshop sessions."""
    from riskshare.workshop.session import list_sessions, load_session

    t = _table("Workshop sessions (report with: riskshare report NAME --xlsx OUT --html OUT)",
               [("name", "left"), ("system", "left"), ("steps", "right"), ("title", "left")])
    for name in list_sessions():
        s = load_session(name)
        t.add_row(name, s.system.label, str(len(s.steps)), s.title)
    out.print(t)


@app.command("report")
def report_cmd(
    session_file: str = typer.Argument(..., metavar="SESSION", help="A bundled session name or "
                                       "a session .toml file."),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Write the Excel report here."),
    html: Path | None = typer.Option(None, "--html", help="Write the printable HTML report "
                                        "here."),
    pdf: Path | None = typer.Option(None, "--pdf", help="Also print it to PDF here (needs "
                                       "Chromium)."),
) -> None:
    """A workshop session's reports: every step's figures and findings, as prepared (the
    selected step with its what-if changes), printed; with --xlsx/--html/--pdf, also written."""
    from riskshare.workshop import printable
    from riskshare.workshop.report import write_session_report
    from riskshare.workshop.session import load_session
    from riskshare.workshop.steps import views as step_views

    given = [p for p in (xlsx, html, pdf) if p is not None]
    if len({p.resolve() for p in given}) != len(given):
        raise UsageProblem("--xlsx, --html and --pdf name the same file: give each its own, or "
                           "one would overwrite the other")
    for p in given:             # before anything is worked out or written: all or nothing
        if p.is_dir() or not p.parent.is_dir():
            raise UsageProblem(f"cannot write {p}: "
                               + ("it is a folder" if p.is_dir() else "no such folder"))
    session = load_session(session_file)
    views = step_views(session)
    out.print(bold(session.title, f" — {session.system.label}, {len(views)} steps"))
    for v in views:
        out.print(bold(f"\n{v.number}. {v.title}"))
        for f in v.figures:
            out.print(f"  {f.label}: {f.text}"
                      + (f" ({f.delta})" if f.delta else ""), highlight=False)
        for line in v.sentences:
            out.print(f"  - {line}", highlight=False)
        for line in v.changes:
            out.print(f"  What if: {line}", highlight=False)
    html_text = printable.html_report(session, views) if (html or pdf) else None
    if pdf is not None:
        assert html_text is not None     # made above whenever --pdf is given
        pdf_data = printable.pdf_bytes(html_text)   # before writing anything: all or nothing
    if xlsx is not None:
        write_to(xlsx, lambda p: write_session_report(session, p, views))
    if html is not None:
        write_to(html, lambda p: p.write_text(html_text, encoding="utf-8"))
    if pdf is not None:
        write_to(pdf, lambda p: p.write_bytes(pdf_data))


def main(argv: list[str] | None = None) -> None:
    """Entry point. Usage errors are click's (usage text, exit 2); riskshare errors (bad files,
    options or values) print one message and exit 2; anything else is an internal error, exit 1,
    with the traceback only under --debug."""
    args = sys.argv[1:] if argv is None else list(argv)
    for position, arg in enumerate(args, start=1):
        # click quotes an unknown option as typed; a line break or an invisible character
        # there would reach the terminal raw, so such an argument is refused first
        if isinstance(arg, str) and ("\n" in arg or visible(arg) != arg):
            shown = visible(arg).replace("\n", "\\n")
            err.print(Text.assemble(("Error: ", "bold red"),
                                    f"argument {position} ({shown}) holds a control or invisible "
                                    "character (shown escaped); retype it"))
            sys.exit(2)
    try:
        app(args=args, standalone_mode=True)
    except RiskshareError as exc:
        err.print(Text.assemble(("Error: ", "bold red"), str(exc)))
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, never dressed up as the user's mistake
        if _debug:
            import traceback
            traceback.print_exc()
        err.print(Text.assemble(("Internal error: ", "bold red"),
                                f"riskshare hit a bug ({type(exc).__name__}: {exc}). "
                                "Please report it with the command you ran"
                                + ("." if _debug else "; add --debug before the command "
                                   "name to see the traceback.")))
        sys.exit(1)


