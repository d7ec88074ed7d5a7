"""The screens of a workshop session: what each step shows, and the live "what if" knobs.

`view(session, number, what_if)` works out one step (1-based) as a `StepView`: a few headline
figures, sentences the facilitator can read out, a member table (money in £) and a chart. The
Workshop page, the Excel report and the printable report all draw on these views, so the room,
the workbook and the handout show the same figures.

Each step works on the session's system *at that step*: forecasts moved by the shocks in force
(`Session.shocks_at`), so "apply the agreement" means at the forecast after the shock. Steps
judged across scenarios simulate the session's scenario settings around those forecasts. An
in_year step works on the session's monthly table at its month instead (`rs.in_year`): the
forecast is the year to date plus the months to come, and the agreement (if any) is applied on
it, quarterly support judged quarter by quarter; shocks, being changes to a forecast rather than
entries in the ledger, do not apply to it. A risks step works on the session's risk register
around the forecasts at that step: the risk-adjusted forecast (`rs.risk_adjusted`), each item's
effect on the chance the system meets its SCT (`rs.rank_items`, the tornado chart) and the
reserve that would meet the SCT in 80%, 90% and 95% of the session's simulated years drawn with
the register (`rs.reserve_needed`), under the step's agreement if it has one, else standing
alone. When the session's `[scenarios] register` is "add" or "instead", steps judged across
scenarios draw the register too. A years step rolls the system at that step forward from its
underlying position under the step's projection rules (`rs.project`): each year's plan against
the SCT (as carried, when the step's agreement has a `[carry]`), capital against the envelope
when the rules have a `[capital]` rule, and with an agreement applied year by year, who would be
better off outside over the horizon; the bridge chart walks the system from its underlying
position through each year's plan, and the board-paper sentences are the projection's own.

What-if knobs (`KNOBS`) change the step on screen only: the size of the shocks, or one
agreement's pool share, deadband, caps, reserve, support tied to the system, support taper and,
for fairness across scenarios, how much bad years weigh; and, on steps that draw the risk
register, one item's probability (with its group); on a years step, every member's recurrent
savings. `knobs(session, number)` lists those that apply, with the current value and a range;
values are in the knob's unit (shares as fractions, percentages as % of the agreement's scale,
the savings as % of cost, the reserve in £m).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import altair as alt
import pandas as pd

from riskshare.agreements.outcome import Outcome, apply
from riskshare.agreements.risk import SYSTEM_ROW, compare, system_against_sct, worse_off
from riskshare.agreements.spec import Agreement
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import UsageError
from riskshare.core.format import LISTED, amount, listed, money_m, named, share
from riskshare.core.register import Register
from riskshare.core.system import System
from riskshare.games import certificate
from riskshare.games.certificate import Certificate, describe_group
from riskshare.reconciliation.reconcile import reconcile
from riskshare.reports import charts
from riskshare.scenarios.shocks import shocked_system
from riskshare.scenarios.simulate import REGISTER_MODES, ScenarioSettings
from riskshare.workshop.session import Session, Step, WhatIf
from riskshare.workshop.whatif import (
    changed_agreement,
    changed_register,
    changed_rules,
    describe_changes,
    target_label,
    uses_register,
)


@dataclass(frozen=True)
class Figure:
    """A headline figure: label, the value as text, the raw value (£ or a count) and an
    optional change against a reference in words; `good` colours it (None: neutral)."""

    label: str
    text: str
    value: float
    delta: str = ""
    good: bool | None = None


@dataclass(frozen=True, eq=False)
class StepView:
    """One step worked out. `table`: per member (index org_id), money in £ in the `money`
    columns; `results`: the library results behind it (reconciliation, outcomes by label,
    comparison, certificates by label) for reports."""

    session: Session
    number: int
    step: Step
    figures: tuple[Figure, ...]
    sentences: tuple[str, ...]
    table: pd.DataFrame
    money: tuple[str, ...]
    chart: object
    system: System
    what_if: WhatIf = field(default_factory=WhatIf)
    changes: tuple[str, ...] = ()
    results: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.step.title


# -- the views ------------------------------------------------------------------------------------------
def system_at(session: Session, number: int, shock_scale: float = 1.0) -> System:
    """The session's system at step `number`: forecasts moved by the shocks in force."""
    shocks = [session.shock(name) for name in session.shocks_at(number - 1)]
    return shocked_system(session.system, shocks, shock_scale)


