"""The `riskshare` command line.

    riskshare samples                          list the bundled sample systems
    riskshare reconcile PATH_OR_SAMPLE [--xlsx OUT] [--unrealistic-pct 1.0] [--basis turnover]
    riskshare template OUT.xlsx                write the blank input workbook

Errors print one clear message (every problem listed) and exit with status 2; no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import samples as _samples
from .errors import RiskshareError
from .format import money, money_m, pct
from .io import load_system, template_workbook
from .rebalance import rebalance
from .report import write_reconciliation
from .reconcile import DEFAULT_UNREALISTIC_PCT, reconcile
from .system import System

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Reconcile NHS system and organisational control totals and test "
                       "risk-share agreements. Money in £; surplus +, deficit −.")
out = Console(soft_wrap=False, width=140)
err = Console(stderr=True, soft_wrap=True)


class UsageProblem(RiskshareError):
    """A command-line argument that cannot be used."""


def resolve_system(target: str) -> System:
    """A sample name, or a path to a folder, .csv, .toml or .xlsx."""
    if target in _samples.SAMPLES:
        return _samples.load_sample(target)
    path = Path(target)
    if not path.exists():
        raise UsageProblem(f"'{target}' is neither a sample ({', '.join(_samples.SAMPLES)}) nor "
                           "an existing file or folder")
    return load_system(path)


def _table(title: str, columns: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False, header_style="bold")
    for name, justify in columns:
        table.add_column(name, justify=justify)
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
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Also write the results to this "
                                        ".xlsx workbook."),
    unrealistic_pct: float = typer.Option(DEFAULT_UNREALISTIC_PCT, "--unrealistic-pct",
                                          help="Flag an OCT as unrealistic when the forecast is "
                                               "adverse by more than this % of turnover."),
    basis: str = typer.Option("turnover", "--basis", help="Rebalancing basis: a numeric column "
                              "or 'equal'."),
) -> None:
    """Reconcile organisational control totals with the system control total."""
    system = resolve_system(target)
    rec = reconcile(system, unrealistic_pct=unrealistic_pct)
    reb = rebalance(system, basis=basis)

    out.print(f"[bold]{system.label}[/bold] — {system.n} members")
    st = _table("Reconciliation statement", [("line", "left"), ("£m", "right")])
    for _, row in rec.statement.iterrows():
        st.add_row(row["label"], money_m(row["amount"], 2))
    out.print(st)

    mt = _table("Members (variance = forecast − control total)",
                [("org_id", "left"), ("name", "left"), ("OCT", "right"), ("forecast", "right"),
                 ("variance", "right"), ("% turnover", "right"), ("flag", "left"),
                 ("revised OCT", "right"), ("change", "right")])
    for org_id, r in rec.orgs.iterrows():
        mt.add_row(org_id, r["name"], money_m(r["control_total"], 2), money_m(r["forecast"], 2),
                   money_m(r["variance"], 2), pct(r["variance_pct"], 2),
                   "UNREALISTIC" if r["unrealistic"] else "",
                   money_m(reb.revised[org_id], 2), money_m(reb.table.loc[org_id, "change"], 2,
                                                            sign=True))
    out.print(mt)
    out.print(f"Revised OCTs (pro rata to {basis}) sum to {money(reb.total, 2)}, the SCT "
              f"{money(system.control_total, 2)}.")
    out.print("")
    for sentence in rec.flags:
        out.print(f"• {sentence}")

    if xlsx is not None:
        write_reconciliation(rec, reb, xlsx)
        out.print(f"\nWrote {xlsx}")


@app.command("template")
def template_cmd(path: Path = typer.Argument(..., help="Where to write the blank .xlsx.")) -> None:
    """Write the blank input workbook (sheets organisations, system and a column guide)."""
    path.write_bytes(template_workbook())
    out.print(f"Wrote {path}")


def main(argv: list[str] | None = None) -> None:
    """Entry point. Usage errors are click's (usage text, exit 2); riskshare errors and bad
    files print one message and exit 2; no traceback for either."""
    try:
        app(args=argv, standalone_mode=True)
    except (RiskshareError, ValueError, OSError) as exc:
        err.print(f"[bold red]Error:[/bold red] {escape(str(exc))}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
