"""Workshop sessions: everything needed to reproduce a facilitator's screens, in one TOML file.

A session names a system, the agreements to discuss (labelled A, B, ...), the scenario settings
and seed, and a guided sequence of steps; it also remembers the step on screen and any "what if"
changes made to it. `Session.to_toml()` writes it, `load_session` reads it back to an equal
session (`Session.equals`), so a saved session reproduces the same figures to the penny.

```toml
title = "Northshire and Vale 2018/19: sharing the risk"
description = "..."                 # optional
step = 1                            # the step on screen (1-based)

[system]
sample = "northshire_2018_19"       # a bundled sample ... or the system inline, as saved:
# name = "..."; year = "2018/19"; control_total = 1_500_000
# [[system.orgs]]  org_id = "NGH", name = "...", kind = "acute", turnover = 512_400_000, ...
# [[system.monthly]] org_id = "NGH", month = 1, plan = -1_200_000, actual = -1_350_000
#                   (the monthly table, as saved; a sample brings its own)
# [[system.risks]]  org_id = "NGH", item = "CIP slippage", type = "risk", amount = 6_000_000,
#                   probability = 0.5   # (+ group, recurrent: the risk register, as saved;
#                                       #  a sample brings its own)

[agreements.A]
preset = "support_cliff_2018_19"    # a preset ... or the agreement file's keys inline
[agreements.B]
name = "Gain/loss share ..."
[agreements.B.losses]
bands = [{ upto = 0.5, pool = 0.0 }, { pool = 0.5 }]

[scenarios]                         # optional; defaults shown
n = 1000
seed = 0
correlation = 0.3
kind_correlation = 0.0
distribution = "normal"             # or "t" (with df = 5.0)
volatility_scale = 1.0
risk_aversion = 0.5                 # λ for judging fairness across scenarios
# register = "add"                  # "none" (default), "add" or "instead": steps judged across
# event_correlation = 0.0           #   scenarios also draw the risk register's events

[shocks.winter_pressure]            # optional inline shocks; names not defined here are
name = "..."                        # looked up among the bundled shocks
[[shocks.winter_pressure.effects]]
target = "kind:acute"
pct = -2.0

[[steps]]
kind = "baseline"                   # see STEP_KINDS
title = "Where we start"
notes = "What the facilitator says (Markdown)."
# agreements = ["A", "B"]           # which agreements the step shows (compare: 2-4)
# shocks = ["winter_pressure"]      # shocks in force from this step on ([] clears them)
# judge = "forecast"                # or "scenarios" (compare, walk_away and fairer steps)

[[steps]]
kind = "in_year"                    # the year as the ledger closed at a month
title = "Month 9: who is behind, and what does the deal do about it?"
month = 9                           # months closed, 0-12 (April is month 1)
# forecast = "plan"                 # or "run_rate", "submitted": the months to come
# agreements = ["A"]                # optional: the deal applied on the in-year forecast

[[steps]]
kind = "risks"                      # the risk register: risk-adjusted forecast, which item
title = "Which risk matters most?"  # matters most, and the reserve the system would need
# agreements = ["A"]                # optional: the deal the ranking and the reserve are under

[[steps]]
kind = "years"                      # the years ahead: the projection from the underlying
title = "Where do the next three years take us?"   # position, year by year
rules = "vale_2025_26"              # bundled projection rules (default: the sample's own, if
# years = 3                         #   any, else none) ... or [steps.rules] inline; the
# agreements = ["B"]                #   horizon (1-10, default the rules'); the deal applied
                                    #   year by year, with its [carry]

[what_if]                           # optional: changes made live on the selected step
agreement = "B"
pool_share = 0.75
# item = "NGH: Vacancy slippage"    # the register item the probability knob changes
# probability = 0.9                 #   (with its group, if it has one)
```

Steps inherit the shocks of the step before unless they set `shocks`, so a shock revealed at
step 2 stays in force for the agreements discussed after it. An in_year step shows the year as
the monthly table has it (docs/in_year.md): shocks are changes to a forecast, not entries in the
ledger, so they do not apply to it (the step says so when one is in force). A risks step
needs the system's risk register (a sample's own, or `[[system.risks]]` rows) and draws its
events in the session's scenarios ("add" unless `[scenarios] register = "instead"`). A years
step rolls the system at that step (forecasts moved by the shocks in force) forward from its
underlying position under projection rules (`rs.project`; docs/years.md): a bundled set's name
(`rs.list_rules()`) or the rules file's keys inline as `[steps.rules]`, never a path; without
`rules`, the session's sample's own rules when it has some (the name is then written on save),
else none. The session's risk register, if any, counts its recurrent items. Money is in £
(surplus positive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from riskshare.agreements.presets import list_presets
from riskshare.agreements.spec import Agreement, load_agreement
from riskshare.core.constants import (
    ForecastMethod,
    Judge,
    JudgeName,
    StepKind,
    StepKindName,
    values,
)
from riskshare.core.errors import (
    BudgetError,
    NotFoundError,
    Problem,
    UsageError,
    ValidationError,
    problem,
    raise_if_errors,
    unknown_keys,
)
from riskshare.core.format import listed
from riskshare.core.monthly import Monthly, check_monthly
from riskshare.core.register import Register, check_register
from riskshare.core.samples import (
    bundled_dir,
    list_samples,
    load_sample,
    sample_monthly,
    sample_register,
)
from riskshare.core.schema import control_character, text_key
from riskshare.core.sources import parse_toml, resolve
from riskshare.core.system import System
from riskshare.core.write import file_frame, system_meta
from riskshare.scenarios.shocks import (
    Shock,
    bundled_shock,
    list_shocks,
    read_shock_dict,
    shock_vector,
    total_shock,
)
from riskshare.scenarios.simulate import REGISTER_MODES, ScenarioSettings, check_settings
from riskshare.workshop.whatif import KNOBS, LIMITS, changed_agreement, item_labels, target_label
from riskshare.years.rules import MAX_YEARS, Rules, list_rules, load_rules, rules_from_dict

STEP_KINDS = {
    StepKind.BASELINE: "Where the system stands: control totals, forecasts and the gap to the SCT",
    StepKind.SHOCK: "A shock to members' variances and what it does to the system",
    StepKind.AGREEMENT: "One agreement applied: where each member ends against standing alone",
    StepKind.COMPARE: "Two to four agreements side by side on the same position",
    StepKind.WALK_AWAY: "Who would walk away: members and groups better off on their own",
    StepKind.FAIRER: "A fairer alternative: an agreement against the original and the fair shares",
    StepKind.IN_YEAR: "The year at a month: who is behind plan, where the year will land, and "
                      "what the deal does about it",
    StepKind.RISKS: "The risk register: the risk-adjusted forecast, which risk or mitigation "
                    "matters most, and the reserve the system would need",
    StepKind.YEARS: "The years ahead: from the underlying position to each year's plan against "
                    "the SCT, capital, and who would be better off outside over the horizon",
}
AGREEMENTS_NEEDED = {"baseline": (0, 0), "shock": (0, 0), "agreement": (1, 1),
                     "compare": (2, 4), "walk_away": (1, 1), "fairer": (2, 2),
                     "in_year": (0, 1), "risks": (0, 1), "years": (0, 1)}
JUDGES = values(Judge)
_TOP = ("title", "description", "step", "system", "agreements", "scenarios", "shocks", "steps",
        "what_if")
_STEP = ("kind", "title", "notes", "agreements", "shocks", "judge", "month", "forecast",
         "rules", "years")
_IN_YEAR_KEYS = ("month", "forecast")      # only in_year steps take them
_YEARS_KEYS = ("rules", "years")           # only years steps take them
_SYSTEM_META = ("sample", "name", "year", "control_total", "orgs", "monthly", "risks")
_SCENARIOS = ("n", "seed", "correlation", "kind_correlation", "distribution", "df",
              "volatility_scale", "risk_aversion", "register", "event_correlation")
REGISTER_SOURCES = ("none", *REGISTER_MODES)    # [scenarios] register
RISK_AVERSION = 0.5
SECONDS_PER_EVENT = 0.01   # a risks step's fixed cost per register item ranked (an engine run)
MAX_STEPS = 50          # steps in one session (a workshop has a handful)


@dataclass(frozen=True)
class Step:
    """One screen of the guided sequence.

    kind:       one of STEP_KINDS.
    agreements: labels of the session's agreements the step shows (in order).
    shocks:     shock names in force from this step on; None = as the step before.
    judge:      "forecast" (one year at the forecast, plus any shocks) or "scenarios" (the
                session's simulated years, for compare, walk_away and fairer steps).
    month:      in_year steps: the months closed (0-12; April is month 1).
    forecast:   in_year steps: how the months to come are forecast ("plan", "run_rate",
                "submitted"; `rs.in_year`).
    rules:      years steps: the projection rules, a bundled set's name (`rs.list_rules()`)
                or `Rules` (inline); None: no rules (each member's underlying position held,
                one-offs gone). See `projection_rules`.
    years:      years steps: the horizon, 1-10 years; None: the rules' own `years`.
    """

    kind: StepKind | StepKindName
    title: str
    notes: str = ""
    agreements: tuple[str, ...] = ()
    shocks: tuple[str, ...] | None = None
    judge: Judge | JudgeName = Judge.FORECAST
    month: int | None = None
    forecast: str = "plan"
    rules: str | Rules | None = None
    years: int | None = None

    def projection_rules(self) -> Rules:
        """The rules a years step projects under: the bundled set it names, its inline rules,
        or no rules (`Rules()`).

        Raises
        ------
        NotFoundError
            When `rules` names no bundled set (a name in a session is never a path).
        """
        if isinstance(self.rules, Rules):
            return self.rules
        if self.rules is None:
            return Rules()
        if self.rules not in list_rules():
            raise NotFoundError(f"'{self.rules}' is not a bundled set of projection rules "
                                f"({listed(list_rules())})")
        return load_rules(self.rules)

    def to_dict(self) -> dict:
        out: dict = {"kind": self.kind, "title": self.title}
        if self.notes:
            out["notes"] = self.notes
        if self.agreements:
            out["agreements"] = list(self.agreements)
        if self.shocks is not None:
            out["shocks"] = list(self.shocks)
        if self.judge != "forecast":
            out["judge"] = self.judge
        if self.kind == StepKind.IN_YEAR:
            out["month"] = self.month
            if self.forecast != "plan":
                out["forecast"] = self.forecast
        if self.kind == StepKind.YEARS:
            if self.years is not None:
                out["years"] = self.years
            if isinstance(self.rules, Rules):
                out["rules"] = self.rules.to_dict()
            elif self.rules is not None:
                out["rules"] = self.rules
        return out


@dataclass(frozen=True)
class WhatIf:
    """Live changes to the step on screen: `values` maps a knob key (see `workshop.KNOBS`) to a
    value; `agreement` is the label of the agreement the agreement knobs change; `item` the
    risk register item ("org_id: item") the probability knob changes (with its group)."""

    values: tuple[tuple[str, float], ...] = ()
    agreement: str | None = None
    item: str | None = None

    @classmethod
    def of(cls, agreement: str | None = None, item: str | None = None, **values) -> WhatIf:
        return cls(tuple(sorted((k, float(v)) for k, v in values.items())), agreement, item)

    def get(self, key: str, default=None):
        return dict(self.values).get(key, default)

    def __bool__(self) -> bool:
        return bool(self.values)

    def to_dict(self) -> dict:
        out: dict = {"agreement": self.agreement} if self.agreement else {}
        if self.item:
            out["item"] = self.item
        out.update(dict(self.values))
        return out


@dataclass(frozen=True, eq=False)
class Session:
    """A workshop session (see the module docstring). Build with `load_session`."""

    title: str
    system: System
    agreements: tuple[tuple[str, Agreement], ...]
    steps: tuple[Step, ...]
    scenarios: ScenarioSettings = field(default_factory=ScenarioSettings)
    risk_aversion: float = RISK_AVERSION
    shocks: tuple[tuple[str, Shock], ...] = ()
    description: str = ""
    step: int = 1
    what_if: WhatIf = field(default_factory=WhatIf)
    sample: str = ""   # the bundled sample the system came from, if unchanged
    monthly: Monthly | None = None   # the system's monthly table (in_year steps), if any
    register: Register | None = None  # the system's risk register (risks steps), if any

    # -- look-ups ----------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.agreements]

    def agreement(self, label: str) -> Agreement:
        for key, a in self.agreements:
            if key == label:
                return a
        raise NotFoundError(f"the session has no agreement '{label}' (it has: "
                       f"{', '.join(self.labels)})")

    def shock(self, name: str) -> Shock:
        """An inline shock of the session, else a bundled one."""
        for key, s in self.shocks:
            if key == name:
                return s
        return bundled_shock(name)

    def shocks_at(self, index: int) -> tuple[str, ...]:
        """Names of the shocks in force at step `index` (0-based)."""
        names: tuple[str, ...] = ()
        for step in self.steps[:index + 1]:
            if step.shocks is not None:
                names = step.shocks
        return names

    def shock_at(self, index: int) -> np.ndarray:
        """The £ the shocks in force at step `index` (0-based) add to each member's variance."""
        return total_shock(self.system, [self.shock(n) for n in self.shocks_at(index)])

    # -- changing ----------------------------------------------------------------------------
    def at_step(self, step: int, what_if: WhatIf | None = None) -> Session:
        """The session showing step `step` (1-based) with `what_if` (default: none)."""
        if not 1 <= step <= len(self.steps):
            raise UsageError(f"step must be between 1 and {len(self.steps)} (got {step})")
        return replace(self, step=int(step), what_if=what_if or WhatIf())

    def with_system(self, system: System) -> Session:
        """The session on another system (re-validated: its agreements and shocks must fit).
        The monthly table goes with it when it is for the same members (it must still fit);
        a table for other members is dropped, and an in_year step then asks for one. The risk
        register goes with it when the system has every member it names; otherwise it is
        dropped, and a risks step (or scenarios drawing the register) then asks for one."""
        monthly = self.monthly
        if monthly is not None and (tuple(monthly.table.index.get_level_values("org_id")
                                          .unique()) != tuple(system.members)):
            monthly = None
        register = self.register
        if register is not None and not set(register.table["org_id"]) <= set(system.members):
            register = None
        return read_session_dict(replace(self, system=system, sample="", monthly=monthly,
                                         register=register).to_dict(),
                                 self.title or "session")

    # -- writing -----------------------------------------------------------------------------
    def to_dict(self, inline: bool = True) -> dict:
        """The TOML document. inline=True writes the system and every shock used in full, so
        the file reproduces its figures on its own; False refers to the bundled sample and
        shocks where it can."""
        out: dict = {"title": self.title}
        if self.description:
            out["description"] = self.description
        out["step"] = self.step
        out["system"] = _system_dict(self.system, None if inline else self.sample, self.monthly,
                                     self.register)
        out["agreements"] = {label: a.to_dict() for label, a in self.agreements}
        scenarios = {k: v for k, v in ScenarioSettings.kwargs(self.scenarios).items()
                     if k != "shocks"}
        if not self.scenarios.uses_register():    # the defaults: the file as it was before
            scenarios.pop("register", None)
            if not scenarios.get("event_correlation"):
                scenarios.pop("event_correlation", None)
        scenarios["risk_aversion"] = self.risk_aversion
        out["scenarios"] = scenarios
        inline_shocks = {key: s for key, s in self.shocks}
        shocks = {name: shock.to_dict() for name, shock in self.used_shocks().items()
                  if inline or name in inline_shocks}
        if shocks:
            out["shocks"] = shocks
        out["steps"] = [s.to_dict() for s in self.steps]
        if self.what_if:
            out["what_if"] = self.what_if.to_dict()
        return out

    def to_toml(self, inline: bool = True) -> str:
        """TOML text that `load_session` reads back to an equal session."""
        return tomli_w.dumps(self.to_dict(inline), multiline_strings=True)

    def save(self, path) -> Path:
        path = Path(path)
        path.write_text(self.to_toml(), encoding="utf-8")
        return path

    def equals(self, other: Session) -> bool:
        """The same system (exactly), agreements, steps, settings, step on screen and what-if."""
        if not isinstance(other, Session) or not self.system.equals(other.system):
            return False
        for mine, theirs in ((self.monthly, other.monthly), (self.register, other.register)):
            if (mine is None) != (theirs is None) or (
                    mine is not None and theirs is not None
                    and not mine.table.equals(theirs.table)):
                return False
        return (self.used_shocks() == other.used_shocks()
                and all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self)
                        if f.name not in ("system", "sample", "shocks", "monthly", "register")))

    def used_shocks(self) -> dict[str, Shock]:
        """Every shock a step puts in force, by name, resolved (inline or bundled)."""
        names = dict.fromkeys(n for i in range(len(self.steps)) for n in self.shocks_at(i))
        return {n: self.shock(n) for n in names}


