"""Risk and participation across scenarios, and agreements side by side (docs/metrics.md; issue 4).

For each member, with x = final − control_total (£; negative = short of its control total):

    mean_final, sd_final        of the final position (£)
    mean_standalone, sd_standalone   the same with no agreement
    p_miss_control_total        P(outturn < control total), outturn excluding support
    p_lose_support              P(support earned < support at stake), for members with support
    p_worse_off                 P(final < standalone)
    var95                       the 5th percentile of x (a value at risk, signed: −£2m means a
                                1-in-20 shortfall of £2m or worse)
    cvar95                      the mean of x over the worst 5% of its scenarios (expected
                                shortfall)
    tail_contribution           the member's mean x over the system's worst 5% scenarios; these
                                add up exactly to the system's cvar95 (Euler allocation)
    retention_gain / _loss      from `rs.incentives` at the forecast position

The system row ("SYSTEM") uses X = Σ x over members, so its money figures are against the sum of
the members' control totals (ΣOCT) — what makes the tail contributions add up — while its
p_miss_control_total is P(Σ outturn < SCT) and p_lose_support P(any support lost). The table's
`attrs["reference"]` says so; `system_against_sct` restates the SYSTEM row against the SCT.

`compare(agreements, system, scenarios)` returns one tidy DataFrame: a row per agreement and
member (plus the SYSTEM row per agreement). The engine runs in chunks of scenarios so long runs
can report progress (`progress(done, total)`) and memory stays bounded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.incentives import incentives
from riskshare.agreements.spec import Agreement, load_agreement
from riskshare.core.constants import HALF_PENNY, Reference
from riskshare.core.errors import UsageError, problem, raise_if_errors
from riskshare.core.system import System, require_system

SYSTEM_ROW = "SYSTEM"
CHUNK = 25_000
ALPHA = 0.95
METRICS = ("mean_final", "sd_final", "mean_standalone", "sd_standalone",
           "p_miss_control_total", "p_lose_support", "p_worse_off", "var95", "cvar95",
           "tail_contribution", "retention_gain", "retention_loss")


def _variances(system: System, scenarios) -> np.ndarray:
    arr, _ = engine.as_variances(system, scenarios)     # a Scenarios object or an array
    return arr


def check_alpha(alpha) -> None:
    """The confidence level of the tail metrics must be a fraction strictly between 0 and 1."""
    if (isinstance(alpha, bool) or not isinstance(alpha, (int, float))
            or not 0.0 < float(alpha) < 1.0):
        raise_if_errors([problem("must be a fraction strictly between 0 and 1 (0.95: the worst "
                                 "5% of scenarios)", column="alpha", value=alpha)], "risk table")


def tail_count(s: int, alpha: float) -> int:
    """How many scenarios make up the worst (1 − alpha) tail (at least one)."""
    return max(1, math.ceil((1.0 - alpha) * s - 1e-9))


def risk_table(agreement, system: System, scenarios, alpha: float = ALPHA,
               progress: Callable[[int, int], object] | None = None,
               chunk: int = CHUNK) -> pd.DataFrame:
    """The metrics above for one agreement: index org_id plus SYSTEM (see module docstring).

    Parameters
    ----------
    agreement : Agreement, str or pathlib.Path
        An Agreement, a preset name, a .toml path or TOML text (see `load_agreement`).
    system : System
        The members, their control totals and support (£), and the SCT.
    scenarios : Scenarios or array-like
        The variances to judge on, forecast − control total (£): a `Scenarios` from
        `simulate`, or an array (scenarios × members) or DataFrame by org_id.
    alpha : float, default 0.95
        The confidence level of the tail metrics, a fraction below 1: var95 is the (1 − alpha)
        quantile and cvar95 the mean of the worst (1 − alpha) share of scenarios (at least
        one). The columns keep their names whatever alpha is.
    progress : callable, optional
        Called as progress(done, total) with scenarios done and in all, after each chunk.
    chunk : int, default CHUNK (25,000)
        Scenarios per run of the engine (bounds the memory used).

    Returns
    -------
    pandas.DataFrame
        Index org_id, then the SYSTEM row; columns METRICS: mean_final, sd_final,
        mean_standalone, sd_standalone (£); p_miss_control_total, p_lose_support (NaN without
        support), p_worse_off (probabilities); var95, cvar95, tail_contribution (£, of final −
        own control total: negative is short); retention_gain, retention_loss (fractions at
        the forecast; NaN for SYSTEM). The SYSTEM row sums the members inside the SCT
        (`in_sct`, docs/reconciliation.md); its money is against ΣOCT and its
        p_miss_control_total against the SCT, as `attrs["reference"]` says.

    Raises
    ------
    ValidationError
        When the agreement has problems or does not fit the system, or the scenarios are
        malformed.
    InputFileError
        When the agreement cannot be read (see `load_agreement`).
    BudgetError
        When the scenarios are too many to run within the memory budget.
    """
    require_system(system, "risk_table")
    check_alpha(alpha)
    agreement = load_agreement(agreement)
    v = _variances(system, scenarios)
    path, bridge = engine.year_of(scenarios)
    s, n = v.shape
    oct_ = system.orgs["control_total"].to_numpy(dtype=float)
    support = system.orgs["support"].to_numpy(dtype=float)
    x = np.empty((s, n))
    alone = np.empty((s, n))
    miss = np.empty((s, n), dtype=bool)
    lose = np.empty((s, n), dtype=bool)
    worse = np.empty((s, n), dtype=bool)
    sys_miss = np.empty(s, dtype=bool)
    for start in range(0, s, chunk):
        stop = min(start + chunk, s)
        out = engine.run(agreement, system, v[start:stop], path=path,
                         bridge=None if bridge is None else bridge[start:stop])
        x[start:stop] = out.final - oct_
        alone[start:stop] = out.standalone - oct_
        miss[start:stop] = out.retained + out.received < -HALF_PENNY
        lose[start:stop] = out.support_earned < support - HALF_PENNY
        worse[start:stop] = out.vs_standalone < -HALF_PENNY
        sys_miss[start:stop] = out.sct_variance < -HALF_PENNY
        if progress is not None:
            progress(stop, s)
    return _metrics(agreement, system, x, alone, miss, lose, worse, sys_miss, support, alpha)


def tail_mean(x: np.ndarray, alpha: float = ALPHA, axis: int = 0) -> np.ndarray:
    """The mean of `x` over its worst (1 − alpha) share of scenarios along `axis`: the CVaR of a
    position (£), over at least one scenario. The one tail mean: the risk table's cvar95 and the
    games' certainty equivalents both use it."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    k = tail_count(x.shape[-1], alpha)
    return np.partition(x, k - 1, axis=-1)[..., :k].mean(axis=-1)


