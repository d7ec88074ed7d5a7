"""The cooperative game an agreement defines: what each coalition secures by pooling on its own.

v(S), in £, for a coalition S of members (docs/games.md):

- |S| ≥ 2: S applies the agreement among itself only: its members pool their variances under the
  agreement's schedules and share the pool between themselves; a reserve counts only if its
  holder is in S; a coalition without the counterparty shares its pool by the agreement's basis;
  the system support test compares S's total with S's own control total (`coalition_target`).
  v(S) is the sum of S's final positions (outturn plus support earned).
- |S| = 1: the member's standalone position, outside any agreement (control total + variance +
  support earned on its own organisational test), as in the `standalone` column of `rs.apply`.
- v(N) is the system's total final position under the agreement: exactly
  `rs.apply(agreement, system).table["final"].sum()`.

With scenarios, each member of S values its own final position by a certainty equivalent

    CE_λ(X) = mean(X) − λ·(mean(X) − mean of X over its worst (1 − α) of scenarios)

(mean minus λ times the expected shortfall below the mean: λ = 0 is the expectation, λ = 1 the
tail mean; a certain £1 is worth £1), and v(S) adds these up over S's members. Pooling raises
v(S) only when it actually improves members' own positions or tails; measuring a coalition's
risk as one would credit it with diversification even when nobody shares anything.

All coalitions are evaluated by one call to the engine (`engine.run(members=…)`), chunked, so
the deterministic and scenario paths share one vectorised code path.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

from riskshare.agreements import engine
from riskshare.agreements.risk import ALPHA, tail_mean
from riskshare.agreements.spec import Agreement, load_agreement
from riskshare.core.errors import BudgetError, UsageError, problem, raise_if_errors
from riskshare.core.system import System, require_system
from riskshare.games.game import MAX_EXACT, Game

CHUNK_ROWS = 400_000          # coalition × scenario rows per engine call
RISK_AVERSION = 0.5
#: Engine time per coalition × scenario × member, measured on a 2-core machine (175–400 ns):
#: the basis of the estimate below, which is meant to be right within a factor of about two.
SECONDS_PER_CELL = 2.5e-7
DEFAULT_TIME_BUDGET = 60.0    # seconds; RISKSHARE_TIME_BUDGET overrides


def time_budget() -> float:
    """Seconds a judgement across scenarios may take before riskshare asks to be told to go
    ahead: 60, or the environment variable RISKSHARE_TIME_BUDGET (seconds).

    Returns
    -------
    float
        The time budget in seconds (> 0).

    Raises
    ------
    UsageError
        When RISKSHARE_TIME_BUDGET is set but is not a finite number of seconds above 0.
    """
    text = os.environ.get("RISKSHARE_TIME_BUDGET", "").strip()
    if not text:
        return DEFAULT_TIME_BUDGET
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise UsageError(f"RISKSHARE_TIME_BUDGET must be a number of seconds above 0 (got "
                         f"{text!r})")
    return value


def coalitions_evaluated(members: int) -> int:
    """How many coalitions a certificate evaluates: every one up to MAX_EXACT members, else
    each member alone, each group of all but one, and the sampled Shapley orders."""
    if members <= MAX_EXACT:
        return (1 << members) - 1
    from riskshare.games.shapley import DEFAULT_SAMPLES

    return 2 * members + DEFAULT_SAMPLES * members


def estimate_seconds(members: int, scenarios: int) -> float:
    """Rough time (s) to evaluate the game of `members` across `scenarios` scenarios.

    The coalitions a certificate evaluates × scenarios × members × the engine's measured time
    per cell; meant to be right within a factor of about two.

    Parameters
    ----------
    members : int
        The number of members (players).
    scenarios : int
        The number of scenarios (at least one is counted; 1 for the forecast).

    Returns
    -------
    float
        The estimate, in seconds.
    """
    return coalitions_evaluated(members) * max(int(scenarios), 1) * members * SECONDS_PER_CELL


def duration(seconds: float, about: bool = True) -> str:
    """An estimate in words: 'under a second', 'about a second', 'about 40 seconds', 'about 3
    minutes', 'about 4.6 hours', 'about 2.1 days'; about=False for an exact figure ('60
    seconds')."""
    if seconds < 1 and about:
        return "under a second"
    if seconds < 90:
        n = round(seconds)
        text = "a second" if n <= 1 else f"{n} seconds"
    elif seconds < 90 * 60:
        text = f"{seconds / 60:.0f} minutes"
    elif seconds < 48 * 3600:
        text = f"{seconds / 3600:.1f} hours"
    else:
        text = f"{seconds / 86400:.1f} days"
    return f"about {text}" if about else text


