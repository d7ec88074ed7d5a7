"""Reconciliation: organisational control totals against the system control total.

`reconcile` states the gap (SCT − ΣOCT, £), each member's forecast against its OCT and flags
(unrealistic OCTs, a gap the forecasts cannot close); `rebalance` proposes revised OCTs that sum
to the SCT to the penny — shared by a basis, or chosen by a small LP (`rebalance_lp`: the
smallest largest change, or closest to the forecasts) with members kept and changes capped.
"""

from riskshare.reconciliation.rebalance import METHODS, Rebalancing
from riskshare.reconciliation.reconcile import Reconciliation

__all__ = ["Reconciliation", "Rebalancing", "METHODS"]
