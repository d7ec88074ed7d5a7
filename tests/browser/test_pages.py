"""End to end: each app page in headless Chromium, charts drawn, no error element, screenshot.

Screenshots are saved to artifacts/screenshots/<page>.png for a person to look at.
"""

from __future__ import annotations

import pytest

from tests.bad_inputs import BAD_INPUTS

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

# (url path, title, charts that must draw, text that must appear)
PAGES = [
    # support at stake 12.3 + 8.1 + 0.55 + 0.85 + 1.0 + 0.75 + 6.0 = £29.55m (the CSV);
    # the two members outside the SCT named in the boundary note
    ("", "System", 0, ["Northshire and Vale 2018/19", "Load a system", "£29.55m",
                       "NSC and VGP are outside it"]),
    ("reconcile", "Reconcile", 3, ["What stands out", "unrealistic", "Rebalancing proposal"]),
    ("agreement", "Agreement", 2, ["Choose an agreement", "Gain/loss share 50:50", "worse off",
                                   "Explain one member", "better off"]),
    ("scenarios", "Scenarios", 0, ["random variances around each member",
                                   "press Run", "without random variation"]),
    ("compare", "Compare", 0, ["random variances around each member",
                               "press Run"]),
    ("optimise", "Optimise", 0, ["pooled amounts", "pure transfers between members",
                                 "Make the worst-placed member as well placed",
                                 "press Optimise"]),
    # the figures themselves are checked against the library's certificate in
    # tests/app/test_fairness_page.py; here, that the page draws them in the browser
    ("fairness", "Fairness", 1, ["Participation certificate: not passed", "Cooperative gain",
                                 "Walk-away margin", "Who would walk away",
                                 "members and groups would do better", "nucleolus"]),
]
# Pages whose tables and charts appear only after a button click (see the dedicated tests
# below), with the button's name; their PAGES screenshot shows the page before the run.
RUN_FIRST = {"Scenarios": "Run", "Compare": "Run", "Optimise": "Optimise"}
ERROR_SELECTORS = ['[data-testid="stException"]', '[data-testid="stAlertContentError"]',
                   '[role="dialog"]:has-text("Page not found")']


