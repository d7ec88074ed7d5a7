"""`rs.apply(agreement, system, variances=None)` and its result, `Outcome`.

Deterministic (variances None: forecast − control total, or a 1-D array): `.table` has one row
per member with the columns of docs/agreements.md, `.system` is a Series (pool, reserve used,
unallocated, support at stake / earned / lost, system outturn and its variance against the SCT), and
`.explain(org_id)` walks a member from variance to final position in plain English.

Scenarios (variances a 2-D array, scenarios × members): `outcome["final"]` is an array
(S, n) for each column, `.system` a DataFrame with one row per scenario, `.scenario(k)` the
deterministic Outcome of scenario k. Both cases run the same code (`engine.run`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.describe import COLUMN_WORDS, EDITED, edited
from riskshare.agreements.spec import Agreement, load_agreement
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import ArgumentTypeError, NotFoundError, UsageError
from riskshare.core.forecast import QUARTERS, YearPath, quarter_variances, year_path
from riskshare.core.format import listed, money_m, pct
from riskshare.core.money import allocate, from_pennies, round_to_total, to_pennies
from riskshare.core.system import System

SYSTEM_LINES = {
    "pool": "Net pool (Σ pooled; + gain, − loss)",
    "reserve_used": "Reserve used to absorb a net loss",
    "unallocated": "Unallocated (what caps left with nobody)",
    "support_at_stake": "Support funding at stake",
    "support_earned_total": "Support earned",
    "support_lost": "Support lost",
    "system_outturn": "System outturn inside the SCT (excluding support)",
    "sct_variance": "System outturn against the SCT",
    "system_final": "System final position inside the SCT (including support)",
}


@dataclass(frozen=True, eq=False)
class Outcome:
    """The result of applying an agreement (see the module docstring). Money in £."""

    agreement: Agreement
    base: System
    arrays: engine.EngineResult
    deterministic: bool
    #: the year at a month (`rs.apply(..., monthly=...)`), None without monthly figures
    path: YearPath | None = None
    #: an in-year simulation's bridge between the quarter ends (S, n, 4), or None
    bridge: np.ndarray | None = None

    def __getitem__(self, column: str) -> np.ndarray:
        """One column: shape (n,) when deterministic, (S, n) for scenarios (or (S,) / scalar
        for a system line)."""
        value = self.arrays[column]
        return value[0] if self.deterministic else value

    @property
    def n_scenarios(self) -> int:
        return self.arrays.n_scenarios

    @property
    def table(self) -> pd.DataFrame:
        """Per member: name, control_total, support and the docs/agreements.md columns (£). For
        scenarios, a long table indexed by (scenario, org_id)."""
        if self.deterministic:
            t = pd.DataFrame({c: self.arrays[c][0] for c in engine.COLUMNS},
                             index=self.base.members)
            t.insert(0, "support", self.base.orgs["support"])
            t.insert(0, "control_total", self.base.orgs["control_total"])
            t.insert(0, "name", self.base.orgs["name"])
            return t
        s, n = self.arrays.final.shape
        index = pd.MultiIndex.from_product([range(s), self.base.members],
                                           names=["scenario", "org_id"])
        return pd.DataFrame({c: self.arrays[c].reshape(-1) for c in engine.COLUMNS}, index=index)

    @property
    def system(self) -> pd.Series | pd.DataFrame:
        """System lines (see SYSTEM_LINES): a Series, or a DataFrame with a row per scenario."""
        frame = pd.DataFrame({k: self.arrays[k] for k in SYSTEM_LINES})
        frame.index.name = "scenario"
        return frame.iloc[0].rename(self.agreement.name) if self.deterministic else frame

    @classmethod
    def of(cls, agreement: Agreement, system: System, arrays: engine.EngineResult,
           deterministic: bool, path: YearPath | None = None,
           bridge: np.ndarray | None = None) -> Outcome:
        """An Outcome of `engine.run`'s arrays; a deterministic one is put in whole pennies
        (`in_pennies`), scenarios stay as computed."""
        return cls(agreement, system, in_pennies(arrays, system) if deterministic else arrays,
                   deterministic, path, bridge)

    def scenario(self, k: int) -> Outcome:
        """The deterministic outcome of scenario k (in whole pennies)."""
        bridge = None if self.bridge is None else self.bridge[k:k + 1]
        return Outcome.of(self.agreement, self.base,
                          self.arrays.rows(slice(k, k + 1)), True, self.path, bridge)

    @property
    def quarters(self) -> pd.DataFrame:
        """Support earned quarter by quarter (`[support] period = "quarter"`): one row per
        member and quarter, indexed (org_id, quarter), in whole pennies.

        judged_month   the month whose year to date the quarter is judged on (0: paid on the
                       agreed plan, in advance)
        judged_on      "plan", "actuals" (a month closed) or "forecast" (a month to come)
        ytd_variance   the year to date against plan at that month (£; for the system test,
                       the system's inside the SCT against its plan to date)
        at_stake, earned, lost   the quarter's part of the support on the test (£); the
                       performance element, rewards, incentives and redistributed support are
                       in `.table`'s support_earned, not here

        An empty table when support is judged on the year. Deterministic outcomes only."""
        if not self.deterministic:
            raise UsageError("quarters are per scenario: use outcome.scenario(k).quarters")
        return quarter_table(self)

    @property
    def worse_off(self) -> list[str]:
        """Members whose final position is below their standalone position (by ≥ 1p)."""
        if not self.deterministic:
            raise UsageError("worse_off is per scenario: use outcome.scenario(k).worse_off")
        vs = self.arrays.vs_standalone[0]
        return [m for m, d in zip(self.base.members, vs, strict=True) if d < -HALF_PENNY]

    def explain(self, org_id: str) -> str:
        """A plain-English ledger for one member, from variance to final position.

        A heading, then eight numbered lines with every figure in £m: variance, pooled,
        retained, received (and how the net pool is shared), net transfer, outturn, support,
        and the final position against standing alone. For scenarios, the ledger of scenario
        0, with a note on how to see the others.

        Parameters
        ----------
        org_id : str
            The member to explain.

        Returns
        -------
        str
            The ledger, one line per step.

        Raises
        ------
        NotFoundError
            When `org_id` is not a member of the system (the message lists the members).
        """
        if not self.deterministic:
            return self.scenario(0).explain(org_id) + "\n(scenario 0 of " \
                   f"{self.n_scenarios}; use outcome.scenario(k).explain for others)"
        if org_id not in self.base.members:
            raise NotFoundError(f"'{org_id}' is not a member (members: "
                           f"{listed(self.base.members)})")
        return _explain(self, org_id)


def apply(agreement, system: System, variances=None, monthly=None) -> Outcome:
    """Apply an agreement (an Agreement, a preset name, a .toml path or TOML text) to a system.

    variances: None (forecast − control total), a 1-D array (one £ figure per member, in member
    order), or a 2-D array (scenarios × members). Raises ValidationError when the agreement
    does not fit the system (unknown members, missing columns) or the variances are malformed.

    Parameters
    ----------
    agreement : Agreement, str or pathlib.Path
        An Agreement, a preset name, a .toml path or TOML text (see `load_agreement`).
    system : System
        The members, their control totals, forecasts and support (£), and the SCT.
    variances : array-like, dict, pandas object or Scenarios, optional
        Each member's variance, forecast − control total (£; positive = favourable). None: the
        system's own forecast variances. One position: a 1-D array or list in member order, or
        a dict or Series by org_id. Scenarios: a 2-D array (scenarios × members), a DataFrame
        with one column per org_id, or a `Scenarios` from `simulate`. With `monthly` and no
        variances: the year-end forecast at the month (forecast outturn − control total).
    monthly : Monthly, YearPath or InYear, optional
        The year month by month (`rs.load_monthly`, or `rs.in_year(...)` for a chosen month and
        forecast method; a Monthly is read at its latest closed month with the plan method).
        Support with `period = "quarter"` is then judged on each quarter's year to date
        (closed quarters on actuals, the others on the forecast; `.quarters`). A `Scenarios`
        simulated in year carries its own year and needs no `monthly`.

    Returns
    -------
    Outcome
        For one position: `.table`, one row per member in whole pennies (£: pooled, retained,
        received, net_transfer, outturn, support_earned, final, standalone, vs_standalone),
        `.system` (the system lines, £) and `.explain(org_id)`. For scenarios: each column as
        an (S, n) array in £ (`outcome["final"]`), `.system` a DataFrame with a row per
        scenario, and `.scenario(k)` the Outcome of scenario k.

    Raises
    ------
    ValidationError
        When the agreement has problems or does not fit the system, or the variances are
        malformed (shape or labels, not finite numbers of pounds, beyond ±£2·10¹²).
    InputFileError
        When the agreement cannot be read (see `load_agreement`).
    BudgetError
        When a table of scenarios is too large to run within the memory budget.
    ArgumentTypeError
        When `system` is not a System.
    """
    agreement = load_agreement(agreement)
    path, bridge = year_of(system, variances, monthly)
    if variances is None and path is not None:
        variances = path.outturn - system.orgs["control_total"].to_numpy(dtype=float)
    v, deterministic = engine.as_variances(system, variances, engine.BYTES_PER_CELL)
    return Outcome.of(agreement, system,
                      engine.run(agreement, system, v, path=path, bridge=bridge),
                      deterministic, path, bridge)


def year_of(system: System, variances, monthly) -> tuple[YearPath | None, np.ndarray | None]:
    """The year (a YearPath) an apply reads, and an in-year simulation's bridge (S, n, 4) or
    None: from `monthly` (a Monthly at its latest month with the plan method, a YearPath, or
    anything with a `.path`, such as an InYear), else from in-year Scenarios."""
    from riskshare.core.monthly import Monthly

    carried, bridge = engine.year_of(variances)
    if monthly is None:
        return carried, bridge
    if isinstance(monthly, Monthly):
        path = year_path(monthly)
    elif isinstance(monthly, YearPath):
        path = monthly
    elif isinstance(getattr(monthly, "path", None), YearPath):
        path = monthly.path
    else:
        raise ArgumentTypeError("monthly must be a Monthly (rs.load_monthly), a YearPath or an "
                                f"InYear (rs.in_year), not {type(monthly).__name__}")
    if tuple(path.members) != tuple(system.members):
        raise UsageError("monthly: the monthly figures are for another system (its members "
                         "differ): load them against this system")
    if carried is not None and (carried.month, carried.method) != (path.month, path.method):
        raise UsageError(f"the scenarios were simulated from month {carried.month} "
                         f"({carried.method}) but monthly is at month {path.month} "
                         f"({path.method}): give one or the other")
    return path, bridge if carried is not None else None


def quarter_table(outcome: Outcome) -> pd.DataFrame:
    """See `Outcome.quarters`."""
    a, system = outcome.agreement, outcome.base
    index = pd.MultiIndex.from_product([system.members, QUARTERS], names=["org_id", "quarter"])
    cols = ["judged_month", "judged_on", "ytd_variance", "at_stake", "earned", "lost"]
    if a.support.period != "quarter":
        return pd.DataFrame(columns=cols, index=index[:0])
    s = a.support
    scale = system.column(a.scale).to_numpy(dtype=float)
    support, perf_share, _, _ = engine.support_parts(a, system, scale)
    on_test = support * (1.0 - perf_share)
    judged = (3, 6, 9, 12) if s.timing == "arrears" else (0, 3, 6, 9)
    oct_ = system.orgs["control_total"].to_numpy(dtype=float)
    ytd = quarter_variances(outcome.path, outcome.arrays.variance, oct_,
                            outcome.bridge)[0]                    # (n, 4), as run judged them
    frac = outcome.arrays.quarter_fraction
    assert frac is not None            # run gives one whenever support is by quarter
    weights = np.asarray(s.quarter_weights, dtype=float)
    if s.test == "system":
        sct_gap = float(system.orgs["control_total"][system.inside].sum() - system.control_total)
        inside = ytd[system.inside].sum(axis=0)
    rows = []
    for i in range(system.n):
        stake = allocate(float(on_test[i]), weights)
        share = stake * frac[0, i]
        earned = round_to_total(share, float(share.sum()))
        for q, j in enumerate(judged):
            if j == 0:
                on, variance = "plan", 0.0
            else:
                on = ("actuals" if outcome.path is not None and outcome.path.closed(j)
                      else "forecast")
                variance = (float(inside[j // 3 - 1]) + sct_gap * j / 12.0
                            if s.test == "system" else float(ytd[i, j // 3 - 1]))
            rows.append((j, on, round(variance, 2), float(stake[q]), float(earned[q]),
                         round(float(stake[q]) - float(earned[q]), 2)))
    return pd.DataFrame(rows, columns=cols, index=index)


# -- whole pennies -----------------------------------------------------------------------------------
def in_pennies(arrays: engine.EngineResult, system: System) -> engine.EngineResult:
    """One deterministic run (arrays of shape (1, n) and (1,)) in whole pennies that add up.

    The columns the agreement decides are rounded by largest remainder, each to its own rounded
    total (ties by org_id): variance, pooled, received (to Σ pooled − unallocated, so money is
    conserved exactly), support earned, and the support each member would earn alone. Every
    other column follows from the ledger identities in pennies, so retained = variance −
    pooled, outturn = control total + retained + received, final = outturn + support earned
    and vs_standalone = final − standalone hold exactly in every row, and each system line is
    the sum of its column. The support fraction is a share, left as it is."""
    ids = system.members.to_numpy()

    def column(values, total=None) -> np.ndarray:
        values = np.asarray(values, dtype=float)[0]
        total = float(np.sum(values)) if total is None else total
        return to_pennies(round_to_total(values, total, tiebreak=ids))

    def scalar(key: str) -> int:
        return int(to_pennies(float(arrays[key][0])))

    oct_ = to_pennies(system.orgs["control_total"].to_numpy(dtype=float))
    variance = column(arrays["variance"])
    pooled = column(arrays["pooled"])
    unallocated = scalar("unallocated")
    received = column(arrays["received"], (int(pooled.sum()) - unallocated) / 100.0)
    earned = column(arrays["support_earned"])
    alone = column(arrays["standalone"] - arrays["variance"] - oct_[None, :] / 100.0)
    retained = variance - pooled
    outturn = oct_ + retained + received
    final = outturn + earned
    standalone = oct_ + variance + alone
    at_stake = int(to_pennies(system.orgs["support"].to_numpy(dtype=float)).sum())
    # support keys for published rules (deficit_only, surplus_reward) change what is at stake,
    # and incentive funding is earned beyond it (engine.run): follow the engine's lines then
    if abs(float(arrays["support_at_stake"][0]) - at_stake / 100.0) > HALF_PENNY:
        at_stake = scalar("support_at_stake")
    bonus = int(to_pennies(float(arrays["support_earned_total"][0] + arrays["support_lost"][0]
                                 - arrays["support_at_stake"][0])))
    inside = system.inside
    members = {"variance": variance, "pooled": pooled, "retained": retained,
               "received": received, "net_transfer": received - pooled, "outturn": outturn,
               "support_earned": earned, "final": final, "standalone": standalone,
               "vs_standalone": final - standalone}
    lines = {"pool": int(pooled.sum()), "reserve_used": scalar("reserve_used"),
             "unallocated": unallocated, "support_at_stake": at_stake,
             "support_earned_total": int(earned.sum()),
             "support_lost": at_stake - int(earned.sum()) + bonus,
             "system_outturn": int(outturn[inside].sum()),
             "sct_variance": int(outturn[inside].sum()) - int(to_pennies(system.control_total)),
             "system_final": int(final[inside].sum())}
    return arrays.replaced(**{k: from_pennies(v)[None, :] for k, v in members.items()},
                           **{k: np.array([v / 100.0]) for k, v in lines.items()})


# -- explanation -------------------------------------------------------------------------------------
def _m(x: float) -> str:
    """Every figure in an explanation in one format: £m to two decimals."""
    return money_m(x, dp=2)


def _schedule_words(schedule, sign: str) -> str:
    if schedule.shares_nothing:
        return "pools none of it"
    parts = []
    low = 0.0
    for band in schedule.bands:
        if band.upto is None:
            parts.append(f"{band.pool:.0%} beyond {low:g}%")
        else:
            parts.append(f"{band.pool:.0%} of {low:g}–{band.upto:g}%")
            low = band.upto
    text = "pools " + ", ".join(parts)
    if schedule.threshold is not None:
        text += (f" once it reaches {schedule.threshold:g}% (below that, "
                 f"{schedule.below_threshold_pool:.0%} of it)")
    if schedule.max_pool is not None:
        text += f", at most {schedule.max_pool:g}%"
    if schedule.max_keep is not None:
        text += f", keeping at most {schedule.max_keep:g}%"
    return text


def _explain(outcome: Outcome, org_id: str) -> str:
    a = outcome.agreement
    system = outcome.base
    i = system.members.get_loc(org_id)
    row = {c: float(outcome.arrays[c][0, i]) for c in engine.COLUMNS}
    o = system.orgs.loc[org_id]
    scale = float(system.column(a.scale)[org_id])
    v = row["variance"]
    lines = [f"{o['name']} ({org_id}) under “{a.name}”"
             + (f" {EDITED}" if edited(a) else "")]   # the name may describe other parameters
    kind = "favourable" if v > 0 else "adverse" if v < 0 else "on target"
    lines.append(f"1. Variance: forecast {_m(o['forecast'])} against a control total of "
                 f"{_m(o['control_total'])} = {_m(v)} ({pct(100 * abs(v) / scale, 2)} of "
                 f"{a.scale}, {kind}).")
    if org_id in a.exempt:
        lines.append("2. Pooled: nothing — the member is exempt, its own variance is not shared.")
    else:
        # the schedules read the member's variance, or the agreement's own line ([variance])
        read = (float(engine.line_variance(a, system, np.zeros((1, system.n)))[0, i])
                if a.variance is not None else v)
        sched = a.gains if read > 0 else a.losses
        side = "gain" if read > 0 else "loss"
        words = _schedule_words(sched, side)
        on_line = ""
        if a.variance is not None:
            line = a.variance
            measured = (f"{line.plan} − {line.actual}" if line.favourable == "under"
                        else f"{line.actual} − {line.plan}")
            on_line = f" on the line {measured} = {_m(read)}, the line's {side},"
        caps = f"; caps as % of {sched.caps_of}" if sched.caps_of else ""
        lines.append(f"2. Pooled: {_m(row['pooled'])};{on_line} for a {side} the "
                     f"agreement {words} (percentages of {a.scale}{caps}).")
    lines.append(f"3. Retained: {_m(row['retained'])} (variance − pooled).")
    pool = float(outcome.arrays.pool[0])
    reserve = float(outcome.arrays.reserve_used[0])
    how = {"basis": f"pro rata to {_basis_words(a)}",
           "counterparty": f"all to the counterparty {a.pool.counterparty}",
           "claims": f"first to members short of their control total ({a.pool.rule} rule), "
                     f"the rest pro rata to {_basis_words(a)}",
           "optimise": "so that the worst-placed member (as % of "
                       f"{a.scale}) is as well placed as possible"}[a.pool.distribute]
    text = (f"4. Received: {_m(row['received'])} — the net pool of {_m(pool)} is shared {how}")
    if reserve > 0:
        assert a.reserve is not None    # engine.run uses no reserve without one
        text += f", after a reserve held by {a.reserve.holder} absorbs {_m(reserve)}"
        if org_id == a.reserve.holder:
            text += " (charged to this member as holder)"
    unalloc = float(outcome.arrays.unallocated[0])
    if abs(unalloc) >= HALF_PENNY:
        text += f"; caps leave {_m(unalloc)} unallocated"
    lines.append(text + ".")
    lines.append(f"5. Net transfer: {_m(row['net_transfer'])} (received − pooled).")
    lines.append(f"6. Outturn: {_m(row['outturn'])} = control total {_m(o['control_total'])} + "
                 f"retained {_m(row['retained'])} + received {_m(row['received'])}.")
    support = float(o["support"])
    s = a.support
    if support <= 0:
        lines.append("7. Support: none at stake.")
    elif s.test == "none":
        lines.append(f"7. Support: {_m(support)} earned unconditionally.")
    else:
        frac = float(outcome.arrays.fraction[0, i])
        test = ("the system's position against the SCT" if s.test == "system" else
                "its own position against its control total" +
                (f" ({s.system_share:.0%} tied to the system test instead)"
                 if s.system_share else ""))
        edge = "cliff edge" if s.taper <= 0 else f"earned linearly over {s.taper:g}% below target"
        lines.append(f"7. Support: {_m(support)} at stake, tested on {test} "
                     f"{'after' if s.after_sharing else 'before'} sharing ({edge}); "
                     f"{frac:.0%} earned, {_m(row['support_earned'])} in all"
                     + (" including redistributed support" if s.unearned == "redistribute"
                        and row['support_earned'] > frac * support + HALF_PENNY else "")
                     + ".")
    lines.append(f"8. Final position: {_m(row['final'])} (outturn + support). On its own it "
                 f"would be {_m(row['standalone'])}, so the agreement leaves it "
                 + (f"{_m(row['vs_standalone'])} better off." if row["vs_standalone"] >= HALF_PENNY
                    else f"{_m(-row['vs_standalone'])} worse off." if row["vs_standalone"]
                    <= -HALF_PENNY else "exactly as well off."))
    return "\n".join(lines)


def _basis_words(a: Agreement) -> str:
    b = a.pool.basis
    if isinstance(b, tuple):
        return "the agreed weights"
    return "equal shares" if b == "equal" else COLUMN_WORDS.get(b, b)