def _metrics(agreement, system, x, alone, miss, lose, worse, sys_miss, support, alpha):
    s, n = x.shape
    oct_ = system.orgs["control_total"].to_numpy(dtype=float)
    k = tail_count(s, alpha)
    q = 1.0 - alpha
    inside = system.inside           # the SYSTEM row covers the members inside the SCT
    total = x[:, inside].sum(axis=1)
    at_stake = inside & (support > 0)
    tail = np.argpartition(total, k - 1)[:k]                        # the system's worst k
    ddof = 1 if s > 1 else 0
    members = pd.DataFrame({
        "mean_final": x.mean(axis=0) + oct_, "sd_final": x.std(axis=0, ddof=ddof),
        "mean_standalone": alone.mean(axis=0) + oct_, "sd_standalone": alone.std(axis=0,
                                                                                ddof=ddof),
        "p_miss_control_total": miss.mean(axis=0),
        "p_lose_support": np.where(support > 0, lose.mean(axis=0), np.nan),
        "p_worse_off": worse.mean(axis=0),
        "var95": np.quantile(x, q, axis=0),
        "cvar95": tail_mean(x, alpha),
        "tail_contribution": x[tail].mean(axis=0),
    }, index=system.members)
    inc = incentives(agreement, system).table
    members["retention_gain"] = inc["retention_gain"]
    members["retention_loss"] = inc["retention_loss"]
    system_row = pd.DataFrame({
        "mean_final": [total.mean() + oct_[inside].sum()], "sd_final": [total.std(ddof=ddof)],
        "mean_standalone": [alone[:, inside].sum(axis=1).mean() + oct_[inside].sum()],
        "sd_standalone": [alone[:, inside].sum(axis=1).std(ddof=ddof)],
        "p_miss_control_total": [sys_miss.mean()],
        "p_lose_support": [lose[:, at_stake].any(axis=1).mean() if at_stake.any()
                           else np.nan],
        "p_worse_off": [worse[:, inside].any(axis=1).mean()],
        "var95": [np.quantile(total, q)], "cvar95": [tail_mean(total, alpha)],
        "tail_contribution": [total[tail].mean()],
        "retention_gain": [np.nan], "retention_loss": [np.nan],
    }, index=pd.Index([SYSTEM_ROW], name="org_id"))
    table = pd.concat([members, system_row])
    table.index.name = "org_id"
    table = table[list(METRICS)]
    table.attrs["reference"] = REFERENCE
    table.attrs["references"] = dict(REFERENCES)
    return table