def _settle(page) -> None:
    """Wait for the script run to finish (no 'Running...' status widget)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    page.wait_for_timeout(500)


def _full_screenshot(page, name: str) -> None:
    """Streamlit scrolls an inner container, so grow the viewport to the content first."""
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("path,title,charts,texts", PAGES, ids=[p[1] for p in PAGES])
def test_page_renders(app_url, page, path, title, charts, texts):
    page.goto(f"{app_url}/{path}")
    _settle(page)
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    if charts:
        page.wait_for_function(
            f"() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg "
            f".mark-rect, [data-testid=\"stVegaLiteChart\"] canvas').length >= {charts}",
            timeout=30_000)
        assert page.locator('[data-testid="stVegaLiteChart"]').count() >= charts
    if title in RUN_FIRST:  # the page has run to its end: the prompt to press the button
        page.get_by_text(f"press {RUN_FIRST[title]}", exact=False).first.wait_for(
            timeout=30_000)
        # widgets draw after the text: wait for the button the prompt names
        page.get_by_role("button", name=RUN_FIRST[title], exact=True).wait_for(timeout=30_000)
    else:
        # Tables are drawn on a canvas; their accessible cells say they rendered.
        page.wait_for_selector('[data-testid="stDataFrame"] [data-testid^="glide-cell"]',
                               state="attached", timeout=30_000)
    body = page.locator('[data-testid="stMain"]').inner_text()
    for text in texts:
        assert text in body, f"{text!r} not on the {title} page"
    _full_screenshot(page, title.lower() + ("_before_run" if title in RUN_FIRST else ""))
    for selector in ERROR_SELECTORS:
        assert page.locator(selector).count() == 0, f"error element {selector} on {title}"


def test_loading_another_sample_updates_every_page(app_url, page):
    """Pick the workshop sample, load it, and see its figures on the Reconcile page."""
    page.goto(app_url)
    _settle(page)
    page.locator('.st-key-sample_choice [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Workshop system (4 members)").click()
    page.get_by_role("button", name="Load sample").click()
    page.get_by_text("Loaded the sample Workshop system").wait_for(timeout=30_000)
    page.get_by_role("link", name="Reconcile").click()
    _settle(page)
    page.get_by_text("Acute trust (A)").wait_for(timeout=30_000)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "-£9.00m" in body  # forecast against SCT for workshop_4
    _full_screenshot(page, "reconcile_workshop_4")
    for selector in ERROR_SELECTORS:
        assert page.locator(selector).count() == 0


def test_a_bad_upload_shows_every_problem_inline(app_url, page, tmp_path):
    """Upload a CSV with several problems: one error box lists each, and nothing is loaded."""
    case = next(c for c in BAD_INPUTS if c.id == "several_problems")
    path = tmp_path / "organisations.csv"
    path.write_text(case.csv)
    page.goto(app_url)
    _settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    error = page.locator('[data-testid="stAlertContentError"]')
    error.first.wait_for(timeout=30_000)
    text = error.first.inner_text()
    assert "organisations.csv was not loaded" in text
    for fragment in case.expected[1:]:
        assert fragment in text
    # the bundled system is still the one in use
    assert "Northshire and Vale 2018/19" in page.locator('[data-testid="stMain"]').inner_text()
    _full_screenshot(page, "system_bad_upload")


def test_choosing_a_preset_and_loading_its_sample(app_url, page):
    """Pick the ACA risk corridors preset: it does not fit the bundled system, and one button
    loads the system it is designed for, where the payer takes £410,000 of the plan's loss."""
    page.goto(f"{app_url}/agreement")
    _settle(page)
    # the preset picker by its key (the sidebar's settings hold selectboxes of their own)
    box = page.locator('.st-key-preset_choice [data-testid="stSelectbox"]').first
    box.click()
    page.get_by_role("listbox").wait_for(timeout=30_000)   # typing before it opens is lost
    # filter the list: long option lists render lazily
    box.locator("input").press_sequentially("ACA risk", delay=50)
    page.get_by_role("option", name="ACA risk corridors").click()
    page.get_by_text("This agreement does not fit the current system").wait_for(timeout=30_000)
    page.get_by_role("button", name="Load its sample system (Risk corridor: plan and payer)"
                     ).click()
    page.get_by_text("Loaded the sample Risk corridor: plan and payer").wait_for(timeout=30_000)
    _settle(page)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg .mark-rect, "
        "[data-testid=\"stVegaLiteChart\"] canvas').length >= 2", timeout=30_000)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "£0.41m" in body  # net pool: the payer's share of the loss
    _full_screenshot(page, "agreement_aca_corridor")
    for selector in ERROR_SELECTORS:
        assert page.locator(selector).count() == 0


def _run_and_wait(page, charts: int, button: str = "Run") -> None:
    """Click Run (or `button`), then wait for the charts to draw and the results table to
    render."""
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg "
        f".mark-rect, [data-testid=\"stVegaLiteChart\"] svg .mark-symbol, "
        f"[data-testid=\"stVegaLiteChart\"] canvas').length >= {charts}", timeout=60_000)
    page.wait_for_selector('[data-testid="stDataFrame"] [data-testid^="glide-cell"]',
                           state="attached", timeout=30_000)
    _settle(page)


