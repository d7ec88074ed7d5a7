"""Risk-share agreements: the declarative spec (docs/agreements.md), read from and written to TOML.

An agreement is applied to each member's variance in layers: a *schedule* (gains or losses)
decides how much of the variance is passed to the pool, a *pool* section how the net pool is
distributed, an optional *reserve* absorbs a net pooled loss first, and a *support* section
decides how conditional support funding is earned.

Units: every percentage is a percent number of the `scale` column (3.0 = 3% of turnover);
shares (`pool`, `system_share`) are fractions in [0, 1]; money (`reserve.amount`) is in £.

`load_agreement(path_or_text)` validates the file on its own (unknown keys, bands out of order,
shares outside [0, 1], negative caps, ...) and collects every problem into one
`ValidationError`; `Agreement.check(system)` adds the checks that need a system (members named,
columns present and numeric). Given the system it is meant for (`load_agreement(..., system=)`,
`read_agreement_text(..., system=)`), reading reports both kinds in one error, so a file is
mended in one pass.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum

import pandas as pd
import tomli_w

from riskshare.agreements.catalogue import list_presets, preset_path
from riskshare.agreements.claims import RULES
from riskshare.agreements.describe import toml_header
from riskshare.core.constants import (
    Distribute,
    DistributeName,
    SupportPeriod,
    SupportPeriodName,
    SupportTest,
    SupportTestName,
    SupportTiming,
    SupportTimingName,
    Unearned,
    UnearnedName,
    values,
)
from riskshare.core.errors import Problem, checked, problem, unknown_keys
from riskshare.core.format import listed
from riskshare.core.schema import MONEY_LIMIT, control_character, numeric_columns, text_key
from riskshare.core.sources import parse_toml, resolve

DISTRIBUTE = values(Distribute)
TESTS = values(SupportTest)
UNEARNED = values(Unearned)


@dataclass(frozen=True)
class Band:
    """Marginal share of |variance| passed to the pool within this band.

    upto: upper bound of the band, % of scale (None: no upper bound; only the last band)."""

    pool: float
    upto: float | None = None


@dataclass(frozen=True)
class Schedule:
    """How much of a favourable (gains) or adverse (losses) variance is pooled.

    bands:     marginal pool shares by band of |variance| (% of scale), from zero upwards.
    threshold: first-pound trigger (% of scale): below it `below_threshold_pool` of the whole
               variance is pooled; at or above it the bands apply from zero. None: no trigger.
    max_pool:  cap on the pooled amount (% of scale).
    max_keep:  cap on the amount the member keeps (% of scale); the excess is pooled. Applied
               after max_pool, so the member never keeps more than max_keep.
    caps_of:   the column max_pool and max_keep are % of (None: the scale), e.g. an allocation
               that is 0 for members it does not apply to (their cap is then £0).
    """

    bands: tuple[Band, ...] = (Band(0.0),)
    threshold: float | None = None
    below_threshold_pool: float = 1.0
    max_pool: float | None = None
    max_keep: float | None = None
    caps_of: str | None = None
    #: a threshold read from a member column through a table of (value, threshold %) points,
    #: linear between them and flat beyond the ends (e.g. the MSSP minimum savings rate by
    #: assigned beneficiaries, 42 CFR 425.604(b)); it replaces `threshold`
    threshold_by: str | None = None
    threshold_table: tuple[tuple[float, float], ...] | None = None
    #: (gains only) a column of scores in [0, 1] multiplying what the member keeps (the MSSP's
    #: sharing rate × quality score); applied after the bands and threshold, before the caps
    quality_by: str | None = None

    @property
    def shares_nothing(self) -> bool:
        return (all(b.pool == 0 for b in self.bands) and self.threshold is None
                and self.max_keep is None and self.threshold_by is None
                and self.quality_by is None)


@dataclass(frozen=True)
class Pool:
    """How the net pool (Σ pooled, after any reserve) is distributed.

    distribute:   "basis" (pro rata to `basis`), "counterparty" (all to one member) or "claims"
                  (a positive pool first covers members still short of their control total,
                  by `rule`; the rest by basis) or "optimise" (so that the worst-placed member,
                  as % of scale, is as well placed as possible: the optimiser's
                  minimax_shortfall objective within the caps, see `engine.level`).
    basis:        a numeric column, "equal", or weights by org_id (a tuple of (org_id, weight)).
    max_charge:   no member is charged more than this % of scale from a net loss.
    max_award:    nor awarded more than this % of scale from a net gain.
    What caps leave over is spread over the uncapped members; what nobody can take is reported
    as unallocated.
    """

    distribute: Distribute | DistributeName = Distribute.BASIS
    basis: str | tuple[tuple[str, float], ...] = "turnover"
    counterparty: str | None = None
    rule: str = "proportional"
    max_charge: float | None = None
    max_award: float | None = None


@dataclass(frozen=True)
class Reserve:
    """A contingency of `amount` £ held by member `holder` that absorbs a net pooled loss first
    (the holder is charged what the reserve absorbs)."""

    holder: str
    amount: float


#: Which way a line's variance is favourable (`[variance] favourable`).
FAVOURABLE = ("over", "under")


@dataclass(frozen=True)
class LineVariance:
    """The variance the schedules read, when it is not forecast − control total:
    a line measured on two columns (£). favourable "over": actual − plan (income-like, above
    plan is favourable); "under": plan − actual (spending-like, below plan is favourable).
    The member's whole variance (forecast − control total) still makes its outturn: the line
    only decides what is pooled, so outturn = forecast + net transfer."""

    actual: str
    plan: str
    favourable: str = "over"


@dataclass(frozen=True)
class Support:
    """The conditional support funding test.

    test:          "organisation" (each member against its own control total), "system" (the
                   system against the SCT) or "none" (support is earned unconditionally).
    system_share:  with "organisation", the part of each member's support tied to the system
                   test instead (0.5 = half).
    after_sharing: test positions after the risk share (True) or before it (False).
    taper:         0 = cliff edge (all or nothing); > 0 = earned linearly over this % of scale
                   below target (for the system test: % of the total scale).
    unearned:      "lost", or "redistribute" to members that earned all their support, pro rata
                   to their support.
    """

    test: SupportTest | SupportTestName = SupportTest.ORGANISATION
    system_share: float = 0.0
    after_sharing: bool = True
    taper: float = 0.0
    unearned: Unearned | UnearnedName = Unearned.LOST
    #: the part of each member's support that is a performance element (0.3: the 2018/19 PSF's
    #: A&E element), earned by the share (0–1) in its `performance_by` column instead of by the
    #: test; in a system without that column no member has such an element
    performance_share: float = 0.0
    performance_by: str | None = None
    #: £ of incentive funding per £1 of a member's position above its control total (the
    #: position its test reads), capped at `incentive_cap` % of scale; paid on top of support
    incentive_rate: float = 0.0
    incentive_cap: float | None = None
    #: support paid only to members with a deficit control total (< 0): the others' support is
    #: not at stake (the 2020/21 FRF)
    deficit_only: bool = False
    #: members inside the SCT with a control total ≥ 0 earn this % of scale if their outturn
    #: before support is ≥ 0 (the 2020/21 one-off reward of 0.5% of income)
    surplus_reward: float = 0.0
    #: "year": judged once on the year-end position; "quarter": paid in four parts, each judged
    #: on the year to date against the plan to date at a quarter end (docs/in_year.md)
    period: SupportPeriod | SupportPeriodName = SupportPeriod.YEAR
    #: with period "quarter": each quarter's share of the support (four shares adding up to 1;
    #: default equal; the 2017/18–2018/19 STF/PSF used 0.15, 0.20, 0.30, 0.35)
    quarter_weights: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)
    #: with period "quarter": missed quarters are paid when the year-end test passes
    catch_up: bool = False
    #: with period "quarter": "arrears" judges a quarter on the year to date at its own end;
    #: "advance" on the year to date at the previous quarter's end (Q1 on the agreed plan)
    timing: SupportTiming | SupportTimingName = SupportTiming.ARREARS


#: What a carried adverse position does (`[carry] adverse`) and a favourable one (`favourable`).
CARRY_ADVERSE = ("repay", "none")
CARRY_FAVOURABLE = ("bank", "none")
#: The most years a position may be carried over (`[carry] years`).
MAX_CARRY_YEARS = 10


@dataclass(frozen=True)
class Carry:
    """Carrying a member's year-end position against its control total into its control totals
    of the years after it: the agreement over the years ahead (`rs.project` with an agreement;
    a single year's `apply` has no next year and leaves it alone).

    adverse:          "repay": a shortfall is repaid, the control totals of the next `years`
                      years rise by equal parts of it; "none": it is not carried.
    favourable:       "bank": a surplus beyond the control total is banked, the next `years`
                      control totals fall by equal parts of it; "none".
    years:            the number of following years the carried amount is spread over (1–10).
    max_carry:        the most carried from one year, % of scale (None: no cap).
    max_carry_amount: the most carried from one year, £ (None: no cap); with both, the smaller.
    after_sharing:    carry the position after the risk share (outturn − control total) or the
                      variance before it.
    What a cap leaves uncarried is written off to the pool: the system bears it (a shortfall)
    or keeps it (a surplus). Carried + written off = the position carried from, to the penny.
    """

    adverse: str = "repay"
    favourable: str = "none"
    years: int = 1
    max_carry: float | None = None
    max_carry_amount: float | None = None
    after_sharing: bool = True


@dataclass(frozen=True)
class Agreement:
    """A risk-share agreement (docs/agreements.md). Build with `load_agreement` or
    `Agreement.from_dict`.

    scale:  the column that percentages refer to (default turnover).
    exempt: members whose own variance is not shared (e.g. a counterparty); they still take
            part in distribution.
    sample: (see docs/agreements.md) the bundled sample system a preset is designed for;
            informational, it does not restrict where the agreement can be applied.
    description_for: the `parameters_fingerprint` of the parameters the name and description
            were written for, when the parameters have been changed since (None: they were
            written for the parameters in force; a value equal to the parameters in force is
            read as None). The app's editor sets it; `describe.edited` reads it. The plain-English
            summary of the parameters in force is `describe.summary`, never the description."""

    name: str
    description: str = ""
    sample: str = ""
    scale: str = "turnover"
    exempt: tuple[str, ...] = ()
    gains: Schedule = field(default_factory=Schedule)
    losses: Schedule = field(default_factory=Schedule)
    pool: Pool = field(default_factory=Pool)
    reserve: Reserve | None = None
    support: Support = field(default_factory=Support)
    description_for: str | None = None
    variance: LineVariance | None = None
    carry: Carry | None = None

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, source: str = "agreement", system=None) -> Agreement:
        """Validate a parsed TOML document; raise ValidationError listing every problem. With
        `system` (a System), the checks against it (`check`: members named, columns present)
        are made too and reported in the same error, but for keys already in error."""
        problems: list[Problem] = []
        return checked(_parse(data, problems), problems, system, source)

    def to_dict(self) -> dict:
        """The TOML document as a dict (defaults left out, so files stay short)."""
        out: dict = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.sample:
            out["sample"] = self.sample
        if self.description_for is not None:
            out["description_for"] = self.description_for
        if self.scale != "turnover":
            out["scale"] = self.scale
        if self.exempt:
            out["exempt"] = list(self.exempt)
        if self.variance is not None:
            out["variance"] = asdict(self.variance)
        for key in ("gains", "losses"):
            sched: Schedule = getattr(self, key)
            if sched != Schedule():
                section: dict[str, object] = {"bands": [_drop_none(asdict(b))
                                                      for b in sched.bands]}
                for f in ("threshold", "max_pool", "max_keep", "caps_of"):
                    if getattr(sched, f) is not None:
                        section[f] = getattr(sched, f)
                for f in ("threshold_by", "quality_by"):
                    if getattr(sched, f) is not None:
                        section[f] = getattr(sched, f)
                if sched.threshold_table is not None:
                    section["threshold_table"] = [list(p) for p in sched.threshold_table]
                if sched.below_threshold_pool != Schedule().below_threshold_pool:
                    section["below_threshold_pool"] = sched.below_threshold_pool
                out[key] = section
        out["pool"] = _non_default(self.pool, Pool())
        if isinstance(self.pool.basis, tuple):
            out["pool"]["basis"] = dict(self.pool.basis)
        if self.reserve is not None:
            out["reserve"] = asdict(self.reserve)
        support = _non_default(self.support, Support())
        if "quarter_weights" in support:
            support["quarter_weights"] = list(support["quarter_weights"])
        if support:
            out["support"] = support
        if self.carry is not None:
            out["carry"] = _drop_none(_non_default(self.carry, Carry()) or
                                      {"adverse": self.carry.adverse})
        return out

    @property
    def fingerprint(self) -> str:
        """A digest of the agreement's content (its TOML, comments aside): caches key on it."""
        return hashlib.sha256(self._toml_body().encode("utf-8")).hexdigest()

    @property
    def parameters_fingerprint(self) -> str:
        """A short digest (12 hex digits) of the parameters alone: everything but the name,
        description, sample and `description_for`. Two agreements that pay the same have the
        same one."""
        words = replace(self, name="-", description="", sample="", description_for=None)
        return hashlib.sha256(words._toml_body().encode("utf-8")).hexdigest()[:12]

    def _toml_body(self) -> str:
        return tomli_w.dumps(self.to_dict(), multiline_strings=True)

    def to_toml(self) -> str:
        """TOML text that `load_agreement` reads back to an equal Agreement: a comment header
        with the plain-English summary of the parameters (`describe.summary`, written afresh
        on every export and never read back), then the keys."""
        return toml_header(self) + self._toml_body()

    def replace(self, **changes) -> Agreement:
        """A copy with some fields changed, re-validated (raises ValidationError).

        To record that the name and description were written for the parameters before the
        change, pass `description_for=self.parameters_fingerprint` (the app's editor does)."""
        return Agreement.from_dict(replace(self, **changes).to_dict(), self.name or "agreement")

    # -- checks that need a system ---------------------------------------------------------------
    def check(self, system) -> list[Problem]:
        """Problems applying this agreement to `system` would meet (members, columns)."""
        problems: list[Problem] = []
        members = set(system.members)
        usable = numeric_columns(system.orgs)

        def member(key: str, org_id) -> None:
            if org_id is not None and org_id not in members:
                problems.append(problem(f"names '{org_id}', which is not a member of the system "
                                        f"(members: {listed(system.members)})", key=key))

        for org_id in self.exempt:
            member("exempt", org_id)
        member("pool.counterparty", self.pool.counterparty)
        if self.reserve is not None:
            member("reserve.holder", self.reserve.holder)
        line = self.variance
        for key, column in ((("variance.actual", line.actual), ("variance.plan", line.plan))
                            if line is not None else ()):
            if column not in usable:
                problems.append(problem(f"'{column}' is not a numeric column of the system "
                                        f"(numeric columns: {listed(usable)})", key=key))
        for side in ("gains", "losses"):
            caps_of = getattr(self, side).caps_of
            if caps_of is None:
                continue
            if caps_of not in usable:
                problems.append(problem(f"'{caps_of}' is not a numeric column of the system "
                                        f"(numeric columns: {listed(usable)})",
                                        key=f"{side}.caps_of"))
            elif (system.column(caps_of) < 0).any():
                bad = [m for m in system.members if system.column(caps_of)[m] < 0]
                problems.append(problem(f"the column '{caps_of}' must be ≥ 0 for every member "
                                        f"(not for {listed(bad)})", key=f"{side}.caps_of"))
        problems += _check_rule_columns(self, system, usable)
        if self.scale not in usable:
            problems.append(problem(f"'{self.scale}' is not a numeric column of the system "
                                    f"(numeric columns: {listed(usable)})", key="scale"))
        elif not (system.column(self.scale) > 0).all():
            bad = [m for m in system.members if not system.column(self.scale)[m] > 0]
            problems.append(problem(f"the scale column '{self.scale}' must be > 0 for every "
                                    f"member (not for {listed(bad)})", key="scale"))
        basis = self.pool.basis
        if isinstance(basis, tuple):
            for org_id, _ in basis:
                member("pool.basis", org_id)
            missing = members - {k for k, _ in basis}
            if missing:
                problems.append(problem("inline weights miss members " +
                                        listed(sorted(missing)), key="pool.basis"))
        elif basis != "equal":
            if basis not in usable:
                problems.append(problem(f"'{basis}' is not a numeric column of the system "
                                        f"(use 'equal', a column from: {listed(usable)}, or "
                                        "an inline table of weights)", key="pool.basis"))
            elif (system.column(basis) < 0).any() or system.column(basis).sum() <= 0:
                problems.append(problem(f"the basis column '{basis}' must be ≥ 0 and not all "
                                        "zero", key="pool.basis"))
        return problems


# -- loading ---------------------------------------------------------------------------------------
def load_agreement(path_or_text, system=None) -> Agreement:
    """An Agreement from a preset name (see `riskshare.agreements.presets`), a .toml file
    path, or TOML text; ValidationError lists every problem, InputFileError says why a file
    cannot be read (see `sources.resolve` for how a one-line string is told apart).

    The agreement is validated on its own (unknown keys, bands out of order, shares outside
    [0, 1], ...); `Agreement.check(system)` adds the checks that need a system.

    Parameters
    ----------
    path_or_text : Agreement, str or pathlib.Path
        An Agreement (returned as it is); a preset name (a file stem in `models/`, e.g.
        "gain_loss_50_50_deadband"); a path to a .toml file; or the TOML text itself. A str
        with a line break is TOML text; a one-line str is a preset if it names one, a path if
        it ends in .toml or names an existing file, and TOML text if it holds an "=".
    system : System, optional
        The system the agreement is meant for: read from a file or text, its problems against
        the system (members named, columns present; `Agreement.check`) are reported with the
        file's own, in one ValidationError. An Agreement given as it is is not checked here.

    Returns
    -------
    Agreement
        The validated agreement: percentages are percent numbers of its scale column (3.0 =
        3% of turnover), shares are fractions, the reserve amount is in £.

    Raises
    ------
    ValidationError
        When the agreement has problems (every one listed by key, e.g. "gains.bands[2].upto").
    InputFileError
        When the file is missing or unreadable, is not UTF-8 or not TOML, the text is empty,
        or a one-line name is neither a preset nor a file.
    """
    if isinstance(path_or_text, Agreement):
        return path_or_text

    source = resolve(path_or_text, "agreement", list_presets, preset_path, "preset")
    return read_agreement_text(source.read(), source.label, system)


def read_agreement_text(text: str, source: str = "agreement", system=None) -> Agreement:
    """An Agreement from TOML text only (never read as a path: use this for uploads);
    `source` names it in messages. With `system`, every problem the agreement has on its own
    and against that system is reported at once (see `Agreement.from_dict`)."""
    return Agreement.from_dict(parse_toml(text, source), source, system)


# -- parsing with collected problems ---------------------------------------------------------------
_TOP = ("name", "description", "sample", "scale", "exempt", "gains", "losses", "pool", "reserve",
        "support", "description_for", "variance", "carry")
_VARIANCE = tuple(f.name for f in fields(LineVariance))
_SCHEDULE = tuple(f.name for f in fields(Schedule))
_POOL = tuple(f.name for f in fields(Pool))
_RESERVE = tuple(f.name for f in fields(Reserve))
_SUPPORT = tuple(f.name for f in fields(Support))
_BAND = ("upto", "pool")
_CARRY = tuple(f.name for f in fields(Carry))


def _non_default(obj, default) -> dict:
    """Fields of a section that differ from the default (the first key always kept where it
    says what the section does)."""
    out = {f.name: getattr(obj, f.name) for f in fields(obj)
           if getattr(obj, f.name) != getattr(default, f.name)}
    first = fields(obj)[0].name
    return {first: getattr(obj, first), **out} if out else out


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


#: The largest percentage of scale an agreement may name (bands, thresholds, caps, taper):
#: ten times a member's whole scale is already far beyond any real design.
PERCENT_LIMIT = 1000.0


def _number(value, key: str, problems: list, *, low=None, high=None, share=False,
            unit: str = "%"):
    """A finite number within its bounds (`unit` "%": percent of scale, at most PERCENT_LIMIT;
    "£": money, within ±MONEY_LIMIT; shares lie in [0, 1])."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(problem("must be a finite number", key=key, value=value))
        return None
    value = float(value)
    if share and not 0.0 <= value <= 1.0:
        hint = (f" (a fraction: for {value:g}% write {value / 100:g})" if 1.0 < value <= 100.0
                else "")
        problems.append(problem(f"is a share and must lie in [0, 1]{hint}", key=key,
                                value=value))
    elif low is not None and value < low:
        problems.append(problem(f"must be at least {low:g}", key=key, value=value))
    elif high is not None and value > high:
        problems.append(problem(f"must be at most {high:g}", key=key, value=value))
    elif not share and unit == "%" and abs(value) > PERCENT_LIMIT:
        problems.append(problem(f"must be at most {PERCENT_LIMIT:,.0f} (% of the scale)",
                                key=key, value=value))
    elif not share and unit == "£" and abs(value) > MONEY_LIMIT:
        problems.append(problem("must lie within ±£1,000,000,000,000 (10¹²)", key=key,
                                value=value))
    return value


def _choice(value, key: str, choices: type[StrEnum] | tuple, problems: list):
    """`value` as a member of `choices` (an enumeration, or a tuple of names), or a problem
    naming the valid strings."""
    valid = values(choices) if isinstance(choices, type) else tuple(choices)
    if not isinstance(value, str) or value not in valid:
        problems.append(problem(f"must be one of: {', '.join(valid)}", key=key, value=value))
        return value
    return choices(value) if isinstance(choices, type) else value


def _table(data: dict, key: str, problems: list) -> dict:
    section = data.get(key, {})
    if not isinstance(section, dict):
        problems.append(problem("must be a table", key=key))
        return {}
    return section


#: Bands in one schedule (real agreements have two to five).
MAX_BANDS = 50


def _parse_schedule(section: dict, where: str, problems: list) -> Schedule:
    unknown_keys(section, _SCHEDULE, f"{where}.", problems)
    raw_bands = section.get("bands", [{"pool": 0.0}])
    bands: list[Band] = []
    if not isinstance(raw_bands, list) or not raw_bands:
        problems.append(problem("must be a non-empty list of {upto, pool} tables",
                                key=f"{where}.bands"))
        raw_bands = []
    elif len(raw_bands) > MAX_BANDS:
        problems.append(problem(f"has {len(raw_bands):,} bands: at most {MAX_BANDS} (each band "
                                "is worked out in every scenario)", key=f"{where}.bands"))
        raw_bands = []
    previous = 0.0
    for i, b in enumerate(raw_bands):
        key = f"{where}.bands[{i + 1}]"
        if not isinstance(b, dict):
            problems.append(problem("must be a table like { upto = 2.0, pool = 0.5 }", key=key))
            continue
        unknown_keys(b, _BAND, f"{key}.", problems)
        if "pool" not in b:
            problems.append(problem("needs a 'pool' share", key=key))
        pool = _number(b.get("pool", 0.0), f"{key}.pool", problems, share=True)
        upto = b.get("upto")
        last = i == len(raw_bands) - 1
        if upto is None and not last:
            problems.append(problem("only the last band may have no 'upto'", key=key))
        if upto is not None:
            upto = _number(upto, f"{key}.upto", problems, low=0.0)
            if last:
                problems.append(problem("the last band must have no 'upto' (it runs to "
                                        "infinity); add a final band such as { pool = 0.0 }",
                                        key=f"{key}.upto"))
            elif upto is not None and upto <= previous:
                problems.append(problem(f"bands must rise: 'upto' {upto:g} is not above the "
                                        f"previous band's {previous:g}", key=f"{key}.upto"))
            if upto is not None:
                previous = max(previous, upto)
        bands.append(Band(pool if pool is not None else 0.0, upto))
    opt = {}
    for key in ("threshold", "max_pool", "max_keep"):
        if key in section:
            opt[key] = _number(section[key], f"{where}.{key}", problems, low=0.0)
    below = section.get("below_threshold_pool", 1.0)
    below = _number(below, f"{where}.below_threshold_pool", problems, share=True)
    if ("below_threshold_pool" in section and "threshold" not in section
            and "threshold_by" not in section):
        problems.append(problem("has no effect without a 'threshold'",
                                key=f"{where}.below_threshold_pool"))
    caps_of = section.get("caps_of")
    if caps_of is not None and (not isinstance(caps_of, str) or not caps_of):
        problems.append(problem("must name a numeric column", key=f"{where}.caps_of",
                                value=caps_of))
        caps_of = None
    if caps_of is not None and "max_pool" not in section and "max_keep" not in section:
        problems.append(problem("has no effect without a 'max_pool' or 'max_keep'",
                                key=f"{where}.caps_of"))
    return Schedule(tuple(bands) or (Band(0.0),), opt.get("threshold"),
                    below if below is not None else 1.0, opt.get("max_pool"),
                    opt.get("max_keep"), caps_of)


def _parse_variance(data: dict, problems: list) -> LineVariance | None:
    """The optional `[variance]` section: a line measured on two columns."""
    if "variance" not in data:
        return None
    section = _table(data, "variance", problems)
    unknown_keys(section, _VARIANCE, "variance.", problems)
    names = {}
    for key in ("actual", "plan"):
        column = section.get(key)
        if not isinstance(column, str) or not column:
            problems.append(problem("must name a numeric column (£)", key=f"variance.{key}",
                                    value=column))
            column = "forecast" if key == "actual" else "control_total"
        names[key] = column
    favourable = _choice(section.get("favourable", "over"), "variance.favourable", FAVOURABLE,
                         problems)
    return LineVariance(names["actual"], names["plan"],
                        favourable if favourable in FAVOURABLE else "over")


def _parse(data: dict, problems: list) -> Agreement:
    unknown_keys(data, _TOP, "", problems)
    name = text_key(data, "name", problems, needed_by="agreement")
    description = text_key(data, "description", problems, multiline=True)
    sample = data.get("sample", "")
    if not isinstance(sample, str):
        problems.append(problem("must name a bundled sample system", key="sample"))
        sample = ""
    elif control_character(sample):
        problems.append(problem(control_character(sample), key="sample"))
        sample = ""
    description_for = data.get("description_for")
    if description_for is not None and (not isinstance(description_for, str)
                                        or not re.fullmatch(r"[0-9a-f]{12}", description_for)):
        problems.append(problem("must be the 12-digit fingerprint riskshare writes (delete the "
                                "key once the name and description describe the parameters)",
                                key="description_for", value=description_for))
        description_for = None
    scale = data.get("scale", "turnover")
    if not isinstance(scale, str) or not scale:
        problems.append(problem("must name a numeric column", key="scale", value=scale))
        scale = "turnover"
    exempt = data.get("exempt", [])
    if not isinstance(exempt, list) or not all(isinstance(e, str) for e in exempt):
        problems.append(problem("must be a list of org_ids", key="exempt"))
        exempt = []

    gains = _parse_schedule(_table(data, "gains", problems), "gains", problems)
    losses = _parse_schedule(_table(data, "losses", problems), "losses", problems)
    gains = _schedule_rules(data.get("gains"), "gains", problems, gains)
    losses = _schedule_rules(data.get("losses"), "losses", problems, losses)

    p = _table(data, "pool", problems)
    unknown_keys(p, _POOL, "pool.", problems)
    distribute = _choice(p.get("distribute", "basis"), "pool.distribute", Distribute, problems)
    basis = p.get("basis", "turnover")
    if isinstance(basis, dict):
        weights = []
        for org_id, w in basis.items():
            w = _number(w, f"pool.basis.{org_id}", problems, low=0.0, unit="£")
            weights.append((org_id, w if w is not None else 0.0))
        if weights and sum(w for _, w in weights) <= 0:
            problems.append(problem("inline weights are all zero", key="pool.basis"))
        basis = tuple(weights)
    elif not isinstance(basis, str) or not basis:
        problems.append(problem("must be a column name, 'equal' or an inline table of weights",
                                key="pool.basis", value=basis))
        basis = "turnover"
    counterparty = p.get("counterparty")
    if distribute == "counterparty" and not counterparty:
        problems.append(problem("distribute = 'counterparty' needs a 'counterparty' member",
                                key="pool.counterparty"))
    if counterparty is not None and not isinstance(counterparty, str):
        problems.append(problem("must be an org_id", key="pool.counterparty",
                                value=counterparty))
        counterparty = None
    if counterparty and distribute != "counterparty":
        problems.append(problem("is only used with distribute = 'counterparty'",
                                key="pool.counterparty"))
    rule = p.get("rule", "proportional")
    if "rule" in p and distribute != "claims":
        problems.append(problem("is only used with distribute = 'claims'", key="pool.rule"))
    _choice(rule, "pool.rule", tuple(RULES), problems)
    caps = {}
    for key in ("max_charge", "max_award"):
        if key in p:
            caps[key] = _number(p[key], f"pool.{key}", problems, low=0.0)
    pool = Pool(distribute, basis, counterparty, rule, caps.get("max_charge"),
                caps.get("max_award"))

    reserve = None
    if "reserve" in data:
        r = _table(data, "reserve", problems)
        unknown_keys(r, _RESERVE, "reserve.", problems)
        holder = r.get("holder")
        if not isinstance(holder, str) or not holder:
            problems.append(problem("needs a 'holder' member", key="reserve.holder"))
            holder = ""
        amount = None
        if "amount" not in r:
            problems.append(problem("needs an 'amount' in £", key="reserve.amount"))
        else:
            amount = _number(r["amount"], "reserve.amount", problems, low=0.0, unit="£")
        reserve = Reserve(holder, amount if amount is not None else 0.0)

    s = _table(data, "support", problems)
    unknown_keys(s, _SUPPORT, "support.", problems)
    test = _choice(s.get("test", "organisation"), "support.test", SupportTest, problems)
    system_share = _number(s.get("system_share", 0.0), "support.system_share", problems,
                           share=True)
    if "system_share" in s and test != "organisation":
        problems.append(problem("is only used with test = 'organisation' (the share of each "
                                "member's support tied to the system test)",
                                key="support.system_share"))
    after = _flag(s, "after_sharing", True, "support.", problems)
    taper = _number(s.get("taper", 0.0), "support.taper", problems, low=0.0)
    unearned = _choice(s.get("unearned", "lost"), "support.unearned", Unearned, problems)
    support = Support(test, system_share or 0.0, after, taper or 0.0, unearned)
    support = _support_rules(s, problems, support)

    agreement = Agreement(name.strip() if name else "", description, sample, scale,
                          tuple(exempt), gains, losses, pool, reserve, support,
                          variance=_parse_variance(data, problems),
                          carry=_parse_carry(data, problems))
    if description_for is not None and description_for != agreement.parameters_fingerprint:
        # written for other parameters: kept, so the name and description are marked as such
        agreement = replace(agreement, description_for=description_for)
    return agreement


def _parse_carry(data: dict, problems: list) -> Carry | None:
    """The `[carry]` section (see `Carry`), or None without one."""
    if "carry" not in data:
        return None
    c = _table(data, "carry", problems)
    unknown_keys(c, _CARRY, "carry.", problems)
    adverse = _choice(c.get("adverse", "repay"), "carry.adverse", CARRY_ADVERSE, problems)
    favourable = _choice(c.get("favourable", "none"), "carry.favourable", CARRY_FAVOURABLE,
                         problems)
    years = c.get("years", 1)
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_CARRY_YEARS:
        problems.append(problem(f"must be a whole number of years from 1 to {MAX_CARRY_YEARS}",
                                key="carry.years", value=years))
        years = 1
    caps: dict[str, float | None] = {}
    for key, unit in (("max_carry", "%"), ("max_carry_amount", "£")):
        caps[key] = (_number(c[key], f"carry.{key}", problems, low=0.0, unit=unit)
                     if key in c else None)
    after = _flag(c, "after_sharing", True, "carry.", problems)
    return Carry(adverse if adverse in CARRY_ADVERSE else "repay",
                 favourable if favourable in CARRY_FAVOURABLE else "none", years,
                 caps["max_carry"], caps["max_carry_amount"], after)


def _flag(section: dict, key: str, default: bool, prefix: str, problems: list) -> bool:
    """A true/false key of a section (`default` when absent or not true/false, with a
    problem naming the key in the second case)."""
    value = section.get(key, default)
    if not isinstance(value, bool):
        problems.append(problem("must be true or false", key=prefix + key, value=value))
        return default
    return value


# -- published rules: member-dependent thresholds, quality, support elements (issue 16 §3) -----------
def _column_name(value, key: str, problems: list) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(problem("must name a column of the system", key=key, value=value))
        return None
    return value


def _schedule_rules(section, where: str, problems: list, sched: Schedule) -> Schedule:
    """`threshold_by`/`threshold_table` and `quality_by` of a schedule (see `Schedule`)."""
    if not isinstance(section, dict):
        return sched
    by = _column_name(section.get("threshold_by"), f"{where}.threshold_by", problems)
    raw = section.get("threshold_table")
    table: list[tuple[float, float]] | None = None
    if raw is not None:
        key = f"{where}.threshold_table"
        if not isinstance(raw, list) or not raw:
            problems.append(problem("must be a non-empty list of [value, threshold %] pairs, "
                                    "e.g. [[5000, 3.9], [60000, 2.0]]", key=key))
        else:
            table = []
            previous = None
            for i, point in enumerate(raw):
                at = f"{key}[{i + 1}]"
                if not isinstance(point, list) or len(point) != 2:
                    problems.append(problem("must be a [value, threshold %] pair", key=at,
                                            value=point))
                    continue
                value = _number(point[0], f"{at}[1]", problems, low=0.0, unit="£")
                rate = _number(point[1], f"{at}[2]", problems, low=0.0)
                if value is None or rate is None:
                    continue
                if previous is not None and value <= previous:
                    problems.append(problem(f"values must rise: {value:g} is not above the "
                                            f"previous point's {previous:g}", key=f"{at}[1]"))
                    continue
                previous = value
                table.append((value, rate))
            table = table or None
    if by is not None and raw is None:
        problems.append(problem("needs a 'threshold_table' of [value, threshold %] pairs",
                                key=f"{where}.threshold_by"))
    if raw is not None and by is None and "threshold_by" not in section:
        problems.append(problem("has no effect without a 'threshold_by' column",
                                key=f"{where}.threshold_table"))
    if by is not None and "threshold" in section:
        problems.append(problem("use one of 'threshold' (the same for every member) and "
                                "'threshold_by' (read from a column)",
                                key=f"{where}.threshold_by"))
    quality = _column_name(section.get("quality_by"), f"{where}.quality_by", problems)
    if quality is not None and where != "gains":
        problems.append(problem("is only used in [gains] (a quality score multiplies the "
                                "savings a member keeps)", key=f"{where}.quality_by"))
        quality = None
    if by is None and table is None and quality is None:
        return sched
    return replace(sched, threshold_by=by, threshold_table=tuple(table) if table else None,
                   quality_by=quality)


def _support_rules(s: dict, problems: list, support: Support) -> Support:
    """The support keys for published rules (performance element, incentive, deficit-only
    support and the surplus reward; see `Support`)."""
    share = _number(s.get("performance_share", 0.0), "support.performance_share", problems,
                    share=True)
    by = _column_name(s.get("performance_by"), "support.performance_by", problems)
    if share and by is None and "performance_by" not in s:
        problems.append(problem("needs a 'performance_by' column (the share of the "
                                "performance element each member earned, 0–1)",
                                key="support.performance_share"))
    if by is not None and not share:
        problems.append(problem("has no effect without a 'performance_share' above 0",
                                key="support.performance_by"))
    rate = _number(s.get("incentive_rate", 0.0), "support.incentive_rate", problems, low=0.0,
                   high=100.0)
    cap = None
    if "incentive_cap" in s:
        cap = _number(s["incentive_cap"], "support.incentive_cap", problems, low=0.0)
        if not rate:
            problems.append(problem("has no effect without an 'incentive_rate' above 0",
                                    key="support.incentive_cap"))
    deficit_only = _flag(s, "deficit_only", False, "support.", problems)
    reward = _number(s.get("surplus_reward", 0.0), "support.surplus_reward", problems,
                     low=0.0)
    support = replace(support, performance_share=share or 0.0, performance_by=by,
                      incentive_rate=rate or 0.0, incentive_cap=cap, deficit_only=deficit_only,
                      surplus_reward=reward or 0.0)
    return _support_period(s, problems, support)


def _support_period(s: dict, problems: list, support: Support) -> Support:
    """The in-year keys: `period`, `quarter_weights`, `catch_up` and `timing` (see `Support`)."""
    period = _choice(s.get("period", "year"), "support.period", SupportPeriod, problems)
    weights = support.quarter_weights
    if "quarter_weights" in s:
        raw = s["quarter_weights"]
        key = "support.quarter_weights"
        if not isinstance(raw, (list, tuple)) or len(raw) != 4:
            problems.append(problem("must be four shares, one per quarter, adding up to 1 (e.g. "
                                    "[0.15, 0.20, 0.30, 0.35])", key=key, value=raw))
        else:
            before = len(problems)
            read = [_number(w, f"{key}[{i + 1}]", problems, share=True)
                    for i, w in enumerate(raw)]
            if len(problems) == before:
                total = sum(read)      # type: ignore[arg-type]
                if abs(total - 1.0) > 1e-9:
                    hint = (" (shares, not percentages: 15% is 0.15)"
                            if abs(total - 100.0) < 1e-6 else "")
                    problems.append(problem(f"must add up to 1; they add up to {total:g}{hint}",
                                            key=key))
                else:
                    weights = tuple(float(w) for w in read)   # type: ignore[arg-type]
    catch_up = _flag(s, "catch_up", False, "support.", problems)
    timing = _choice(s.get("timing", "arrears"), "support.timing", SupportTiming, problems)
    if period == "year":
        for key in ("quarter_weights", "catch_up", "timing"):
            if key in s:
                problems.append(problem("is only used with period = 'quarter' (support paid "
                                        "in four parts)", key=f"support.{key}"))
    return replace(support, period=period if period in values(SupportPeriod) else "year",
                   quarter_weights=weights, catch_up=catch_up,
                   timing=timing if timing in values(SupportTiming) else "arrears")


def _check_rule_columns(agreement: Agreement, system, usable: list[str]) -> list[Problem]:
    """The columns the published-rule keys read: numeric (and scores within [0, 1]) for every
    member whose variance is shared; `support.performance_by` may be blank for members without
    a performance element, and a system without that column has none."""
    problems: list[Problem] = []
    shared = [m for m in system.members if m not in agreement.exempt]
    orgs = system.orgs

    def values(column: str, key: str, members, blanks: bool, score: bool) -> None:
        if column not in orgs.columns or column in ("name", "kind"):
            what = "a numeric column" if column in orgs.columns else "a column"
            problems.append(problem(f"'{column}' is not {what} of the system (numeric "
                                    f"columns: {listed(usable)})", key=key))
            return
        col = pd.to_numeric(orgs.loc[list(members), column], errors="coerce")
        raw = orgs.loc[list(members), column]
        bad = [m for m in members
               if (pd.isna(col[m]) and not (blanks and pd.isna(raw[m])))
               or (not pd.isna(col[m]) and (not math.isfinite(float(col[m]))
                                            or (score and not 0.0 <= float(col[m]) <= 1.0)
                                            or (not score and float(col[m]) < 0.0)))]
        if bad:
            need = "a score in [0, 1]" if score else "a number ≥ 0"
            problems.append(problem(f"the column '{column}' must hold {need} for "
                                    f"{listed(bad)}", key=key))

    for side in ("gains", "losses"):
        sched: Schedule = getattr(agreement, side)
        if sched.threshold_by is not None:
            values(sched.threshold_by, f"{side}.threshold_by", shared, False, False)
        if sched.quality_by is not None:
            values(sched.quality_by, f"{side}.quality_by", shared, False, True)
    by = agreement.support.performance_by
    if by is not None and by in orgs.columns:
        values(by, "support.performance_by", list(system.members), True, True)
    return problems
