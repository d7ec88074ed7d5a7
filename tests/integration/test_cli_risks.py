"""`riskshare risks` on the command line: the worked case of DOMAIN section 11 (one member, forecast
−£5.0m against a control total of 0; tests/unit/risks/test_risk_adjusted.py holds it in the
library), written as a system folder and a risks.csv as a user would, with every figure worked by
hand; then the samples, the workbook, refusals and hostile names."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import riskshare as rs
from tests.integration.cli_runner import run
from tests.integration.test_cli_in_year import row, table, write_system

#: The worked case: risks 6.0 @ 0.5, 2.0 @ 0.25, 3.0 @ 0.4; mitigations 1.5 @ 1.0, 2.0 @ 0.5 (£m)
REGISTER = ("org_id,item,type,amount,probability\n"
            "A,Winter pressure,risk,6000000,0.5\n"
            "A,CIP slippage,risk,2000000,0.25\n"
            "A,Pay award gap,risk,3000000,0.4\n"
            "A,Reserve release,mitigation,1500000,1.0\n"
            "A,Vacancy slippage,mitigation,2000000,0.5\n")
TITLE = "Risk-adjusted forecast"


def case(tmp_path: Path, register: str | None = REGISTER, name: str = "Acute A") -> Path:
    """One member, forecast −£5.0m against a control total (and SCT) of 0, and its register."""
    folder = write_system(tmp_path / "case", [f"A,{name},acute,400000000,0,-5000000,0"], 0.0,
                          None)
    if register is not None:
        (folder / "risks.csv").write_text(register, encoding="utf-8")
    return folder


def flat(text: str) -> str:
    """Printed text with rich's line wrapping undone."""
    return " ".join(text.split())


# -- the worked case -------------------------------------------------------------------------------
def test_the_worked_case_prints_the_risk_adjusted_forecast(tmp_path, capsys):
    code, out, err = run(["risks", str(case(tmp_path)), "-n", "0"], capsys)
    assert code == 0, err
    assert "5 items (3 risks, 2 mitigations)" in flat(out)
    a = row(out, TITLE, "A")
    assert a["forecast"] == "-£5.00m"
    assert a["gross risk"] == "£11.00m"                  # 6.0 + 2.0 + 3.0
    assert a["expected risk"] == "£4.70m"                # 6.0×0.5 + 2.0×0.25 + 3.0×0.4 = 3.0+0.5+1.2
    assert a["expected mitigation"] == "£2.50m"          # 1.5×1.0 + 2.0×0.5 = 1.5 + 1.0
    assert a["net risk"] == "£2.20m"                     # 4.7 − 2.5
    assert a["risk-adjusted"] == "-£7.20m"               # −5.0 − 2.2
    assert a["worst"] == "-£14.50m"                      # −5.0 − 11.0 + 1.5 (certain)
    assert a["best"] == "-£1.50m"                        # −5.0 + 1.5 + 2.0
    assert a["risk-adjusted vs control total"] == "-£7.20m"      # −7.2 − 0
    # one member inside the SCT of 0: the SYSTEM row is the same
    assert row(out, TITLE, "SYSTEM") == {**a, "org_id": "SYSTEM"}
    text = flat(out)
    assert "For the board paper" in text
    assert "forecasts -£7.20m, £7.20m short of the SCT" in text
    assert "Reserve needed" not in out and "Which items matter most" not in out   # -n 0