@pytest.mark.parametrize("path,title,charts,texts", [
    ("scenarios", "Scenarios", 2, ["Results: 10,000 scenarios", "Risk metrics",
                                   "System worst 5% vs ΣOCT",
                                   "without random variation"]),
    ("compare", "Compare", 1, ["Results: 10,000 scenarios", "Shaded",
                               "Full pooling pro rata to net turnover"]),
    ("optimise", "Optimise", 1, ["largest shortfall 0.59% of turnover", "proven optimal",
                                 "Conditions with no room to spare", "from pool +£"]),
], ids=["Scenarios", "Compare", "Optimise"])
def test_run_draws_the_results(app_url, page, path, title, charts, texts):
    page.goto(f"{app_url}/{path}")
    _settle(page)
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    _run_and_wait(page, charts, RUN_FIRST[title])
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= charts
    body = page.locator('[data-testid="stMain"]').inner_text()
    for text in texts:
        assert text in body, f"{text!r} not on the {title} page after Run"
    _full_screenshot(page, title.lower())
    for selector in ERROR_SELECTORS:
        assert page.locator(selector).count() == 0, f"error element {selector} on {title}"


def _no_errors(page) -> None:
    for selector in ERROR_SELECTORS:
        assert page.locator(selector).count() == 0, f"error element {selector}"


def test_optimise_alternatives(app_url, page):
    """Optimise, then ask for alternatives: their values and a side-by-side table appear. (Within
    the default 5% there is none on this sample, so the test allows 10%.)"""
    page.goto(f"{app_url}/optimise")
    _settle(page)
    _run_and_wait(page, 1, "Optimise")
    page.get_by_role("spinbutton", name="Within (% of the optimum)").fill("10")
    page.keyboard.press("Enter")
    _settle(page)
    page.get_by_role("button", name="Find alternatives").click()
    page.get_by_text("Alternative 1:").wait_for(timeout=60_000)
    _settle(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "within 10% of the optimum" in body
    _full_screenshot(page, "optimise_alternatives")
    _no_errors(page)


def test_optimise_explains_an_impossible_request_in_words(app_url, page):
    """Cap every charge at 0.1% of turnover and leave no member worse off: the page names the
    conflicting conditions and the smallest change, with no traceback."""
    page.goto(f"{app_url}/optimise")
    _settle(page)
    page.get_by_role("spinbutton", name="Cap on any charge (% of turnover)").fill("0.1")
    page.keyboard.press("Enter")
    _settle(page)
    page.get_by_text("No member worse off than on its own", exact=True).click()
    _settle(page)
    page.get_by_role("button", name="Optimise", exact=True).click()
    page.get_by_text("These conditions cannot all hold at once").wait_for(timeout=60_000)
    _settle(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "NGH is charged at most £0.51m" in body
    assert "Put £5.07m more into the pool" in body
    assert page.locator('[data-testid="stException"]').count() == 0
    _full_screenshot(page, "optimise_infeasible")


def test_reconcile_rebalances_by_optimisation(app_url, page):
    """Choose the smallest largest change on the Reconcile page: the proposal says how far the
    largest change goes, and the revised OCTs are drawn."""
    page.goto(f"{app_url}/reconcile")
    _settle(page)
    method = page.get_by_role("combobox", name="How to share the gap")
    method.scroll_into_view_if_needed()  # a click that scrolls would close the list at once
    page.wait_for_timeout(500)
    method.click()
    page.get_by_role("option", name="Smallest largest change (% of turnover)").click()
    page.get_by_text("no control total moves by more than").wait_for(timeout=30_000)
    _settle(page)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg .mark-rect, "
        "[data-testid=\"stVegaLiteChart\"] canvas').length >= 3", timeout=30_000)
    _full_screenshot(page, "reconcile_minimax_change")
    _no_errors(page)


def test_the_system_page_answers_by_its_name(app_url, page):
    """/system leads to the System page (it is the app's root), never "Page not found"."""
    page.goto(f"{app_url}/system")
    _settle(page)
    page.get_by_role("heading", name="System").first.wait_for(timeout=30_000)
    assert "Load a system" in page.locator('[data-testid="stMain"]').inner_text()
    assert page.locator('[role="dialog"]:has-text("Page not found")').count() == 0
