"""Incentive effects of an agreement on each member (docs/metrics.md).

`incentives(agreement, system)` returns a table with, per member at its current position:

- `retention_gain`: of one more £ of favourable variance, the share the member keeps in its
  outturn (1.0 = full incentive, 0 = none);
- `retention_loss`: of one more £ of adverse variance, the share the member bears;
- `support_per_pound`: support earned (or lost) per extra £ of favourable variance — nonzero
  inside a taper;
- `cliff_exposure`: the jump in final position (£) when the member crosses its own support test
  with a cliff edge (the organisation-tied part of its support; 0 with a taper or no test);
- `distance_to_cliff`: how far (£) its tested position is above (+) or below (−) its target;
- `vs_standalone`: final − standalone (£, in whole pennies as `rs.apply` shows it), and
  `worse_off` when the member is at least a penny worse off.

The rates are computed by the engine itself: the base variances plus one scenario per member
nudged up by £1 and one nudged down, run in vectorised blocks of members.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.outcome import in_pennies
from riskshare.agreements.spec import load_agreement
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import UsageError
from riskshare.core.system import System, require_system

NUDGE = 1.0  # £
CHUNK_CELLS = 250_000   # scenario-member cells per block (2 MB an array; the engine holds ~50)


@dataclass(frozen=True, eq=False)
class Incentives:
    """The result of `incentives`: `table`, one row per member (index org_id) with name,
    retention_gain, retention_loss and support_per_pound (fractions), cliff_exposure,
    distance_to_cliff (NaN without a cliff) and vs_standalone (£), and worse_off (see the
    module docstring)."""

    table: pd.DataFrame

    @property
    def worse_off(self) -> list[str]:
        """Members worse off under the agreement than on their own."""
        return list(self.table.index[self.table["worse_off"]])


def incentives(agreement, system: System, variances=None) -> Incentives:
    """Retention rates, cliff exposure and participation per member (see module docstring).

    The nudged runs go through the engine in blocks of members, so memory grows linearly with
    the number of members (a block holds at most CHUNK_CELLS scenario-member cells).

    Parameters
    ----------
    agreement : Agreement, str or pathlib.Path
        An Agreement, a preset name, a .toml path or TOML text (see `load_agreement`).
    system : System
        The members, their control totals, forecasts and support (£), and the SCT.
    variances : array-like, dict or pandas Series, optional
        The one position to measure at: each member's variance, forecast − control total (£).
        None: the system's forecast variances; else one figure per member, in member order or
        by org_id (see `apply`).

    Returns
    -------
    Incentives
        `.table`, one row per member (index org_id): retention_gain and retention_loss (the
        share of one more £ of favourable / adverse variance the member keeps / bears; 1 is a
        full incentive, 0 none), support_per_pound (support earned per extra £), cliff_exposure
        and distance_to_cliff (£; NaN without a cliff), vs_standalone (final − standalone, £,
        whole pennies) and worse_off (at least a penny worse off); `.worse_off` lists them.

    Raises
    ------
    UsageError
        When `variances` holds more than one scenario.
    ValidationError
        When the agreement has problems or does not fit the system, or the variances are
        malformed.
    InputFileError
        When the agreement cannot be read (see `load_agreement`).
    ArgumentTypeError
        When `system` is not a System.
    """
    require_system(system, "incentives")
    agreement = load_agreement(agreement)
    base, _ = engine.as_variances(system, variances)
    if base.shape[0] != 1:
        raise UsageError("incentives are measured at one position: pass one set of variances")
    n = system.n
    out = engine.run(agreement, system, base)
    outturn0, earned0 = out.outturn[0], out.support_earned[0]
    gain, loss, support_slope = np.empty(n), np.empty(n), np.empty(n)
    block = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, n, block):
        idx = np.arange(start, min(start + block, n))
        rows = np.arange(len(idx))
        nudged = np.repeat(base, 2 * len(idx), axis=0)          # up for each, then down
        nudged[rows, idx] += NUDGE
        nudged[len(idx) + rows, idx] -= NUDGE
        res = engine.run(agreement, system, nudged)
        up_outturn = res.outturn[rows, idx]
        down_outturn = res.outturn[len(idx) + rows, idx]
        gain[idx] = (up_outturn - outturn0[idx]) / NUDGE
        loss[idx] = (outturn0[idx] - down_outturn) / NUDGE
        support_slope[idx] = (res.support_earned[rows, idx] - earned0[idx]) / NUDGE

    s = agreement.support
    support = system.orgs["support"].to_numpy(dtype=float)
    cliff = np.zeros(n)
    if s.test == "organisation" and s.taper <= 0:
        cliff = support * (1.0 - engine.system_tied(s))   # the part on its own cliff
    shown = in_pennies(out, system)        # the figures rs.apply's table shows
    position = (shown["retained"][0] + shown["received"][0]) if s.after_sharing else base[0]
    vs = shown["vs_standalone"][0]
    table = pd.DataFrame({
        "name": system.orgs["name"],
        # to six decimals (the £1 nudge's float noise gone), and + 0.0: never a negative zero
        "retention_gain": np.round(gain, 6) + 0.0, "retention_loss": np.round(loss, 6) + 0.0,
        "support_per_pound": np.round(support_slope, 6) + 0.0,
        "cliff_exposure": cliff,
        "distance_to_cliff": np.where(cliff > 0, position, np.nan),
        "vs_standalone": vs, "worse_off": vs < -HALF_PENNY,   # by a whole penny
    }, index=system.members)
    return Incentives(table)