def view(session: Session, number: int | None = None, what_if: WhatIf | None = None) -> StepView:
    """Step `number` (1-based; default the session's selected step) with `what_if` (default the
    session's own what-if when showing its selected step, else none)."""
    number = session.step if number is None else int(number)
    if not 1 <= number <= len(session.steps):
        raise UsageError(f"step must be between 1 and {len(session.steps)} (got {number})")
    if what_if is None:
        what_if = session.what_if if number == session.step else WhatIf()
    step = session.steps[number - 1]
    scale = what_if.get("shock_scale", 1.0)
    system = system_at(session, number, scale)
    label = target_label(session, number, what_if)
    agreements = {}
    for key in step.agreements:
        a = session.agreement(key)
        agreements[key] = changed_agreement(a, what_if) if key == label else a
    register = session.register
    if register is not None and uses_register(session, number):
        register = changed_register(register, what_if)
    context = _Context(session, number, step, system, agreements, what_if, register)
    build = {"baseline": _baseline, "shock": _shock, "agreement": _agreement,
             "compare": _compare, "walk_away": _walk_away, "fairer": _fairer,
             "in_year": _in_year, "risks": _risks, "years": _years}[step.kind]
    figures, sentences, table, money, chart, results = build(context)
    if step.kind != "risks" and step.judge == "scenarios" and register is not None \
            and session.scenarios.uses_register():
        sentences = [*sentences, _drawn_words(register, session.scenarios)]
    return StepView(session, number, step, tuple(figures), tuple(sentences), table,
                    tuple(money), chart, system, what_if,
                    describe_changes(session, number, what_if), results)


def views(session: Session) -> list[StepView]:
    """Every step, as prepared (the selected step with the session's what-if)."""
    return [view(session, k) for k in range(1, len(session.steps) + 1)]


@dataclass(frozen=True)
class _Context:
    session: Session
    number: int
    step: Step
    system: System
    agreements: dict
    what_if: WhatIf
    register: Register | None = None     # as the what-if leaves it

    def scenarios(self):
        """The session's simulated years around this step's forecasts; with the register's
        events when the session's scenarios draw it (`[scenarios] register`)."""
        return self.session.scenarios.simulate(self.system, register=self.register)

    @property
    def risk_aversion(self) -> float:
        return self.what_if.get("risk_aversion", self.session.risk_aversion)


def _label(head: str, text: str) -> str:
    """"B: members worse off" with a prefix, else "Members worse off"."""
    return f"{head}{text}" if head else text[:1].upper() + text[1:]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _baseline(c: _Context):
    rec = reconcile(c.system)
    gap = rec.amount("variance_vs_sct")
    below = int((c.system.variance < -HALF_PENNY).sum())
    figures = [
        Figure("System control total", money_m(rec.amount("sct")), rec.amount("sct")),
        Figure("Members' control totals add up to", money_m(rec.amount("sum_oct")),
               rec.amount("sum_oct"), f"{money_m(rec.amount('gap'), sign=True)} to the SCT"),
        Figure("Forecast outturn", money_m(rec.amount("forecast")), rec.amount("forecast")),
        Figure("Forecast against the SCT", money_m(gap, sign=True), gap, good=gap >= 0),
        Figure("Members forecast to miss", f"{below} of {c.system.n}", below,
               good=below == 0),
    ]
    sentences = [f"{c.system.label}: {c.system.n} members with £"
                 f"{c.system.orgs['turnover'].sum() / 1e9:,.2f}bn of turnover."] + list(rec.flags)
    table = rec.orgs[["name", "kind", "control_total", "forecast", "variance", "variance_pct",
                      "support"]]
    money = ("control_total", "forecast", "variance", "support")
    return figures, sentences, table, money, charts.waterfall(rec), {"reconciliation": rec}


