"""Risks and mitigations: the system's own register of named risks (with a value and a
likelihood) and mitigations, and what they do to the forecast.

`adjusted.risk_adjusted` (rs.risk_adjusted) gives each member's and the system's risk-adjusted
forecast, worst and best cases, against the control totals and the SCT. The register itself is
read and checked in `core.register`.
"""

from riskshare.risks.adjusted import RiskAdjusted, risk_adjusted

__all__ = ["RiskAdjusted", "risk_adjusted"]