def draft_session(system: System, agreements, title: str = "", shocks=(),
                  scenarios: ScenarioSettings | None = None,
                  monthly: Monthly | None = None, register: Register | None = None) -> Session:
    """A session to start preparing from: baseline, the shocks (if any), the agreements (one:
    applied; two to four: compared), who would walk away from the last one and, with two or
    more, the last against the first as the alternative. `agreements`: Agreement objects (or
    preset names / TOML) labelled A, B, ... in order; shocks: bundled shock names. Given the
    system's monthly table with a month closed, an in_year step at the latest month closed
    follows the baseline, with agreement A applied on the in-year forecast. Given the system's
    risk register, a risks step follows (the ranking and the reserve under the last agreement,
    the proposal under discussion)."""
    loaded = [load_agreement(a) for a in agreements]
    if not 1 <= len(loaded) <= 4:
        raise UsageError("a draft session takes one to four agreements")
    labels = [chr(ord("A") + i) for i in range(len(loaded))]
    steps = [Step("baseline", "Where we start")]
    if monthly is not None and monthly.month >= 1:
        m = monthly.month
        steps.append(Step("in_year", f"Month {m}: who is behind, and what does the deal do "
                          "about it?", agreements=("A",), month=m))
    if register is not None and len(register.table):
        steps.append(Step("risks", "The risk register: which risk matters most, and what "
                          "reserve would it take?", agreements=(labels[-1],)))
    if shocks:
        steps.append(Step("shock", "The shock", shocks=tuple(shocks)))
    if len(loaded) == 1:
        steps.append(Step("agreement", f"Agreement A: {loaded[0].name}", agreements=("A",)))
    else:
        steps.append(Step("compare", "The agreements side by side", agreements=tuple(labels)))
    steps.append(Step("walk_away", f"Who would walk away from {labels[-1]}?",
                      agreements=(labels[-1],)))
    if len(loaded) > 1:
        steps.append(Step("fairer", f"{labels[0]} against {labels[-1]}: which is fairer?",
                          agreements=(labels[-1], labels[0])))
    data = replace(Session(title or f"{system.label}: sharing the risk", system,
                           tuple(zip(labels, loaded, strict=True)), tuple(steps),
                           scenarios or ScenarioSettings(), monthly=monthly,
                           register=register),
                   sample="").to_dict()
    return read_session_dict(data, "draft session")


