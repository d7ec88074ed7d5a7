"""End to end: two users' journeys through the app in headless Chromium (issue 15, "How to
verify"), each one test in a fresh browser session.

- **Finance director**: uploads a CSV written the way finance teams write money (£, thousands
  separators, bracketed negatives), then the same members as a workbook whose volatility cells
  are formatted as percentages; is asked before the upload replaces the first; returns to it;
  chooses full pooling, halves the pooled share of losses in the band grid, reads the outcome and
  downloads the results workbook. Every figure is worked by hand (below) and cross-checked with
  the library.
- **System leader**: sets the shared scenario settings once in the sidebar (2,000 scenarios,
  seed 7), runs Compare and Fairness on them and finds the same figure for the CCG in both
  downloads, equal to the library's; asks the optimiser for something impossible and reads why
  in words; then runs a request that can be met and downloads the allocation.

Screenshots: artifacts/screenshots/journey_*.png, for a person to look at.
"""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import numpy as np
import pytest

from .conftest import SCREENSHOTS
from .test_pages import ERROR_SELECTORS, _full_screenshot, _settle

pytestmark = pytest.mark.browser

# -- the finance director's files ------------------------------------------------------------------
# Money as a finance team writes it: £, thousands separators, deficits in brackets.
FD_CSV = """\
org_id,name,kind,turnover,control_total,forecast,support,volatility
AC,Acute trust,acute,"£400,000,000","(£4,000,000)","(£10,000,000)",£0,2
CM,Community trust,community,"£150,000,000","£1,000,000","£2,500,000",£0,1
MH,Mental health trust,mental_health,"£100,000,000",£0,"£500,000",£0,1
AM,Ambulance trust,ambulance,"£50,000,000",£0,"(£1,500,000)",£0,1.5
IC,Integrated care board,commissioner,"£250,000,000",£0,"(£2,000,000)",£0,0.5
LA,County council,local_authority,"£50,000,000",£0,"£1,000,000",£0,1
"""
# The same members in a workbook: numbers as numbers, volatility typed as "2.0%" in Excel, which
# stores the fraction 0.02 with the format 0.0%.
FD_ROWS = [("AC", "Acute trust", "acute", 400e6, -4e6, -10e6, 0, 0.02),
           ("CM", "Community trust", "community", 150e6, 1e6, 2.5e6, 0, 0.01),
           ("MH", "Mental health trust", "mental_health", 100e6, 0, 0.5e6, 0, 0.01),
           ("AM", "Ambulance trust", "ambulance", 50e6, 0, -1.5e6, 0, 0.015),
           ("IC", "Integrated care board", "commissioner", 250e6, 0, -2e6, 0, 0.005),
           ("LA", "County council", "local_authority", 50e6, 0, 1e6, 0, 0.01)]
FD_COLUMNS = ["org_id", "name", "kind", "turnover", "control_total", "forecast", "support",
              "volatility"]

# Worked by hand. Variances (forecast − OCT): AC −6.0, CM +1.5, MH +0.5, AM −1.5, IC −2.0,
# LA +1.0 (£m); Σ = −6.5; Σ turnover = £1,000m.
# Full pooling pro rata to net turnover, which is the turnover here (the files give none):
# final = OCT + (turnover / Σ turnover) × (−6.5).
FULL_POOLING_M = {"AC": -6.60, "CM": 0.025, "MH": -0.65, "AM": -0.325, "IC": -1.625,
                  "LA": -0.325}
# Losses half pooled, gains fully: pooled gains 1.5 + 0.5 + 1.0 = 3.0; pooled losses
# −(6.0 + 1.5 + 2.0) / 2 = −4.75; net pool −1.75, shared by turnover (AC 40%, CM 15%, MH 10%,
# AM 5%, IC 25%, LA 5%). Final = OCT + retained + share:
#   AC −4 − 3 − 0.70 = −7.70; CM 1 + 0 − 0.2625 = 0.7375; MH 0 + 0 − 0.175 = −0.175;
#   AM 0 − 0.75 − 0.0875 = −0.8375; IC 0 − 1 − 0.4375 = −1.4375; LA 0 + 0 − 0.0875 = −0.0875.
# They add up to Σ forecast, −£9.50m.
HALF_LOSSES_POUNDS = {"AC": -7_700_000.00, "CM": 737_500.00, "MH": -175_000.00,
                      "AM": -837_500.00, "IC": -1_437_500.00, "LA": -87_500.00}