def test_the_worked_case_reserve_and_ranking_drawn_as_events_alone(tmp_path, capsys):
    # Drawn alone (--mode instead, no volatility), the system position is −5.0 + 1.5 (certain)
    # − L where L = 6a + 2b + 3c − 2d (a, b, c, d happen with 0.5, 0.25, 0.4, 0.5). Its upper
    # tail, from the 16 combinations: P(L = 11) = .5×.25×.4×.5 = .025; P(L = 9) = .5×.75×.4×.5
    # + .025 = .1; P(L = 8) = .5×.25×.6×.5 = .0375; P(L = 7) = .075. So P(L ≥ 9) = .125,
    # P(L ≥ 8) = .1625, P(L ≥ 7) = .2375. The reserve R meets the SCT (0) when −3.5 − L + R
    # ≥ 0: at 95% and 90% the tail beyond R − 3.5 must be ≤ .05 / .10, so R − 3.5 = 9 ⇒ 12.5;
    # at 80% ≤ .20, so R − 3.5 = 7 ⇒ 10.5. (20,000 scenarios: the standard error of a tail
    # share is under 0.3 points, the nearest margin 2.5 points.)
    code, out, err = run(["risks", str(case(tmp_path)), "--mode", "instead", "-n", "20000"],
                         capsys)
    assert code == 0, err
    levels = table(out, "System reserve")
    assert [r["meets the SCT in"] for r in levels] == ["80%", "90%", "95%"]
    assert [r["reserve"] for r in levels] == ["£10.50m", "£12.50m", "£12.50m"]
    # P(meet) without a reserve: P(L ≤ −3.5) = 0 (L is at least −2)
    assert {r["scenarios meeting the SCT without it"] for r in levels} == {"0.0%"}
    # one member: its Euler contribution and both fundings are the whole reserve
    a = row(out, "Each member's part", "A")
    assert (a["80% Euler"], a["80% by basis"], a["80% by contribution"]) == ("£10.50m",) * 3
    assert a["95% Euler"] == "£12.50m"
    assert "across 20,000 scenarios" in flat(out)
    # the system never meets an SCT of 0 (P = 0 with or without any one event), so the events
    # rank by their effect on the mean: 6.0×0.5 = 3.0, the certain 1.5, 3.0×0.4 = 1.2,
    # 2.0×0.5 = 1.0, 2.0×0.25 = 0.5
    ranked = table(out, "Which items matter most")
    assert [r["event"] for r in ranked] == ["A: Winter pressure", "A: Reserve release",
                                            "A: Pay award gap", "A: Vacancy slippage",
                                            "A: CIP slippage"]
    assert {r["P(meet SCT), points"] for r in ranked} == {"0.0"}
    assert ranked[1]["mean vs SCT"] == "+£1.50m"          # certain: exactly its amount
    assert ranked[1]["probability"] == "100%"


# -- the samples -----------------------------------------------------------------------------------
@pytest.mark.parametrize("sample, agreement", [("vale_2025_26", "deficit_support_2025_26"),
                                               ("northshire_2018_19", "support_cliff_2018_19")])
def test_a_sample_prints_the_reserve_at_80_90_95(capsys, sample, agreement):
    code, out, err = run(["risks", sample, "--agreement", agreement, "-n", "2000"], capsys)
    assert code == 0, err
    adjusted = table(out, TITLE)
    assert adjusted[-1]["org_id"] == "SYSTEM"
    levels = table(out, "System reserve")
    assert [r["meets the SCT in"] for r in levels] == ["80%", "90%", "95%"]
    assert all(r["reserve"].startswith("£") for r in levels)
    text = flat(out)
    assert "2,000 scenarios" in text and "drawn as events on top of the volatility" in text
    assert "Which items matter most" in text


def test_vale_prints_its_register_and_the_outside_member(capsys):
    code, out, err = run(["risks", "vale_2025_26", "-n", "0"], capsys)
    assert code == 0, err
    # sample_data/vale_2025_26/risks.csv: 15 rows, 4 of them mitigations
    assert "vale_2025_26's bundled risks.csv; 15 items (11 risks, 4 mitigations)" in flat(out)
    # VGH: risks 4.0 + 6.0 + 2.2 + 3.0 = 15.2; expected 1.6 + 3.0 + 1.32 + 1.5 = 7.42;
    # mitigation 2.5 × 0.7 = 1.75; net 5.67; −47.6 − 5.67 = −53.27 against −34.0: −19.27
    vgh = row(out, TITLE, "VGH")
    assert (vgh["gross risk"], vgh["expected risk"], vgh["expected mitigation"]) == (
        "£15.20m", "£7.42m", "£1.75m")
    assert (vgh["risk-adjusted"], vgh["risk-adjusted vs control total"]) == ("-£53.27m",
                                                                             "-£19.27m")
    assert "Outside the SCT (in the table, not in SYSTEM): VCC." in out