def _shock(c: _Context):
    before = c.session.system
    names = c.session.shocks_at(c.number - 1)
    shocks = [c.session.shock(n) for n in names]
    delta = c.system.variance - before.variance
    total = float(delta.sum())
    rec = reconcile(c.system)
    gap = rec.amount("variance_vs_sct")
    was = reconcile(before).amount("variance_vs_sct")
    missing = int((c.system.variance < -HALF_PENNY).sum())
    missing_before = int((before.variance < -HALF_PENNY).sum())
    figures = [
        Figure("The shock costs the system", money_m(-total), total, good=total >= 0),
        Figure("Forecast against the SCT", money_m(gap, sign=True), gap,
               f"{money_m(gap - was, sign=True)} on the forecast", good=gap >= 0),
        Figure("Members forecast to miss", f"{missing} of {c.system.n}", missing,
               f"{missing - missing_before:+d} on the forecast" if missing != missing_before
               else "", good=missing == 0),
    ]
    sentences = [f"{s.name}: {s.description}" if s.description else s.name for s in shocks]
    if not shocks:
        sentences.append("No shock is in force at this step.")
    hit = delta[delta.abs() > HALF_PENNY]
    if len(hit):
        worst = hit.idxmin()
        sentences.append(f"It moves {_count(len(hit), 'member')}' forecasts by {amount(total)} in "
                         f"all; {worst} is hit hardest ({amount(float(hit[worst]))}).")
    table = pd.DataFrame({"name": before.orgs["name"],
                          "variance_before": before.variance, "shock": delta,
                          "variance_after": c.system.variance,
                          "control_total": before.orgs["control_total"]})
    money = ("variance_before", "shock", "variance_after", "control_total")
    return (figures, sentences, table, money, charts.shock_chart(table),
            {"reconciliation": rec})


def _outcome_figures(label: str, o: Outcome, system: System, prefix: bool) -> list[Figure]:
    t = o.table
    worse = o.worse_off
    support = float(t["support_earned"].sum())
    at_stake = float(system.orgs["support"].sum())
    final = float(o.system["system_final"])          # inside the SCT (docs/reconciliation.md)
    gain = float(t["vs_standalone"].sum())
    head = f"{label}: " if prefix else ""
    figures = [Figure(_label(head, "members worse off than alone"), f"{len(worse)} of {system.n}",
                      len(worse), good=not worse)]
    if at_stake > 0:
        figures.append(Figure(_label(head, "support earned"), money_m(support), support,
                              f"of {money_m(at_stake)} at stake", good=support >= at_stake))
    figures.append(Figure(_label(head, "system ends at"), money_m(final), final,
                          f"{money_m(final - system.control_total, sign=True)} against the SCT",
                          good=final >= system.control_total))
    figures.append(Figure(_label(head, "gain over standing alone"), money_m(gain, sign=True), gain,
                          good=gain >= -HALF_PENNY))
    return figures


def _outcome_sentences(label: str, o: Outcome) -> list[str]:
    t = o.table
    name = o.agreement.name
    worse = o.worse_off
    out = []
    if worse:
        who = listed([f"{m} ({amount(float(t.at[m, 'vs_standalone']))})"
                      for m in worse[:LISTED]] + worse[LISTED:])
        out.append(f"{label} — {name}: worse off than alone: {who}.")
    else:
        out.append(f"{label} — {name}: no member is worse off than standing alone.")
    moved = float(t["received"].clip(lower=0).sum())
    if moved > HALF_PENNY:
        out.append(f"{label} moves {amount(moved)} between members through the pool.")
    unallocated = float(o.system["unallocated"])
    if abs(unallocated) > HALF_PENNY:
        out.append(f"{label} leaves {amount(unallocated)} of the pool unallocated: the caps "
                   "stop any member taking it, so it is not in the members' final positions.")
    return out


def _agreement(c: _Context):
    (label, a), = c.agreements.items()
    o = apply(a, c.system)
    figures = _outcome_figures(label, o, c.system, prefix=False)
    sentences = _outcome_sentences(label, o)
    table = o.table[["name", "control_total", "variance", "retained", "received",
                     "support_earned", "final", "standalone", "vs_standalone"]]
    money = tuple(col for col in table.columns if col != "name")
    return figures, sentences, table, money, charts.member_walk(o), {"outcomes": {label: o}}


