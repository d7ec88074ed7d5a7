"""Reports: charts and result workbooks drawn from library results, never recomputing them.

`charts` builds Altair charts (waterfall, variance, rebalancing, member walk, retention,
distributions, allocation, fairness, shocks, comparison) and renders them offline through
vl-convert; `workbooks` writes the result workbooks shared by the CLI's `--xlsx` and the app's
downloads. Altair loads only when a chart is built.
"""

from riskshare.reports.workbooks import (
    allocation_workbook,
    fairness_workbook,
    outcome_workbook,
    reconciliation_workbook,
    risk_workbook,
)

__all__ = ["reconciliation_workbook", "outcome_workbook", "risk_workbook", "allocation_workbook",
           "fairness_workbook"]
