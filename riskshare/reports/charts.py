"""Altair charts for the app. Money is plotted in £m; favourable green, adverse amber/red.

The chart builders take library results and return `alt.Chart` objects, so they can be tested
and reused (e.g. in reports) without Streamlit.
"""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd

from riskshare.core.constants import HALF_PENNY, HALF_SHOWN_M
from riskshare.core.format import MONEY_M_DP, amount, listed, money_m
from riskshare.reconciliation.reconcile import Reconciliation

FAVOURABLE, ADVERSE, UNREALISTIC, TOTAL, TARGET = "#009639", "#ED8B00", "#DA291C", "#005EB8", "#41B6E6"
# £m axes: `money_axis` (zero included, round ticks, labels "£2m", "-£0.5m", "£0.05m").
PCT_LABEL = "format(datum.value, '.1f') + '%'"
MONEY_TICKS = 5  # about this many round ticks on a £m axis


def _tick_step(low: float, high: float, count: int = MONEY_TICKS) -> float:
    """The step between round ticks Vega draws from `low` to `high` for `count` ticks
    (d3's tickIncrement: 1, 2 or 5 × a power of ten)."""
    span = abs(high - low) or 1.0
    raw = span / count
    power = 10.0 ** np.floor(np.log10(raw))
    error = raw / power
    factor = 10 if error >= np.sqrt(50) else 5 if error >= np.sqrt(10) else \
        2 if error >= np.sqrt(2) else 1
    return float(factor * power)


def _decimals(step: float) -> int:
    """The fewest decimals (at most MONEY_M_DP) that write `step` exactly: 0.25 -> 2, 2.5 -> 1,
    20 -> 0."""
    return next((d for d in range(MONEY_M_DP + 1)
                 if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-6), MONEY_M_DP)


def money_label(low: float, high: float, step: float | None = None) -> str:
    """A Vega label expression for a £m axis from `low` to `high` (£m): '£1,000m', '-£2.5m',
    '£0.05m' — as many decimals as the tick step needs (at most MONEY_M_DP), so round ticks
    read as round figures and no two ticks read the same."""
    if step is None:
        low, high = min(low, 0.0), max(high, 0.0)
        first = _tick_step(low, high)
        # Vega rounds the ends out to ticks first (nice), then draws ticks on that span
        steps = [first, _tick_step(np.floor(low / first) * first, np.ceil(high / first) * first)]
    else:
        steps = [step]
    dp = max(_decimals(s) for s in steps)
    return f"(datum.value < 0 ? '-£' : '£') + format(abs(datum.value), ',.{dp}f') + 'm'"


def pct_label(step: float) -> str:
    """A Vega label expression for a percent axis with ticks `step` apart ('-0.75%', '2.5%',
    '0%'): as many decimals as the step needs (at most 3), so no two ticks read the same."""
    dp = next((d for d in range(4) if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-6), 3)
    return f"format(datum.value, '.{dp}f') + '%'"


def money_axis(values, domain: list[float] | None = None, **axis) -> dict:
    """`scale` and `axis` for a quantitative £m channel: zero always inside the axis, about
    MONEY_TICKS round ticks, labels in £m (`money_label`). `values` are the £m figures
    plotted; `domain` (£m, optional) fixes the ends — e.g. to leave room for text — and must
    contain zero; without it the ends are rounded out to ticks (nice)."""
    figures = np.asarray(values, dtype=float)
    figures = figures[np.isfinite(figures)]
    low = min(float(figures.min()) if figures.size else 0.0, 0.0)
    high = max(float(figures.max()) if figures.size else 0.0, 0.0)
    if domain is not None:
        low, high = domain
        scale = alt.Scale(domain=domain, nice=False, zero=True)
    else:
        scale = alt.Scale(zero=True, nice=MONEY_TICKS)
    return {"scale": scale, "axis": alt.Axis(labelExpr=money_label(low, high),
                                             tickCount=MONEY_TICKS, **axis)}


def waterfall_data(rec: Reconciliation) -> pd.DataFrame:
    """Steps from ΣOCT through the forecast variance of each member inside the SCT to the
    forecast outturn, then the remaining distance to the SCT. Columns: step, start, end (£m), kind, description, amount
    (£m), order and label (the amount in words: '+£1.45m' for a step, '£1.50m' for a total)."""
    rows = []
    sum_oct = rec.amount("sum_oct") / 1e6
    rows.append(("ΣOCT", 0.0, sum_oct, "total", "Sum of organisational control totals"))
    level = sum_oct
    for org_id, r in rec.orgs.iterrows():
        if not r.get("in_sct", True):       # outside the SCT: not in ΣOCT nor the forecast
            continue
        v = r["variance"] / 1e6
        kind = "favourable" if v >= 0 else "adverse"
        rows.append((org_id, level, level + v, kind, f"{r['name']}: forecast variance"))
        level += v
    forecast = rec.amount("forecast") / 1e6
    rows.append(("Forecast", 0.0, forecast, "total", "Forecast system outturn"))
    sct = rec.amount("sct") / 1e6
    rows.append(("To SCT", forecast, sct, "gap", "Distance from the forecast to the SCT"))
    rows.append(("SCT", 0.0, sct, "target", "System control total"))
    return _steps(rows)


def _steps(rows: list[tuple]) -> pd.DataFrame:
    """A waterfall's rows (step, start, end (£m), kind, description) with amount, order and
    label: the amount in words by the one £m rule, steps signed and totals not."""
    df = pd.DataFrame(rows, columns=["step", "start", "end", "kind", "description"])
    df["amount"] = df["end"] - df["start"]
    df["order"] = range(len(df))
    df["label"] = [money_m(a * 1e6, sign=k not in ("total", "target"))
                   for a, k in zip(df["amount"], df["kind"], strict=True)]
    return df


def waterfall(rec: Reconciliation, height: int = 360) -> alt.LayerChart:
    """The reconciliation as a waterfall chart in £m (`waterfall_data`): ΣOCT, each member's
    forecast variance, the forecast outturn, the distance to the SCT and the SCT, each bar
    labelled with its amount; `height` in pixels."""
    data = waterfall_data(rec)
    colour = alt.Color("kind:N", title=None, scale=alt.Scale(
        domain=["total", "favourable", "adverse", "gap", "target"],
        range=[TOTAL, FAVOURABLE, ADVERSE, "#768692", TARGET]),
        legend=alt.Legend(orient="bottom", columns=3, labelExpr="{'total': 'Total', 'favourable': "
                          "'Favourable variance', 'adverse': 'Adverse variance', 'gap': "
                          "'Forecast to SCT', 'target': 'SCT'}[datum.label]"))
    return _waterfall_bars(data, colour, 28).properties(
        height=height, title="From the members' control totals to the system control total (£m)")