def _compare(c: _Context):
    outcomes = {label: apply(a, c.system) for label, a in c.agreements.items()}
    figures: dict[str, list[Figure]] = {}
    sentences = []
    for label, o in outcomes.items():
        f = _outcome_figures(label, o, c.system, prefix=True)
        figures[label] = [f[0], f[-2]]
        sentences += _outcome_sentences(label, o)
    table = pd.DataFrame({"name": c.system.orgs["name"]})
    for label, o in outcomes.items():
        table[f"{label} final"] = o.table["final"]
        table[f"{label} vs alone"] = o.table["vs_standalone"]
    money = tuple(col for col in table.columns if col != "name")
    results: dict = {"outcomes": outcomes}
    names = {label: a.name for label, a in c.agreements.items()}
    if c.step.judge == "scenarios":
        scenarios = c.scenarios()
        risk = compare(list(c.agreements.values()), c.system, scenarios)
        results["comparison"] = risk
        results["scenarios"] = scenarios.describe()
        by = {n: label for label, n in names.items()}
        for name, part in risk.groupby("agreement", sort=False):
            label = by[name]
            members = part[part["org_id"] != SYSTEM_ROW].set_index("org_id")
            table[f"{label} mean final"] = members["mean_final"]
            table[f"{label} P(worse than alone)"] = members["p_worse_off"]
            likely = int(worse_off(part).sum())
            sysrow = part[part["org_id"] == SYSTEM_ROW].iloc[0]
            figures[label].append(Figure(f"{label}: members more likely than not worse off",
                                         f"{likely} of {c.system.n}", likely,
                                         good=likely == 0))
            mean, tail = system_against_sct(sysrow, c.system)
            sentences.append(f"Across {scenarios.n:,} simulated years, under {label} the system "
                             f"ends {amount(mean, sign=True)} against the SCT on average, and "
                             f"{amount(tail, sign=True)} against it on average in its worst "
                             "1-in-20 years (support included).")
        money = money + tuple(col for col in table.columns if col.endswith("mean final"))
    chart = charts.compare_chart(table, {label: f"{label}: {names[label]}"
                                         for label in outcomes})
    return ([f for group in figures.values() for f in group], sentences, table, money, chart,
            results)


def _certificate(c: _Context, a: Agreement) -> Certificate:
    scenarios = c.scenarios() if c.step.judge == "scenarios" else None
    return certificate(c.system, a, scenarios, c.risk_aversion)


def _certificate_figures(label: str, cert: Certificate, prefix: bool) -> list[Figure]:
    head = f"{label}: " if prefix else ""
    k, m = len(cert.members_worse_off), len(cert.groups_worse_off)
    figures = [
        Figure(_label(head, "members better off alone"), f"{k} of {cert.system.n}", k, good=k == 0),
        Figure(_label(head, "groups better off on their own"), f"{m:,}", m, good=m == 0),
        Figure(_label(head, "what pooling adds"), money_m(cert.gain, sign=True), cert.gain,
               good=cert.gain >= -HALF_PENNY),
    ]
    if cert.epsilon is not None and not prefix:
        accepted = cert.epsilon <= HALF_PENNY
        figures.append(Figure("Least-core ε", money_m(cert.epsilon, dp=2), cert.epsilon,
                              "a split every group accepts exists" if accepted else
                              "no split satisfies every group", good=accepted))
    return figures


def _certificate_table(cert: Certificate) -> tuple[pd.DataFrame, tuple[str, ...]]:
    t = cert.table
    cols = ["name", "alone", "agreement", "gain_agreement", "gain_shapley"]
    if cert.fair:
        cols.append(f"gain_{cert.fair}")
    return t[cols], tuple(cols[1:])


def _walk_away(c: _Context):
    (label, a), = c.agreements.items()
    cert = _certificate(c, a)
    figures = _certificate_figures(label, cert, prefix=False)
    sentences = cert.summary(notes=False)
    more = cert.groups_worse_off.iloc[1:3]   # the summary names the first
    if len(more):
        sentences.append("Next: " + "; ".join(
            f"{describe_group(g['players'], c.system.members)} by {amount(float(g['shortfall']))}"
            for _, g in more.iterrows()) + ".")
    table, money = _certificate_table(cert)
    return (figures, sentences, table, money, charts.fairness_chart(cert),
            {"certificates": {label: cert}})