# -- the bundled sessions ---------------------------------------------------------------------------
def sessions_dir() -> Path:
    """The folder of bundled example sessions (`sample_data/sessions/`)."""
    return bundled_dir("sample_data") / "sessions"


def list_sessions() -> list[str]:
    """Names of the bundled example sessions (file stems)."""
    return sorted(p.stem for p in sessions_dir().glob("*.toml"))


# -- reading ----------------------------------------------------------------------------------------
def session_path(name: str) -> Path:
    """The file of the bundled session called `name` (which may not exist)."""
    return sessions_dir() / f"{name}.toml"


def load_session(path_or_text) -> Session:
    """A Session from a bundled session name, a .toml path or TOML text; ValidationError lists
    every problem (keys named like `steps[3].agreements`). Inside the file, the system, presets
    and shocks may only name bundled ones or be given inline (`sources`: the file rule)."""
    if isinstance(path_or_text, Session):
        return path_or_text
    source = resolve(path_or_text, "session", list_sessions, session_path)
    return read_session_text(source.read(), source.label)


def read_session_text(text: str, source: str = "session") -> Session:
    """A Session from TOML text only (for uploads)."""
    return read_session_dict(parse_toml(text, source), source)


def read_session_dict(data: dict, source: str = "session") -> Session:
    """Validate a parsed session document; one ValidationError lists every problem."""
    problems: list[Problem] = []
    unknown_keys(data, _TOP, "", problems)
    title = text_key(data, "title", problems, needed_by="session")
    description = text_key(data, "description", problems, multiline=True)
    system, sample, monthly, register = _read_system(data.get("system"), problems)
    agreements = _read_agreements(data.get("agreements"), system, problems)
    settings, risk_aversion = _read_scenarios(data.get("scenarios", {}), problems,
                                              None if system is None else system.n)
    shocks = _read_shocks(data.get("shocks", {}), problems)
    declared = [str(k) for k in data["agreements"]] if isinstance(data.get("agreements"),
                                                                     dict) else []
    numbered = _read_steps(data.get("steps"), declared, problems, system, sample)
    _check_shocks(numbered, dict(shocks), system, problems)
    _check_in_year(numbered, system, monthly, problems)
    # inline rows that failed their checks are reported once, as such: not again as "no register"
    given = isinstance(data.get("system"), dict) and "risks" in data["system"]
    _check_risks(numbered, settings, None if given else system, register, problems)
    _check_work(numbered, settings, system, problems, register)
    steps = [step for _, step in numbered]
    step = data.get("step", 1)
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= max(len(steps), 1):
        problems.append(problem(f"must be a step number from 1 to {max(len(steps), 1)}",
                                key="step", value=step))
        step = 1
    what_if = _read_what_if(data.get("what_if", {}), declared, problems, register,
                            checked=not given or register is not None)
    raise_if_errors(problems, source)
    assert system is not None   # _read_system gives None only with an error: raised above
    session = Session(title.strip(), system, tuple(agreements), tuple(steps), settings,
                      risk_aversion, tuple(shocks), description, step, what_if, sample,
                      monthly, register)
    _check_what_if(session, source)
    return session


