"""Projection rules: how each member rolls forward from its underlying position (docs/years.md).

A small TOML file, validated by key path like an agreement (every problem at once, named by key):

    name = "Northshire: the medium-term plan"
    years = 3                      # the horizon, 1–10 years
    discount_rate = 3.5            # % a year, for participation over the horizon
    first_year = "2019/20"         # the first projected year's label (default: after the system's)

    [all]                          # every member, unless its own table says otherwise
    savings = 2.0                  # recurrent savings, % of cost a year (or a list, one per year)
    # savings_amount = 1_500_000   # or £ a year (a member's either replaces [all]'s either)
    growth = 2.5                   # income growth, % a year
    cost_pressure = 2.0            # cost growth, % a year
    register = true                # recurrent risk register items count (with a register)
    # control_total = 0.0          # the control total, £, each year (or a list); default: held
    # repay = { amount = "deficit", over = 2 }   # a prior deficit repaid (£ or this year's
    #                                              forecast deficit), in equal parts over k years

    [all.lines.nr_support]         # a one-off line that continues: the share of this year's paid
    change = "taper"               # "keep" | "halve" | "withdraw" | "taper" (with `over`)
    over = 3                       # or `paid = [0.5, 0.25, 0.0]`, a share per year (last repeats)
    [all.lines.support]            # the conditional support at stake (the `support` column; not
    change = "halve"               # in the plan, earned by an agreement's test): kept unless named

    [members.NGH]                  # one member's rules: each key replaces [all]'s
    savings_amount = 15_000_000

    [system]
    # control_total = [1_500_000, 3_000_000]     # the SCT each year; default: this year's SCT
    #                                             moved by the members' control-total changes
    [capital]                      # capital consequences (`capital.CapitalRule`)
    preset = "nhs_2024_25"
    envelope = 80_000_000          # £ (the system's), or a column naming each member's
    fair_share = 90_000_000

Units: percentages are percent numbers (2.0 = 2%), shares fractions (0.5), money £. One-off
(`nr_`) lines not named under `lines` are gone next year: that is what non-recurrent means.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import tomli_w

from riskshare.agreements.spec import _choice, _flag, _number, _table
from riskshare.core.errors import Problem, checked, problem, unknown_keys
from riskshare.core.format import listed
from riskshare.core.samples import bundled_dir
from riskshare.core.schema import NR_PREFIX, nr_lines, numeric_columns, text_key
from riskshare.core.sources import parse_toml, resolve

#: The longest horizon a projection runs (years).
MAX_YEARS = 10
#: How a one-off line continues (`lines.<line>.change`).
CHANGES = ("keep", "halve", "withdraw", "taper")
#: The line that names the conditional support at stake (the `support` column): not in the
#: planned position, earned through an agreement's support test each year; kept unless named.
SUPPORT_LINE = "support"
#: The HM Treasury Green Book's discount rate (% a year), the default for participation.
GREEN_BOOK_RATE = 3.5


@dataclass(frozen=True)
class LineChange:
    """How much of this year's one-off line (an `nr_` column, £) is paid in each year ahead.

    change: "keep" (all of it each year), "halve" (half each year), "withdraw" (none), "taper"
            (down to none in equal steps over `over` years: year t pays (over − t) / over).
    paid:   instead, the share paid in each year (fractions 0–1; the last repeats).
    """

    change: str = "withdraw"
    over: int | None = None
    paid: tuple[float, ...] | None = None

    def share(self, year: int) -> float:
        """The share of this year's line paid in projected year `year` (1 = next year)."""
        if self.paid is not None:
            return self.paid[min(year, len(self.paid)) - 1]
        if self.change == "keep":
            return 1.0
        if self.change == "halve":
            return 0.5
        if self.change == "taper" and self.over:
            return max(self.over - year, 0) / self.over
        return 0.0


@dataclass(frozen=True)
class Repayment:
    """A prior deficit repaid in equal parts over `over` years: `amount` £ (≥ 0) or "deficit"
    (the member's forecast deficit this year, max(−forecast, 0))."""

    amount: float | str
    over: int = 1