def _fairer(c: _Context):
    (old, a), (new, b) = c.agreements.items()
    before, after = _certificate(c, a), _certificate(c, b)
    figures = []
    for f_old, f_new in zip(_certificate_figures(old, before, True),
                            _certificate_figures(new, after, True), strict=True):
        change = f_new.value - f_old.value
        money = "pooling" in f_new.label
        unit = money_m(change, sign=True) if money else f"{change:+,.0f}"
        same = abs(change) < (HALF_PENNY if money else 0.5)
        # the colour says whether the change is for the better (more gain, fewer walking away)
        better = None if same else (change > 0 if money else change < 0)
        figures.append(replace(f_new, delta=f"as {old}" if same else f"{unit} against {old}",
                               good=better))
    k_old, k_new = len(before.violations), len(after.violations)
    verdict = ("passes" if after.passes else "does not pass")
    sentences = [f"{new} — {b.name} {verdict} the participation test: "
                 f"{k_new:,} member{'' if k_new == 1 else 's'} or groups better off on their "
                 f"own, against {k_old:,} under {old} — {a.name}."] + after.summary(notes=False)[1:3]
    t = pd.DataFrame({"name": c.system.orgs["name"],
                      f"{old} gain": before.table["gain_agreement"],
                      f"{new} gain": after.table["gain_agreement"],
                      "Shapley gain": after.table["gain_shapley"]})
    if after.fair:
        t[f"{after.fair} gain"] = after.table[f"gain_{after.fair}"]
        # a difference of two penny figures, written back as the penny it is (not 2110252.0199…)
        side = (after.table[f"gain_{after.fair}"] - after.table["gain_agreement"]).round(2)
        t["side payment to reach it"] = side
        sentences.insert(1, _side_payments(new, after, side))
    money_columns = tuple(col for col in t.columns if col != "name")
    return (figures, sentences, t, money_columns, charts.fairness_chart(after),
            {"certificates": {old: before, new: after}})


def _side_payments(label: str, cert: Certificate, side: pd.Series) -> str:
    """The transfers that would turn the agreement's split into the nucleolus, in words."""
    fair = cert.fair
    if cert.epsilon is not None and cert.epsilon <= HALF_PENNY and fair == "nucleolus":
        head = (f"A split that every member and group accepts exists (the core is not empty): "
                f"{label} plus side payments that move each member to the nucleolus")
    else:
        head = (f"No split satisfies every group; {label} plus side payments to the {fair} "
                f"would treat the worst-placed groups as well as possible")
    pays = side[side < -HALF_PENNY].sort_values()
    gets = side[side > HALF_PENNY].sort_values(ascending=False)
    if pays.empty:
        return head + ": none are needed."
    def who(s: pd.Series) -> str:
        return ", ".join(f"{m} {amount(abs(float(v)))}" for m, v in s.head(3).items()) + \
            (f" and {len(s) - 3} more" if len(s) > 3 else "")
    return f"{head}: {who(pays)} would pay; {who(gets)} would receive."


def _in_year(c: _Context):
    """The year at the step's month: who is behind plan to date, where the year lands on the
    chosen forecast and, with an agreement, the support earned, lost and at risk quarter by
    quarter and where each member ends (all at the in-year forecast, not across scenarios)."""
    from riskshare.core.forecast import METHOD_WORDS
    from riskshare.inyear.position import SYSTEM_ROW as TOTAL
    from riskshare.inyear.position import in_year, month_name

    session, step = c.session, c.step
    system = session.system                    # the ledger, not a shocked forecast
    assert session.monthly is not None and step.month is not None   # checked at load
    iy = in_year(system, session.monthly, step.month, forecast=step.forecast)
    t = iy.table
    s = t.loc[TOTAL]
    members = t.drop(index=TOTAL)
    m = iy.month
    behind = int((members["ytd_variance"] <= -HALF_PENNY).sum())
    short = int((members["forecast_variance"] <= -HALF_PENNY).sum())
    ytd, fv = float(s["ytd_variance"]), float(s["forecast_variance"])
    figures = [
        Figure("System to date against its plan", money_m(ytd, sign=True), ytd,
               f"at {month_name(m)}; plan to date {money_m(float(s['ytd_plan']))}",
               good=ytd >= -HALF_PENNY),
        Figure("Forecast outturn against the SCT", money_m(fv, sign=True), fv,
               f"forecast {money_m(float(s['forecast']))} ({METHOD_WORDS[iy.method]})",
               good=fv >= -HALF_PENNY),
        Figure("Members behind plan to date", f"{behind} of {system.n}", behind,
               good=behind == 0),
        Figure("Members forecast to miss their control total", f"{short} of {system.n}", short,
               good=short == 0),
    ]
    sentences = list(iy.sentences())
    if session.shocks_at(c.number - 1):
        sentences.append("The shocks in force at earlier steps change a forecast, not the "
                         f"ledger: this step shows the year as closed at {month_name(m)}.")
    table = members[["name", "control_total", "ytd_plan", "ytd_actual", "ytd_variance",
                     "forecast", "forecast_variance"]].copy()
    results: dict = {"in_year": iy}
    if c.agreements:
        (label, a), = c.agreements.items()
        o = apply(a, system, monthly=iy)
        results["outcomes"] = {label: o}
        at_stake = float(system.orgs["support"].sum())
        if at_stake > 0:
            earned = float(o.table["support_earned"].sum())
            figures.append(Figure(f"{label}: support earned at the forecast", money_m(earned),
                                  earned, f"of {money_m(at_stake)} at stake",
                                  good=earned >= at_stake - HALF_PENNY))
        # the SCT is set before support: compare the outturn before support with it
        gap = float(o.system["sct_variance"])
        figures.append(Figure(f"{label}: system outturn against the SCT", money_m(gap, sign=True),
                              gap, "after the risk share, before support",
                              good=gap >= -HALF_PENNY))
        sentences += _quarter_sentences(label, o)
        sentences += _outcome_sentences(label, o)
        for col in ("support_earned", "final", "vs_standalone"):
            table[col] = o.table[col]
    table["flags"] = members["flags"]
    money = tuple(col for col in table.columns if col not in ("name", "flags"))
    chart = charts.cumulative_chart(iy, TOTAL, system.label or "The system")
    return figures, sentences, table, money, chart, results