#: What each figure is measured against (the same words on every page, sheet and sentence):
#: mean_final, sd_final and the standalone pair describe the final position itself (£); var95,
#: cvar95 and tail_contribution measure a member against its own OCT and the SYSTEM row against
#: ΣOCT; p_miss_control_total is against each member's OCT and, for SYSTEM, the SCT.
#: `attrs["references"]` holds the references as values.
REFERENCES = {"members": Reference.OCT, SYSTEM_ROW: Reference.SUM_OCT,
              f"{SYSTEM_ROW} p_miss_control_total": Reference.SCT}
REFERENCE = (f"means and s.d.: the final position itself; var95, cvar95, tail_contribution: "
             f"members against their own control total ({Reference.OCT}), {SYSTEM_ROW} against "
             f"{Reference.SUM_OCT}; p_miss_control_total: members against their "
             f"{Reference.OCT}, {SYSTEM_ROW} against the {Reference.SCT}")


#: "More likely than not": the probability from which a member counts as worse off.
LIKELY = 0.5


def worse_off(table: pd.DataFrame) -> pd.Series:
    """For each row of a risk table (`risk_table` / `compare`): is the member more likely than
    not worse off than standing alone across the scenarios (P(final < standalone) ≥ 50%)?
    SYSTEM rows are never flagged. The one definition behind the Compare page's shading, the
    Scenarios page's count, the CLI's "more often worse off than alone" line and the workshop's
    count; the mean against standing alone is shown beside it, not folded into it."""
    members = table["org_id"] != SYSTEM_ROW if "org_id" in table else table.index != SYSTEM_ROW
    return pd.Series(table["p_worse_off"] >= LIKELY, index=table.index) & members


def system_against_sct(row, system: System) -> tuple[float, float]:
    """(mean, cvar95) of the system's final position (support included) against the SCT, from
    a risk table's SYSTEM row (£): the row's figures are against ΣOCT, and
    Σ final − SCT = (Σ final − ΣOCT) − (SCT − ΣOCT), so each is the row's less the gap."""
    mean = float(row["mean_final"]) - system.control_total
    return mean, float(row["cvar95"]) - system.gap


def compare(agreements: Iterable, system: System, scenarios, alpha: float = ALPHA,
            progress: Callable[[int, int], object] | None = None) -> pd.DataFrame:
    """Metrics of several agreements on the same scenarios, as one tidy DataFrame with columns
    agreement, org_id, name and METRICS (rows: each member, then SYSTEM, per agreement).

    agreements: Agreement objects, preset names, .toml paths or TOML texts (names must differ).
    progress(done, total): called as scenario chunks finish, across all agreements.

    Parameters
    ----------
    agreements : iterable of Agreement, str or pathlib.Path
        At least one agreement, each as `load_agreement` takes it; their names must differ.
    system : System
        The members, their control totals and support (£), and the SCT.
    scenarios : Scenarios or array-like
        The variances every agreement is judged on, forecast − control total (£): a
        `Scenarios` from `simulate`, or an array (scenarios × members) or DataFrame by org_id.
    alpha : float, default 0.95
        The confidence level of the tail metrics, a fraction below 1 (see `risk_table`).
    progress : callable, optional
        Called as progress(done, total), counting scenario runs across all agreements.

    Returns
    -------
    pandas.DataFrame
        One row per agreement and member, then the agreement's SYSTEM row (name "Whole
        system"): columns agreement, org_id, name and METRICS, in the units of `risk_table`
        (money in £, probabilities and retention rates as fractions); `attrs["reference"]`
        says what the money figures are measured against.

    Raises
    ------
    UsageError
        When no agreement is given, or two have the same name.
    ValidationError
        When an agreement has problems or does not fit the system, or the scenarios are
        malformed.
    InputFileError
        When an agreement cannot be read (see `load_agreement`).
    BudgetError
        When the scenarios are too many to run within the memory budget.
    """
    require_system(system, "compare")
    check_alpha(alpha)
    if isinstance(agreements, (str, Path, Agreement)):     # one agreement on its own
        agreements = [agreements]
    loaded: list[Agreement] = [load_agreement(a) for a in agreements]
    if not loaded:
        raise UsageError("compare() needs at least one agreement")
    names = [a.name for a in loaded]
    if len(set(names)) != len(names):
        raise UsageError("agreements to compare must have different names: " + ", ".join(names))
    v = _variances(system, scenarios)
    total = v.shape[0] * len(loaded)
    frames = []
    for i, a in enumerate(loaded):
        def step(done, _s, offset=i * v.shape[0]):
            if progress is not None:
                progress(offset + done, total)
        t = risk_table(a, system, v, alpha, step).reset_index()
        t.insert(0, "agreement", a.name)
        t.insert(2, "name", t["org_id"].map(system.orgs["name"]).fillna(
            "Whole system (inside the SCT)" if system.has_outside else "Whole system"))
        frames.append(t)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["reference"] = REFERENCE
    out.attrs["references"] = dict(REFERENCES)
    return out