@dataclass(frozen=True)
class MemberRules:
    """One member's rules, [all] and its own table merged. Per-year values are tuples whose
    last value repeats (one value: every year).

    savings:        recurrent savings, % of the previous year's cost (cost = income − position)
    savings_amount: or recurrent savings in £ a year (replaces `savings` when set)
    growth:         income growth, % a year (income starts at turnover)
    cost_pressure:  cost growth, % a year
    lines:          one-off lines that continue, (line, LineChange)
    repay:          a prior deficit repaid
    control_total:  the control total each year, £ (None: this year's, held)
    register:       whether the register's recurrent items count
    """

    savings: tuple[float, ...] = (0.0,)
    savings_amount: tuple[float, ...] | None = None
    growth: tuple[float, ...] = (0.0,)
    cost_pressure: tuple[float, ...] = (0.0,)
    lines: tuple[tuple[str, LineChange], ...] = ()
    repay: Repayment | None = None
    control_total: tuple[float, ...] | None = None
    register: bool = True

    def line(self, name: str) -> LineChange:
        """The change for a one-off line (withdrawn when not named), or for `support`, the
        conditional support at stake (kept when not named)."""
        default = LineChange("keep") if name == SUPPORT_LINE else LineChange()
        return dict(self.lines).get(name, default)


def at(values: tuple[float, ...], year: int) -> float:
    """The value for projected year `year` (1-based) of a per-year tuple (the last repeats)."""
    return values[min(year, len(values)) - 1]


@dataclass(frozen=True)
class Capital:
    """Capital consequences of revenue plans (`capital.CapitalRule` applies it).

    envelope:     the capital envelope, £ (the system's), or a column of the members' (£)
    fair_share:   the fair share the bonus closes a part of the gap to, £ or a column (None:
                  no bonus)
    penalty_rate: £ of capital withheld per £1 of planned deficit
    penalty_cap:  the most withheld, % of the envelope
    bonus_share:  for a plan at breakeven or better, % of the gap from the envelope up to the
                  fair share added
    with_support: the plan the rule reads includes the conditional support at stake that year
                  (as a submitted plan counts the support it expects); False: before support
    preset:       the bundled preset the parameters came from ("" when none)
    assumed:      the preset's parameters that are assumptions, not published (a parameter set
                  in the rules is the rules' own)
    """

    envelope: float | str
    fair_share: float | str | None = None
    penalty_rate: float = 1.0
    penalty_cap: float = 10.0
    bonus_share: float = 0.0
    with_support: bool = True
    preset: str = ""
    assumed: tuple[str, ...] = ()

    @property
    def by_member(self) -> bool:
        """True when the envelope is a column: each member's capital follows its own plan."""
        return isinstance(self.envelope, str)