def _quarter_sentences(label: str, o: Outcome) -> list[str]:
    """Quarterly support in words: what is already lost on the actuals, and what the forecast
    puts at risk (quarters judged on a month still to come)."""
    q = o.quarters
    if q.empty or float(q["at_stake"].sum()) <= HALF_PENNY:
        return []
    name = o.agreement.name
    lost = q[q["lost"] > HALF_PENNY]

    def who(part: pd.DataFrame) -> str:
        by = []
        for org, rows in part.groupby(level="org_id", sort=False):
            quarters = named(list(rows.index.get_level_values("quarter")))
            by.append(f"{org} ({quarters}, {amount(float(rows['lost'].sum()))})")
        return listed(by)

    out = []
    done = lost[lost["judged_on"].isin(["actuals", "plan"])]
    ahead = lost[lost["judged_on"] == "forecast"]
    earned = float(q.loc[q["judged_on"].isin(["actuals", "plan"]), "earned"].sum())
    if done.empty:
        out.append(f"{label} — {name}: every quarter judged so far is earned "
                   f"({amount(earned)}).")
    else:
        out.append(f"{label} — {name}: support lost in the quarters already judged: "
                   f"{who(done)}; {amount(earned)} earned so far.")
    if ahead.empty:
        if (q["judged_on"] == "forecast").any():
            out.append(f"{label}: at the forecast, every quarter still to be judged is earned.")
    else:
        out.append(f"{label}: at risk on the forecast (quarters still to be judged): "
                   f"{who(ahead)}.")
    return out


# -- the risk register ---------------------------------------------------------------------------------
#: The events the tornado chart shows (the largest effects first), so that it fits the screen in
#: the room at 1280×720; the ranking table has them all.
TORNADO_ROWS = 10
RISK_COLOURS = charts.RISK_COLOURS


def register_settings(settings: ScenarioSettings) -> ScenarioSettings:
    """The session's scenario settings as a risks step draws them: with the register's events,
    on top of the members' volatility ("add") unless the session asks for them "instead"."""
    mode = settings.register if settings.register in REGISTER_MODES else "add"
    return replace(settings, register=mode)


