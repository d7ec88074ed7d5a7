"""Linear programmes, one layer below anything that optimises.

`lp.Model` is a PuLP problem that knows what each row means (family, member, relaxable);
`lp.solve` runs HiGHS (through one passModel call) or CBC and returns a `SolveStatus`, never
raising on an outcome; `conditions` words every condition family once; `infeasibility.diagnose`
turns an infeasible model into the conditions in conflict and the smallest set that must give.
Models are in £ thousands (`lp.MONEY`). PuLP loads at the first model built.
"""

from riskshare.solver.conditions import condition, give, relax
from riskshare.solver.infeasibility import diagnose
from riskshare.solver.lp import SOLVERS, Model, Row, SolveStatus, solve

__all__ = ["Model", "Row", "SolveStatus", "SOLVERS", "solve", "diagnose", "condition", "give",
           "relax"]