@dataclass(frozen=True)
class Rules:
    """Projection rules (see the module docstring). Build with `load_rules`.

    all:      the rules for every member; members: (org_id, {key: value}) the keys a member's
    own table sets, each replacing [all]'s (see `for_member`)."""

    name: str = "No rules"
    description: str = ""
    years: int = 3
    discount_rate: float = GREEN_BOOK_RATE
    first_year: str = ""
    all: dict = field(default_factory=dict)
    members: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()
    system_control_total: tuple[float, ...] | None = None
    capital: Capital | None = None

    def __hash__(self) -> int:
        return hash(self.to_toml())

    def __eq__(self, other) -> bool:
        return isinstance(other, Rules) and self.to_toml() == other.to_toml()

    def for_member(self, org_id: str) -> MemberRules:
        """The member's rules: [all] with its own keys replacing them (savings and
        savings_amount are one rule: a member giving either replaces both; its lines replace
        [all]'s line by line)."""
        given = dict(dict(self.members).get(org_id, ()))
        merged = dict(self.all)
        if "savings" in given or "savings_amount" in given:
            merged.pop("savings", None)
            merged.pop("savings_amount", None)
        lines: dict[str, LineChange] = dict(merged.get("lines", ()))
        lines.update(dict(given.pop("lines", ())))  # type: ignore[call-overload]
        merged.update(given)
        merged["lines"] = tuple(sorted(lines.items()))
        return MemberRules(**merged)

    @property
    def member_ids(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.members)

    # -- writing ----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out: dict = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["years"] = self.years
        if self.discount_rate != GREEN_BOOK_RATE:
            out["discount_rate"] = self.discount_rate
        if self.first_year:
            out["first_year"] = self.first_year
        if self.all:
            out["all"] = _section_dict(self.all)
        if self.members:
            out["members"] = {m: _section_dict(dict(k)) for m, k in self.members}
        if self.system_control_total is not None:
            out["system"] = {"control_total": _per_year_out(self.system_control_total)}
        if self.capital is not None:
            c = self.capital
            cap: dict = {}
            if c.preset:
                cap["preset"] = c.preset
            cap["envelope"] = c.envelope
            if c.fair_share is not None:
                cap["fair_share"] = c.fair_share
            for f in ("penalty_rate", "penalty_cap", "bonus_share"):
                if not c.preset or getattr(c, f) != getattr(capital_preset(c.preset), f) \
                        or (f in capital_preset(c.preset).assumed and f not in c.assumed):
                    cap[f] = getattr(c, f)
            if not c.with_support:
                cap["with_support"] = False
            out["capital"] = cap
        return out

    def to_toml(self) -> str:
        """TOML text that `load_rules` reads back to equal rules (£ amounts in whole pounds
        written as whole numbers: 45_000_000, not 45000000.0)."""
        return tomli_w.dumps(_tidy(self.to_dict()), multiline_strings=True)

    # -- checks that need a system ------------------------------------------------------------------
    def check(self, system) -> list[Problem]:
        """Problems these rules meet on `system`: members it does not have, one-off lines it
        does not carry, capital columns missing."""
        problems: list[Problem] = []
        members = list(system.members)
        lines = nr_lines(system.orgs.columns)
        usable = numeric_columns(system.orgs)
        for org_id, _ in self.members:
            if org_id not in members:
                problems.append(problem(f"names '{org_id}', which is not a member of the system "
                                        f"(members: {listed(members)})", key=f"members.{org_id}"))
        sections = [("all", self.all)] + [(f"members.{m}", dict(k)) for m, k in self.members]
        for where, section in sections:
            for line, _ in section.get("lines", ()):
                if line == SUPPORT_LINE:
                    continue
                if line not in lines and not (line == "non_recurrent" and not lines):
                    have = (f"its one-off lines: {listed(lines)}" if lines else
                            "it has no nr_ lines; name 'non_recurrent' for its one-offs "
                            "as a whole")
                    problems.append(problem(f"'{line}' is not a one-off line of the system "
                                            f"({have})", key=f"{where}.lines.{line}"))
        if self.capital is not None:
            for key in ("envelope", "fair_share"):
                value = getattr(self.capital, key)
                if isinstance(value, str):
                    if value not in usable:
                        problems.append(problem(f"'{value}' is not a numeric column of the "
                                                f"system (numeric columns: {listed(usable)})",
                                                key=f"capital.{key}"))
                    elif (system.column(value) < 0).any():
                        problems.append(problem(f"the column '{value}' must be ≥ 0 for every "
                                                "member", key=f"capital.{key}"))
        return problems


def _tidy(value):
    """A parsed document with whole £ amounts (1,000 or more) as ints, for a readable file."""
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value.is_integer() and 1_000 <= abs(value) < 2**53:
        return int(value)
    return value


def _per_year_out(values: tuple[float, ...]) -> float | list[float]:
    return values[0] if len(values) == 1 else list(values)


def _section_dict(section: dict) -> dict:
    out: dict = {}
    for key, value in section.items():
        if key == "lines":
            out["lines"] = {name: _line_dict(change) for name, change in value}
        elif key == "repay":
            out["repay"] = {"amount": value.amount, "over": value.over}
        elif isinstance(value, tuple):
            out[key] = _per_year_out(value)
        else:
            out[key] = value
    return out


def _line_dict(change: LineChange) -> dict:
    if change.paid is not None:
        return {"paid": list(change.paid)}
    out: dict = {"change": change.change}
    if change.over is not None:
        out["over"] = change.over
    return out


# -- bundled rules and capital presets ---------------------------------------------------------------
def rules_dir() -> Path:
    """The folder of bundled projection rules (`sample_data/rules/`), one .toml per sample."""
    return bundled_dir("sample_data") / "rules"


def list_rules() -> list[str]:
    """The bundled projection rules' names.

    Returns
    -------
    list of str
        File stems in `sample_data/rules/` (e.g. "vale_2025_26"), each named after the sample
        it is written for; `load_rules` and `rs.project` take them.
    """
    return sorted(p.stem for p in rules_dir().glob("*.toml"))


def rules_path(name: str) -> Path:
    return rules_dir() / f"{name}.toml"


def capital_dir() -> Path:
    """The folder of capital presets (`models/capital/`)."""
    return bundled_dir("models") / "capital"


