"""`riskshare in-year` on the command line: the in-year worked cases (DOMAIN sections 10 and 13,
docs/in_year.md; tests/unit/inyear/test_worked_cases.py holds the same cases in the library),
written as a system folder, a monthly.csv and an agreement .toml as a user would, with every
figure worked by hand; then a sample, refusals, the workbook and hostile names."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.integration.cli_runner import run

#: case 1: one member plans −£12.0m (phased −£1.0m a month), with £8.0m of support; its
#: in-month actuals (£m) make a year to date of −3.5, −5.5, −8.5 and −11.5 at months 3, 6, 9
#: and 12: −1.5 −1.0 −1.0 = −3.5; −1.0 −0.5 −0.5 ⇒ −5.5; −1.0 × 3 ⇒ −8.5; −1.0 × 3 ⇒ −11.5
CASE_ONE_ACTUALS = [-1.5, -1.0, -1.0, -1.0, -0.5, -0.5, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]
QUARTERLY = 'name = "Quarterly support"\n[support]\nperiod = "quarter"\n'
DEFICIT_SUPPORT = ('name = "Deficit support revenue"\n[support]\ntest = "system"\n'
                   'period = "quarter"\ntiming = "advance"\n')
ORGS = "org_id,name,kind,turnover,control_total,forecast,support\n"


def write_system(folder: Path, rows: list[str], control_total: float, monthly: list[str] | None,
                 name: str = "Case") -> Path:
    """A system folder as a user keeps one: organisations.csv, system.toml and (when given)
    monthly.csv (org_id,month,actual rows; plans left out, so the control totals are phased
    evenly)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "organisations.csv").write_text(ORGS + "\n".join(rows) + "\n", encoding="utf-8")
    (folder / "system.toml").write_text(f'name = "{name}"\nyear = "2025/26"\n'
                                        f"control_total = {control_total:.0f}\n",
                                        encoding="utf-8")
    if monthly is not None:
        (folder / "monthly.csv").write_text("org_id,month,actual\n" + "\n".join(monthly) + "\n",
                                            encoding="utf-8")
    return folder


def case_one(tmp_path: Path, name: str = "Acute A", months: int = 12) -> Path:
    monthly = [f"A,{m},{a * 1e6:.0f}" for m, a in enumerate(CASE_ONE_ACTUALS[:months], start=1)]
    return write_system(tmp_path / "case_one", [f"A,{name},acute,400000000,-12000000,-11500000,"
                                                "8000000"], -12e6, monthly)


def case_two(tmp_path: Path) -> Path:
    """X plans −£30.0m with £30.0m of deficit support, Y −£12.0m with £10.0m; the SCT is their
    sum, −£42.0m. Both are on plan to month 6 (X −2.5 a month, Y −1.0); in months 7–9 X is
    −3.5, −3.0, −3.0 against −2.5 a month: £2.0m behind; Y stays on plan."""
    x = [-2.5] * 6 + [-3.5, -3.0, -3.0]
    monthly = ([f"X,{m},{a * 1e6:.0f}" for m, a in enumerate(x, start=1)]
               + [f"Y,{m},-1000000" for m in range(1, 10)])
    return write_system(tmp_path / "case_two",
                        ["X,Trust X,acute,600000000,-30000000,-32000000,30000000",
                         "Y,Trust Y,acute,300000000,-12000000,-12000000,10000000"],
                        -42e6, monthly, name="Two trusts")


