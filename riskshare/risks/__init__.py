"""Risks and mitigations: the system's own register of named risks (with a value and a
likelihood) and mitigations, and what they do to the forecast.

`adjusted.risk_adjusted` (rs.risk_adjusted) gives each member's and the system's risk-adjusted
forecast, worst and best cases, against the control totals and the SCT; `reserve.reserve_needed`
(rs.reserve_needed) the system reserve needed to meet the SCT with a chosen probability, with
each member's Euler contribution and two ways of funding it. The register itself is read and
checked in `core.register`; its events are drawn in `scenarios.events`.
"""

from riskshare.risks.adjusted import RiskAdjusted, risk_adjusted
from riskshare.risks.ranking import rank_items
from riskshare.risks.reserve import ReserveSizing, reserve_needed

__all__ = ["RiskAdjusted", "risk_adjusted", "ReserveSizing", "reserve_needed", "rank_items"]