# -- the system leader's settings --------------------------------------------------------------------
SCENARIOS, SEED = 2_000, 7
CCG = "CCG"      # the default sample's commissioner (a CCG in 2018/19)
DEFAULT_PRESET = "gain_loss_50_50_deadband"


@contextlib.contextmanager
def _screenshot_on_failure(page, name: str):
    """On a failure, save what the page showed (artifacts/screenshots/<name>_failed.png) and
    the main text, to read with the traceback."""
    try:
        yield
    except BaseException:
        try:
            page.screenshot(path=str(SCREENSHOTS / f"{name}_failed.png"), full_page=True)
            print(f"--- the page when {name} failed ---\n{_main(page)[-3000:]}")
        except Exception:   # the page itself may be gone: keep the original failure
            pass
        raise


def _no_errors(page, where: str) -> None:
    for selector in ERROR_SELECTORS:
        assert page.locator(selector).count() == 0, f"error element {selector} on {where}"


def _open(page, url: str, title: str) -> None:
    """Go to `url` and wait until the page titled `title` has run."""
    page.goto(url)
    _settle(page)
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    _settle(page)


def _main(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _metric(page, label: str) -> str:
    """The value shown by the metric labelled `label` (e.g. "-£3.00m")."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label))
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _button(page, key: str):
    """The visible button of the widget with Streamlit key `key` (a button with help text is
    drawn twice, one copy hidden)."""
    return page.locator(f".st-key-{key} button:visible")


def _download(page, button) -> tuple[str, bytes]:
    """Click a download button; (the file name offered, the bytes)."""
    with page.expect_download() as info:
        button.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def _choose(page, key_prefix: str, typed: str, option: str) -> None:
    """Pick `option` in the selectbox whose key starts with `key_prefix`, filtering the list by
    typing `typed` first (long option lists render lazily)."""
    box = page.locator(f'[class*="st-key-{key_prefix}"] [data-testid="stSelectbox"]').first
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(300)      # a click that scrolls would close the list at once
    box.click()
    page.get_by_role("listbox").wait_for(timeout=30_000)   # typing before it opens is lost
    box.locator("input").press_sequentially(typed, delay=30)
    page.get_by_role("option", name=option, exact=True).click()


def _edit_cell(page, grid, row: int, text: str) -> None:
    """Type `text` into a cell of the last column of a data editor (a glide data grid drawn on
    a canvas) as a user does: click the cell, open its editor with Enter, replace the text and
    commit with Enter; then wait until the grid holds the new value. Rows count from 0 under
    the header."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    header = row_height = 35        # Streamlit's default header and row heights (px)
    last = grid.locator('[role="columnheader"]').count()    # cells count columns from 1
    cell = grid.locator(f'[data-testid="glide-cell-{last}-{row}"]')
    editor = page.locator(".gdg-input").first
    for _ in range(3):  # the grid redraws as the app reruns: a keystroke can land mid-redraw
        grid.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        box = grid.locator("canvas").first.bounding_box()
        assert box is not None
        # the last column runs to the grid's right edge: aim 30 px inside it
        x, y = box["x"] + box["width"] - 30, box["y"] + header + row_height * row + 17
        page.mouse.move(x, y)           # the grid tracks the pointer: hover, then click
        page.wait_for_timeout(100)
        page.mouse.click(x, y)
        page.keyboard.press("Enter")
        try:
            editor.wait_for(timeout=3_000)
        except PlaywrightTimeout:
            continue
        page.wait_for_timeout(200)
        editor.fill(text)
        if editor.input_value() != text:
            page.keyboard.press("Escape")
            continue
        editor.press("Enter")
        _settle(page)
        if cell.text_content() == text:
            return
    raise AssertionError(f"could not type {text!r} into row {row} of the grid")


def _sheet_rows(ws) -> list[dict]:
    """The rows of a results sheet as dicts keyed by the column names in row 2 (row 1 holds the
    readable headings)."""
    rows = list(ws.iter_rows(values_only=True))
    names = rows[1]
    return [dict(zip(names, r, strict=True)) for r in rows[2:]]


# -- the finance director ----------------------------------------------------------------------------
def test_finance_director_journey(app_url, page, tmp_path):
    with _screenshot_on_failure(page, "journey_fd"):
        _finance_director(app_url, page, tmp_path)


def _finance_director(app_url, page, tmp_path) -> None:
    import openpyxl

    import riskshare as rs
    from riskshare.agreements.presets import load_preset

    csv_path = tmp_path / "fd.csv"
    csv_path.write_text(FD_CSV, encoding="utf-8")
    xlsx_path = tmp_path / "fd_percent.xlsx"   # a system of its own name: fd_percent
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "organisations"
    ws.append(FD_COLUMNS)
    for r in FD_ROWS:
        ws.append(list(r))
    for (cell,) in ws.iter_rows(min_row=2, min_col=8, max_col=8):
        cell.number_format = "0.0%"
    wb.save(xlsx_path)

    # The engine agrees with the hand-worked figures before the page is trusted with them.
    system = rs.load_system(csv_path)
    full = load_preset("full_pooling_turnover")
    assert rs.apply(full, system).table["final"].to_dict() == pytest.approx(
        {m: v * 1e6 for m, v in FULL_POOLING_M.items()}, abs=0.005)

    # (1) upload the CSV on the System page
    _open(page, app_url, "System")
    page.locator('[class*="st-key-upload_"] input[type=file]').set_input_files(str(csv_path))
    page.get_by_text("Loaded fd.csv: 6 members.").wait_for(timeout=30_000)
    _settle(page)
    assert _metric(page, "Members") == "6"
    assert _metric(page, "Sum of OCTs") == "-£3.00m"            # ΣOCT
    assert _metric(page, "System control total") == "-£3.00m"   # no SCT given: ΣOCT
    assert "upload: fd.csv" in _main(page)

    # (2) the workbook (another system: named after its file, fd_percent): the CSV upload is the
    # user's own work, so the app asks before replacing it
    page.locator('[class*="st-key-upload_"] input[type=file]').set_input_files(str(xlsx_path))
    question = page.locator('[data-testid="stAlertContentWarning"]').filter(
        has_text="replaces the system you are working on")
    question.wait_for(timeout=30_000)
    _settle(page)
    asked = question.inner_text()
    assert "fd_percent.xlsx" in asked and "fd.csv" in asked
    assert "**" not in asked          # the bold is drawn, not shown as asterisks
    assert page.get_by_role("button", name="Keep my system").is_visible()
    page.get_by_role("button", name="Replace it").click()
    note = page.locator('[data-testid="stAlertContentWarning"]').filter(
        has_text="formatted as a percentage")
    note.wait_for(timeout=30_000)
    _settle(page)
    assert "Loaded fd_percent.xlsx: 6 members" in _main(page)
    said = note.inner_text()
    assert "volatility" in said and "2% read as 2" in said and "1.5% read as 1.5" in said
    assert "upload: fd_percent.xlsx" in _main(page)
    _full_screenshot(page, "journey_fd_xlsx_percent_note")
    page.set_viewport_size({"width": 1440, "height": 1000})
    # the volatilities the page holds: percent numbers, as the user sees them in Excel
    editor = page.locator('[class*="st-key-editor_"] [data-testid="stDataFrame"]')
    cells = editor.locator('[data-testid^="glide-cell-"]')
    cells.first.wait_for(state="attached", timeout=30_000)
    by_id = {c.get_attribute("data-testid"): c.inner_text().strip() for c in cells.all()}
    headers = page.locator('[class*="st-key-editor_"] [role="columnheader"]').all_inner_texts()
    # the grid's cells count columns from 1 (0 is the row marker)
    cell = {h.split(" ")[0]: i + 1 for i, h in enumerate(headers)}
    assert [by_id[f"glide-cell-{cell['org_id']}-{r}"] for r in range(6)] == [
        "AC", "CM", "MH", "AM", "IC", "LA"]
    assert [float(by_id[f"glide-cell-{cell['volatility']}-{r}"]) for r in range(6)] == [
        2, 1, 1, 1.5, 0.5, 1]

    # ... and the sidebar brings the CSV system back
    page.get_by_role("button", name="Return to your system: fd").click()
    page.get_by_text("Returned to fd (upload: fd.csv).").wait_for(timeout=30_000)
    _settle(page)
    assert _metric(page, "Sum of OCTs") == "-£3.00m"
    assert page.get_by_role("heading", name="fd", exact=True).is_visible()
    assert "upload: fd.csv" in page.locator('[data-testid="stSidebar"]').inner_text()

    # (3) the Agreement page: full pooling pro rata to net turnover (here the turnover)
    page.get_by_role("link", name="Agreement").click()
    _settle(page)
    _choose(page, "preset_choice", "Full pooling", "Full pooling pro rata to net turnover")
    page.get_by_text("Now using the preset “Full pooling pro rata to net turnover”").wait_for(
        timeout=30_000)
    _settle(page)
    assert _metric(page, "Net pool") == "-£6.50m"
    assert "Of a gain or a loss, a member pools all of it." in _main(page)
    # £m to two places, half away from zero: 0.025 -> £0.03m, −0.325 -> −£0.33m,
    # −1.625 -> −£1.63m
    for org, name, shown in [("CM", "Community trust", "£0.03m"),
                             ("AM", "Ambulance trust", "-£0.33m"),
                             ("IC", "Integrated care board", "-£1.63m")]:
        _choose(page, "explain_member_", org, f"{org} · {name}")
        explained = page.locator('[data-testid="stMarkdownContainer"]').filter(
            has_text=f"{name} ({org}) under")
        explained.wait_for(timeout=30_000)
        _settle(page)
        assert f"Final position: {shown} (outturn + support)" in explained.inner_text(), org

    # (4) half of each loss pooled: the losses band's "share pooled" 1.00 -> 0.50
    losses = page.locator('[class*="st-key-losses_bands_"] [data-testid="stDataFrame"]')
    _edit_cell(page, losses, row=0, text="0.5")
    page.get_by_text("Of a loss, a member pools 50% of it.").wait_for(timeout=30_000)
    _settle(page)
    body = _main(page)
    assert "In words: Of a gain, a member pools all of it. Of a loss, a member pools 50% of " \
           "it." in body
    assert "Current agreement: Full pooling pro rata to net turnover (edited)" in body
    # the sidebar's line is filled once the page has run: wait for it rather than race it
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Full pooling pro rata to net turnover (edited)").first.wait_for(
        timeout=30_000)
    assert "Agreement: Full pooling pro rata to net turnover (edited)" in sidebar.inner_text()
    assert _metric(page, "Net pool") == "-£1.75m"
    assert _metric(page, "System outturn") == "-£9.50m"         # Σ forecast: nothing lost

    # (5) explain one member: the mental health trust at −0.175 shows −£0.18m (half away from
    # zero); the acute trust ends at −£7.70m
    _choose(page, "explain_member_", "MH", "MH · Mental health trust")
    explained = page.locator('[data-testid="stMarkdownContainer"]').filter(
        has_text="Mental health trust (MH) under")
    explained.wait_for(timeout=30_000)
    _settle(page)
    assert "Final position: -£0.18m (outturn + support)" in explained.inner_text()
    _choose(page, "explain_member_", "AC", "AC · Acute trust")
    explained = page.locator('[data-testid="stMarkdownContainer"]').filter(
        has_text="Acute trust (AC) under")
    explained.wait_for(timeout=30_000)
    _settle(page)
    words = explained.inner_text()
    assert "(edited)" in words
    assert "Received: -£0.70m — the net pool of -£1.75m is shared pro rata to net turnover" in words
    assert "Final position: -£7.70m" in words
    assert "On its own it would be -£10.00m" in words
    _full_screenshot(page, "journey_fd_agreement_edited")
    page.set_viewport_size({"width": 1440, "height": 1000})
    _no_errors(page, "the Agreement page")

    # (6) the results workbook: a cover naming the system and the edited agreement, then the
    # members' figures to the penny
    name, data = _download(page, page.get_by_role("button", name="Download the results (.xlsx)"))
    assert name.endswith(".xlsx") and "fd" in name
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "cover"
    cover = {r[0]: r[1] for r in book["cover"].iter_rows(values_only=True) if r[0]}
    assert cover["System"] == "fd"
    assert cover["Agreement"].startswith("Full pooling pro rata to net turnover (edited)")
    members = _sheet_rows(book["members"])
    finals = {r["org_id"]: r["final"] for r in members}
    assert finals == pytest.approx(HALF_LOSSES_POUNDS, abs=0.001)
    assert sum(finals.values()) == pytest.approx(-9_500_000.00, abs=0.001)
    final_col = list(next(book["members"].iter_rows(min_row=2, max_row=2, values_only=True)))
    money_cell = book["members"].cell(row=3, column=final_col.index("final") + 1)
    assert "0.00" in money_cell.number_format and "£" in money_cell.number_format