def check_time(members: int, scenarios: int, max_seconds: float | None = None,
               key: str = "scenarios") -> None:
    """Raise BudgetError when judging fairness over `scenarios` would take longer than
    `max_seconds` (default: `time_budget()`); pass max_seconds=math.inf to go ahead anyway."""
    limit = time_budget() if max_seconds is None else max_seconds
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
        raise UsageError(f"max_seconds must be a positive number of seconds, or math.inf to "
                         f"go ahead whatever the estimate (got {max_seconds!r})")
    seconds = estimate_seconds(members, scenarios)
    if seconds <= limit:
        return
    groups = coalitions_evaluated(members)
    fits = int(limit / max(groups * members * SECONDS_PER_CELL, 1e-12))
    raise BudgetError(
        f"Judging fairness across {int(scenarios):,} scenarios checks {groups:,} members and "
        f"groups in each: {duration(seconds)}, above the budget of "
        f"{duration(limit, about=False)}. "
        f"Use at most {max(fits, 1):,} scenarios to stay within it, or ask for the long run "
        "explicitly (the CLI's --allow-long, max_seconds=math.inf in Python, or "
        "RISKSHARE_TIME_BUDGET in seconds).")


def coalition_target(system: System, members: np.ndarray) -> np.ndarray:
    """The system control total of each coalition (£; rows of bool `members`, (R, n)): the sum
    of the control totals of its members inside the SCT plus their share, pro rata to
    turnover, of the gap between the SCT and ΣOCT. The grand coalition's target is the SCT;
    members outside the SCT (`in_sct` false, docs/reconciliation.md) add nothing to a coalition's target,
    as they add nothing to the position it is tested on.

    Parameters
    ----------
    system : System
        The members, their control totals and turnover (£), and the SCT.
    members : numpy.ndarray
        Boolean, shape (R, n): row r marks the members of coalition r, in member order.

    Returns
    -------
    numpy.ndarray
        Shape (R,): each coalition's control total (£).
    """
    inside = np.asarray(members, dtype=bool) & system.inside     # the SCT boundary (§9)
    oct_ = system.orgs["control_total"].to_numpy(dtype=float)
    turnover = np.where(system.inside, system.orgs["turnover"].to_numpy(dtype=float), 0.0)
    share = (inside * turnover).sum(axis=1) / turnover.sum()
    return (inside * oct_).sum(axis=1) + system.gap * share