def _risks(c: _Context):
    """The risk register at this step: the risk-adjusted forecast of each member and of the
    system, which event matters most to the chance of meeting the SCT, and the reserve the
    system would need at 80/90/95%, under the step's agreement (else standing alone)."""
    from riskshare.risks.adjusted import SYSTEM_ROW as TOTAL
    from riskshare.risks.adjusted import risk_adjusted
    from riskshare.risks.ranking import rank_items
    from riskshare.risks.reserve import LEVELS, reserve_needed

    system, register = c.system, c.register
    assert register is not None            # checked at load
    ra = risk_adjusted(system, register)
    t = ra.table
    s = t.loc[TOTAL]
    label, agreement = next(iter(c.agreements.items()), ("", "standalone"))
    settings = register_settings(c.session.scenarios)
    scenarios = settings.simulate(system, register=register)
    sizing = reserve_needed(system, scenarios, agreement, LEVELS)
    ranking = rank_items(system, register, agreement, n=settings.n, seed=settings.seed,
                         register_mode=settings.register,
                         event_correlation=settings.event_correlation,
                         correlation=settings.correlation,
                         kind_correlation=settings.kind_correlation,
                         distribution=settings.distribution, df=settings.df,
                         volatility_scale=settings.volatility_scale)
    head = f"{label}: " if label else ""
    adjusted, gap = float(s["risk_adjusted"]), float(s["risk_adjusted_vs_control_total"])
    meets = float(sizing.levels["share_meeting_without"].iloc[0])
    reserve = {p: float(sizing.levels.at[p, "reserve"]) for p in LEVELS}
    figures = [
        Figure("System risk-adjusted forecast", money_m(adjusted), adjusted,
               f"{money_m(gap, sign=True)} against the SCT", good=gap >= -HALF_PENNY),
        Figure("Expected risk", money_m(s["expected_risk"]), float(s["expected_risk"]),
               f"of {money_m(s['gross_risk'])} if every risk happens"),
        Figure("Expected mitigation", money_m(s["expected_mitigation"]),
               float(s["expected_mitigation"]),
               f"of {money_m(s['gross_mitigation'])} if every one is delivered"),
        Figure("Net risk", money_m(s["net_risk"]), float(s["net_risk"]),
               f"on a forecast of {money_m(s['forecast'])}"),
        Figure(_label(head, "chance the system meets the SCT"), share(meets), meets,
               f"across {scenarios.n:,} simulated years with the register"),
        Figure(_label(head, "reserve to meet the SCT 9 years in 10"), money_m(reserve[0.9]),
               reserve[0.9], "; ".join(f"{p:.0%}: {money_m(reserve[p])}" for p in LEVELS
                                       if p != 0.9)),
    ]
    sentences = list(ra.sentences()) + _ranking_sentences(ranking)
    under = (f" under {label} — {c.agreements[label].name}" if label else
             " with each member standing alone")
    brief = f"under {label}" if label else "each member standing alone"
    sentences.append(
        f"To meet the SCT in {named([f'{p:.0%}' for p in LEVELS])} of {scenarios.n:,} "
        f"simulated years{under}, the system would need a reserve of "
        f"{named([money_m(reserve[p]) for p in LEVELS])}; without one it meets the SCT in "
        f"{share(meets)} of them.")
    if c.session.shocks_at(c.number - 1):
        sentences.append("The forecasts are those after the shocks in force; the register's "
                         "risks and mitigations come on top of them.")
    members = t.drop(index=TOTAL)
    table = members[["name", "control_total", "forecast", "expected_risk",
                     "expected_mitigation", "net_risk", "risk_adjusted",
                     "risk_adjusted_vs_control_total", "worst", "best"]].copy()
    table["contribution_90"] = sizing.members["contribution_90"]
    money = tuple(col for col in table.columns if col != "name")
    results: dict = {"risk_adjusted": ra, "ranking": ranking, "reserve": sizing,
                     "register": register, "scenarios": scenarios.describe()}
    chart = tornado_chart(ranking, scenarios.n, brief)
    return figures, sentences, table, money, chart, results


def _drawn_words(register: Register, settings: ScenarioSettings) -> str:
    """How the simulated years draw the risk register, in a sentence."""
    k = len(register.table)
    how = ("on top of the members' volatility" if settings.register == "add"
           else "instead of the members' volatility")
    linked = (f", correlated {settings.event_correlation:g}" if settings.event_correlation
              else "")
    return (f"The simulated years draw the risk register's {k:,} item{'s' if k != 1 else ''} "
            f"as events{linked}, {how}.")


def _ranking_sentences(ranking: pd.DataFrame) -> list[str]:
    """The risk and the mitigation that matter most, in words."""
    out = []
    for kind, verb in (("risk", "takes"), ("mitigation", "adds")):
        rows = ranking[ranking["type"] == kind]
        if rows.empty:
            continue
        r = rows.iloc[0]
        points = abs(float(r["delta_p_meet"])) * 100
        where = "off" if kind == "risk" else "to"
        event = str(r["event"])
        if event.startswith("group: "):         # rank_items names a group "group: <name>"
            event = f"the group '{event[len('group: '):]}'"
        out.append(f"The {kind} that matters most: {event} ({money_m(r['amount'])} at "
                   f"{share(r['probability'])}): it {verb} {points:.1f} percentage points "
                   f"{where} the chance the system meets the SCT, and "
                   f"{money_m(abs(float(r['delta_mean'])))} {where} its average position.")
    return out