def list_capital_presets() -> list[str]:
    """The capital presets' names (file stems in `models/capital/`)."""
    return sorted(p.stem for p in capital_dir().glob("*.toml"))


def capital_preset(name: str) -> Capital:
    """A capital preset's parameters (envelope and fair share are the system's own, so 0 here)."""
    data = parse_toml((capital_dir() / f"{name}.toml").read_text(encoding="utf-8"), name)
    return Capital(0.0, None, float(data["penalty_rate"]), float(data["penalty_cap"]),
                   float(data["bonus_share"]), True, name,
                   tuple(str(k) for k in data.get("assumed", ())))


def capital_words(rule: Capital) -> str:
    """The capital rule's parameters in words, an assumed one marked so."""
    def mark(key: str) -> str:
        return " (assumed, not published)" if key in rule.assumed else ""

    return (f"a deficit plan loses £{rule.penalty_rate:g} of capital per £1{mark('penalty_rate')}, "
            f"at most {rule.penalty_cap:g}% of the envelope{mark('penalty_cap')}; a plan at "
            f"breakeven or better gains {rule.bonus_share:g}% of the gap to the fair "
            f"share{mark('bonus_share')}; the plan read is before any risk share, "
            + ("with the support at stake" if rule.with_support else "and before support")
            + (f" (preset {rule.preset})" if rule.preset else ""))


def capital_preset_notes(name: str) -> str:
    """What the preset says about where its parameters come from (its `source` key)."""
    data = parse_toml((capital_dir() / f"{name}.toml").read_text(encoding="utf-8"), name)
    return str(data.get("source", ""))


# -- loading -------------------------------------------------------------------------------------------
def load_rules(path_or_text, system=None) -> Rules:
    """Projection rules from a bundled name (`list_rules()`), a .toml path or TOML text.

    Parameters
    ----------
    path_or_text : Rules, str or pathlib.Path
        Rules (returned as they are); a bundled name (e.g. "vale_2025_26"); a path to a .toml
        file; or the TOML text itself (see `sources.resolve`).
    system : System, optional
        The system the rules are meant for: its problems with them (members, one-off lines,
        capital columns; `Rules.check`) are reported with the file's own, in one error.

    Returns
    -------
    Rules
        The validated rules: percentages are percent numbers, money in £.

    Raises
    ------
    ValidationError
        Every problem, named by key (e.g. "members.NGH.savings").
    InputFileError
        When the file is missing or unreadable, or the text is not TOML.
    """
    if isinstance(path_or_text, Rules):
        return path_or_text
    source = resolve(path_or_text, "rules", list_rules, rules_path, "bundled rules")
    return read_rules_text(source.read(), source.label, system)


def read_rules_text(text: str, source: str = "rules", system=None) -> Rules:
    """Rules from TOML text only (never read as a path: use this for uploads)."""
    return rules_from_dict(parse_toml(text, source), source, system)


def rules_from_dict(data: dict, source: str = "rules", system=None) -> Rules:
    """Validate a parsed rules document; ValidationError lists every problem."""
    problems: list[Problem] = []
    return checked(_parse(data, problems), problems, system, source)


_TOP = ("name", "description", "years", "discount_rate", "first_year", "all", "members",
        "system", "capital")
_MEMBER = tuple(f.name for f in fields(MemberRules))
_LINE = ("change", "over", "paid")
_REPAY = ("amount", "over")
_CAPITAL = ("preset", "envelope", "fair_share", "penalty_rate", "penalty_cap", "bonus_share",
            "with_support")
#: A percentage a year a rule may name (growth, pressure, savings): far beyond any real plan.
RATE_LIMIT = 100.0


def financial_year(text: str) -> int | None:
    """The first calendar year of a financial year written '2026/27' (or '2026/2027'), else
    None (the second part must be the year after the first)."""
    m = re.fullmatch(r"\s*(\d{4})\s*/\s*(\d{2}|\d{4})\s*", text or "")
    if not m:
        return None
    start, end = int(m.group(1)), m.group(2)
    after = (start + 1) % 100 if len(end) == 2 else start + 1
    return start if int(end) == after else None


def _whole(value, key: str, problems: list, low: int, high: int) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)            # 2.0 written for 2
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(problem(f"must be a whole number from {low} to {high}", key=key,
                                value=value))
        return None
    return value


