"""Write the monthly actuals of the bundled samples `northshire_2018_19` and `vale_2025_26`.

For every member of each sample (members outside the system control total included), the
sample's `monthly.csv` gets twelve rows (org_id, month, plan, actual, forecast; in-month £,
April = month 1) describing a year closed to month 9 (December):

- plan: the member's organisational control total phased over the year with
  `riskshare.core.monthly.phase` ("winter_acute" for acute trusts, "even" otherwise), so the
  twelve months add up to it exactly. The members in `EVEN_BLANK` leave plan blank: riskshare
  phases their control total evenly when the table is loaded, as it would for a user.
- actual (months 1–9, whole pounds): plan + winter + drift + noise. Acute trusts have winter
  pressure beyond their winter-weighted plan: December and January each 0.15% of turnover
  behind it, November a quarter of that. The drift spreads the rest of the gap (forecast −
  control total − winter pressure) over the year, growing month by month (savings slip more as
  the year goes on: month m carries (m + 3) / 114 of it), so a member with a large gap is
  visibly behind plan by month 6 (34% of the drift) and further by month 9 (63%), and an acute
  trust that lands on plan runs a little ahead of it until winter. The noise is small (monthly
  s.d. 0.10 × volatility × turnover / 12, less its mean over the nine months: it moves the
  months, not the year to date at month 9), so a member on plan stays close to it.
- forecast (months 10–12, whole pounds): the submitted in-month forecast for the months still to
  come: plan + winter + drift, adjusted (by the pounds lost rounding) so that the year-to-date
  actual plus the remaining forecast equals the member's `forecast` in organisations.csv to the
  penny.

Deterministic (numpy's default_rng with a fixed seed per sample): running it again writes the
same files. Run from the top of the source tree:

    .venv/bin/python scripts/make_monthly.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import riskshare as rs
from riskshare.core.cells import csv_text
from riskshare.core.monthly import MONTHS, phase

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {"northshire_2018_19": 20181, "vale_2025_26": 20251}   # sample -> seed
CLOSED = 9                     # months with an actual: April to December
#: Members whose plan is left blank (phased evenly on loading): a community trust and the
#: council outside the SCT, whose even plan is the whole of their phasing.
EVEN_BLANK = {"northshire_2018_19": ("NCH", "NSC"), "vale_2025_26": ("VCH", "VCC")}

MONTH = np.arange(1, MONTHS + 1)
DRIFT = (MONTH + 3) / (MONTH + 3).sum()          # 4/114, 5/114, …, 15/114
WINTER = np.zeros(MONTHS)
WINTER[[7, 8, 9]] = (-0.25, -1.0, -1.0)          # Nov, Dec, Jan behind plan
WINTER_SHARE = 0.0015                            # × turnover
NOISE = 0.10


def pennies(x) -> np.ndarray:
    """£ as whole pennies (int64)."""
    return np.rint(np.asarray(x, dtype=float) * 100).astype(np.int64)


def member_rows(org: str, row: pd.Series, rng: np.random.Generator, blank_plan: bool) -> list:
    """Twelve rows (org_id, month, plan, actual, forecast) for one member."""
    acute = row["kind"] == "acute"
    plan = phase(float(row["control_total"]), "winter_acute" if acute else "even")
    gap = float(row["forecast"]) - float(row["control_total"])
    winter = WINTER * WINTER_SHARE * float(row["turnover"]) if acute else np.zeros(MONTHS)
    expected = plan + winter + (gap - winter.sum()) * DRIFT
    sd = NOISE * float(row["volatility"]) / 100 * float(row["turnover"]) / MONTHS
    noise = rng.normal(0.0, sd, CLOSED)
    noise -= noise.mean()          # month to month only: the year to date stays on course
    actual = np.rint(expected[:CLOSED] + noise)                              # whole pounds
    # the months to come: as expected, plus an equal share of what the year so far has put
    # the member off that path; the last month takes the odd pounds so the year adds up exactly
    remaining = int(pennies(row["forecast"])) - int(pennies(actual).sum())   # pennies
    ahead = expected[CLOSED:]
    shift = (remaining / 100 - ahead.sum()) / len(ahead)
    forecast = np.rint(ahead + shift)
    forecast[-1] = 0.0
    forecast[-1] = (remaining - int(pennies(forecast).sum())) / 100
    rows = []
    for m in MONTH:
        rows.append({"org_id": org, "month": int(m),
                     "plan": np.nan if blank_plan else plan[m - 1],
                     "actual": actual[m - 1] if m <= CLOSED else np.nan,
                     "forecast": forecast[m - 1 - CLOSED] if m > CLOSED else np.nan})
    return rows


def make(sample: str, seed: int) -> Path:
    """Write `sample_data/<sample>/monthly.csv` and check it loads back consistently."""
    folder = ROOT / "sample_data" / sample
    system = rs.load_system(folder)
    rng = np.random.default_rng(seed)
    rows = []
    for org, row in system.orgs.iterrows():
        rows += member_rows(str(org), row, rng, org in EVEN_BLANK[sample])
    frame = pd.DataFrame(rows, columns=["org_id", "month", "plan", "actual", "forecast"])
    path = folder / "monthly.csv"
    path.write_text(csv_text(frame, money=("plan", "actual", "forecast")), encoding="utf-8")

    monthly = rs.load_monthly(folder, system)
    table = monthly.table
    for org in system.members:
        year = float(table.loc[org, "actual"].sum() + table.loc[org, "forecast"].sum())
        assert round(year, 2) == round(float(system.orgs.at[org, "forecast"]), 2), org
        assert round(float(table.loc[org, "plan"].sum()), 2) == round(
            float(system.orgs.at[org, "control_total"]), 2), org
    assert monthly.month == CLOSED
    return path


def main() -> None:
    """Write both samples' monthly tables and print each member's YTD position."""
    for sample, seed in SAMPLES.items():
        path = make(sample, seed)
        system = rs.load_system(path.parent)
        table = rs.load_monthly(path.parent, system).table
        print(f"{path.relative_to(ROOT)}")
        for org in system.members:
            t = table.loc[org]
            line = [f"  {org:4}"]
            for m in (3, 6, 9):
                var = float((t["actual"] - t["plan"]).iloc[:m].sum())
                line.append(f"m{m} {var / 1e6:+7.2f}m")
            dec = float(t["actual"].iloc[8] - t["plan"].iloc[8])
            line.append(f"Dec {dec / 1e6:+6.2f}m")
            print("  ".join(line))


if __name__ == "__main__":
    main()
