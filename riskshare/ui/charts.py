"""Altair charts for the app. Money is plotted in £m; favourable green, adverse amber/red.

The chart builders take library results and return `alt.Chart` objects, so they can be tested
and reused (e.g. in reports) without Streamlit.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ..reconcile import Reconciliation

FAVOURABLE, ADVERSE, UNREALISTIC, TOTAL, TARGET = "#009639", "#ED8B00", "#DA291C", "#005EB8", "#41B6E6"
# Axis labels such as "£1.5m" and "-£2.0m".
MONEY_M_LABEL = ("(datum.value < 0 ? '-£' : '£') + format(abs(datum.value), ',.1f') + 'm'")
PCT_LABEL = "format(datum.value, '.1f') + '%'"


def waterfall_data(rec: Reconciliation) -> pd.DataFrame:
    """Steps from ΣOCT through each member's forecast variance to the forecast outturn, then the
    remaining distance to the SCT. Columns: step, start, end (£m), kind, amount (£m), label."""
    rows = []
    sum_oct = rec.amount("sum_oct") / 1e6
    rows.append(("ΣOCT", 0.0, sum_oct, "total", "Sum of organisational control totals"))
    level = sum_oct
    for org_id, r in rec.orgs.iterrows():
        v = r["variance"] / 1e6
        kind = "favourable" if v >= 0 else "adverse"
        rows.append((org_id, level, level + v, kind, f"{r['name']}: forecast variance"))
        level += v
    forecast = rec.amount("forecast") / 1e6
    rows.append(("Forecast", 0.0, forecast, "total", "Forecast system outturn"))
    sct = rec.amount("sct") / 1e6
    rows.append(("To SCT", forecast, sct, "gap", "Distance from the forecast to the SCT"))
    rows.append(("SCT", 0.0, sct, "target", "System control total"))
    df = pd.DataFrame(rows, columns=["step", "start", "end", "kind", "description"])
    df["amount"] = df["end"] - df["start"]
    df["order"] = range(len(df))
    return df


def waterfall(rec: Reconciliation, height: int = 360) -> alt.Chart:
    data = waterfall_data(rec)
    colour = alt.Color("kind:N", title=None, scale=alt.Scale(
        domain=["total", "favourable", "adverse", "gap", "target"],
        range=[TOTAL, FAVOURABLE, ADVERSE, "#768692", TARGET]),
        legend=alt.Legend(orient="bottom", columns=3, labelExpr="{'total': 'Total', 'favourable': "
                          "'Favourable variance', 'adverse': 'Adverse variance', 'gap': "
                          "'Forecast to SCT', 'target': 'SCT'}[datum.label]"))
    # An explicit sort list: layered charts ignore a field sort.
    x = alt.X("step:N", sort=list(data["step"]), title=None,
              axis=alt.Axis(labelAngle=0, labelFontSize=12, labelOverlap=False))
    tooltip = [alt.Tooltip("description:N", title=""),
               alt.Tooltip("amount:Q", title="£m", format=",.2f"),
               alt.Tooltip("end:Q", title="level after (£m)", format=",.2f")]
    bars = alt.Chart(data).mark_bar(size=28).encode(
        x=x, y=alt.Y("start:Q", title="£m", axis=alt.Axis(labelExpr=MONEY_M_LABEL)),
        y2="end:Q", color=colour, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#425563").encode(y="y:Q")
    labels = alt.Chart(data).mark_text(dy=-8, fontSize=11, color="#212B32").encode(
        x=x, y=alt.Y("top:Q"),
        text=alt.Text("amount:Q", format="+,.1f")).transform_calculate(
        top="max(datum.start, datum.end)")
    return (bars + zero + labels).properties(height=height, title="From the members' control "
                                             "totals to the system control total (£m)")


def variance_chart(rec: Reconciliation, height: int | None = None) -> alt.LayerChart:
    """Each member's forecast variance as % of turnover; unrealistic targets in red, with the
    threshold drawn as a dashed line."""
    o = rec.orgs.reset_index()
    o["status"] = o.apply(lambda r: "unrealistic target" if r["unrealistic"] else
                          ("favourable" if r["variance"] >= 0 else "adverse"), axis=1)
    o["variance_m"] = o["variance"] / 1e6
    o["member"] = o["org_id"] + " · " + o["name"]
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
    bars = alt.Chart(o).mark_bar().encode(
        x=alt.X("variance_pct:Q", title="Forecast variance against control total, % of turnover",
                axis=alt.Axis(labelExpr=PCT_LABEL), scale=alt.Scale(domain=domain, nice=False)),
        y=y, color=colour,
        tooltip=[alt.Tooltip("name:N", title="member"),
                 alt.Tooltip("variance_m:Q", title="variance £m", format=",.2f"),
                 alt.Tooltip("variance_pct:Q", title="% of turnover", format=".2f"),
                 alt.Tooltip("status:N")])
    text = alt.Chart(o).mark_text(align="left", dx=4, fontSize=11, color="#212B32").encode(
        x=alt.X("label_x:Q"), y=y, text="label:N").transform_calculate(
        label_x="max(datum.variance_pct, 0)",
        label=("(datum.variance_m < 0 ? '-£' : '£') + format(abs(datum.variance_m), ',.2f') "
               "+ 'm'"))
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
        y=alt.Y("value:Q", title="£m", axis=alt.Axis(labelExpr=MONEY_M_LABEL)),
        color=alt.Color("which:N", title=None, scale=alt.Scale(range=["#AEB7BD", TOTAL]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=["org_id:N", "which:N", alt.Tooltip("value:Q", format=",.2f", title="£m")],
    ).properties(height=300, title="OCTs now and revised (£m)")