def _per_year(value, key: str, problems: list, *, unit: str, low=None) -> tuple[float, ...] | None:
    """A number or a list of numbers, one per year (the last repeats)."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not 1 <= len(value) <= MAX_YEARS:
        problems.append(problem(f"must list 1 to {MAX_YEARS} values, one per year", key=key))
        return None
    out = []
    for i, item in enumerate(items):
        where = f"{key}[{i + 1}]" if isinstance(value, list) else key
        if unit == "%":
            number = _number(item, where, problems, low=low, high=RATE_LIMIT)
            if number is not None and low is None and number < -RATE_LIMIT:
                problems.append(problem(f"must be at least {-RATE_LIMIT:g}", key=where,
                                        value=item))
                number = None
        else:
            number = _number(item, where, problems, low=low, unit="£")
        if number is None:
            return None
        out.append(number)
    return tuple(out)


def _parse_member(section: dict, where: str, problems: list) -> dict:
    """The keys a member table (or [all]) sets, validated."""
    unknown_keys(section, _MEMBER, f"{where}.", problems)
    out: dict = {}
    if "savings" in section and "savings_amount" in section:
        problems.append(problem("give savings (% of cost) or savings_amount (£), not both",
                                key=f"{where}.savings_amount"))
    for key, unit, low in (("savings", "%", 0.0), ("savings_amount", "£", 0.0),
                           ("growth", "%", None), ("cost_pressure", "%", None),
                           ("control_total", "£", None)):
        if key in section:
            values = _per_year(section[key], f"{where}.{key}", problems, unit=unit, low=low)
            if values is not None:
                out[key] = values
    if "register" in section:
        out["register"] = _flag(section, "register", True, f"{where}.", problems)
    if "repay" in section:
        r = section["repay"]
        if not isinstance(r, dict):
            problems.append(problem('must be a table: repay = { amount = 5_000_000, over = 2 } '
                                    '(amount = "deficit": this year\'s forecast deficit)',
                                    key=f"{where}.repay"))
        else:
            unknown_keys(r, _REPAY, f"{where}.repay.", problems)
            amount = r.get("amount")
            if amount == "deficit":
                value: float | str | None = "deficit"
            elif amount is None:
                problems.append(problem('needs an amount in £, or "deficit"',
                                        key=f"{where}.repay.amount"))
                value = None
            else:
                value = _number(amount, f"{where}.repay.amount", problems, low=0.0, unit="£")
            over = _whole(r.get("over", 1), f"{where}.repay.over", problems, 1, MAX_YEARS)
            if value is not None and over is not None:
                out["repay"] = Repayment(value, over)
    if "lines" in section:
        lines = section["lines"]
        if not isinstance(lines, dict):
            problems.append(problem("must be a table of one-off lines, e.g. [all.lines.nr_support]",
                                    key=f"{where}.lines"))
        else:
            parsed = []
            for name, spec in lines.items():
                change = _parse_line(name, spec, f"{where}.lines.{name}", problems)
                if change is not None:
                    parsed.append((name, change))
            out["lines"] = tuple(sorted(parsed))
    return out


def _parse_line(name: str, spec, where: str, problems: list) -> LineChange | None:
    if not (name.startswith(NR_PREFIX) or name in ("non_recurrent", SUPPORT_LINE)):
        problems.append(problem(f"a line is a one-off '{NR_PREFIX}' column ('non_recurrent' "
                                "as a whole), or 'support', the conditional support at stake",
                                key=where))
        return None
    if not isinstance(spec, dict):
        problems.append(problem('must be a table: { change = "halve" }, { change = "taper", '
                                "over = 3 } or { paid = [0.5, 0.0] }", key=where))
        return None
    unknown_keys(spec, _LINE, f"{where}.", problems)
    if "paid" in spec:
        if "change" in spec or "over" in spec:
            problems.append(problem("give paid, or change (and over), not both",
                                    key=f"{where}.paid"))
        raw = spec["paid"]
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_YEARS:
            problems.append(problem(f"must list 1 to {MAX_YEARS} shares, one per year",
                                    key=f"{where}.paid"))
            return None
        shares = [_number(v, f"{where}.paid[{i + 1}]", problems, share=True)
                  for i, v in enumerate(raw)]
        if any(s is None or not 0.0 <= s <= 1.0 for s in shares):
            return None
        return LineChange("keep", None, tuple(float(s) for s in shares if s is not None))
    change = _choice(spec.get("change", "withdraw"), f"{where}.change", CHANGES, problems)
    if change not in CHANGES:
        return None
    over = None
    if change == "taper":
        if "over" not in spec:
            problems.append(problem("a taper needs 'over', the years to reach nothing",
                                    key=f"{where}.over"))
            return None
        over = _whole(spec["over"], f"{where}.over", problems, 1, MAX_YEARS)
        if over is None:
            return None
    elif "over" in spec:
        problems.append(problem("is only used with change = 'taper'", key=f"{where}.over"))
    return LineChange(change, over)


def _parse_capital(data: dict, problems: list) -> Capital | None:
    if "capital" not in data:
        return None
    c = _table(data, "capital", problems)
    unknown_keys(c, _CAPITAL, "capital.", problems)
    base = Capital(0.0)
    preset = c.get("preset")
    if preset is not None:
        names = list_capital_presets()
        if not isinstance(preset, str) or preset not in names:
            problems.append(problem(f"must name a capital preset ({listed(names)})",
                                    key="capital.preset", value=preset))
        else:
            base = capital_preset(preset)
    values: dict = {}
    for key in ("envelope", "fair_share"):
        if key not in c:
            if key == "envelope":
                problems.append(problem("needs the capital envelope: £, or a column naming "
                                        "each member's", key="capital.envelope"))
            continue
        v = c[key]
        if isinstance(v, str):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ]{0,62}", v):
                problems.append(problem("must be £ or the name of a numeric column",
                                        key=f"capital.{key}", value=v))
            else:
                values[key] = v
        else:
            number = _number(v, f"capital.{key}", problems, low=0.0, unit="£")
            if number is not None:
                values[key] = number
    if isinstance(values.get("envelope"), str) != isinstance(values.get("fair_share", 
                                                                     values.get("envelope")), str):
        problems.append(problem("envelope and fair_share must both be £ (the system's) or both "
                                "columns (each member's)", key="capital.fair_share"))
    for key, high in (("penalty_rate", 10.0), ("penalty_cap", 100.0), ("bonus_share", 100.0)):
        if key in c:
            number = _number(c[key], f"capital.{key}", problems, low=0.0, high=high)
            if number is not None:
                values[key] = number
    if "with_support" in c:
        values["with_support"] = _flag(c, "with_support", True, "capital.", problems)
    # a parameter the rules set is theirs, not the preset's assumption
    values["assumed"] = tuple(k for k in base.assumed if k not in values)
    return replace(base, **values)


def _parse(data: dict, problems: list) -> Rules:
    unknown_keys(data, _TOP, "", problems)
    name = text_key(data, "name", problems, needed_by="set of rules")
    description = text_key(data, "description", problems, multiline=True)
    first_year = text_key(data, "first_year", problems)
    if first_year and not financial_year(first_year):
        problems.append(problem("must be a financial year written as 2026/27 (the second part "
                                "the year after the first)", key="first_year",
                                value=first_year))
        first_year = ""
    years = _whole(data.get("years", 3), "years", problems, 1, MAX_YEARS) or 3
    rate = _number(data.get("discount_rate", GREEN_BOOK_RATE), "discount_rate", problems,
                   low=0.0, high=20.0)
    everyone = _parse_member(_table(data, "all", problems), "all", problems)
    members_raw = _table(data, "members", problems)
    members = []
    for org_id, section in members_raw.items():
        if not isinstance(section, dict):
            problems.append(problem("must be a table of the member's rules",
                                    key=f"members.{org_id}"))
            continue
        given = _parse_member(section, f"members.{org_id}", problems)
        members.append((org_id, tuple(sorted(given.items()))))
    sct = None
    if "system" in data:
        s = _table(data, "system", problems)
        unknown_keys(s, ("control_total",), "system.", problems)
        if "control_total" in s:
            sct = _per_year(s["control_total"], "system.control_total", problems, unit="£")
    return Rules(name.strip() if name else "", description, years,
                 rate if rate is not None and math.isfinite(rate) else GREEN_BOOK_RATE,
                 first_year, everyone, tuple(members), sct, _parse_capital(data, problems))


__all__ = ["Rules", "MemberRules", "LineChange", "Repayment", "Capital", "load_rules",
           "read_rules_text", "rules_from_dict", "list_rules", "list_capital_presets",
           "capital_preset", "capital_preset_notes", "capital_words", "financial_year",
           "MAX_YEARS", "CHANGES", "at"]
