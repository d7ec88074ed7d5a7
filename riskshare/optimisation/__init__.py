"""Optimisation: allocations of the pool chosen by linear and mixed-integer programming.

`rs.optimise(system, agreement, objective, constraints)` → `Allocation`. The request is validated
(`spec`: objectives and `Constraints`), turned into numbers (`setup`), built as a model (`model`),
solved with a tie-break for the least money moved and verified shadow prices (`solve`), and
rounded to pennies and evaluated by the agreement engine (`result`), so an allocation scores
exactly what `rs.apply` would pay. `mga` finds near-optimal alternatives as a free function over
the setup. Solver plumbing lives one layer down, in `riskshare.solver`.
"""

from riskshare.optimisation.result import Allocation, Binding, ShadowPrice
from riskshare.optimisation.spec import OBJECTIVES, Constraints, SolverError

__all__ = ["Allocation", "Binding", "ShadowPrice", "Constraints", "OBJECTIVES", "SolverError"]
