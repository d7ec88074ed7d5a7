"""The conditions an optimisation can impose, described once for every place that words them.

Each constraint row of an optimisation model belongs to a *family* (in the words of
docs/glossary.md: a cap on charges, a floor on final position, ...). A family knows how to say,
in plain English:
- the condition itself ("NGH is charged at most £4.2m");
- how much it would have to give when a request is infeasible ("charge NGH £1.1m more");
- the relaxation a shadow price is quoted for ("raising the cap on charges to NGH by £1m").

`direction` is the sign of the change to the row's right-hand side that relaxes the condition
(for a row `lhs ≥ rhs`, lowering rhs relaxes it: −1), so a shadow price y = d(objective)/d(rhs)
turns into an effect y · direction · step for a relaxation of `step` £. Conditions quote the
figure a user recognises (`lp.Row.shown`: a charge cap of £4.2m, not the row x ≥ −£4.2m).
"""

from __future__ import annotations

from dataclasses import dataclass

from riskshare.core.format import amount as pounds_text


@dataclass(frozen=True)
class Family:
    """How one family of conditions is worded: templates for the `condition`, what it would
    `give` and the `relax`ation a shadow price is quoted for, and `direction` (see the module
    docstring)."""

    key: str
    condition: str
    give: str
    relax: str
    direction: int


FAMILIES = {f.key: f for f in (
    Family("pool", "the transfers sum to {rhs}", "put {amount} {more} into the pool",
           "Adding {step} to the pool", +1),
    Family("max_charge", "{who} is charged at most {rhs}", "charge {who} {amount} more than its cap",
           "Raising the cap on charges to {who} by {step}", -1),
    Family("max_award", "{who} is awarded at most {rhs}", "award {who} {amount} more than its cap",
           "Raising the cap on awards to {who} by {step}", +1),
    Family("min_retention", "{who} pays out at most {rhs} (it keeps the agreed share of any "
           "favourable variance)", "let {who} pay out {amount} more",
           "Letting {who} pay out {step} more", -1),
    Family("floor", "{who} ends no lower than {rhs} against its control total",
           "let {who} end {amount} lower", "Lowering the floor for {who} by {step}", -1),
    Family("standalone", "{who} ends no worse off than on its own",
           "let {who} end {amount} worse off than on its own",
           "Letting {who} end {step} worse off than on its own", -1),
    Family("fixed", "{who}'s transfer is fixed at {rhs}", "change {who}'s fixed transfer by {signed}",
           "Fixing {who}'s transfer {step} higher", +1),
    Family("system_ct", "the system meets its control total",
           "let the system miss its control total by {amount}",
           "Letting the system end {step} short of its control total", -1),
    Family("sct", "the revised control totals sum to the system control total ({rhs})",
           "change the system control total by {signed}",
           "Raising the system control total by {step}", +1),
    Family("keep_oct", "{who}'s control total stays at {rhs}", "change {who}'s control total by "
           "{signed}", "Letting {who}'s control total move by {step}", +1),
    Family("ring_fence", "{who}'s ring-fenced spend stays at or above its floor of {rhs}",
           "let {who}'s ring-fenced spend end {amount} below its floor",
           "Lowering the ring-fenced floor for {who} by {step}", -1),
    Family("max_change", "{who}'s control total changes by at most the cap",
           "let {who}'s control total change {amount} more than the cap",
           "Raising the cap on changes for {who} by {step}", +1),
)}


def condition(family: str, who: str | None, figure: float) -> str:
    """The condition in words; `figure` is the amount a user recognises (`lp.Row.shown`)."""
    return FAMILIES[family].condition.format(who=who or "the system",
                                             rhs=pounds_text(figure))


def give(family: str, who: str | None, amount: float) -> str:
    """The change that would make the condition hold: `amount` £ (signed for equalities)."""
    f = FAMILIES[family]
    return f.give.format(who=who or "the system", amount=pounds_text(abs(amount)),
                         more="more" if amount >= 0 else "less", signed=pounds_text(amount, True))


def relax(family: str, who: str | None, step: float) -> str:
    """The relaxation a shadow price is quoted for, in words: the condition eased by `step` £."""
    return FAMILIES[family].relax.format(who=who or "the system", step=pounds_text(step))