# -- the system leader -------------------------------------------------------------------------------
def _icb_vs_alone_from_library() -> float:
    """The CCG's mean final − mean standalone (£) under the default preset on the default sample,
    from the library with the sidebar's settings."""
    import riskshare as rs
    from riskshare.agreements.presets import load_preset
    from riskshare.core.samples import DEFAULT_SAMPLE, load_sample
    from riskshare.ui.scenario_controls import DEFAULTS

    system = load_sample(DEFAULT_SAMPLE)
    scenarios = rs.simulate(system, SCENARIOS, seed=SEED, correlation=DEFAULTS.correlation)
    arrays = rs.apply(load_preset(DEFAULT_PRESET), system, scenarios).arrays
    i = list(system.members).index(CCG)
    return float(np.mean(arrays.final[:, i] - arrays.standalone[:, i]))


def _csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_system_leader_journey(app_url, page):
    with _screenshot_on_failure(page, "journey_sl"):
        _system_leader(app_url, page)


def _system_leader(app_url, page) -> None:
    import riskshare as rs
    from riskshare.agreements.presets import load_preset
    from riskshare.core.samples import DEFAULT_SAMPLE, load_sample

    _open(page, app_url, "System")
    assert "Northshire and Vale 2018/19" in _main(page)

    # Compare, with the shared settings set once in the sidebar: 2,000 scenarios, seed 7
    page.get_by_role("link", name="Compare").click()
    _settle(page)
    page.get_by_text("10,000 scenarios · seed 0").first.wait_for(timeout=30_000)  # defaults
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Scenario settings").click()
    count = page.locator(".st-key-sc_n input[type=range]")
    count.wait_for(state="attached", timeout=30_000)
    count.focus()
    for _ in range(10):               # one option to the left per key press
        if count.get_attribute("aria-valuetext") == f"{SCENARIOS:,}":
            break
        page.keyboard.press("ArrowLeft")
    assert count.get_attribute("aria-valuetext") == f"{SCENARIOS:,}"
    seed = page.locator(".st-key-sc_seed input")
    seed.fill(str(SEED))
    seed.press("Tab")
    _button(page, "sc_apply").click()
    in_use = f"{SCENARIOS:,} scenarios · seed {SEED}"
    page.get_by_text(in_use).first.wait_for(timeout=30_000)   # the page now runs on them
    _settle(page)
    _button(page, "cmp_run").click()
    _button(page, "dl_cmp_csv").wait_for(timeout=60_000)
    _settle(page)
    assert f"Results: {SCENARIOS:,} scenarios" in _main(page)
    _no_errors(page, "the Compare page")
    _, data = _download(page, _button(page, "dl_cmp_csv"))
    current = load_preset(DEFAULT_PRESET).name
    row = next(r for r in _csv_rows(data) if r["org_id"] == CCG and r["agreement"] == current)
    compare_pennies = round(float(row["mean_final"]) * 100) - round(
        float(row["mean_standalone"]) * 100)
    for column in ("p_worse_off", "p_miss_control_total"):     # probabilities as fractions
        assert 0 <= float(row[column]) <= 1

    # Fairness: across scenarios, λ = 0 — judged by each member's average year
    page.get_by_role("link", name="Fairness").click()
    _settle(page)
    page.locator(".st-key-fair_mode").get_by_text("across scenarios").click()
    weight = page.locator(".st-key-fair_lambda input[type=range]")
    weight.wait_for(state="attached", timeout=30_000)    # shown only across scenarios
    _settle(page)
    assert in_use in _main(page)
    weight.focus()
    page.keyboard.press("Home")
    _settle(page)
    assert weight.get_attribute("aria-valuetext") in ("0", "0.00")
    _button(page, "fair_run").click()
    _button(page, "dl_fair_csv").wait_for(timeout=60_000)
    _settle(page)
    assert "at λ = 0, the plain averages the Compare page shows" in _main(page)
    _no_errors(page, "the Fairness page")
    _, data = _download(page, _button(page, "dl_fair_csv"))
    row = next(r for r in _csv_rows(data) if r["org_id"] == CCG)
    fairness_pennies = round(float(row["gain_agreement"]) * 100)

    # the two pages agree to the penny, and with the library on the same settings
    library_pennies = round(_icb_vs_alone_from_library() * 100)
    assert compare_pennies == fairness_pennies == library_pennies

    # Optimise: an impossible request, said in words
    page.get_by_role("link", name="Optimise").click()
    _settle(page)
    page.locator(".st-key-opt_standalone label").click()
    _settle(page)
    page.locator(".st-key-opt_system_ct label").click()
    _settle(page)
    award = page.get_by_role("spinbutton", name="Cap on any award (% of turnover)")
    award.fill("0")
    award.press("Enter")
    _settle(page)
    _button(page, "opt_run").click()
    page.get_by_text("These conditions cannot all hold at once").wait_for(timeout=60_000)
    _settle(page)
    conflicts = page.locator('[data-testid="stAlertContentError"]').inner_text()
    assert "No allocation of the pool meets every condition" in conflicts
    assert "The system meets its control total" in conflicts
    assert "no worse off than on its own" in conflicts
    assert "is awarded at most £0" in conflicts
    assert "The smallest change that would make it possible" in _main(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    _full_screenshot(page, "journey_sl_optimise_impossible")
    page.set_viewport_size({"width": 1440, "height": 1000})

    # ... and one that can be met: no conditions
    award.fill("")
    award.press("Enter")
    _settle(page)
    page.locator(".st-key-opt_system_ct label").click()
    _settle(page)
    page.locator(".st-key-opt_standalone label").click()
    _settle(page)
    _button(page, "opt_run").click()
    page.get_by_role("heading", name="The optimised allocation").wait_for(timeout=60_000)
    _button(page, "dl_opt_csv").wait_for(timeout=30_000)
    _settle(page)
    _no_errors(page, "the Optimise page")
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    name, data = _download(page, _button(page, "dl_opt_csv"))
    assert name.endswith(".csv")
    rows = _csv_rows(data)
    assert len(rows) == 9
    # the transfers share out exactly the agreement's net pool, as the engine pools it
    line = rs.apply(load_preset(DEFAULT_PRESET), load_sample(DEFAULT_SAMPLE)).system
    net_pool = float(line["pool"] + line["reserve_used"])
    assert sum(float(r["received"]) for r in rows) == pytest.approx(net_pool, abs=0.01 * 9)
    assert _metric(page, "Pool shared out") == f"-£{abs(net_pool) / 1e6:.2f}m"
    name, data = _download(page, _button(page, "dl_opt_xlsx"))
    assert name.endswith(".xlsx") and data[:2] == b"PK"
    _full_screenshot(page, "journey_sl_optimise")