def _read_system(section, problems
                 ) -> tuple[System | None, str, Monthly | None, Register | None]:
    """(the system, the sample it is when unchanged, its monthly table if any, its risk
    register if any)."""
    if not isinstance(section, dict):
        problems.append(problem("needs a [system] table: `sample = \"<name>\"` or the system "
                                "inline", key="system"))
        return None, "", None, None
    unknown_keys(section, _SYSTEM_META, "system.", problems)
    if "sample" in section:
        name = section["sample"]
        if "orgs" in section or "monthly" in section or "risks" in section:
            problems.append(problem("give either 'sample' or the 'orgs' (and 'monthly' and "
                                    "'risks') rows, not both", key="system"))
        if name not in list_samples():
            problems.append(problem(f"is not a bundled sample (samples: "
                                    f"{', '.join(list_samples())})", key="system.sample",
                                    value=name))
            return None, "", None, None
        system = load_sample(name)
        return system, name, sample_monthly(name), sample_register(name, system)
    rows = section.get("orgs")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.append(problem("needs `sample = \"<name>\"` or [[system.orgs]] rows",
                                key="system.orgs"))
        return None, "", None, None
    try:
        system = System.from_frame(pd.DataFrame(rows), section.get("control_total"),
                                   section.get("name", ""), section.get("year", ""),
                                   source="system.orgs")
    except ValidationError as exc:
        for p in exc.problems:
            if p.row is None and p.member is None and p.column in ("control_total", "name",
                                                                    "year"):
                problems.append(replace(p, column=f"system.{p.column}", label="key"))
            elif p.row is None:
                problems.append(replace(p, rule=f"[[system.orgs]] {p.rule}"))
            else:
                problems.append(p)
        return None, "", None, None
    return (system, "", _read_monthly(section.get("monthly"), system, problems),
            _read_register(section.get("risks"), system, problems))