def certainty_equivalent(x: np.ndarray, risk_aversion: float, alpha: float = ALPHA,
                         axis: int = 0) -> np.ndarray:
    """CE_λ along `axis` (scenarios): (1 − λ)·mean + λ·mean of the worst ⌈(1 − α)·S⌉."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    return ((1.0 - risk_aversion) * x.mean(axis=-1)
            + risk_aversion * tail_mean(x, alpha, axis=-1))


def check_risk(risk_aversion, alpha) -> None:
    """ValidationError unless risk_aversion is a number from 0 to 1 and alpha a confidence
    level from 0.5 to below 1 (both problems at once)."""
    problems = []
    if not _is_real(risk_aversion) or not 0.0 <= float(risk_aversion) <= 1.0:
        problems.append(problem("must be a number from 0 (expected value) to 1 (tail mean)",
                                column="risk_aversion", value=risk_aversion))
    if not _is_real(alpha) or not 0.5 <= float(alpha) < 1:
        problems.append(problem("must be a confidence level from 0.5 to below 1 (e.g. 0.95)",
                                column="alpha", value=alpha))
    raise_if_errors(problems, "certainty equivalent")


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) and (
        float(x) == float(x))


def scenario_variances(system: System, scenarios) -> tuple[np.ndarray, bool]:
    """(variances (K, n) £, deterministic): the forecast when `scenarios` is None, one set of
    variances for a 1-D array, else a `Scenarios` object's or a 2-D array's rows."""
    if scenarios is None:
        return system.variance.to_numpy(dtype=float)[None, :], True
    v, deterministic = engine.as_variances(system, scenarios)
    if len(v) == 0:
        raise_if_errors([problem("must hold at least one scenario (got none)",
                                 column="scenarios")], "scenarios")
    return v, deterministic


def from_agreement(system: System, agreement, scenarios=None,
                   risk_aversion: float = RISK_AVERSION, alpha: float = ALPHA,
                   max_seconds: float | None = None) -> Game:
    """The game v(S) an agreement defines on `system` (see the module docstring); players are
    the org_ids. scenarios: None (the forecast), a `Scenarios` or an (S, n) array of variances
    (£); risk_aversion λ ∈ [0, 1] and alpha set the certainty equivalent for scenarios.

    Up to MAX_EXACT members every coalition is evaluated at once; above, coalitions are
    evaluated on demand (sampled Shapley, named coalitions). Across many scenarios the work is
    estimated first (`check_time`): above `max_seconds` (default the time budget) BudgetError
    says how long it would take; math.inf goes ahead whatever it costs.

    Parameters
    ----------
    system : System
        The members, their control totals, forecasts, turnover and support (£), and the SCT.
    agreement : Agreement, str or pathlib.Path
        An Agreement, a preset name, a .toml path or TOML text (see `load_agreement`).
    scenarios : Scenarios or array-like, optional
        None: the forecast variances. Else variances, forecast − control total (£): one set
        (a 1-D array), or a `Scenarios` or an (S, n) array, one row per scenario.
    risk_aversion : float, default 0.5
        λ, from 0 (a member values its positions by their mean) to 1 (by the mean of its worst
        (1 − alpha) of scenarios); used with more than one scenario.
    alpha : float, default 0.95
        The confidence level of the tail, from 0.5 to below 1 (0.95: the worst 5%).
    max_seconds : float, optional
        The most the evaluation may take by its estimate, in seconds (> 0). None: the time
        budget (`time_budget`); math.inf: go ahead whatever the estimate.

    Returns
    -------
    Game
        Players the org_ids; v(S) in £ (sum of the members' final positions, or certainty
        equivalents), v({i}) the member's standalone position. `.source` records the
        agreement, system, variances and settings.

    Raises
    ------
    ValidationError
        When the agreement has problems or does not fit the system, risk_aversion or alpha is
        out of range, or the scenarios are malformed or empty.
    BudgetError
        When the estimated time exceeds `max_seconds` (the message says how long).
    UsageError
        When `max_seconds` (or RISKSHARE_TIME_BUDGET) is not a positive number of seconds.
    InputFileError
        When the agreement cannot be read (see `load_agreement`).
    ArgumentTypeError
        When `system` is not a System.
    """
    require_system(system, "from_agreement")
    agreement = load_agreement(agreement)
    raise_if_errors(agreement.check(system), f"agreement '{agreement.name}' on {system.label}")
    check_risk(risk_aversion, alpha)
    base, _ = scenario_variances(system, scenarios)
    check_time(system.n, len(base), max_seconds)

    def evaluate(rows: np.ndarray) -> np.ndarray:
        return coalition_values(agreement, system, base, rows, risk_aversion, alpha)

    label = f"{agreement.name} on {system.label}" if agreement.name else system.label
    source = {"agreement": agreement, "system": system, "variances": base,
              "risk_aversion": risk_aversion, "alpha": alpha}
    return Game._from_batch(list(system.members), evaluate, name=label, source=source)


def coalition_values(agreement: Agreement, system: System, variances: np.ndarray,
                     rows: np.ndarray, risk_aversion: float, alpha: float) -> np.ndarray:
    """The values v(S) (£) of coalitions `rows` ((R, n) bool) for variances (K, n): with K = 1
    the sum of S's final positions, else of its members' certainty equivalents."""
    rows = np.asarray(rows, dtype=bool)
    k, n = variances.shape
    out = np.empty(len(rows))
    per_chunk = max(1, CHUNK_ROWS // k)
    for start in range(0, len(rows), per_chunk):
        block = rows[start:start + per_chunk]
        c = len(block)
        members = np.repeat(block, k, axis=0)                      # (c·k, n)
        target = np.repeat(coalition_target(system, block), k)
        res = engine.run(agreement, system, np.tile(variances, (c, 1)), members=members,
                         target=target)
        single = block.sum(axis=1) == 1                          # alone: outside any deal
        final = np.where(single.repeat(k)[:, None], res.standalone, res.final)
        per_member = final.reshape(c, k, n)
        if k > 1:
            per_member = certainty_equivalent(per_member, risk_aversion, alpha, axis=1)[:, None]
        out[start:start + c] = np.where(block, per_member[:, 0, :], 0.0).sum(axis=1)
    return out