def agreement(tmp_path: Path, text: str, name: str = "agreement.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def table(out: str, title: str) -> list[dict[str, str]]:
    """The rows of the first printed table whose title holds `title`, as {heading: cell}
    (headings rich wrapped over several lines joined with a space)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    top = next(i for i in range(start, len(lines)) if lines[i].startswith("┏"))
    rule = next(i for i in range(top, len(lines)) if lines[i].startswith("┡"))
    end = next(i for i in range(rule, len(lines)) if lines[i].startswith("└"))

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.split("|")[1:-1]]

    parts = [cells(line) for line in lines[top + 1:rule]]
    heads = [" ".join(p[j] for p in parts if p[j]) for j in range(len(parts[0]))]
    return [dict(zip(heads, cells(line), strict=True)) for line in lines[rule + 1:end]]


def row(out: str, title: str, org_id: str) -> dict[str, str]:
    return next(r for r in table(out, title) if r["org_id"] == org_id)


MEMBERS = "Members at the in-year forecast"


# -- case 1: quarterly support earned in arrears ------------------------------------------------------
def test_quarterly_support_in_arrears_loses_the_first_quarter(tmp_path, capsys):
    # year to date against plan: m3 −3.5 − (−3.0) = −0.5 (fails); m6, m9, m12 +0.5 (pass)
    # ⇒ 3 × £2.0m = £6.0m; final −11.5 + 6.0 = −£5.5m
    code, out, err = run(["in-year", str(case_one(tmp_path)), "-a",
                          agreement(tmp_path, QUARTERLY), "-n", "0"], capsys)
    assert code == 0, err
    assert "in year at month 12 (March)" in out
    a = row(out, MEMBERS, "A")
    assert a["variance"] == "£0.50m"             # −11.5 against −12.0
    assert a["support earned"] == "£6.00m"
    assert a["final"] == "-£5.50m"
    quarters = table(out, "Support by quarter")
    assert [q["quarter"] for q in quarters] == ["Q1", "Q2", "Q3", "Q4"]
    assert [q["judged at"] for q in quarters] == ["month 3", "month 6", "month 9", "month 12"]
    assert [q["variance to date"] for q in quarters] == ["-£0.50m", "+£0.50m", "+£0.50m",
                                                         "+£0.50m"]
    assert [q["earned"] for q in quarters] == ["£0.00m", "£2.00m", "£2.00m", "£2.00m"]
    assert [q["lost"] for q in quarters] == ["£2.00m", "£0.00m", "£0.00m", "£0.00m"]
    assert "Where the year will land" not in out          # -n 0 skips it


def test_catch_up_pays_the_missed_quarter(tmp_path, capsys):
    # the year ends +£0.5m against the control total: Q1's £2.0m is paid ⇒ £8.0m; −11.5 + 8.0
    code, out, err = run(["in-year", str(case_one(tmp_path)), "-a",
                          agreement(tmp_path, QUARTERLY + "catch_up = true\n"), "-n", "0"],
                         capsys)
    assert code == 0, err
    a = row(out, MEMBERS, "A")
    assert (a["support earned"], a["final"]) == ("£8.00m", "-£3.50m")


def test_the_annual_test_pays_everything(tmp_path, capsys):
    # judged once on −11.5 against −12.0: passes ⇒ £8.0m; no table by quarter
    code, out, err = run(["in-year", str(case_one(tmp_path)), "-a", "standalone", "-n", "0"],
                         capsys)
    assert code == 0, err
    a = row(out, MEMBERS, "A")
    assert (a["support earned"], a["final"]) == ("£8.00m", "-£3.50m")
    assert "Support by quarter" not in out


def test_at_month_six_the_forecast_by_plan_and_by_run_rate(tmp_path, capsys):
    folder = str(case_one(tmp_path))
    # YTD −5.5 at month 6 against a plan to date of −6.0: plan method −5.5 + 6 × (−1.0) = −£11.5m
    code, out, err = run(["in-year", folder, "--month", "6"], capsys)
    assert code == 0, err
    a = row(out, "Year to date", "A")
    assert (a["plan to date"], a["actual to date"], a["variance"]) == ("-£6.00m", "-£5.50m",
                                                                      "+£0.50m")
    assert a["% of plan"] == "+8.3%"                         # 0.5 / 6.0
    assert a["forecast"] == "-£11.50m"
    assert a["vs control total"] == "+£0.50m"
    assert a["moved in the month"] == "+£0.50m"   # at month 5: −5.0 − 7 × 1.0 = −12.0
    assert "month 6 (September)" in out
    # run rate: −5.5 × 12 / 6 = −£11.0m
    code, out, err = run(["in-year", folder, "--month", "6", "--forecast", "run_rate"], capsys)
    assert code == 0, err
    assert row(out, "Year to date", "A")["forecast"] == "-£11.00m"
    assert "run rate" in out.splitlines()[0]


# -- case 2: deficit support revenue, in advance, on the system ---------------------------------------
def test_deficit_support_is_withheld_in_q4(tmp_path, capsys):
    # Q1 paid on the plan; Q2 on month 3 and Q3 on month 6 (on plan: paid); Q4 on month 9, the
    # system £2.0m behind ⇒ withheld: 3 × £10.0m = £30.0m (X 3 × 7.5 = 22.5, Y 3 × 2.5 = 7.5)
    code, out, err = run(["in-year", str(case_two(tmp_path)), "-a",
                          agreement(tmp_path, DEFICIT_SUPPORT), "-n", "0"], capsys)
    assert code == 0, err
    assert "in year at month 9 (December)" in out
    system = {r["line"]: r["£m"] for r in table(out, "System")}
    assert system["Support earned"] == "£30.00m"
    assert system["Support lost"] == "£10.00m"
    assert row(out, MEMBERS, "X")["support earned"] == "£22.50m"
    assert row(out, MEMBERS, "Y")["support earned"] == "£7.50m"
    quarters = table(out, "Support by quarter")
    x = quarters[:4]
    assert [q["judged at"] for q in x] == ["in advance", "month 3", "month 6", "month 9"]
    assert [q["on"] for q in x] == ["plan", "actuals", "actuals", "actuals"]
    assert x[3]["variance to date"] == "-£2.00m"            # the system's at month 9
    assert [q["earned"] for q in x] == ["£7.50m", "£7.50m", "£7.50m", "£0.00m"]
    assert x[3]["lost"] == "£7.50m"
    assert "the system's inside the SCT, against the SCT phased" in " ".join(out.split())


# -- a sample --------------------------------------------------------------------------------------
def test_a_sample_with_a_preset_and_where_it_lands(capsys):
    code, out, err = run(["in-year", "vale_2025_26", "--month", "6", "--agreement",
                          "system_support_taper_2020_21", "-n", "2000"], capsys)
    assert code == 0, err
    assert "in year at month 6 (September)" in out
    assert {r["org_id"] for r in table(out, "Year to date")} >= {"VGH", "VCC", "SYSTEM"}
    assert "For the board paper" in out
    land = table(out, "Year-end final position")
    assert [r["org_id"] for r in land][-1] == "SYSTEM"
    assert all(r["P(meet)"].endswith("%") for r in land)
    assert "2,000 scenarios" in out and "the months after month 6" in out


def test_a_month_not_closed_by_every_member_exits_2_naming_them(capsys):
    code, out, err = run(["in-year", "vale_2025_26", "--month", "11"], capsys)
    assert code == 2
    assert "VGH (to month 9)" in err and "VCC (to month 9)" in err
    assert "the latest month closed for all is 9" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, words", [
    (["--forecast", "nope"], "must be one of: plan, run_rate, submitted"),
    (["--forecast", "submitted"], "needs a submitted forecast"),
    (["-n", "-1"], "--scenarios must be 0"),
    (["--month", "13"], "must be a whole month from 0"),
])
def test_bad_options_exit_2_with_one_message(tmp_path, capsys, argv, words):
    code, out, err = run(["in-year", str(case_one(tmp_path, months=9)), *argv], capsys)
    assert code == 2
    assert words in err and "Traceback" not in err


def test_no_monthly_table_anywhere_is_one_clear_message(tmp_path, capsys):
    folder = write_system(tmp_path / "plain", ["A,Acute A,acute,400000000,-12000000,-11500000,0"],
                          -12e6, None)
    code, out, err = run(["in-year", str(folder)], capsys)
    assert code == 2
    assert "no monthly table for Case 2025/26" in err and "holds no monthly.csv" in err
    code, out, err = run(["in-year", "corridor_2"], capsys)
    assert code == 2 and "the sample corridor_2 comes with none" in err
    code, out, err = run(["in-year", "corridor_2", str(tmp_path / "missing.csv")], capsys)
    assert code == 2 and "missing.csv" in err


def test_monthly_given_beside_the_system(tmp_path, capsys):
    # MONTHLY overrides SYSTEM's own: months 1–3 only ⇒ at month 3, YTD −3.5 against −3.0
    folder = case_one(tmp_path)
    other = tmp_path / "q1.csv"
    other.write_text("org_id,month,actual\nA,1,-1500000\nA,2,-1000000\nA,3,-1000000\n",
                     encoding="utf-8")
    code, out, err = run(["in-year", str(folder), str(other)], capsys)
    assert code == 0, err
    a = row(out, "Year to date", "A")
    assert (a["actual to date"], a["variance"]) == ("-£3.50m", "-£0.50m")


def test_a_system_workbook_gives_its_monthly_sheet(tmp_path, capsys):
    import riskshare as rs
    from riskshare.core.write import write_excel

    system = rs.load_system(case_one(tmp_path, months=6))
    monthly = rs.load_monthly(tmp_path / "case_one", system)
    with_sheet, without = tmp_path / "with.xlsx", tmp_path / "without.xlsx"
    write_excel(system, with_sheet, monthly)
    write_excel(system, without)
    code, out, err = run(["in-year", str(with_sheet)], capsys)
    assert code == 0, err
    assert row(out, "Year to date", "A")["actual to date"] == "-£5.50m"     # month 6
    code, out, err = run(["in-year", str(without)], capsys)
    assert code == 2 and "without.xlsx has no 'monthly' sheet" in err
    # a workbook of results holds the monthly table it was worked from: it reads back as MONTHLY
    results = tmp_path / "results.xlsx"
    assert run(["in-year", str(with_sheet), "--xlsx", str(results)], capsys)[0] == 0
    code, out, err = run(["in-year", str(without), str(results)], capsys)
    assert code == 0, err
    assert row(out, "Year to date", "A")["forecast"] == "-£11.50m"          # −5.5 − 6 × 1.0


# -- the workbook ----------------------------------------------------------------------------------
def test_xlsx_holds_every_table_and_the_input(tmp_path, capsys):
    target = tmp_path / "in_year.xlsx"
    code, out, err = run(["in-year", str(case_two(tmp_path)), "-a",
                          agreement(tmp_path, DEFICIT_SUPPORT), "-n", "500", "--xlsx",
                          str(target)], capsys)
    assert code == 0, err
    assert f"Wrote {target}" in " ".join(out.split())
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["cover", "in year", "sentences", "outcome", "outcome system",
                             "quarters", "landing", "monthly"]
    cover = {r[0]: r[1] for r in wb["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert cover["System"] == "Two trusts 2025/26"
    assert cover["Agreement"].startswith("Deficit support revenue")
    assert cover["Setting: month"] == "month 9 (December)"
    assert cover["Setting: forecast method"].startswith("plan")
    assert cover["Setting: scenarios"] == 500

    def rows(name: str) -> list[dict]:
        values = list(wb[name].iter_rows(values_only=True))
        return [dict(zip(values[1], r, strict=True)) for r in values[2:]]

    in_year = rows("in year")
    assert [r["org_id"] for r in in_year] == ["X", "Y", "SYSTEM"]      # SYSTEM last
    x = in_year[0]
    # X at month 9: plan to date 9 × −2.5 = −22.5, actual −15.0 − 9.5 = −24.5: −£2.0m
    assert (x["ytd_plan"], x["ytd_actual"], x["ytd_variance"]) == (-22.5e6, -24.5e6, -2e6)
    assert x["forecast"] == -32e6                             # −24.5 + 3 × −2.5
    assert "behind plan to date by £2.00m" in x["flags"]
    assert wb["in year"]["E3"].number_format == "£#,##0.00;-£#,##0.00"
    quarters = rows("quarters")
    assert [q["earned"] for q in quarters if q["org_id"] == "X"] == [7.5e6, 7.5e6, 7.5e6, 0]
    landing = rows("landing")
    assert [r["org_id"] for r in landing] == ["X", "Y", "SYSTEM"]
    assert all(0 <= r["p_meet"] <= 1 for r in landing)
    monthly = rows("monthly")
    assert len(monthly) == 24                         # 2 members × 12 months
    assert monthly[0] == {"org_id": "X", "month": 1, "plan": -2.5e6, "actual": -2.5e6,
                          "forecast": None}
    assert monthly[11]["actual"] is None              # month 12 not closed
    sentences = [r["text"] for r in rows("sentences")]
    assert sentences[0].startswith("At month 9 (December)")


# -- hostile input ---------------------------------------------------------------------------------
def test_markup_in_a_member_name_prints_literally(tmp_path, capsys):
    # at month 3 the member is £0.5m behind plan to date, so its name is printed with its flag
    code, out, err = run(["in-year", str(case_one(tmp_path, name="[bold]Acute[/bold] :x:")),
                          "--month", "3"], capsys)
    assert code == 0, err
    assert "A ([bold]Acute[/bold] :x:): behind plan to date by £0.50m" in " ".join(out.split())


def test_a_formula_like_org_id_in_monthly_csv_is_refused(tmp_path, capsys):
    folder = case_one(tmp_path, months=3)
    (folder / "monthly.csv").write_text("org_id,month,actual\n=cmd|' /C calc'!A0,1,-1500000\n",
                                        encoding="utf-8")
    code, out, err = run(["in-year", str(folder)], capsys)
    assert code == 2
    assert "is not a member of the system" in err and "Traceback" not in err


def test_a_formula_like_member_name_stays_text_in_the_workbook(tmp_path, capsys):
    target = tmp_path / "in_year.xlsx"
    code, out, err = run(["in-year", str(case_one(tmp_path, name="=cmd")), "--xlsx",
                          str(target)], capsys)
    assert code == 0, err
    cell = openpyxl.load_workbook(target)["in year"]["B3"]
    assert cell.value == "=cmd"
    assert cell.data_type == "s" and cell.quotePrefix


def test_the_workbook_names_months_as_the_library_does():
    # one month_name (core.monthly) for the workbook's cover, the sentences and the pages
    from riskshare.inyear.position import month_name
    from riskshare.reports.workbooks import month_name as in_year_month

    assert in_year_month is month_name
    assert [in_year_month(m) for m in range(13)] == [month_name(m) for m in range(13)]
    assert in_year_month(12) == "month 12 (March)"
    assert in_year_month(0) == "month 0 (before April closes)"


def test_a_quarter_lost_by_pennies_shows_its_sign_and_size(capsys):
    # RAS's Q1 on the Northshire sample: months 1–3 actual − plan, summed straight from the
    # sample's monthly.csv, is a few thousand pounds adverse: £0.00m would hide why Q1 is lost
    import pandas as pd

    import riskshare as rs

    csv = pd.read_csv(rs.samples.info("northshire_2018_19").path / "monthly.csv")
    q1 = csv[(csv["org_id"] == "RAS") & (csv["month"] <= 3)]
    variance = float((q1["actual"] - q1["plan"]).sum())
    assert -5_000 < variance < 0
    code, out, err = run(["in-year", "northshire_2018_19", "--month", "9", "--agreement",
                          "support_cliff_2018_19", "-n", "0"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    support = next(i for i, line in enumerate(lines) if "Support by quarter" in line)
    at = next(i for i in range(support, len(lines)) if lines[i].startswith("| RAS"))
    assert "Q1" in lines[at] and f"-£{abs(variance) / 1e6:.3f}m" in lines[at]


def test_an_unknown_phasing_exits_2_listing_the_phasings(capsys):
    code, out, err = run(["in-year", "northshire_2018_19", "--phasing", "summer"], capsys)
    assert code == 2
    assert "is not a phasing (phasings: even, winter_acute, winter_for_acute)" in err + out


def test_the_quarters_sheet_lists_the_members_with_support_on_the_test(tmp_path, capsys):
    # vale_2025_26's deficit support goes to VGH, EVH and VAS only (organisations.csv)
    out_path = tmp_path / "vale.xlsx"
    code, _, err = run(["in-year", "vale_2025_26", "--agreement", "deficit_support_2025_26",
                        "-n", "0", "--xlsx", str(out_path)], capsys)
    assert code == 0, err
    book = openpyxl.load_workbook(out_path, read_only=True)
    rows = list(book["quarters"].iter_rows(values_only=True))
    names = next(i for i, r in enumerate(rows) if r[0] == "org_id")   # the column names
    members = {r[0] for r in rows[names + 1:] if r[0]}
    assert members == {"VGH", "EVH", "VAS"}