def _read_monthly(rows, system: System, problems) -> Monthly | None:
    """The inline monthly table ([[system.monthly]] rows, numbered from 1 in messages)."""
    if rows is None:
        return None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.append(problem("must be [[system.monthly]] rows (org_id, month, plan, actual, "
                                "forecast)", key="system.monthly"))
        return None
    monthly, found = check_monthly(pd.DataFrame(rows), system)
    problems += [replace(p, rule=f"[[system.monthly]] {p.rule}") for p in found]
    return monthly


def _read_register(rows, system: System, problems) -> Register | None:
    """The inline risk register ([[system.risks]] rows, numbered from 1 in keys such as
    `system.risks[3].probability`), checked as any register is (`core.register`)."""
    if rows is None:
        return None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.append(problem("must be [[system.risks]] rows (org_id, item, type, amount, "
                                "probability, and optionally group and recurrent)",
                                key="system.risks"))
        return None
    register, found = check_register(pd.DataFrame(rows), system)
    for p in found:
        if isinstance(p.value, float) and math.isnan(p.value):   # a key the row leaves out
            p = replace(p, value=None, has_value=False)
        if p.row is not None:
            key = f"system.risks[{p.row}]" + (f".{p.column}" if p.column else "")
            problems.append(replace(p, column=key, label="key", row=None))
        elif p.column is not None:      # a column missing, unknown or given twice
            problems.append(replace(p, rule=f"column '{p.column}': {p.rule}",
                                    column="system.risks", label="key"))
        else:
            problems.append(replace(p, column="system.risks", label="key"))
    return register


def _read_agreements(section, system, problems) -> list[tuple[str, Agreement]]:
    if not isinstance(section, dict) or not section:
        problems.append(problem("needs at least one agreement, e.g. [agreements.A] with "
                                "`preset = \"<name>\"`", key="agreements"))
        return []
    out = []
    names: dict[str, str] = {}      # agreement name -> the label it was first given
    for label, body in section.items():
        key = f"agreements.{label}"
        if control_character(label) or not label.strip():
            why = control_character(label) or "is empty"
            problems.append(problem(f"is an agreement label, and it {why} (labels are short, "
                                    "such as A or B)", key="agreements", value=label))
            continue
        if not isinstance(body, dict):
            problems.append(problem("must be a table", key=key))
            continue
        try:
            if "preset" in body:
                extra = [k for k in body if k != "preset"]
                if extra:
                    problems.append(problem("give either 'preset' or the agreement inline, not "
                                            "both (also: " + ", ".join(extra) + ")", key=key))
                    continue
                if body["preset"] not in list_presets():
                    problems.append(problem(f"is not a preset (presets: "
                                            f"{', '.join(list_presets())})",
                                            key=f"{key}.preset", value=body["preset"]))
                    continue
                agreement = load_agreement(body["preset"])
            else:
                agreement = Agreement.from_dict(body, key)
        except ValidationError as exc:
            problems += [replace(p, column=f"{key}.{p.column}", label="key")
                         if p.column else replace(p, column=key, label="key")
                         for p in exc.problems]
            continue
        if agreement.name in names:
            problems.append(problem(f"has the same name as agreements.{names[agreement.name]} "
                                    f"('{agreement.name}'): names must differ", key=key))
            continue
        names[agreement.name] = label
        if system is not None:
            problems += [replace(p, column=f"{key}.{p.column}", label="key")
                         if p.column else p for p in agreement.check(system)]
        out.append((str(label), agreement))
    return out