def tornado_chart(ranking: pd.DataFrame, n: int, under: str = "") -> alt.LayerChart:
    """The tornado (`charts.tornado_chart`) of the `TORNADO_ROWS` largest effects, from
    `rs.rank_items` on `n` scenarios."""
    return charts.tornado_chart(ranking, TORNADO_ROWS, n, under)


# -- the years ahead -----------------------------------------------------------------------------------
def _years(c: _Context):
    """The years ahead from the system at this step (`rs.project`): its underlying position, the
    plan in the first and last year against the SCT (as carried, when the step's agreement
    carries positions forward), capital in the last year under a `[capital]` rule and, with an
    agreement applied year by year, the members better off outside over the horizon; the
    system's bridge and the projection's board-paper sentences."""
    from riskshare.agreements import describe
    from riskshare.years.project import project
    from riskshare.years.underlying import SYSTEM_ROW as TOTAL
    from riskshare.years.underlying import underlying

    system = c.system
    rules = changed_rules(c.step.projection_rules(), c.what_if, system)
    label, agreement = next(iter(c.agreements.items()), ("", None))
    p = project(system, rules, years=c.step.years, agreement=agreement,
                register=c.session.register)
    u = underlying(system).table.loc[TOTAL]
    s = p.of(TOTAL)
    first, last = s.iloc[0], s.iloc[-1]
    carried = p.carried
    target = p.target()
    opening = float(first["opening"])
    figures = [Figure("System underlying position", money_m(opening), opening,
                      f"forecast {money_m(u['forecast'])} less {money_m(u['non_recurrent'])} "
                      "of one-offs")]
    for row in (first, last) if p.years > 1 else (first,):
        gap = float(row["planned_vs_control_total"])
        figures.append(Figure(f"System plan {row['year_label']}", money_m(row["planned"]),
                              float(row["planned"]),
                              f"{money_m(gap, sign=True)} against the {target}",
                              good=gap >= -HALF_PENNY))
    if p.capital is not None:
        cap = p.capital.xs(last.name, level="year")
        whose = "System capital" if TOTAL in cap.index else "Members' capital"
        capital, envelope = float(cap["capital"].sum()), float(cap["envelope"].sum())
        figures.append(Figure(f"{whose} {last['year_label']}", money_m(capital), capital,
                              f"{money_m(capital - envelope, sign=True)} against the envelope "
                              f"of {money_m(envelope)}", good=capital >= envelope - HALF_PENNY))
    head = f"{label}: " if label else ""
    if p.participation is not None:
        outside = p.better_off_outside()
        figures.append(Figure(_label(head, "members better off outside over the horizon"),
                              f"{len(outside)} of {system.n}", len(outside),
                              f"discounted at {p.rules.discount_rate:g}% a year",
                              good=not outside))
    sentences = list(p.sentences())
    if agreement is not None:
        how = (describe.explain(agreement)[-1] if carried else
               "Nothing is carried from one year into the next.")
        sentences.append(f"{label} — {agreement.name} is applied to each year's plan. {how}")
    about = f" — {rules.description.strip().rstrip('.')}" if rules.description.strip() else ""
    sentences.append(f"The projection rules: {rules.name.rstrip('.')}{about}.")
    if c.session.shocks_at(c.number - 1):
        sentences.append("The underlying position starts from the forecasts after the shocks "
                         "in force.")
    members = list(system.members)
    table = system.orgs[["name"]].copy()
    table["underlying"] = p.table.xs(1, level="year").loc[members, "opening"]
    for year, year_label in enumerate(p.labels, start=1):
        table[f"plan {year_label}"] = p.table.xs(year, level="year").loc[members, "planned"]
    end = p.table.xs(p.years, level="year").loc[members]
    against = p.target("member")
    table[f"{against} {last['year_label']}"] = end[
        "control_total_carried" if agreement is not None else "control_total"]
    table[f"plan vs {against} {last['year_label']}"] = end["planned_vs_control_total"]
    if p.participation is not None:
        table["discounted gain over alone"] = p.participation["vs_standalone"]
    if p.carry is not None:
        table["carried"] = p.carry["carried"]
        table["written off"] = p.carry["written_off"]
    money = tuple(col for col in table.columns if col != "name")
    chart = charts.years_bridge(p, TOTAL, "The system")
    return figures, sentences, table, money, chart, {"projection": p, "rules": rules}
