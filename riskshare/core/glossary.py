"""The words riskshare uses, defined once: the app's Glossary page shows these, and
docs/glossary.md carries the same entries (tests/docs checks the two agree).

Each `Term` is a word as the app and the reports write it (`term`), an optional aside (its long
form, another name, or the column that holds it), and its definition in Markdown (`words`),
which may link to the reference pages in docs/ ("[metrics.md](metrics.md)"); the app writes
each link as the page of the app where the word is at work (`app_links`), never as a file. Money is in £,
surplus positive; percentages are percent numbers; shares and probabilities are fractions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Term", "TERMS", "markdown", "find", "plain_links", "app_links", "APP_PAGES"]


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
        "a risk-share agreement, kept as a TOML file that can be downloaded, edited and "
        "uploaded again; see [agreements.md](agreements.md). The ready-made agreements offered "
        "on the Agreement page are the **presets**.",
    ),
    Term(
        "band",
        "",
        "a slice of a member's variance, measured as % of its scale, within which a fixed share "
        "is pooled (`bands` in an agreement file); see [agreements.md](agreements.md).",
    ),
    Term(
        "basis",
        "",
        "what a sum of money is shared by: a numeric column of the organisations table (such as "
        '`turnover` or `contribution`), `"equal"`, or weights named member by member. Only the '
        "ratios matter.",
    ),
    Term(
        "binding",
        "binding condition",
        "a condition (a cap, a member kept whole) that the optimiser's answer sits right "
        "against: relaxing it would improve the objective. What that is worth is its **shadow "
        "price**.",
    ),
    Term(
        "cap",
        "",
        "a limit in an agreement. `max_pool` limits what a member puts into the pool, `max_keep` "
        "what it keeps of its own variance, `max_charge` and `max_award` what the pool may take "
        "from or give to a member. All are % of scale.",
    ),
    Term(
        "capital consequences",
        "capital envelope, `[capital]`",
        "what each year's planned position means for capital: the **capital envelope** (the "
        "capital the system may spend) less a penalty for a deficit plan or plus a bonus for a "
        "plan at breakeven or better. Under the 2024/25 rule a breakeven plan gains 30% of the "
        "gap between the envelope and the system's capital fair share, and a deficit plan loses "
        "at most 10% of the envelope (riskshare assumes £1 per £1 of planned deficit). Read "
        "from the plan before any risk share. See [years.md](years.md).",
    ),
    Term(
        "carry forward",
        "`[carry]`, repay, bank",
        "over the years ahead, an agreement carrying a member's position against its control "
        "total into its later control totals, in equal parts over a number of years: a "
        "shortfall **repaid** (they rise), a surplus **banked** (they fall). It moves targets, "
        "not money; the control total with it is the control total **as carried**. A cap leaves "
        "the rest **written off to the pool**. See [years.md](years.md).",
    ),
    Term(
        "catch-up",
        "`catch_up`",
        "with **quarterly support**, a quarter's support that was missed is paid after all if the "
        "year-end test passes. See [in_year.md](in_year.md).",
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
        "cooperative gain",
        "",
        "what pooling under the agreement adds for all the members together over each standing "
        "alone: the sum of where they end in the agreement less the sum of where they would "
        "end alone (£; negative when pooling costs them in total). The **fair shares** split "
        "the same total in different ways.",
    ),
    Term(
        "core",
        "",
        "the splits of the system's total that leave every member and every group of members at "
        "least as well off as in a smaller deal of its own. When the core is empty, whatever the "
        "split, some group would do better apart. See [games.md](games.md).",
    ),
    Term(
        "counterparty",
        "",
        "the one member that takes the whole net pool, gain or loss: a host, a payer, or a "
        "commissioner. Usually also **exempt**, so its own variance is not pooled.",
    ),
    Term(
        "CVaR",
        "expected shortfall, worst 5% average, `cvar95`",
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
    Term(
        "discounted total over the horizon",
        "`discounted_final`",
        "a member's final positions over the years ahead added up with year t weighed by "
        "1 ÷ (1 + r)^t, r being the discount rate (3.5% a year, HM Treasury's Green Book "
        "rate, unless the rules say otherwise), in the agreement and alone. A member whose "
        "discounted total is higher alone would be better off outside the agreement over the "
        "horizon.",
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
        "Euler contribution",
        "`contribution_80`, …",
        "a member's part in the **risk reserve**: minus its own position (outturn after the "
        "risk share, less its control total) in the simulated years whose system shortfall is "
        "at the reserve's quantile, scaled so the members' contributions add up to the "
        "reserve. Negative when the member tends to do well in the system's bad years. See "
        "[risks.md](risks.md).",
    ),
    Term(
        "event correlation",
        "`event_correlation`",
        "how far the events of the **risk register** tend to happen in the same simulated "
        "years: 0, each independently; towards 1, together (one common factor, each event "
        "keeping its own probability). Separate from the correlation between the members' "
        "volatility. See [risks.md](risks.md).",
    ),
    Term(
        "exempt",
        "",
        "a member whose own variance is not pooled. It still takes part in the distribution.",
    ),
    Term(
        "expected mitigation",
        "`expected_mitigation`",
        "the sum over a member's mitigations of amount × probability: what they are expected "
        "to bring.",
    ),
    Term(
        "expected risk",
        "`expected_risk`",
        "the sum over a member's risks of amount × probability: what they are expected to cost.",
    ),
    Term(
        "fair share",
        "",
        "a split of the system's total by a rule of cooperative game theory (the **Shapley "
        "value**, the **nucleolus**, the **least core**), shown on the Fairness page beside what "
        "the agreement gives each member, as a yardstick.",
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
        "forecast outturn",
        "",
        "on the In year page, where the year is expected to end, seen from a month of the year: "
        "the **year to date** plus the months to come by the method chosen (the remaining plan, "
        "the **run rate** or the **submitted forecast**), compared with the OCT (for the system, "
        "the SCT).",
    ),
    Term(
        "gap",
        "",
        "SCT − ΣOCT. Positive: the system is asked for more than its members have agreed to.",
    ),
    Term(
        "gross risk",
        "`gross_risk`",
        "the sum of the amounts of a member's risks: what they would cost if every one "
        "happened.",
    ),
    Term(
        "ICB",
        "",
        "integrated care board, the NHS commissioner of the system. Its `kind` is `commissioner`.",
    ),
    Term("ICS", "", "integrated care system, the partnership the whole table describes."),
    Term(
        "imputation set",
        "",
        "the splits of the system's total that leave every member at least as well off as "
        "alone. It is empty when pooling under the agreement leaves the members with less in "
        "total than acting alone (a negative **cooperative gain**): then no split can leave "
        "every member as well off as alone, the nucleolus does not exist, and the "
        "**prenucleolus** is shown in its place.",
    ),
    Term(
        "in arrears, in advance",
        "`timing`",
        "when **quarterly support** is decided. In arrears (2018/19 support funding): each "
        "quarter on the year to date at its own end (months 3, 6, 9 and 12). In advance (2025/26 "
        "deficit support revenue): each quarter's payment on the year to date at the end of the "
        "quarter before, and Q1 on the agreed plan.",
    ),
    Term(
        "kind",
        "",
        "the type of member (acute, community, mental health, ambulance, specialist, "
        "commissioner, local authority, primary care, other); see [data.md](data.md).",
    ),
    Term(
        "λ",
        "lambda, how much bad years weigh, `risk_aversion`",
        "the weight of bad years when a member's position across the scenarios is summed up in "
        "one figure (its **certainty equivalent**): 0 judges each member by its average year, 1 "
        "by the average of its worst 1-in-20 years; in between, a blend.",
    ),
    Term(
        "least core",
        "",
        "when no split satisfies every group (the **core** is empty), the splits that leave no "
        "group more than **ε** better off on its own, for the smallest ε possible. riskshare "
        "shows the one nearest the Shapley value. See [games.md](games.md).",
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
        "net risk",
        "`net_risk`",
        "**expected risk** − **expected mitigation**: what the register is expected to take "
        "off the forecast. Negative: a net mitigation.",
    ),
    Term(
        "net transfer",
        "`net_transfer`",
        "received − pooled: what the agreement's transfers bring a member (+) or cost it (−).",
    ),
    Term(
        "non-recurrent",
        "one-off, `non_recurrent`, the `nr_` lines",
        "money inside a forecast that will not come again next year: deficit support counted in "
        "the forecast, savings made once, one-off income. Taken out, it leaves the **underlying "
        "position**; over the years ahead a one-off line is gone unless the **projection "
        "rules** say it continues (kept, halved or tapered out).",
    ),
    Term(
        "nucleolus",
        "",
        "the split that makes the worst-treated group as well off as possible, then the next "
        "worst, and so on, among the splits that leave every member at least as well off as "
        "alone. It lies in the core whenever the core is not empty. See [games.md](games.md).",
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
        "P(worse off)",
        "chance worse off, `p_worse_off`",
        "the share of simulated years in which a member ends below where it would be alone; "
        "for the system, the share in which any member does.",
    ),
    Term(
        "phasing",
        "",
        "spreading a control total over the twelve months as a monthly plan: evenly (a twelfth a "
        "month) or by a named profile, such as `winter_acute`, which puts more of the year's "
        "position in the winter months.",
    ),
    Term(
        "plan to date",
        "YTD plan",
        "the monthly plan summed from April (month 1) to the month closed: what the **year to "
        "date** is judged against. For the system, the members' plans inside the SCT, with any "
        "gap between the SCT and their OCTs spread evenly over the year.",
    ),
    Term(
        "planned position",
        "`planned`",
        "a member's plan for a year ahead: last year's recurrent position (in the first year, "
        "the **underlying position**) plus the one-offs still paid, less any repayment, plus "
        "recurrent savings and income growth, less cost pressure and the recurrent risks. "
        "Savings, growth, pressure and risks recur into the next year; one-offs and repayments "
        "end with their year.",
    ),
    Term(
        "pool",
        "",
        "the common fund the agreement's schedules pay into and the distribution pays out of. "
        "**Pooled** (`pooled`) is what one member puts in.",
    ),
    Term(
        "prenucleolus",
        "",
        "the nucleolus without the requirement that every member does at least as well as "
        "alone. It is shown in place of the nucleolus when the **imputation set** is empty.",
    ),
    Term(
        "projection rules",
        "rules",
        "how each member rolls forward from its underlying position, year by year: recurrent "
        "savings (% of cost or £), income growth, cost pressure, one-off lines and support that "
        "continue or not, a prior deficit repaid, control totals, and capital consequences; a "
        "small TOML file, for every member or member by member. See [years.md](years.md).",
    ),
    Term(
        "quarterly support",
        '`[support] period = "quarter"`',
        "support funding paid in four parts (equal, or by `quarter_weights` such as 15%, 20%, 30% "
        "and 35%), each earned when the year to date is at or above the plan to date at the "
        "quarter's end; a quarter not yet closed is judged on the forecast outturn. See "
        "[in_year.md](in_year.md).",
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
        "before anyone else is charged. Using it shows as a charge on the holder. The **risk "
        "reserve** says how large it would need to be.",
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
        "risk-adjusted forecast",
        "`risk_adjusted`",
        "forecast − **net risk**: the forecast after the risks and mitigations the member has "
        "named, each weighted by its probability. A board finance paper reports it beside the "
        "worst case (every risk happens, only the certain mitigations) and the best case (no "
        "risk happens, every mitigation does). See [risks.md](risks.md).",
    ),
    Term(
        "risk register",
        "`risks.csv`, the `risks` sheet",
        "the members' named risks (adverse if they happen) and mitigations (favourable if they "
        "happen), each with an amount in £ and a probability; items of one `group` happen "
        "together. See [risks.md](risks.md).",
    ),
    Term(
        "risk reserve",
        "reserve sizing",
        "what the system would need to hold back to meet its SCT with a chosen probability "
        "(80%, 90%, 95%) under an agreement: the (1 − p) quantile of the system's shortfall "
        "across the simulated years, split between the members by their **Euler "
        "contributions**, funded by turnover or by contribution, and put into an agreement as "
        "its **reserve**. See [risks.md](risks.md).",
    ),
    Term(
        "run rate",
        "`run_rate`",
        "a forecast outturn that carries the year to date on at the same pace: year to date × 12 "
        "÷ the months closed.",
    ),
    Term(
        "scale",
        "",
        "the column an agreement's percentages refer to, turnover unless it names another.",
    ),
    Term(
        "scenario",
        "",
        "one simulated year: a variance for every member, drawn from the members' volatility "
        "under the scenario settings; see [workshop.md](workshop.md).",
    ),
    Term(
        "SCT",
        "",
        "system control total, the target for the system as a whole (`control_total` in the "
        "system file). When none is given it is the sum of the OCTs.",
    ),
    Term("ΣOCT", "", "the sum of the members' organisational control totals."),
    Term(
        "Shapley value",
        "",
        "each member's average contribution: how much it adds to a group when it joins, "
        "averaged over every order in which the members could join. Above 16 members it is "
        "estimated from random orders of joining, with a standard error. See "
        "[games.md](games.md).",
    ),
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
        "shortfall",
        "",
        "how far a position falls short of a target (£; zero when it meets it). On the Fairness "
        "page, how much more a member or group would secure on its own than the agreement gives "
        "it.",
    ),
    Term(
        "spread",
        "sd",
        "the standard deviation of a position across the simulated years (£m): how far a "
        "typical year lies from the average. A smaller spread means less risk.",
    ),
    Term(
        "standalone",
        "alone, on its own",
        "where a member would end with no agreement: control total + its own variance + the "
        "support it would earn on its own test. **vs standalone** (vs alone) is final − "
        "standalone: positive when the member is better off in the agreement.",
    ),
    Term(
        "submitted forecast",
        "`forecast` in the monthly table",
        "a member's own in-month forecast of the months not yet closed; the forecast outturn by "
        "it is the year to date plus the forecast submitted for the months to come.",
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
        "underlying position",
        "recurrent position, `underlying`",
        "the forecast less its **non-recurrent** benefit: the recurrent run-rate next year "
        "starts from. A member whose forecast meets its control total but whose underlying "
        "position does not meets it only through one-offs. See [years.md](years.md).",
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
    Term(
        "walk-away margin",
        "the least-core ε at the best split",
        "the Fairness page's name for **ε**: under the split that makes it smallest, the most "
        "some group would still gain by leaving. Zero or below: some split leaves every member "
        "and group at least as well off as on its own.",
    ),
    Term(
        "written off to the pool",
        "`written_off`",
        "the part of a position a **carry forward** cap leaves uncarried: nobody repays it (or "
        "banks it), so the system bears the shortfall (or keeps the surplus) that year.",
    ),
    Term(
        "year to date",
        "YTD",
        "the monthly actuals summed from April (month 1) to the month closed. **vs plan to date** "
        "is year to date − plan to date: positive when ahead of plan.",
    ),
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


#: Where, in the app, the subject of each reference page is at work: the app's Glossary names
#: these instead of files a finance director does not have.
APP_PAGES = {
    "agreements.md": "the Agreement page",
    "data.md": "the System page",
    "games.md": "the Fairness page",
    "metrics.md": "the Agreement, Scenarios and Compare pages",
    "in_year.md": "the In year page",
    "risks.md": "the Risks page",
    "reconciliation.md": "the Reconcile page",
    "workshop.md": "the Scenario settings in the sidebar",
    "years.md": "the Years ahead page",
}


def app_links(words: str) -> str:
    """Links to the docs pages written as the app page where their subject is at work ("see
    [games.md](games.md)" -> "see the Fairness page"), for the app's Glossary."""
    return _LINK.sub(lambda m: APP_PAGES.get(m.group(2), "the Glossary"), words)