def _read_scenarios(section, problems, members: int | None = None
                    ) -> tuple[ScenarioSettings, float]:
    default = ScenarioSettings()
    if not isinstance(section, dict):
        problems.append(problem("must be a table", key="scenarios"))
        return default, RISK_AVERSION
    valid = _SCENARIOS
    unknown_keys(section, valid, "scenarios.", problems)
    given = {**ScenarioSettings.kwargs(default), **{k: v for k, v in section.items()
                                                      if k in valid}}
    seed = given["seed"]
    found = check_settings(given["n"], given["correlation"], given["kind_correlation"],
                           given["distribution"], given["df"], given["volatility_scale"],
                           prefix="scenarios.", seed=seed,
                           members=members)
    risk_aversion = section.get("risk_aversion", RISK_AVERSION)
    if (isinstance(risk_aversion, bool) or not isinstance(risk_aversion, (int, float))
            or not 0 <= risk_aversion <= 1):
        found.append(problem("must lie in [0, 1]", key="scenarios.risk_aversion",
                             value=risk_aversion))
    register = section.get("register", "none")
    if register not in REGISTER_SOURCES:
        found.append(problem(f"must be one of: {', '.join(REGISTER_SOURCES)} (whether steps "
                             "judged across scenarios draw the risk register's events, on top "
                             "of the members' volatility or instead of it)",
                             key="scenarios.register", value=register))
    events = section.get("event_correlation", 0.0)
    if (isinstance(events, bool) or not isinstance(events, (int, float))
            or not 0 <= events <= 1):
        found.append(problem("must lie in [0, 1]", key="scenarios.event_correlation",
                             value=events))
    problems += found
    if found:
        return default, RISK_AVERSION
    return (ScenarioSettings((), int(given["n"]), float(given["correlation"]),
                             float(given["kind_correlation"]), str(given["distribution"]),
                             float(given["df"]), float(given["volatility_scale"]), int(seed),
                             register=str(register), event_correlation=float(events)),
            float(risk_aversion))


def _read_shocks(section, problems) -> list[tuple[str, Shock]]:
    if not isinstance(section, dict):
        problems.append(problem("must be a table of shocks by name", key="shocks"))
        return []
    out = []
    for name, body in section.items():
        if control_character(name):
            problems.append(problem("names a shock with a control character", key="shocks"))
            continue
        if not isinstance(body, dict):
            problems.append(problem("must be a table", key=f"shocks.{name}"))
            continue
        try:
            out.append((str(name), read_shock_dict(body, f"shocks.{name}")))
        except ValidationError as exc:
            problems += [replace(p, column=f"shocks.{name}.{p.column}", label="key")
                         if p.column else p for p in exc.problems]
    return out


def _read_steps(raw, labels: list[str], problems, system: System | None = None,
                sample: str = "") -> list[tuple[int, Step]]:
    """The steps that parsed, each with its 1-based position in the file; a years step's rules
    are checked against `system` and default to `sample`'s own."""
    if not isinstance(raw, list) or not raw:
        problems.append(problem("needs at least one [[steps]] table", key="steps"))
        return []
    if len(raw) > MAX_STEPS:
        problems.append(problem(f"has {len(raw):,} steps: a session holds at most {MAX_STEPS} "
                                "(split a longer workshop into several sessions)", key="steps"))
        return []
    steps = []
    for i, s in enumerate(raw, start=1):
        key = f"steps[{i}]"
        if not isinstance(s, dict):
            problems.append(problem("must be a table", key=key))
            continue
        unknown_keys(s, _STEP, f"{key}.", problems)
        kind = s.get("kind")
        if kind not in STEP_KINDS:
            problems.append(problem(f"must be one of: {', '.join(STEP_KINDS)}",
                                    key=f"{key}.kind", value=kind))
            continue
        title = text_key(s, "title", problems, needed_by="step", path=f"{key}.title")
        notes = text_key(s, "notes", problems, multiline=True, path=f"{key}.notes")
        chosen = s.get("agreements", [])
        low, high = AGREEMENTS_NEEDED[kind]
        if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
            problems.append(problem("must be a list of agreement labels", key=f"{key}.agreements"))
            chosen = []
        unknown = [c for c in chosen if c not in labels]
        if unknown:
            problems.append(problem(f"names {', '.join(unknown)}, not among the session's "
                                    f"agreements ({', '.join(labels) or 'none'})",
                                    key=f"{key}.agreements"))
        if len(set(chosen)) != len(chosen):
            problems.append(problem("names an agreement twice", key=f"{key}.agreements"))
        if not low <= len(chosen) <= high:
            need = (f"exactly {low}" if low == high else f"{low} to {high}")
            problems.append(problem(f"a {kind} step needs {need} agreement"
                                    f"{'s' if high != 1 else ''} (got {len(chosen)})",
                                    key=f"{key}.agreements"))
        shocks = s.get("shocks")
        if shocks is not None and (not isinstance(shocks, list)
                                   or not all(isinstance(x, str) for x in shocks)):
            problems.append(problem("must be a list of shock names", key=f"{key}.shocks"))
            shocks = None
        judge = s.get("judge", "forecast")
        if judge not in JUDGES:
            problems.append(problem(f"must be one of: {', '.join(JUDGES)}", key=f"{key}.judge",
                                    value=judge))
            judge = "forecast"
        if judge == "scenarios" and kind not in ("compare", "walk_away", "fairer"):
            problems.append(problem("only compare, walk_away and fairer steps can be judged "
                                    "across scenarios", key=f"{key}.judge"))
        month, forecast = _in_year_keys(s, kind, key, problems)
        rules, years = _years_keys(s, kind, key, problems, system, sample)
        steps.append((i, Step(StepKind(kind), title.strip(), notes, tuple(chosen),
                              None if shocks is None else tuple(shocks), Judge(judge),
                              month, forecast, rules=rules, years=years)))
    return steps