def _waterfall_bars(data: pd.DataFrame, colour: alt.Color, size: int,
                    label_limit: int | None = None, angle: int = 0,
                    label_size: int = 11) -> alt.LayerChart:
    """A waterfall from its steps (`_steps`): bars from start to end in £m coloured by kind,
    the zero line, and each bar's amount just above its top edge (so the bar never covers
    it)."""
    # An explicit sort list: layered charts ignore a field sort.
    axis = alt.Axis(labelAngle=angle, labelFontSize=12, labelOverlap=False)
    if label_limit is not None:
        axis = alt.Axis(labelAngle=angle, labelFontSize=12, labelOverlap=False,
                        labelLimit=label_limit)
    x = alt.X("step:N", sort=list(data["step"]), title=None, axis=axis)
    tooltip = [alt.Tooltip("description:N", title=""),
               alt.Tooltip("amount:Q", title="£m", format=",.2f"),
               alt.Tooltip("end:Q", title="level after (£m)", format=",.2f")]
    bars = alt.Chart(data).mark_bar(size=size).encode(
        x=x, y=alt.Y("start:Q", title="£m",
                     **money_axis(pd.concat([data["start"], data["end"]]))),
        y2="end:Q", color=colour, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#425563").encode(y="y:Q")
    labels = alt.Chart(data).mark_text(dy=-3, fontSize=label_size, color="#212B32",
                                       baseline="bottom").encode(
        x=x, y=alt.Y("top:Q"), text="label:N").transform_calculate(
        top="max(datum.start, datum.end)")
    return bars + zero + labels


def variance_chart(rec: Reconciliation, height: int | None = None) -> alt.LayerChart:
    """Each member's forecast variance as % of turnover; unrealistic targets in red, with the
    threshold drawn as a dashed line."""
    o = rec.orgs.reset_index()
    o["status"] = o.apply(lambda r: "unrealistic target" if r["unrealistic"] else
                          ("favourable" if r["variance"] >= 0 else "adverse"), axis=1)
    o["variance_m"] = o["variance"] / 1e6
    o["label"] = [money_m(v) for v in o["variance"]]
    o["member"] = o["org_id"] + " · " + o["name"]
    if "in_sct" in o and not o["in_sct"].all():     # members outside the SCT, marked as such
        o["member"] = o["member"].where(o["in_sct"], o["member"] + " (outside the SCT)")
    colour = alt.Color("status:N", title=None, scale=alt.Scale(
        domain=["favourable", "adverse", "unrealistic target"],
        range=[FAVOURABLE, ADVERSE, UNREALISTIC]), legend=alt.Legend(orient="bottom"))
    order = list(o.sort_values("variance_pct")["member"])  # explicit: layers drop field sorts
    y = alt.Y("member:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=340, labelFontSize=12, labelOverlap=False))
    low = min(float(o["variance_pct"].min()), -rec.unrealistic_pct, 0.0)
    high = max(float(o["variance_pct"].max()), 0.0)
    span = (high - low) or 1.0
    domain = [low - 0.05 * span, high + 0.25 * span]  # room for the £m labels on the right
    # explicit round ticks through zero, under the bars only (never under the £m labels), with
    # the decimals their step needs: Vega's own ticks at 1920 px came 0.05 apart under a
    # one-decimal format ("-0.8% -0.8%") and the rule at zero hid its label
    ticks = _ticks(low, high, 6)
    bars = alt.Chart(o).mark_bar().encode(
        x=alt.X("variance_pct:Q", title="Forecast variance against control total, % of turnover",
                axis=alt.Axis(labelExpr=pct_label(_step(ticks)), values=ticks),
                scale=alt.Scale(domain=domain, nice=False)),
        y=y, color=colour,
        tooltip=[alt.Tooltip("name:N", title="member"),
                 alt.Tooltip("variance_m:Q", title="variance £m", format=",.2f"),
                 alt.Tooltip("variance_pct:Q", title="% of turnover", format=".2f"),
                 alt.Tooltip("status:N")])
    # the £m label right of the bar's right end (of zero for a deficit): never under its bar
    text = alt.Chart(o).mark_text(align="left", dx=4, fontSize=11, color="#212B32").encode(
        x=alt.X("label_x:Q"), y=y, text="label:N").transform_calculate(
        label_x="max(datum.variance_pct, 0)")
    rule = alt.Chart(pd.DataFrame({"x": [-rec.unrealistic_pct]})).mark_rule(
        color=UNREALISTIC, strokeDash=[5, 4]).encode(x="x:Q")
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#425563").encode(x="x:Q")
    return (bars + text + rule + zero).properties(
        height=alt.Step(30) if height is None else height,
        title=f"Forecast variance by member (dashed line: unrealistic beyond "
              f"−{rec.unrealistic_pct:g}% of turnover)")


def rebalance_chart(table: pd.DataFrame) -> alt.Chart:
    """Current and revised control totals per member (£m)."""
    t = table.reset_index()
    long = pd.concat([
        pd.DataFrame({"org_id": t["org_id"], "which": "current OCT", "value": t["control_total"]
                      / 1e6}),
        pd.DataFrame({"org_id": t["org_id"], "which": "revised OCT", "value": t["revised"] / 1e6}),
    ])
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("org_id:N", title=None, sort=list(t["org_id"]),
                axis=alt.Axis(labelAngle=0, labelOverlap=False)),
        xOffset="which:N",
        y=alt.Y("value:Q", title="£m", **money_axis(long["value"])),
        color=alt.Color("which:N", title=None, scale=alt.Scale(range=["#AEB7BD", TOTAL]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=["org_id:N", "which:N", alt.Tooltip("value:Q", format=",.2f", title="£m")],
    ).properties(height=300, title="OCTs now and revised (£m)")


# -- agreements -----------------------------------------------------------------------------------
ON_OWN, UNDER = "on its own", "under the agreement"
WALK_PARTS = {  # part: (bar, colour)
    "on its own: variance": (ON_OWN, "#AEB7BD"),
    "on its own: support earned": (ON_OWN, "#A5D7B3"),
    "agreement: variance retained": (UNDER, TOTAL),
    "agreement: received from the pool (− = charged)": (UNDER, TARGET),
    "agreement: support earned": (UNDER, FAVOURABLE),
}


def _member_labels(table: pd.DataFrame) -> pd.Series:
    return pd.Series(table.index, index=table.index) + " · " + table["name"].astype(str)


def member_walk_data(outcome) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each member against its control total (£m), on its own and under the agreement.

    Returns (parts, totals). `parts` has one row per member and part (see WALK_PARTS) with
    `value` in £m: on its own, variance + the support it would earn alone; under the agreement,
    retained + received + support earned. `totals` has one row per member and bar with the sum
    (standalone − control total, final − control total) and `vs_standalone` (£m)."""
    t = outcome.table
    member = _member_labels(t)
    own_support = t["standalone"] - t["control_total"] - t["variance"]
    columns = dict(zip(WALK_PARTS, (t["variance"], own_support, t["retained"], t["received"],
                                    t["support_earned"]), strict=True))
    parts = pd.concat([pd.DataFrame({"member": member, "part": part, "bar": WALK_PARTS[part][0],
                                     "value": values / 1e6 + 0.0})
                       for part, values in columns.items()], ignore_index=True)
    parts["order"] = parts["part"].map(list(WALK_PARTS).index)
    totals = pd.concat([
        pd.DataFrame({"member": member, "bar": ON_OWN, "marker": "net position",
                      "value": (t["standalone"] - t["control_total"]) / 1e6,
                      "position": t["standalone"] / 1e6}),
        pd.DataFrame({"member": member, "bar": UNDER, "marker": "net position",
                      "value": (t["final"] - t["control_total"]) / 1e6,
                      "position": t["final"] / 1e6}),
    ], ignore_index=True)
    totals["vs_standalone"] = list(t["vs_standalone"] / 1e6) * 2
    return parts, totals


LABEL_GAP = 10  # px between the plot and the verdicts on its right


def _verdicts(rows: pd.Series, order: list[str], words: pd.Series,
              colours: pd.Series) -> alt.Chart:
    """An invisible layer whose right-hand axis writes each row's verdict (`words`, in
    `colours`) beside the plot, level with its bars: Vega lays an axis out outside the plot, so
    no bar or marker ever covers a verdict, at any text size (presentation mode enlarges it).

    `rows` are the y values of the chart's `member` field, in `order` (the same field and sort
    as the other layers, so the rows line up); layer it with `.resolve_axis(y="independent")`
    and no left axis on the other layers but one."""
    said = json.dumps(dict(zip(rows, words, strict=True)), ensure_ascii=True)
    inked = json.dumps(dict(zip(rows, colours, strict=True)), ensure_ascii=True)
    axis = alt.Axis(orient="right", labelExpr=f"{said}[datum.value]",
                    labelColor=alt.ExprRef(f"{inked}[datum.value]"), labelFontWeight="bold",
                    labelFontSize=12, labelLimit=360, labelOverlap=False,
                    labelPadding=LABEL_GAP, domain=False, ticks=False)
    return alt.Chart(pd.DataFrame({"member": list(rows)})).mark_point(opacity=0).encode(
        y=alt.Y("member:N", sort=order, title=None, axis=axis))


def member_walk(outcome) -> alt.LayerChart:
    """Per member, two bars against its control total: on its own (variance + its own support)
    and under the agreement (retained + received + support earned), each with a diamond at the
    sum, and how much better or worse off the agreement leaves it."""
    parts, totals = member_walk_data(outcome)
    order = list(_member_labels(outcome.table))  # explicit: layered charts drop field sorts
    # the extent of the stacked bars (positives and negatives stack apart) and the diamonds
    stacked = parts.assign(pos=parts["value"].clip(lower=0), neg=parts["value"].clip(upper=0))
    sums = stacked.groupby(["member", "bar"])[["pos", "neg"]].sum()
    low = min(float(sums["neg"].min()), float(totals["value"].min()), 0.0)
    high = max(float(sums["pos"].max()), float(totals["value"].max()), 0.0)
    span = (high - low) or 1.0
    domain = [low - 0.03 * span, high + 0.03 * span]   # the verdicts are beside the plot

    y = alt.Y("member:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False))
    y_offset = alt.YOffset("bar:N", sort=[ON_OWN, UNDER],
                           scale=alt.Scale(paddingInner=0.15))
    x = alt.X("value:Q", title="£m against the member's control total",
              **money_axis([low, high], domain=domain))
    colour = alt.Color("part:N", title=None, sort=list(WALK_PARTS), scale=alt.Scale(
        domain=list(WALK_PARTS), range=[c for _, c in WALK_PARTS.values()]),
        legend=alt.Legend(orient="bottom", columns=2, labelLimit=320, columnPadding=24,
                          labelFontSize=12))
    bars = alt.Chart(parts).mark_bar().encode(
        y=y, yOffset=y_offset, x=x, color=colour, order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("member:N"), alt.Tooltip("part:N", title="part"),
                 alt.Tooltip("value:Q", title="£m", format=",.2f")])
    diamonds = alt.Chart(totals).mark_point(shape="diamond", filled=True, size=90,
                                            color="#212B32", stroke="white",
                                            strokeWidth=1).encode(
        y=alt.Y("member:N", sort=order, axis=None), yOffset=y_offset, x="value:Q",
        tooltip=[alt.Tooltip("member:N"), alt.Tooltip("bar:N", title=""),
                 alt.Tooltip("value:Q", title="against control total £m", format=",.2f"),
                 alt.Tooltip("position:Q", title="position £m", format=",.2f")])
    verdict = totals[totals["bar"] == UNDER]
    verdict["label"] = verdict["vs_standalone"].map(
        lambda v: (f"{money_m(abs(v) * 1e6)} " + ("better off" if v >= HALF_SHOWN_M else
                                                   "worse off"))
        if abs(v) >= HALF_SHOWN_M else "as well off")
    verdict["status"] = verdict["vs_standalone"].map(
        lambda v: "worse" if v <= -HALF_SHOWN_M else "better")
    text = _verdicts(verdict["member"], order, verdict["label"],
                     verdict["status"].map({"better": FAVOURABLE, "worse": UNREALISTIC}))
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#425563").encode(x="x:Q")
    return (bars + zero + diamonds + text).resolve_scale(color="independent").resolve_axis(
        y="independent").properties(
        height=alt.Step(17),  # per bar: two bars per member
        title=alt.TitleParams(
            "Each member against its control total, on its own and under the agreement (£m)",
            # short lines: a subtitle is cut, not wrapped, on a 1280 px screen
            subtitle=["Top bar: on its own — its variance and the support it would earn alone.",
                      "Bottom bar: under the agreement — what it retains, receives from the "
                      "pool and earns in support.",
                      "◆ marks each bar's sum (standalone; final position). Right: how much "
                      "better or worse off the agreement leaves it."],
            anchor="start", subtitleFontSize=12, subtitleColor="#425563"))


def retention_chart(table: pd.DataFrame) -> alt.Chart:
    """Of one more £ of favourable (adverse) variance, the share each member keeps (bears), from
    `incentives(...).table`; 100% = the full incentive of standing alone."""
    t = table.reset_index()
    member = t["org_id"] + " · " + t["name"].astype(str)
    member = member.where(member.str.len() <= 48, member.str.slice(0, 47) + "…")
    long = pd.concat([
        pd.DataFrame({"member": member, "which": "keeps of an extra £1 gain",
                      "rate": t["retention_gain"]}),
        pd.DataFrame({"member": member, "which": "bears of an extra £1 loss",
                      "rate": t["retention_loss"]}),
    ], ignore_index=True)
    # rates can leave [0, 1] (e.g. a claims rule that pays more to a member further short)
    domain = [min(0.0, float(long["rate"].min())), max(1.0, float(long["rate"].max()))]
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("member:N", sort=list(member), title=None,
                axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False)),
        yOffset=alt.YOffset("which:N", sort=["keeps of an extra £1 gain",
                                             "bears of an extra £1 loss"]),
        x=alt.X("rate:Q", title="share of the next £1 (100% = as if standing alone)",
                scale=alt.Scale(domain=domain), axis=alt.Axis(format="%")),
        color=alt.Color("which:N", title=None, sort=["keeps of an extra £1 gain",
                                                     "bears of an extra £1 loss"],
                        scale=alt.Scale(range=[FAVOURABLE, ADVERSE]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("member:N"), alt.Tooltip("which:N", title=""),
                 alt.Tooltip("rate:Q", format=".1%", title="share")],
    ).properties(height=alt.Step(12), title="Incentive: how much of the next £1 each member "
                                            "keeps or bears")


# -- scenarios and comparisons ---------------------------------------------------------------------
QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
BAND_WHICH = [ON_OWN, UNDER]
AGREEMENT_COLOURS = [TOTAL, ADVERSE, FAVOURABLE, "#7C2855"]


def _short(label: str, limit: int = 48) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def band_data(final: np.ndarray, standalone: np.ndarray, system) -> pd.DataFrame:
    """5/25/50/75/95% quantiles of each member's position against its control total (£m), on its
    own and under the agreement, from (scenarios × members) arrays of final and standalone
    positions (£). Columns: member, which, q05, q25, q50, q75, q95, mean."""
    oct_ = system.orgs["control_total"].to_numpy(dtype=float)
    member = [_short(f"{m} · {n}")
              for m, n in zip(system.members, system.orgs["name"], strict=True)]
    frames = []
    for which, values in ((ON_OWN, standalone), (UNDER, final)):
        x = (np.asarray(values, dtype=float) - oct_) / 1e6
        q = np.quantile(x, QUANTILES, axis=0)
        frames.append(pd.DataFrame({"member": member, "which": which,
                                    **{f"q{round(p * 100):02d}": q[i] + 0.0
                                       for i, p in enumerate(QUANTILES)},
                                    "mean": x.mean(axis=0) + 0.0}))
    return pd.concat(frames, ignore_index=True)


def distribution_bands(data: pd.DataFrame) -> alt.LayerChart:
    """Per member, two box-and-whisker bands of the position against the control total (£m):
    on its own and under the agreement; whiskers 5–95%, box 25–75%, white tick at the median,
    the control total at 0."""
    order = list(dict.fromkeys(data["member"]))  # explicit: layered charts drop field sorts
    y = alt.Y("member:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False))
    y_offset = alt.YOffset("which:N", sort=BAND_WHICH, scale=alt.Scale(paddingInner=0.2))
    colour = alt.Color("which:N", title=None, sort=BAND_WHICH, scale=alt.Scale(
        domain=BAND_WHICH, range=["#AEB7BD", TOTAL]), legend=alt.Legend(orient="bottom"))
    x = alt.X("q05:Q", title="£m against the member's control total (0 = on target)",
              **money_axis(data[["q05", "q95"]].to_numpy().ravel()))
    tooltip = [alt.Tooltip("member:N"), alt.Tooltip("which:N", title="")] + [
        alt.Tooltip(f"q{p:02d}:Q", title=f"{p}% (£m)", format=",.2f")
        for p in (5, 25, 50, 75, 95)] + [alt.Tooltip("mean:Q", title="mean (£m)", format=",.2f")]
    base = alt.Chart(data).encode(y=y, yOffset=y_offset, color=colour, tooltip=tooltip)
    whisker = base.mark_rule(strokeWidth=1.5).encode(x=x, x2="q95:Q")
    box = base.mark_bar(height=11).encode(x="q25:Q", x2="q75:Q")
    median = base.mark_tick(color="white", thickness=2, size=11).encode(x="q50:Q")
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(
        color=UNREALISTIC, strokeDash=[5, 3], strokeWidth=1.5).encode(x="x:Q")
    return (whisker + box + median + zero).properties(
        height=alt.Step(15),
        title=alt.TitleParams(
            "Where each member ends up against its control total, across the scenarios (£m)",
            subtitle=["Grey: on its own; blue: under the agreement. Line: 5–95% of scenarios; "
                      "box: 25–75%; white tick: median. Red dashed line: the control total."],
            anchor="start", subtitleFontSize=12, subtitleColor="#425563"))


PROBABILITIES = {"p_miss_control_total": "misses its control total",
                 "p_lose_support": "loses support funding",
                 "p_worse_off": "worse off than on its own"}


def probability_chart(risk: pd.DataFrame, system) -> alt.Chart:
    """Per member (from `risk_table`), the probabilities of missing the control total, losing
    support (members with support only) and being worse off than standalone."""
    t = risk.drop(index="SYSTEM", errors="ignore")
    member = [_short(f"{m} · {system.orgs.loc[m, 'name']}") for m in t.index]
    long = pd.concat([pd.DataFrame({"member": member, "which": label, "p": t[col].to_numpy()})
                      for col, label in PROBABILITIES.items()], ignore_index=True)
    long = long.dropna(subset=["p"])
    labels = list(PROBABILITIES.values())
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("member:N", sort=member, title=None,
                axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False)),
        yOffset=alt.YOffset("which:N", sort=labels),
        x=alt.X("p:Q", title="probability across the scenarios",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("which:N", title=None, sort=labels,
                        scale=alt.Scale(domain=labels, range=[ADVERSE, UNREALISTIC, "#768692"]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("member:N"), alt.Tooltip("which:N", title=""),
                 alt.Tooltip("p:Q", format=".1%", title="probability")],
    ).properties(height=alt.Step(9), title="How likely each member is to …")


def incentive_risk_data(compared: pd.DataFrame) -> pd.DataFrame:
    """From `compare(...)`: per agreement and member, the incentive (retention_gain) and the risk
    reduction the agreement gives it (sd_standalone − sd_final, £m; and cvar improvement)."""
    t = compared[compared["org_id"] != "SYSTEM"].copy()
    t["risk_reduction"] = (t["sd_standalone"] - t["sd_final"]) / 1e6
    t["retention"] = t["retention_gain"]
    t["label"] = _cluster_labels(t)
    return t[["agreement", "org_id", "name", "label", "retention", "risk_reduction",
              "sd_standalone", "sd_final", "p_worse_off"]]


def _cluster_labels(t: pd.DataFrame) -> pd.Series:
    """One label per cluster of nearby points, whatever their agreement ("NCH, NVP, RAS" on the
    first of them, blank on the others; each member named once), so labels never print over
    each other — at 100% kept, several agreements' points sit together. The tooltip says which
    agreement each point is."""
    span_x = float(t["risk_reduction"].max() - t["risk_reduction"].min()) or 1.0
    labels = pd.Series("", index=t.index, dtype=object)
    anchor, members = None, []
    for i, r in t.sort_values(["retention", "risk_reduction"]).iterrows():
        if anchor is not None and abs(r["risk_reduction"] - anchor[1]) < 0.08 * span_x \
                and abs(r["retention"] - anchor[2]) < 0.05:
            members.append(r["org_id"])
            continue
        if anchor is not None:
            labels[anchor[0]] = listed(dict.fromkeys(members), limit=6)
        anchor, members = (i, r["risk_reduction"], r["retention"]), [r["org_id"]]
    if anchor is not None:
        labels[anchor[0]] = listed(dict.fromkeys(members), limit=6)
    return labels


def incentive_risk_chart(compared: pd.DataFrame, order: list[str]) -> alt.LayerChart:
    """Incentive (share of the next £1 of gain kept) against risk reduction (fall in the sd of
    the position, £m) per member, coloured by agreement."""
    data = incentive_risk_data(compared)
    data["sd_standalone"] /= 1e6
    data["sd_final"] /= 1e6
    colour = alt.Color("agreement:N", title=None, sort=order, scale=alt.Scale(
        domain=order, range=AGREEMENT_COLOURS[:len(order)]),
        legend=alt.Legend(orient="bottom", columns=2, labelLimit=420))
    x = alt.X("risk_reduction:Q", title="Risk reduction: fall in the sd of the position (£m)",
              **money_axis(data["risk_reduction"]))
    y = alt.Y("retention:Q", title="Incentive: share of the next £1 of gain kept",
              axis=alt.Axis(format="%"))
    tooltip = [alt.Tooltip("agreement:N"), alt.Tooltip("name:N", title="member"),
               alt.Tooltip("retention:Q", format=".0%", title="keeps of next £1"),
               alt.Tooltip("risk_reduction:Q", format=",.2f", title="sd reduction £m"),
               alt.Tooltip("sd_standalone:Q", format=",.2f", title="sd on its own £m"),
               alt.Tooltip("sd_final:Q", format=",.2f", title="sd under agreement £m"),
               alt.Tooltip("p_worse_off:Q", format=".0%", title="P(worse off)")]
    points = alt.Chart(data).mark_point(filled=True, size=90, opacity=0.85).encode(
        x=x, y=y, color=colour, shape=alt.Shape("agreement:N", sort=order, legend=None),
        tooltip=tooltip)
    # labels in one neutral colour: a label may name members of several agreements' points
    text = alt.Chart(data).mark_text(align="left", dx=7, fontSize=11, color="#425563").encode(
        x=x, y=y, text="label:N")
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#425563").encode(x="x:Q")
    return (zero + points + text).properties(height=380)


# -- optimisation ---------------------------------------------------------------------------------
BEFORE, AFTER = "before the transfers", "after the transfers"


def allocation_data(allocation) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From an `rs.optimise` Allocation: per member its position against its control total as %
    of the scale column, before the transfers (what it retains, and any reserve charge) and
    after them (outturn − control total); what it receives from the pool (£m, − = pays in)
    and its net transfer (£m, received − pooled; the same as received when nothing is pooled).

    Returns (bars, members): `bars` has one row per member and `which` (BEFORE, AFTER) with
    `pct`; `members` one row per member with `received_m`, `net_m`, `before`, `after` and
    `label` ("from pool +£1.20m · net +£4.08m"; "net transfer +£4.08m" when nothing is
    pooled)."""
    t = allocation.table
    scale = np.asarray(allocation.setup.scale, dtype=float)
    after = 100.0 * (t["outturn"] - t["control_total"]).to_numpy() / scale
    before = 100.0 * (t["outturn"] - t["control_total"] - t["received"]).to_numpy() / scale
    member = [_short(f"{m} · {n}") for m, n in zip(t.index, t["name"].astype(str),
                                                   strict=True)]
    members = pd.DataFrame({"member": member, "org_id": list(t.index),
                            "received_m": t["received"].to_numpy() / 1e6 + 0.0,
                            "net_m": t["net_transfer"].to_numpy() / 1e6 + 0.0,
                            "before": before + 0.0, "after": after + 0.0})
    pooling = bool((t["pooled"].abs() >= HALF_PENNY).any())
    members["label"] = [
        f"from pool {money_m(r, sign=True)} · net {money_m(n, sign=True)}" if pooling else
        f"net transfer {money_m(n, sign=True)}"
        for r, n in zip(t["received"], t["net_transfer"], strict=True)]
    members["flow"] = members["received_m"].map(
        lambda v: "in" if v >= HALF_SHOWN_M else ("out" if v <= -HALF_SHOWN_M else "none"))
    bars = pd.concat([members.assign(which=BEFORE, pct=members["before"]),
                      members.assign(which=AFTER, pct=members["after"])], ignore_index=True)
    return bars, members


def _ticks(low: float, high: float, n: int = 8) -> list[float]:
    """Round tick values from `low` to `high` only, so no axis labels run under text placed to
    the right of the data."""
    span = (high - low) or 1.0
    raw = span / n
    magnitude = 10 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = np.floor(low / step) * step
    return [round(float(v), 10) + 0.0 for v in np.arange(start, high + step / 2, step)]


def _step(ticks: list[float]) -> float:
    """The step between explicit tick values (1 when there is only one)."""
    return ticks[1] - ticks[0] if len(ticks) > 1 else 1.0


def allocation_chart(allocation) -> alt.LayerChart:
    """Per member, two bars: its position against its control total (% of the scale column)
    before and after the optimised transfers, with what it receives from the pool and its net
    transfer (£m) on the right."""
    bars_data, members = allocation_data(allocation)
    scale_name = allocation.setup.agreement.scale
    order = list(members["member"])  # explicit: layered charts drop field sorts
    low = min(float(bars_data["pct"].min()), 0.0)
    high = max(float(bars_data["pct"].max()), 0.0)
    span = (high - low) or 1.0
    pooling = bool(members["label"].str.startswith("from pool").any())
    right = high + (0.5 if pooling else 0.3) * span  # room for the transfer labels
    y = alt.Y("member:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False))
    y_offset = alt.YOffset("which:N", sort=[BEFORE, AFTER], scale=alt.Scale(paddingInner=0.15))
    colour = alt.Color("which:N", title=None, sort=[BEFORE, AFTER], scale=alt.Scale(
        domain=[BEFORE, AFTER], range=["#AEB7BD", TOTAL]),
        legend=alt.Legend(orient="bottom", labelFontSize=12))
    bars = alt.Chart(bars_data).mark_bar().encode(
        y=y, yOffset=y_offset,
        x=alt.X("pct:Q", title=f"Position against control total, % of {scale_name}",
                scale=alt.Scale(domain=[low - 0.03 * span, right], nice=False),
                axis=alt.Axis(labelExpr=PCT_LABEL, values=_ticks(low, high))),
        color=colour,
        tooltip=[alt.Tooltip("member:N"), alt.Tooltip("which:N", title=""),
                 alt.Tooltip("pct:Q", title=f"% of {scale_name}", format=".2f"),
                 alt.Tooltip("received_m:Q", title="from the pool £m (− = pays in)",
                             format=",.2f"),
                 alt.Tooltip("net_m:Q", title="net transfer £m (from the pool − pooled)",
                             format=",.2f")])
    text = alt.Chart(members.assign(x=right)).mark_text(
        align="right", dx=-4, fontSize=12, fontWeight="bold").encode(
        y=y, x="x:Q", text="label:N",
        color=alt.Color("flow:N", scale=alt.Scale(domain=["in", "out", "none"],
                                                  range=[FAVOURABLE, ADVERSE, "#768692"]),
                        legend=None))
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#425563").encode(x="x:Q")
    return (bars + zero + text).resolve_scale(color="independent").properties(
        height=alt.Step(17),
        title=alt.TitleParams(
            "Each member against its control total, before and after the optimised transfers",
            subtitle=[f"Grey: before — what the member retains of its own variance. Blue: "
                      f"after — once it receives from the pool or pays into it. % of "
                      f"{scale_name}; 0 = on target.",
                      "On the right: what the member receives from the pool (− = pays in) and "
                      "its net transfer (from the pool − what it pooled)."],
            anchor="start", subtitleFontSize=12, subtitleColor="#425563"))


# -- fairness (cooperative games) ----------------------------------------------------------------
FAIR_BETTER, FAIR_WORSE = "agreement: better off than alone", "agreement: worse off than alone"
SHAPLEY_MARK, FAIR_MARK_COLOUR = "#212B32", "#7C2855"


def fairness_data(cert) -> pd.DataFrame:
    """From a `rs.games.certificate` Certificate: one row per member with its gain over standing
    alone (£m) under the agreement (`agreement`), by the Shapley value (`shapley`) and by the
    nucleolus or prenucleolus (`fair`, NaN when not computed), `status` (better / worse off
    than alone, exactly as the certificate counts it) and `label` (the verdict in words)."""
    t = cert.table
    fair = cert.fair
    data = pd.DataFrame({
        "member": [_short(f"{m} · {n}") for m, n in zip(t.index, t["name"].astype(str),
                                                        strict=True)],
        "org_id": list(t.index),
        "alone": t["alone"].to_numpy() / 1e6 + 0.0,
        "agreement": t["gain_agreement"].to_numpy() / 1e6 + 0.0,
        "shapley": t["gain_shapley"].to_numpy() / 1e6 + 0.0,
        "fair": (t[f"gain_{fair}"].to_numpy() / 1e6 + 0.0) if fair else np.nan,
    })
    # worse off exactly when the certificate says so (by more than half a penny)
    worse = set(p[0] for p in cert.members_worse_off["players"])
    data["status"] = [FAIR_WORSE if m in worse else FAIR_BETTER for m in t.index]
    data["label"] = [f"{amount(abs(g))} worse off" if m in worse else
                     (f"{amount(g)} better off" if g >= HALF_SHOWN_M else "as well off")
                     for m, g in zip(t.index, t["gain_agreement"], strict=True)]
    return data


def fairness_chart(cert) -> alt.LayerChart:
    """Per member, a bar for what the agreement gives it beyond standing alone (£m; green better
    off, red worse off) with markers at what the Shapley value and the nucleolus (or
    prenucleolus) would give it, and the verdict in words on the right."""
    data = fairness_data(cert)
    fair = cert.fair
    order = list(data["member"])  # explicit: layered charts drop field sorts
    values = data[["agreement", "shapley", "fair"]].to_numpy(dtype=float)
    low = min(float(np.nanmin(values)), 0.0)
    high = max(float(np.nanmax(values)), 0.0)
    span = (high - low) or 1.0
    right = high + 0.04 * span  # room for the markers; the verdicts are beside the plot
    y = alt.Y("member:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False))
    ticks = _ticks(low, high, n=MONEY_TICKS)
    x = alt.X("agreement:Q", title="Gain over standing alone (£m; negative: worse off than "
                                   "alone)",
              scale=alt.Scale(domain=[min(low - 0.04 * span, ticks[0]), right], nice=False,
                              zero=True),
              axis=alt.Axis(labelExpr=money_label(low, high, step=_step(ticks)), values=ticks))
    fair_word = fair or "nucleolus"
    tooltip = [alt.Tooltip("member:N"),
               alt.Tooltip("agreement:Q", title="agreement − alone £m", format=",.2f"),
               alt.Tooltip("shapley:Q", title="Shapley − alone £m", format=",.2f")]
    if fair:
        tooltip.append(alt.Tooltip("fair:Q", title=f"{fair} − alone £m", format=",.2f"))
    bars = alt.Chart(data).mark_bar(height=22).encode(
        y=y, x=x, tooltip=tooltip,
        color=alt.Color("status:N", title=None, sort=[FAIR_BETTER, FAIR_WORSE],
                        scale=alt.Scale(domain=[FAIR_BETTER, FAIR_WORSE],
                                        range=[FAVOURABLE, UNREALISTIC]),
                        legend=alt.Legend(orient="bottom", labelFontSize=12, labelLimit=320)))
    # (column, legend label, shape, colour, pixels above/below the bar's middle, size): the two
    # markers sit apart so that equal values do not hide one another
    marks = [("shapley", "Shapley value", "diamond", SHAPLEY_MARK, -5 if fair else 0, 150)]
    if fair:
        marks.append(("fair", fair_word, "circle", FAIR_MARK_COLOUR, 5, 80))
    labels = [m[1] for m in marks]
    colour = alt.Color("which:N", title=None, sort=labels, scale=alt.Scale(
        domain=labels, range=[m[3] for m in marks]),
        legend=alt.Legend(orient="bottom", labelFontSize=12, symbolSize=200))
    shape = alt.Shape("which:N", title=None, sort=labels, scale=alt.Scale(
        domain=labels, range=[m[2] for m in marks]))
    markers = alt.layer(*[
        alt.Chart(pd.DataFrame({"member": data["member"], "which": label,
                                "value": data[column]})).mark_point(
            filled=True, size=size, stroke="white", strokeWidth=1, opacity=1, yOffset=offset
        ).encode(y=alt.Y("member:N", sort=order, axis=None), x="value:Q", color=colour,
                 shape=shape,
                 tooltip=[alt.Tooltip("member:N"), alt.Tooltip("which:N", title=""),
                          alt.Tooltip("value:Q", title="gain over alone £m", format=",.2f")])
        for column, label, _, _, offset, size in marks])
    text = _verdicts(data["member"], order, data["label"],
                     data["status"].map({FAIR_BETTER: FAVOURABLE, FAIR_WORSE: UNREALISTIC}))
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#425563").encode(x="x:Q")
    subtitle = ["Bar: what the agreement gives the member beyond what it would secure on its "
                "own (green: better off, red: worse off; the amount is on the right).",
                "◆ Shapley value: the member's average contribution to the groups it could "
                "join."]
    if fair:
        subtitle.append(f"● {fair_word[:1].upper() + fair_word[1:]}: the split that leaves the "
                        "worst-treated group as well off as possible.")
    return (zero + bars + markers + text).resolve_scale(
        color="independent", shape="independent").resolve_axis(y="independent").properties(
        height=alt.Step(36),
        title=alt.TitleParams(
            "What each member gains by pooling: the agreement against the fair shares (£m)",
            subtitle=subtitle,
            anchor="start", subtitleFontSize=12, subtitleColor="#425563"))


def shock_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Per member, its variance before and after a shock (£m), from a table with columns name,
    variance_before and variance_after (£) indexed by org_id."""
    member = _member_labels(table).map(_short)
    order = list(member)
    data = pd.concat([
        pd.DataFrame({"member": member, "when": "before the shock",
                      "value": table["variance_before"] / 1e6 + 0.0}),
        pd.DataFrame({"member": member, "when": "after the shock",
                      "value": table["variance_after"] / 1e6 + 0.0}),
    ], ignore_index=True)
    y = alt.Y("member:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False))
    bars = alt.Chart(data).mark_bar().encode(
        y=y, yOffset=alt.YOffset("when:N", sort=["before the shock", "after the shock"]),
        x=alt.X("value:Q", title="Variance against the control total (£m)",
                **money_axis(data["value"])),
        color=alt.Color("when:N", title=None, sort=["before the shock", "after the shock"],
                        scale=alt.Scale(domain=["before the shock", "after the shock"],
                                        range=["#AEB7BD", ADVERSE]),
                        legend=alt.Legend(orient="bottom", labelFontSize=12)),
        tooltip=[alt.Tooltip("member:N"), alt.Tooltip("when:N", title=""),
                 alt.Tooltip("value:Q", title="variance £m", format=",.2f")])
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#425563").encode(x="x:Q")
    return (bars + zero).properties(
        height=alt.Step(14),
        title=alt.TitleParams("Each member's forecast variance before and after the shock (£m)",
                              subtitle="Negative: a deficit against the member's control total.",
                              anchor="start", subtitleFontSize=12, subtitleColor="#425563"))


COMPARE_COLOURS = ["#005EB8", "#ED8B00", "#330072", "#00A499"]


def compare_chart(table: pd.DataFrame, labels: dict) -> alt.LayerChart:
    """Per member, how much better (or worse) off each agreement leaves it than standing alone
    (£m), from a table indexed by org_id with `name` and '<label> vs alone' columns (£);
    `labels` maps each label to its legend text."""
    member = _member_labels(table).map(_short)
    order = list(member)
    legend = list(labels.values())
    data = pd.concat([pd.DataFrame({"member": member, "agreement": text,
                                    "value": table[f"{label} vs alone"] / 1e6 + 0.0})
                      for label, text in labels.items()], ignore_index=True)
    y = alt.Y("member:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False))
    bars = alt.Chart(data).mark_bar().encode(
        y=y, yOffset=alt.YOffset("agreement:N", sort=legend),
        x=alt.X("value:Q", title="Better (+) or worse (−) off than standing alone (£m)",
                **money_axis(data["value"])),
        color=alt.Color("agreement:N", title=None, sort=legend,
                        scale=alt.Scale(domain=legend, range=COMPARE_COLOURS[:len(legend)]),
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=560,
                                          labelFontSize=12)),
        tooltip=[alt.Tooltip("member:N"), alt.Tooltip("agreement:N", title=""),
                 alt.Tooltip("value:Q", title="vs alone £m", format=",.2f")])
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#425563").encode(x="x:Q")
    return (bars + zero).properties(
        height=alt.Step(12),
        title=alt.TitleParams("Each member under each agreement, against standing alone (£m)",
                              subtitle="At the forecast (after any shock in force). Left of "
                                       "the line: the agreement leaves the member worse off.",
                              anchor="start", subtitleFontSize=12, subtitleColor="#425563"))


# -- in year ------------------------------------------------------------------------------------------
#: The x axis of the cumulative chart: month 0 is the start of the year, month k the end of the
#: k-th month (April is month 1).
MONTH_TICKS = ("start", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan",
               "Feb", "Mar")
PLAN_LINE, ACTUAL_LINE, FORECAST_LINE = "plan", "actual", "forecast"
FAN_OUTER, FAN_INNER = "#C8E0F4", "#8DBBE6"


def cumulative_data(in_year, org_id: str, fan: pd.DataFrame | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cumulative chart's data for one member (or "SYSTEM") from `rs.in_year(...)` and,
    optionally, a landing's `.months` (the fan): (lines, fan) in £m. lines: month, series
    (plan / actual / forecast), value; fan: month, p5, p25, p50, p75, p95 (empty without a
    fan)."""
    cum = in_year.cumulative.loc[org_id]
    rows = []
    for series, column in ((PLAN_LINE, "plan"), (ACTUAL_LINE, "actual"),
                           (FORECAST_LINE, "forecast")):
        values = cum[column].dropna()
        rows.append(pd.DataFrame({"month": values.index.astype(int), "series": series,
                                  "value": values.to_numpy(dtype=float) / 1e6 + 0.0}))
    lines = pd.concat(rows, ignore_index=True)
    lines["tick"] = [MONTH_TICKS[m] for m in lines["month"]]
    columns = ["month", "p5", "p25", "p50", "p75", "p95"]
    if fan is None or org_id not in fan.index.get_level_values(0):
        return lines, pd.DataFrame(columns=columns)
    band = fan.loc[org_id].reset_index()
    band = band.rename(columns={band.columns[0]: "month"})
    for c in columns[1:]:
        band[c] = band[c].astype(float) / 1e6 + 0.0
    band["tick"] = [MONTH_TICKS[int(m)] for m in band["month"]]
    return lines, band[[*columns, "tick"]]


def cumulative_chart(in_year, org_id: str, label: str, fan: pd.DataFrame | None = None,
                     height: int = 300) -> alt.LayerChart:
    """One member's (or the system's, `org_id` "SYSTEM") year month by month, cumulative, in
    £m: the plan (grey), the actuals to the month (blue), the forecast after it (blue,
    dashed) and, given a landing's `.months`, the fan of scenarios at the quarter ends to come
    (5–95% light, 25–75% darker). `label` names whose year it is in the title."""
    lines, band = cumulative_data(in_year, org_id, fan)
    m = int(in_year.month)
    series = [PLAN_LINE, ACTUAL_LINE, FORECAST_LINE]
    names = {PLAN_LINE: "plan" if org_id != "SYSTEM" else "plan (the SCT phased)",
             ACTUAL_LINE: f"actual to month {m}",
             FORECAST_LINE: "forecast"}
    lines["name"] = lines["series"].map(names)
    domain = [names[s] for s in series]
    figures = np.concatenate([lines["value"].to_numpy(),
                              band[["p5", "p95"]].to_numpy(dtype=float).ravel()])
    x = alt.X("month:Q", title=None, scale=alt.Scale(domain=[0, 12], nice=False),
              axis=alt.Axis(values=list(range(13)), labelExpr=_month_label(), grid=False))
    y_axis = money_axis(figures, title="£m, cumulative")
    layers = []
    if len(band):
        area = alt.Chart(band).encode(x=x, tooltip=[
            alt.Tooltip("tick:N", title="end of"),
            *[alt.Tooltip(f"{p}:Q", title=f"{p[1:]}% of scenarios (£m)", format=",.2f")
              for p in ("p5", "p25", "p50", "p75", "p95")]])
        layers.append(area.mark_area(color=FAN_OUTER, opacity=0.8).encode(
            y=alt.Y("p5:Q", **y_axis), y2="p95:Q"))
        layers.append(area.mark_area(color=FAN_INNER, opacity=0.8).encode(y="p25:Q",
                                                                          y2="p75:Q"))
    # one legend for colour and dash (the same field and legend): the forecast's key is dashed
    legend = alt.Legend(orient="bottom", labelFontSize=12, symbolType="stroke",
                        symbolStrokeWidth=2.5, symbolSize=300)
    colour = alt.Color("name:N", title=None, sort=domain, scale=alt.Scale(
        domain=domain, range=["#768692", TOTAL, TOTAL]), legend=legend)
    dash = alt.StrokeDash("name:N", title=None, sort=domain, scale=alt.Scale(
        domain=domain, range=[[1, 0], [1, 0], [6, 4]]), legend=legend)
    layers.append(alt.Chart(lines).mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(
        size=18)).encode(
        x=x, y=alt.Y("value:Q", **y_axis), color=colour, strokeDash=dash, detail="series:N",
        tooltip=[alt.Tooltip("name:N", title=""), alt.Tooltip("tick:N", title="end of"),
                 alt.Tooltip("value:Q", title="cumulative £m", format=",.2f")]))
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#425563",
                                                           strokeWidth=0.8).encode(y="y:Q")
    layers.insert(0, zero)
    if 0 < m < 12:
        now = pd.DataFrame({"month": [m], "text": [f"month {m} closed"]})
        layers.append(alt.Chart(now).mark_rule(color="#425563", strokeDash=[2, 3]).encode(
            x="month:Q"))
        layers.append(alt.Chart(now).mark_text(align="left", baseline="top", dx=4, dy=4,
                                               fontSize=11, color="#425563").encode(
            x="month:Q", y=alt.value(0), text="text:N"))
    subtitle = ["Surplus (+) or deficit (−) to date at the end of each month."]
    if len(band):
        subtitle.append("Shaded: the scenarios of the months to come (light 5–95%, dark 25–75%).")
    return alt.LayerChart(layer=layers).properties(
        height=height,
        title=alt.TitleParams(f"{label}: year to date against plan (£m)", subtitle=subtitle,
                              anchor="start", subtitleFontSize=12, subtitleColor="#425563"))


def _month_label() -> str:
    """The Vega label expression writing month 0–12 as 'start', 'Apr', …, 'Mar'."""
    return "[" + ", ".join(f"'{t}'" for t in MONTH_TICKS) + "][datum.value]"


# -- static images (reports) --------------------------------------------------------------------------
STATIC_WIDTH = 620  # px: the plotting area of charts rendered as images


def _static(chart, width: int) -> str:
    """The chart's Vega-Lite JSON with a fixed width (the app stretches charts to the page)."""
    return chart.properties(width=width).to_json()


def to_png(chart, width: int = STATIC_WIDTH, scale: float = 2.0) -> bytes:
    """The chart as PNG bytes, rendered offline (vl-convert; no browser or network)."""
    import vl_convert

    return vl_convert.vegalite_to_png(_static(chart, width), scale=scale)


def to_svg(chart, width: int = STATIC_WIDTH) -> str:
    """The chart as SVG text, rendered offline (vl-convert)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(_static(chart, width))


# -- presentation ---------------------------------------------------------------------------------
DEFAULT_FONT = 11        # Vega-Lite's own axis/legend label size, for text the charts leave unset
FONT_KEYS = ("fontSize", "labelFontSize", "titleFontSize", "subtitleFontSize", "labelLimit")


def enlarged(chart, factor: float = 1.5) -> dict:
    """The chart's Vega-Lite spec with every text (and the room for labels) `factor` times
    larger and each band (row) `factor` times taller, for a screen viewed across a room. Returns a spec dict (for
    `st.vega_lite_chart`); the chart itself is unchanged."""
    spec = chart.to_dict()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in FONT_KEYS and isinstance(value, (int, float)):
                    node[key] = round(value * factor, 1)
                elif key == "height" and isinstance(value, dict) and "step" in value:
                    value["step"] = round(value["step"] * factor, 1)
                elif key not in ("datasets", "data"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    size = round(DEFAULT_FONT * factor, 1)
    config = spec.setdefault("config", {})
    for part in ("axis", "legend", "header"):
        section = config.setdefault(part, {})
        section.setdefault("labelFontSize", size)
        section.setdefault("titleFontSize", size)
    config.setdefault("text", {}).setdefault("fontSize", size)
    title = config.setdefault("title", {})
    title.setdefault("fontSize", round(13 * factor, 1))
    title.setdefault("subtitleFontSize", size)
    return spec


# -- risks and mitigations -------------------------------------------------------------------------
RISK_RED = UNREALISTIC


def risk_waterfall_data(table: pd.DataFrame, row: str = "SYSTEM") -> pd.DataFrame:
    """Steps from the forecast to the risk-adjusted forecast for one row of a risk-adjusted
    table (`rs.risk_adjusted(...).table`; `row` an org_id or "SYSTEM"): the forecast, the
    expected risks (down), the expected mitigations (up), the risk-adjusted forecast, the
    distance to the control total (the SCT for the system) and the control total. Columns as
    `waterfall_data`: step, start, end (£m), kind, description, amount, order, label."""
    r = table.loc[row]
    target = "SCT" if row == "SYSTEM" else "Control total"
    forecast = float(r["forecast"]) / 1e6
    risk = float(r["expected_risk"]) / 1e6
    mitigation = float(r["expected_mitigation"]) / 1e6
    adjusted = float(r["risk_adjusted"]) / 1e6
    control = float(r["control_total"]) / 1e6
    rows = [("Forecast", 0.0, forecast, "total", "Forecast outturn"),
            ("Expected risks", forecast, forecast - risk, "adverse",
             "Each risk's amount × its probability, added up"),
            ("Expected mitigations", forecast - risk, forecast - risk + mitigation,
             "favourable", "Each mitigation's amount × its probability, added up"),
            ("Risk-adjusted", 0.0, adjusted, "total", "Risk-adjusted forecast outturn"),
            (f"To {target}", adjusted, control, "gap",
             f"Distance from the risk-adjusted forecast to the {target.lower()}"
             if row != "SYSTEM" else "Distance from the risk-adjusted forecast to the SCT"),
            (target, 0.0, control, "target",
             "System control total" if row == "SYSTEM" else "Organisational control total")]
    return _steps(rows)


def risk_waterfall(table: pd.DataFrame, row: str = "SYSTEM", label: str = "The system",
                   height: int = 340) -> alt.LayerChart:
    """The forecast to the risk-adjusted forecast and on to the control total as a waterfall
    in £m (`risk_waterfall_data`), each bar labelled with its amount."""
    data = risk_waterfall_data(table, row)
    target = "SCT" if row == "SYSTEM" else "control total"
    colour = alt.Color("kind:N", title=None, scale=alt.Scale(
        domain=["total", "adverse", "favourable", "gap", "target"],
        range=[TOTAL, RISK_RED, FAVOURABLE, "#768692", TARGET]),
        legend=alt.Legend(orient="bottom", columns=3, labelExpr="{'total': 'Forecast', "
                          "'adverse': 'Expected risks', 'favourable': 'Expected mitigations', "
                          f"'gap': 'To the {target}', 'target': '{target[0].upper()}"
                          f"{target[1:]}'}}[datum.label]"))
    return _waterfall_bars(data, colour, 34, label_limit=160).properties(
        height=height, title=f"{label}: from the forecast to the risk-adjusted forecast (£m)")


def tornado_data(ranking: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """The `top` events of a ranking (`rs.rank_items` / `rs.rank_events`) with the largest
    effect on P(the system meets its SCT), as the tornado chart plots them: event, type,
    points (the effect in percentage points: + for a mitigation that helps), delta_mean (£m),
    amount (£m), probability and a label."""
    t = ranking.head(top)
    out = pd.DataFrame({
        "event": [_short(e) for e in t["event"]],
        "type": t["type"].to_numpy(),
        "points": t["delta_p_meet"].to_numpy(dtype=float) * 100.0 + 0.0,
        "delta_mean": t["delta_mean"].to_numpy(dtype=float) / 1e6 + 0.0,
        "amount": t["amount"].to_numpy(dtype=float) / 1e6,
        "probability": t["probability"].to_numpy(dtype=float)})
    out["label"] = [f"{p:+.1f} pts" for p in out["points"]]
    return out


RISK_COLOURS = {"risk": RISK_RED, "mitigation": FAVOURABLE, "mixed": "#AEB7BD"}


def tornado_chart(ranking: pd.DataFrame, top: int = 15, n: int | None = None,
                  under: str = "") -> alt.LayerChart:
    """Which risk or mitigation matters most: each event's effect on the chance the system
    meets its SCT (percentage points; a risk lowers it, in red; a mitigation raises it, in
    green), the `top` largest first (`tornado_data`); `n` (the scenarios) and `under` (the
    agreement, in words) go in the subtitle. The one tornado of the Risks page, the workshop's
    risks step and its printable report."""
    data = tornado_data(ranking, top)
    kinds = [k for k in RISK_COLOURS if k in set(data["type"])] or ["risk"]
    bars = alt.Chart(data).mark_bar().encode(
        y=alt.Y("event:N", sort=list(data["event"]), title=None,
                axis=alt.Axis(labelLimit=360, labelFontSize=12, labelOverlap=False)),
        x=alt.X("points:Q", title="Change in the chance the system meets the SCT "
                                  "(percentage points)",
                scale=alt.Scale(zero=True, nice=True),
                axis=alt.Axis(labelExpr="datum.value == 0 ? '0' : "
                                        "(datum.value > 0 ? '+' : '') + "
                                        "format(datum.value, ',.1~f')")),
        color=alt.Color("type:N", title=None, sort=kinds,
                        scale=alt.Scale(domain=kinds, range=[RISK_COLOURS[k] for k in kinds]),
                        legend=alt.Legend(orient="bottom", labelFontSize=12)),
        tooltip=[alt.Tooltip("event:N"), alt.Tooltip("type:N"),
                 alt.Tooltip("amount:Q", title="amount £m", format=",.2f"),
                 alt.Tooltip("probability:Q", format=".0%"),
                 alt.Tooltip("points:Q", title="chance of meeting the SCT (points)",
                             format="+,.1f"),
                 alt.Tooltip("delta_mean:Q", title="average position £m", format="+,.2f")])
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#425563").encode(x="x:Q")
    more = f" The {top} largest of {len(ranking):,}." if len(ranking) > top else ""
    years = f"the same {n:,} simulated years" if n is not None else "the same simulated years"
    subtitle = [f"Each event: {years} with it less without it"
                f"{' (' + under + ')' if under else ''}.",
                f"Risks (red) lower the chance of meeting the SCT, mitigations (green) raise "
                f"it.{more}"]
    return (bars + zero).properties(
        height=alt.Step(22),
        title=alt.TitleParams("Which risk or mitigation matters most", subtitle=subtitle,
                              anchor="start", subtitleFontSize=12, subtitleColor="#425563"))


# -- the years ahead ---------------------------------------------------------------------------------
#: Bridge steps in words (the projection's columns; one-off lines say their own name).
YEAR_STEPS = {"repayment": "Repayment", "savings": "Savings", "growth": "Growth",
              "cost_pressure": "Cost pressure", "recurrent_risks": "Recurrent risks",
              "non_recurrent": "One-offs paid"}


def _short_year(label: str) -> str:
    """'2026/27' → '26/27'; 'Year +1' as it is."""
    return label[2:] if len(label) == 7 and label[4] == "/" else label


def years_bridge_data(rows: pd.DataFrame, bridge_columns: tuple[str, ...]) -> pd.DataFrame:
    """One walk from the underlying position through each year's plan (`rows`: a
    projection's rows for one member or the SYSTEM, by year): the underlying position, each
    year's steps (those not zero) and its plan, and between two plans the one-offs and
    repayment that end with the year (the drop to next year's opening). Columns as
    `waterfall_data`: step, start, end (£m), kind, description, amount, order, label."""
    steps = [c for c in bridge_columns if c not in ("opening", "planned")]
    out = []
    first = rows.iloc[0]
    level = float(first["opening"]) / 1e6
    out.append(("Underlying", 0.0, level, "total", "The underlying position: the forecast less "
                                                   "its one-offs"))
    lines = [c for c in steps if c.startswith("nr_") or c == "non_recurrent"]
    previous = rows.iloc[0]
    for k, (_, r) in enumerate(rows.iterrows()):
        year = _short_year(str(r["year_label"]))
        if k > 0:
            opening = float(r["opening"]) / 1e6
            if abs(opening - level) >= HALF_SHOWN_M:
                # what ends with last year: its one-off lines, its repayment, or both
                ended = ("One-offs end" if any(abs(float(previous[c])) >= HALF_PENNY
                                               for c in lines) else "Repayment ends")
                out.append((f"{ended} {year}", level, opening, "gap",
                            "The one-offs and repayment of last year's plan, which do not "
                            "recur"))
            level = opening
        previous = r
        # growth and cost pressure are large and opposite: the chart shows them as one net
        # step (the table beside it keeps both)
        values = {c: float(r[c]) / 1e6 for c in steps}
        if "growth" in values and "cost_pressure" in values:
            values["growth"] += values.pop("cost_pressure")
        for c, v in values.items():
            if abs(v) < HALF_PENNY / 1e6:
                continue
            name = (c[3:].replace("_", " ").capitalize() + " (one-off)" if c.startswith("nr_")
                    else "Net growth" if c == "growth" and "cost_pressure" in steps
                    else YEAR_STEPS.get(c, c))
            words = ("income growth less cost pressure" if name == "Net growth" else name)
            out.append((f"{name} {year}", level, level + v,
                        "favourable" if v >= 0 else "adverse", f"{r['year_label']}: {words}"))
            level += v
        out.append((f"Plan {year}", 0.0, float(r["planned"]) / 1e6, "total",
                    f"The planned position for {r['year_label']}"))
        level = float(r["planned"]) / 1e6
    return _steps(out)


def years_bridge(projection, who: str = "SYSTEM", label: str = "The system",
                 height: int = 380) -> alt.LayerChart:
    """The bridge from the underlying position to each year's plan as one waterfall in £m
    (`years_bridge_data`), each bar labelled with its amount."""
    data = years_bridge_data(projection.of(who), projection.bridge_columns)
    colour = alt.Color("kind:N", title=None, scale=alt.Scale(
        domain=["total", "favourable", "adverse", "gap"],
        range=[TOTAL, FAVOURABLE, ADVERSE, "#768692"]),
        legend=alt.Legend(orient="bottom", columns=4, labelLimit=320,
                          labelExpr="{'total': 'Underlying / plan', "
                          "'favourable': 'Improves the position', 'adverse': 'Worsens it', "
                          "'gap': 'One-offs and repayment that end'}[datum.label]"))
    size = max(10, min(34, int(700 / max(len(data), 1))))
    # many bars: smaller amounts over them, so neighbours' labels do not run together
    return _waterfall_bars(data, colour, size, label_limit=130, angle=-40,
                           label_size=11 if len(data) <= 12 else 9).properties(
        height=height, title=f"{label}: from the underlying position to each year's plan (£m)")


def capital_chart(capital: pd.DataFrame, height: int = 260) -> alt.LayerChart:
    """Capital after the rule each year against the envelope (£m): bars for capital, a rule
    for the envelope (`projection.capital`, one row per year for one holder)."""
    data = pd.DataFrame({"year": capital["year_label"].astype(str).to_numpy(),
                         "capital": capital["capital"].to_numpy() / 1e6,
                         "envelope": capital["envelope"].to_numpy() / 1e6,
                         "plan": capital["planned_position"].to_numpy() / 1e6})
    data["label"] = [money_m(v * 1e6) for v in data["capital"]]
    data["kind"] = np.where(data["capital"] < data["envelope"] - HALF_SHOWN_M, "penalty",
                            np.where(data["capital"] > data["envelope"] + HALF_SHOWN_M,
                                     "bonus", "envelope"))
    x = alt.X("year:N", title=None, sort=list(data["year"]), axis=alt.Axis(labelAngle=0))
    values = pd.concat([data["capital"], data["envelope"], pd.Series([0.0])])
    bars = alt.Chart(data).mark_bar(size=64).encode(
        x=x, y=alt.Y("capital:Q", title="£m", **money_axis(values)),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(
            domain=["penalty", "envelope", "bonus"], range=[ADVERSE, TOTAL, FAVOURABLE]),
            legend=alt.Legend(orient="bottom", labelLimit=200,
                              labelExpr="{'penalty': 'Below the envelope', 'envelope': 'At the "
                              "envelope', 'bonus': 'Above it'}[datum.label]")),
        tooltip=[alt.Tooltip("year:N", title=""),
                 alt.Tooltip("plan:Q", title="plan £m", format=",.2f"),
                 alt.Tooltip("capital:Q", title="capital £m", format=",.2f"),
                 alt.Tooltip("envelope:Q", title="envelope £m", format=",.2f")])
    envelope = alt.Chart(data).mark_tick(color="#212B32", thickness=2, size=80).encode(
        x=x, y="envelope:Q")
    labels = alt.Chart(data).mark_text(dy=6, fontSize=12, baseline="top", color="white",
                                       fontWeight="bold").encode(
        x=x, y="capital:Q", text="label:N")
    return (bars + envelope + labels).properties(
        height=height, title="Capital each year against the envelope (£m; tick: the envelope)")