def test_xlsx_holds_the_figures_the_library_gives(tmp_path, capsys):
    target = tmp_path / "risks.xlsx"
    code, out, err = run(["risks", "vale_2025_26", "-a", "deficit_support_2025_26", "-n",
                          "1000", "--seed", "7", "--xlsx", str(target)], capsys)
    assert code == 0, err
    assert f"Wrote {target}" in flat(out)
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["cover", "risk adjusted", "sentences", "reserve",
                             "reserve members", "ranking", "register"]

    def rows(name: str) -> list[dict]:
        values = list(wb[name].iter_rows(values_only=True))
        return [dict(zip(values[1], r, strict=True)) for r in values[2:]]

    cover = {r[0]: r[1] for r in wb["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert cover["System"] == "Vale 2025/26"
    assert cover["Agreement"].startswith("Deficit support revenue")
    assert cover["Setting: risk register"] == "vale_2025_26's bundled risks.csv"
    assert cover["Setting: register items"] == "15 (11 risks, 4 mitigations)"
    assert (cover["Setting: scenarios"], cover["Setting: seed"]) == (1000, 7)
    assert cover["Setting: register events (add: on top of the volatility; instead: alone)"] \
        == "add"

    system = rs.load_sample("vale_2025_26")
    register = rs.load_sample_register("vale_2025_26")
    adjusted = rs.risk_adjusted(system, register).table
    sheet = rows("risk adjusted")
    assert [r["org_id"] for r in sheet] == [*system.members, "SYSTEM"]
    for r in sheet:
        for column in ("forecast", "expected_risk", "risk_adjusted", "worst", "best",
                       "risk_adjusted_vs_control_total"):
            assert r[column] == adjusted.loc[r["org_id"], column], (r["org_id"], column)
    assert sheet[0]["risk_adjusted"] == -53_270_000         # VGH, worked above

    scenarios = rs.simulate(system, 1000, seed=7, register=register)
    sizing = rs.reserve_needed(system, scenarios, "deficit_support_2025_26")
    reserve = rows("reserve")
    assert [r["level"] for r in reserve] == [0.8, 0.9, 0.95]
    assert [r["reserve"] for r in reserve] == sizing.levels["reserve"].tolist()
    members = {r["org_id"]: r for r in rows("reserve members")}
    for org in system.members:
        assert members[org]["contribution_90"] == sizing.members.at[org, "contribution_90"]
        assert members[org]["by_basis_80"] == sizing.members.at[org, "by_basis_80"]
    assert members["VCC"]["in_sct"] is False and members["VCC"]["contribution_95"] == 0

    ranking = rs.rank_items(system, register, "deficit_support_2025_26", n=1000, seed=7)
    ranked = rows("ranking")
    assert [r["event"] for r in ranked] == ranking["event"].tolist()
    assert [r["delta_mean"] for r in ranked] == ranking["delta_mean"].tolist()
    assert [r["rank"] for r in ranked] == list(range(1, len(ranking) + 1))

    loaded = rows("register")
    assert len(loaded) == 15
    assert loaded[0] == {"org_id": "VGH", "item": "ERF under-delivery", "type": "risk",
                         "amount": 4_000_000, "probability": 0.4, "group": None,
                         "recurrent": False}
    assert wb["register"]["D3"].number_format == "£#,##0.00;-£#,##0.00"
    assert wb["register"]["E3"].number_format == "0.00##"


def test_n_0_skips_the_simulation_and_its_sheets(tmp_path, capsys):
    target = tmp_path / "risks.xlsx"
    code, out, err = run(["risks", str(case(tmp_path)), "-n", "0", "--xlsx", str(target)],
                         capsys)
    assert code == 0, err
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["cover", "risk adjusted", "sentences", "register"]
    cover = {r[0]: r[1] for r in wb["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert cover["Agreement"] == "not applicable"
    assert "Setting: scenarios" not in cover


# -- where the register comes from -----------------------------------------------------------------
def test_register_given_beside_the_system_overrides_its_own(tmp_path, capsys):
    # only the 6.0 @ 0.5 risk: risk-adjusted −5.0 − 3.0 = −8.0
    other = tmp_path / "one.csv"
    other.write_text("org_id,item,type,amount,probability\nA,Winter pressure,risk,6000000,0.5\n",
                     encoding="utf-8")
    code, out, err = run(["risks", str(case(tmp_path)), str(other), "-n", "0"], capsys)
    assert code == 0, err
    assert row(out, TITLE, "A")["risk-adjusted"] == "-£8.00m"


def test_a_system_workbook_gives_its_risks_sheet(tmp_path, capsys):
    from riskshare.core.write import write_excel

    folder = case(tmp_path)
    system = rs.load_system(folder)
    with_sheet, without = tmp_path / "with.xlsx", tmp_path / "without.xlsx"
    write_excel(system, with_sheet, register=rs.load_register(folder, system))
    write_excel(system, without)
    code, out, err = run(["risks", str(with_sheet), "-n", "0"], capsys)
    assert code == 0, err
    assert row(out, TITLE, "A")["risk-adjusted"] == "-£7.20m"
    assert "with.xlsx, sheet 'risks'" in flat(out)
    code, out, err = run(["risks", str(without), "-n", "0"], capsys)
    assert code == 2 and "without.xlsx has no 'risks' sheet" in err
    # the folder's risks.csv given as REGISTER beside the workbook without a sheet
    code, out, err = run(["risks", str(without), str(folder), "-n", "0"], capsys)
    assert code == 0, err
    assert row(out, TITLE, "A")["worst"] == "-£14.50m"


def test_no_register_anywhere_is_one_clear_message(tmp_path, capsys):
    code, out, err = run(["risks", str(case(tmp_path, register=None))], capsys)
    assert code == 2
    assert "no risk register for Case 2025/26" in err and "holds no risks.csv" in err
    assert "Give one as REGISTER" in err and "Traceback" not in err
    code, out, err = run(["risks", "corridor_2"], capsys)
    assert code == 2 and "the sample corridor_2 comes with none" in err
    code, out, err = run(["risks", "corridor_2", str(tmp_path / "missing.csv")], capsys)
    assert code == 2 and "missing.csv" in err and "is not an existing" in err


@pytest.mark.parametrize("argv, words", [
    (["--mode", "nope"], "--mode must be add"),
    (["--event-correlation", "1.5"], "--event-correlation must lie from 0 to 1"),
    (["-n", "-1"], "--scenarios must be 0"),
    (["--agreement", "no_such_model"], "is neither a preset"),
])
def test_bad_options_exit_2_with_one_message(tmp_path, capsys, argv, words):
    code, out, err = run(["risks", str(case(tmp_path)), *argv], capsys)
    assert code == 2
    assert words in err and "Traceback" not in err


# -- hostile input ---------------------------------------------------------------------------------
def test_a_register_naming_an_unknown_member_exits_2_naming_the_row(tmp_path, capsys):
    bad = REGISTER + "ZZZ,Ghost ward,risk,1000000,0.5\n"            # file line 7
    code, out, err = run(["risks", str(case(tmp_path, register=bad)), "-n", "0"], capsys)
    assert code == 2
    assert "row 7, column 'org_id': 'ZZZ' is not a member of the system (members: A)" in err
    assert "Traceback" not in err and out == ""


def test_a_probability_above_one_names_its_row_and_column(tmp_path, capsys):
    bad = REGISTER.replace("A,CIP slippage,risk,2000000,0.25", "A,CIP slippage,risk,2000000,1.5")
    code, out, err = run(["risks", str(case(tmp_path, register=bad)), "-n", "0"], capsys)
    assert code == 2
    assert "row 3 (A), column 'probability': '1.5' must be a chance from 0 to 1" in err
    assert "Traceback" not in err


def test_markup_in_an_item_prints_literally(tmp_path, capsys):
    register = REGISTER.replace("Winter pressure", "[bold]x")
    code, out, err = run(["risks", str(case(tmp_path, register=register, name="[red]A :x:")),
                          "--mode", "instead", "-n", "200"], capsys)
    assert code == 0, err
    text = flat(out)
    assert "A: [bold]x (£3.00m expected)" in text                # the sentences
    assert "A: [bold]x" in [r["event"] for r in table(out, "Which items matter most")]


def test_a_formula_like_item_is_neutralised_in_the_workbook(tmp_path, capsys):
    register = REGISTER.replace("Winter pressure", "=cmd()")
    target = tmp_path / "risks.xlsx"
    code, out, err = run(["risks", str(case(tmp_path, register=register)), "-n", "0",
                          "--xlsx", str(target)], capsys)
    assert code == 0, err
    cell = openpyxl.load_workbook(target)["register"]["B3"]
    assert cell.value == "=cmd()"
    assert cell.data_type == "s" and cell.quotePrefix