def _years_keys(s: dict, kind: str, key: str, problems, system: System | None,
                sample: str) -> tuple[str | Rules | None, int | None]:
    """A years step's rules and horizon; other kinds take neither.

    `rules`: a bundled set's name (never a path: the file rule) or a table of the rules file's
    keys, validated as a rules file is and against `system`, each problem named by its key path
    within the session (`steps[3].rules.all.savings`). Without it, `sample`'s own rules when it
    has some, else None (no rules). `years`: 1-10, or None (the rules' own)."""
    if kind != StepKind.YEARS:
        for k in _YEARS_KEYS:
            if k in s:
                problems.append(problem("only years steps take it", key=f"{key}.{k}"))
        return None, None
    years = s.get("years")
    if years is not None and (isinstance(years, bool) or not isinstance(years, int)
                              or not 1 <= years <= MAX_YEARS):
        problems.append(problem(f"must be a whole number of years from 1 to {MAX_YEARS}",
                                key=f"{key}.years", value=years))
        years = None
    if "rules" not in s:
        return (sample if sample in list_rules() else None), years
    raw = s["rules"]
    where = f"{key}.rules"
    if isinstance(raw, str):
        if raw not in list_rules():   # never opened: a name in a file is not a path
            problems.append(problem(f"is not a bundled set of projection rules "
                                    f"({listed(list_rules())}); or give the rules inline as a "
                                    f"[steps.rules] table", key=where, value=raw))
            return None, years
        if system is not None:
            problems += [replace(p, rule=f"the bundled rules '{raw}' do not fit the system: "
                                         f"{p.where() or 'the rules'}: {p.rule}",
                                 column=where, label="key")
                         for p in load_rules(raw).check(system)]
        return raw, years
    if not isinstance(raw, dict):
        problems.append(problem("must name a bundled set of projection rules "
                                f"({listed(list_rules())}) or be a [steps.rules] table of the "
                                "rules file's keys", key=where, value=raw))
        return None, years
    try:
        return rules_from_dict(raw, where, system), years
    except ValidationError as exc:
        problems += [replace(p, column=f"{where}.{p.column}" if p.column else where,
                             label="key") for p in exc.problems]
        return None, years


def _in_year_keys(s: dict, kind: str, key: str, problems) -> tuple[int | None, str]:
    """An in_year step's month (required, 0-12) and forecast method; other kinds take neither."""
    if kind != StepKind.IN_YEAR:
        for k in _IN_YEAR_KEYS:
            if k in s:
                problems.append(problem("only in_year steps take it", key=f"{key}.{k}"))
        return None, "plan"
    month = s.get("month")
    if isinstance(month, bool) or not isinstance(month, int) or not 0 <= month <= 12:
        problems.append(problem("an in_year step needs the months closed, a whole number from "
                                "0 (none) to 12 (March)", key=f"{key}.month", value=month))
        month = None
    forecast = s.get("forecast", "plan")
    if forecast not in values(ForecastMethod):
        problems.append(problem(f"must be one of: {', '.join(values(ForecastMethod))}",
                                key=f"{key}.forecast", value=forecast))
        forecast = "plan"
    return month, str(forecast)


def _check_in_year(steps, system, monthly: Monthly | None, problems) -> None:
    """Each in_year step needs the system's monthly table, closed to its month for every
    member, and a forecast method that can forecast every member (`rs.in_year` at load, so a
    session never fails on screen)."""
    from riskshare.inyear.position import in_year

    for i, step in steps:
        if step.kind != StepKind.IN_YEAR or step.month is None or system is None:
            continue
        if monthly is None:
            problems.append(problem(
                "an in_year step needs the system's monthly table: a sample that has one "
                "(northshire_2018_19, vale_2025_26) or [[system.monthly]] rows",
                key=f"steps[{i}].kind", value="in_year"))
            continue
        try:
            in_year(system, monthly, step.month, forecast=step.forecast)
        except ValidationError as exc:
            problems += [replace(p, column=f"steps[{i}].{p.column or 'month'}", label="key")
                         for p in exc.problems]


def _check_risks(steps, settings: ScenarioSettings, system, register: Register | None,
                 problems) -> None:
    """A risks step needs the system's risk register, and so do scenarios set to draw it."""
    if system is None or register is not None:
        return
    where = ("a sample that has one (northshire_2018_19, vale_2025_26) or [[system.risks]] "
             "rows (org_id, item, type, amount, probability)")
    for i, step in steps:
        if step.kind == StepKind.RISKS:
            problems.append(problem(f"a risks step needs the system's risk register: {where}",
                                    key=f"steps[{i}].kind", value="risks"))
    if settings.uses_register():
        problems.append(problem(f"draws the system's risk register, and the session has none: "
                                f"{where}; or set it to \"none\"", key="scenarios.register",
                                value=settings.register))


def _check_shocks(steps, inline: dict, system, problems) -> None:
    for i, step in steps:
        for name in step.shocks or ():
            key = f"steps[{i}].shocks"
            if name in inline:
                shock = inline[name]
            elif name in list_shocks():
                shock = bundled_shock(name)
            else:   # never opened: a name in a file is not a path
                problems.append(problem(f"{name!r} is neither a [shocks] table of this session "
                                        f"nor a bundled shock ({', '.join(list_shocks())})",
                                        key=key))
                continue
            if system is not None:
                try:
                    shock_vector(shock, system)
                except ValidationError as exc:
                    problems += [replace(p, rule=f"shock '{name}': {p.rule}", column=key,
                                         label="key") for p in exc.problems]


