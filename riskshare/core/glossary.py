"""The words riskshare uses, defined once: the app's Glossary page shows these, and
docs/glossary.md carries the same entries (tests/docs checks the two agree).

Each `Term` is a word as the app and the reports write it (`term`), an optional aside (its long
form, another name, or the column that holds it), and its definition in Markdown (`words`),
which may link to the reference pages in docs/ ("[metrics.md](metrics.md)"). Money is in £,
surplus positive; percentages are percent numbers; shares and probabilities are fractions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Term", "TERMS", "markdown", "find", "plain_links"]


@dataclass(frozen=True)
class Term:
    """One entry: `term` (bold), `aside` (in brackets after it; "" for none), `words`."""

    term: str
    aside: str
    words: str

    @property
    def entry(self) -> str:
        """The entry as one Markdown paragraph: '**term** (aside): words'."""
        aside = f" ({self.aside})" if self.aside else ""
        return f"**{self.term}**{aside}: {self.words}"


TERMS: tuple[Term, ...] = (
    Term("adverse", "", "worse than target; a negative variance."),
    Term(
        "agreement",
        "",
        "a risk-share agreement written as a TOML file; see [agreements.md](agreements.md). The "
        "files in `models/` are the **presets**.",
    ),
    Term(
        "band",
        "",
        "a slice of a member's variance, measured as % of its scale, within which a fixed share "
        "is pooled; see `bands` in [agreements.md](agreements.md).",
    ),
    Term(
        "basis",
        "",
        "what a sum of money is shared by: a numeric column of the organisations table (such as "
        '`turnover` or `contribution`), `"equal"`, or weights named member by member. Only the '
        "ratios matter.",
    ),
    Term(
        "cap",
        "",
        "a limit in an agreement. `max_pool` limits what a member puts into the pool, `max_keep` "
        "what it keeps of its own variance, `max_charge` and `max_award` what the pool may take "
        "from or give to a member. All are % of scale.",
    ),
    Term(
        "certainty equivalent",
        "",
        "one figure for a member's position across many simulated years: its average, less a "
        "weight λ (`risk_aversion`) times how far its worst 5% of years (by default) fall below "
        "that average. λ = 0 judges by the average year, λ = 1 by the average of the worst "
        "1-in-20 years.",
    ),
    Term(
        "certificate",
        "participation certificate",
        "riskshare's verdict on whether every member and every group of members does at least as "
        "well in the agreement as it would in a smaller deal of its own; see "
        "[games.md](games.md).",
    ),
    Term(
        "claims rule",
        "",
        "a rule from the economics of bankruptcy for dividing a sum among people whose claims "
        "exceed it (proportional, equal awards, equal losses, Talmud, random arrival). With "
        '`distribute = "claims"` a positive pool first goes to members still short of their '
        "control total.",
    ),
    Term(
        "cliff edge",
        "",
        "support paid in full at or above target and not at all below it. The opposite of a "
        "**taper**.",
    ),
    Term(
        "cliff exposure",
        "",
        "how much a member's final position jumps when it crosses its support test: the part of "
        "its support tied to its own cliff-edge test.",
    ),
    Term("coalition", "", "a group of members considered as if it had made a deal on its own."),
    Term(
        "control total",
        "",
        "a target year-end surplus (+) or deficit (−). For a member, the OCT; for the system, the "
        "SCT.",
    ),
    Term(
        "core, least core, nucleolus, Shapley value",
        "",
        "ways of judging or choosing how a pooled gain is split; see [games.md](games.md).",
    ),
    Term(
        "counterparty",
        "",
        "the one member that takes the whole net pool, gain or loss: a host, a payer, or a "
        "commissioner. Usually also **exempt**, so its own variance is not pooled.",
    ),
    Term(
        "CVaR",
        "expected shortfall, `cvar95`",
        "the average of the worst 5% of simulated years: the mean of final − control total over "
        "the scenarios in the worst 5% tail, in £ (negative means short of target). For the "
        "system it is measured against ΣOCT. See [metrics.md](metrics.md).",
    ),
    Term(
        "deadband",
        "",
        "a first band that pools nothing, so ordinary performance stays wholly with the member "
        "(for example, the first 0.5% of turnover).",
    ),
    Term("distribution", "", "how the net pool is shared between members (`[pool] distribute`)."),
    Term(
        "ε",
        "epsilon, the least-core ε",
        "the smallest amount such that some split of the pooled gain leaves no group of members "
        "more than ε better off in a smaller deal of its own. ε of zero or below: some split is "
        "accepted by every group (the core is not empty); above zero: whatever the split, some "
        "group gains at least ε by leaving. See [games.md](games.md).",
    ),
    Term(
        "exempt",
        "",
        "a member whose own variance is not pooled. It still takes part in the distribution.",
    ),
    Term("favourable", "", "better than target; a positive variance."),
    Term(
        "final position",
        "`final`",
        "where a member ends under an agreement: its outturn after sharing plus the support it "
        "earns.",
    ),
    Term(
        "forecast",
        "",
        "the member's forecast year-end outturn, on the same basis as its control total "
        "(excluding conditional support).",
    ),
    Term(
        "gap",
        "",
        "SCT − ΣOCT. Positive: the system is asked for more than its members have agreed to.",
    ),
    Term(
        "ICB",
        "",
        "integrated care board, the NHS commissioner of the system. Its `kind` is `commissioner`.",
    ),
    Term("ICS", "", "integrated care system, the partnership the whole table describes."),
    Term(
        "kind",
        "",
        "the type of member (acute, community, mental health, ambulance, specialist, "
        "commissioner, local authority, primary care, other); see [data.md](data.md).",
    ),
    Term(
        "LP",
        "linear programme",
        "a calculation that finds the best value of an objective (such as the largest shortfall) "
        "within conditions (such as caps), where both are sums of amounts times fixed rates. The "
        "optimiser and the optimised rebalancing solve LPs.",
    ),
    Term(
        "MILP",
        "mixed-integer linear programme",
        "an LP in which some amounts must be whole numbers, for yes-or-no choices such as whether "
        "a member passes a cliff-edge support test. The optimiser's objectives that count members "
        "meeting a test are MILPs; they take longer to solve.",
    ),
    Term(
        "net pool", "", "the sum of what every member pooled. Negative when losses outweigh gains."
    ),
    Term(
        "OCT",
        "",
        "organisational control total, one member's target (`control_total` in the table).",
    ),
    Term(
        "outturn",
        "",
        "the actual year-end result. In an agreement's results `outturn` is the member's position "
        "after sharing and before support: control total + retained + received.",
    ),
    Term(
        "P(miss CT), P(miss SCT)",
        "`p_miss_control_total`",
        "the probability of missing a control total: the share of simulated years in which a "
        "member's outturn is below its OCT or, for the system, the members' total outturn is "
        "below the SCT. See [metrics.md](metrics.md).",
    ),
    Term(
        "pool",
        "",
        "the common fund the agreement's schedules pay into and the distribution pays out of. "
        "**Pooled** (`pooled`) is what one member puts in.",
    ),
    Term(
        "received",
        "",
        "a member's share of the distributed net pool (negative when it is charged).",
    ),
    Term(
        "rebalancing",
        "",
        "proposing revised OCTs that add up exactly to the SCT; see "
        "[reconciliation.md](reconciliation.md).",
    ),
    Term(
        "reserve",
        "",
        "a contingency set aside by one member (the **holder**) that meets a net pooled loss "
        "before anyone else is charged. Using it shows as a charge on the holder.",
    ),
    Term("retained", "", "the part of its variance a member keeps: variance − pooled."),
    Term(
        "retention rate",
        "",
        "of one more pound of favourable variance, the share the member keeps (`retention_gain`); "
        "of one more pound of adverse variance, the share it bears (`retention_loss`). 1 is a "
        "full incentive, 0 none. See [metrics.md](metrics.md).",
    ),
    Term(
        "scale",
        "",
        "the column an agreement's percentages refer to, turnover unless it names another.",
    ),
    Term(
        "scenario",
        "",
        "one simulated year: a variance for every member. See [workshop.md](workshop.md) for how "
        "they are drawn.",
    ),
    Term(
        "SCT",
        "",
        "system control total, the target for the system as a whole (`control_total` in the "
        "system file). When none is given it is the sum of the OCTs.",
    ),
    Term("ΣOCT", "", "the sum of the members' organisational control totals."),
    Term(
        "shock",
        "",
        "a named, fixed change to members' variances, such as a hard winter costing every acute "
        "trust 2% of turnover.",
    ),
    Term(
        "shadow price",
        "",
        "how much the optimiser's objective would improve if a binding condition (a cap, a member "
        "kept whole) were relaxed by one unit: what that condition costs. Quoted in words for the "
        "LP objectives only.",
    ),
    Term(
        "standalone",
        "",
        "where a member would end with no agreement: control total + its own variance + the "
        "support it would earn on its own test.",
    ),
    Term(
        "support funding",
        "",
        "conditional money at stake (`support` in the table), earned by passing a **support "
        "test**: the member's own position against its OCT, the system's against the SCT, or a "
        "mix.",
    ),
    Term(
        "tail contribution",
        "tail share, `tail_contribution`",
        "a member's average final − control total over the system's worst 5% of simulated years: "
        "its share of the system's bad years. The members' contributions add up to the system's "
        "CVaR.",
    ),
    Term(
        "taper",
        "",
        "support earned gradually, in a straight line, over a stated band below target instead of "
        "all or nothing.",
    ),
    Term(
        "turnover", "", "a member's annual income; the default scale and the default sharing basis."
    ),
    Term(
        "unallocated",
        "",
        "money the distribution could not place, because every member able to take it had reached "
        "its cap. It is reported, never lost silently.",
    ),
    Term(
        "unrealistic",
        "flag",
        "an OCT whose forecast is adverse to it by more than a threshold (1% of turnover unless "
        "set otherwise).",
    ),
    Term(
        "VaR",
        "value at risk, `var95`",
        "the 1-in-20 bad year: the 5th percentile of final − control total across the simulated "
        "years, signed like money: −£2m means a shortfall of £2m or worse one year in twenty. For "
        "the system it is measured against ΣOCT.",
    ),
    Term("variance", "", "forecast − control total, per member. Positive is favourable."),
    Term(
        "volatility",
        "",
        "the standard deviation of a member's outturn, as % of turnover, used to simulate "
        "scenarios.",
    ),
    Term("walk away", "", "a member or group that would do better outside the agreement."),
)


def markdown() -> str:
    """Every entry, one Markdown paragraph each, in order (docs/glossary.md's Glossary)."""
    return "\n\n".join(t.entry for t in TERMS)


def find(text: str) -> tuple[Term, ...]:
    """The entries whose term, aside or definition contains `text` (any case); all for ""."""
    needle = text.strip().casefold()
    return tuple(t for t in TERMS if needle in f"{t.term} {t.aside} {t.words}".casefold())


_LINK = re.compile(r"\[([^\]]+)\]\(([^)#]+\.md)(#[^)]*)?\)")


def plain_links(words: str) -> str:
    """Links to the docs pages written as their file in docs/ ("docs/metrics.md"), for a
    reader without the pages beside it (the app)."""
    return _LINK.sub(lambda m: f"docs/{m.group(2)}", words)