def _check_work(steps, settings: ScenarioSettings, system, problems,
                register: Register | None = None) -> None:
    """Steps judged across scenarios must fit the time budget (they are worked out live in the
    room, and a report works out every step): a walk-away or fairer step on its own, and all
    such steps with the comparisons across scenarios together, and with the risks steps (each
    ranks every register item on the session's scenarios: an engine run per item). Refused at
    load, with the estimate, rather than hanging on screen."""
    from riskshare.games.pooling import (
        SECONDS_PER_CELL,
        check_time,
        duration,
        estimate_seconds,
        time_budget,
    )

    if system is None:
        return
    judged = [(i, step) for i, step in steps if step.judge == "scenarios"]
    for i, step in judged:
        if step.kind in ("walk_away", "fairer"):
            try:
                check_time(system.n, settings.n)
            except BudgetError as exc:
                problems.append(problem(str(exc), key=f"steps[{i}].judge"))
                return
    seconds = sum(len(step.agreements) * (
        estimate_seconds(system.n, settings.n) if step.kind in ("walk_away", "fairer")
        else settings.n * system.n * SECONDS_PER_CELL) for _, step in judged)
    if judged and seconds > time_budget():
        problems.append(problem(
            f"{len(judged)} step{'s judge' if len(judged) > 1 else ' judges'} agreements across "
            f"{settings.n:,} scenarios: {duration(seconds)} of work in all, above the budget "
            f"of {duration(time_budget(), about=False)}; use fewer scenarios or judge some steps "
            "at the forecast (RISKSHARE_TIME_BUDGET raises the budget)",
            key=f"steps[{judged[0][0]}].judge"))
        return
    risky = [i for i, step in steps if step.kind == StepKind.RISKS]
    if not risky or register is None:
        return
    items = len(register.table)          # at most one event each (a group is one)
    total = seconds + len(risky) * (items + 2) * (settings.n * system.n * SECONDS_PER_CELL
                                                  + SECONDS_PER_EVENT)
    if total > time_budget():
        problems.append(problem(
            f"{len(risky)} risks step{'s rank' if len(risky) > 1 else ' ranks'} the risk "
            f"register's {items:,} items across {settings.n:,} scenarios"
            + (" (with the steps judged across scenarios)" if judged else "")
            + f": {duration(total)} of work in all, above the budget of "
            f"{duration(time_budget(), about=False)}; use fewer scenarios "
            "(RISKSHARE_TIME_BUDGET raises the budget)", key="scenarios.n", value=settings.n))


def _check_what_if(session: Session, source: str) -> None:
    """A what-if the selected step's agreement cannot take (e.g. a deadband beyond its next
    band) is refused when the file is read, not later on screen."""

    if not session.what_if:
        return
    label = target_label(session, session.step, session.what_if)
    if label is None:
        return
    try:
        changed_agreement(session.agreement(label), session.what_if)
    except ValidationError as exc:
        raise ValidationError([replace(p, rule=f"what_if on agreement {label}: {p.rule}",
                                       column="what_if", label="key") for p in exc.problems],
                              source) from None


def _read_what_if(section, labels, problems, register: Register | None = None,
                  checked: bool = True) -> WhatIf:
    """The what-if; its item is checked against `register` when `checked` (not when the
    register's own rows were refused)."""

    if not isinstance(section, dict):
        problems.append(problem("must be a table", key="what_if"))
        return WhatIf()
    agreement = section.get("agreement")
    if agreement is not None and agreement not in labels:
        problems.append(problem(f"is not among the session's agreements ({', '.join(labels)})",
                                key="what_if.agreement", value=agreement))
        agreement = None
    item = section.get("item")
    if item is not None and not checked:
        item = None
    elif item is not None:
        items = item_labels(register) if register is not None else []
        if register is None:
            problems.append(problem("names a risk register item, and the session has no risk "
                                    "register (a sample that has one, or [[system.risks]] rows)",
                                    key="what_if.item", value=item))
            item = None
        elif item not in items:
            problems.append(problem(f"is not an item of the session's risk register, written "
                                    f"\"org_id: item\" (items: {listed(items)})",
                                    key="what_if.item", value=item))
            item = None
    values = {}
    for key, value in section.items():
        if key in ("agreement", "item"):
            continue
        knob = KNOBS.get(key)
        if knob is None:
            problems.append(problem(f"unknown key (valid keys: agreement, item, "
                                    f"{', '.join(KNOBS)})", key=f"what_if.{key}"))
        elif (isinstance(value, bool) or not isinstance(value, (int, float))
              or not LIMITS[knob.unit][0] <= value <= LIMITS[knob.unit][1]):
            low, high = LIMITS[knob.unit]
            problems.append(problem(f"must be a number from {low:g} to {high:g}",
                                    key=f"what_if.{key}", value=value))
        else:
            values[key] = value
    return WhatIf.of(agreement, item, **values)


# -- writing helpers ----------------------------------------------------------------------------------
def _system_dict(system: System, sample: str | None, monthly: Monthly | None = None,
                 register: Register | None = None) -> dict:
    if sample:
        return {"sample": sample}
    out: dict = system_meta(system)
    rows = []
    for row in file_frame(system).to_dict("records"):
        clean = {}
        for k, v in row.items():
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if isinstance(v, np.generic):
                v = v.item()
            clean[str(k)] = v
        rows.append(clean)
    out["orgs"] = rows
    if monthly is not None:
        out["monthly"] = [
            {"org_id": str(org), "month": int(month),
             **{k: float(v) for k, v in row.items() if pd.notna(v)}}
            for (org, month), row in monthly.table.iterrows()]
    if register is not None and len(register.table):
        out["risks"] = [_risk_row(row) for row in register.table.to_dict("records")]
    return out


def _risk_row(row: dict) -> dict:
    """One register item as a [[system.risks]] table: the group only when it has one, the
    recurrent flag only when set."""
    out: dict = {"org_id": str(row["org_id"]), "item": str(row["item"]),
                 "type": str(row["type"]), "amount": float(row["amount"]),
                 "probability": float(row["probability"])}
    if row["group"]:
        out["group"] = str(row["group"])
    if row["recurrent"]:
        out["recurrent"] = True
    return out
