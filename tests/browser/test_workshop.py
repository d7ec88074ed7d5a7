"""End to end: the Workshop page in headless Chromium — preparation mode, then presentation mode
stepped through every step of the bundled session with Next; each step's chart drawn, no error
element, figures large and not cut off; the session and the reports downloaded.

Screenshots: artifacts/screenshots/workshop.png (preparation) and workshop_step_<k>.png
(presentation mode), for a person to look at.
"""

from __future__ import annotations

import pytest

from riskshare import workshop
from riskshare.workshop.printable import pdf_available
from riskshare.workshop.session import load_session, read_session_text

from .conftest import SCREENSHOTS
from .test_pages import ERROR_SELECTORS, _full_screenshot, _settle

pytestmark = pytest.mark.browser

SESSION = load_session("northshire_workshop")
CHART = ('() => document.querySelectorAll(".vega-embed canvas, .vega-embed svg .mark-rect, '
         '.vega-embed svg .mark-symbol, .vega-embed svg .mark-rule").length > 0')


def _no_errors(page, where: str) -> None:
    for selector in ERROR_SELECTORS:
        assert page.locator(selector).count() == 0, f"error element {selector} on {where}"


def _wait_for_step(page, k: int) -> None:
    """Wait until step `k` is fully drawn: its heading, exactly its figures, its chart, and
    nothing left over (stale) from the step before."""
    view = workshop.view(SESSION, k)
    page.locator(".st-key-ws_heading h2").filter(has_text=view.title).wait_for(timeout=60_000)
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"stMetricValue\"]').length === n "
        "&& !document.querySelector('[data-stale=\"true\"]') "
        "&& !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        arg=len(view.figures), timeout=60_000)
    page.wait_for_function(CHART, timeout=60_000)
    _settle(page)


def _open_member_table(page) -> None:
    """Open the "Member figures (£m)" expander (for the screenshot) and wait for its cells."""
    table = page.locator('[data-testid="stExpander"]').filter(has_text="Member figures (£m)")
    if table.locator("details[open]").count() == 0:
        table.locator("summary").click()
    table.locator('[data-testid="stDataFrame"] [data-testid^="glide-cell"]').first.wait_for(
        state="attached", timeout=30_000)
    page.wait_for_timeout(300)


def _open(page, app_url) -> None:
    page.goto(f"{app_url}/workshop")
    _settle(page)
    page.get_by_role("heading", name="Workshop").first.wait_for(timeout=30_000)
    _wait_for_step(page, 1)


def test_preparation_mode(app_url, page):
    _open(page, app_url)
    body = page.locator('[data-testid="stMain"]').inner_text()
    for text in ("Session", "Bundled sessions", "Or upload a session", SESSION.title,
                 "Save session", "Step 1 of 5", "System control total", "-£4.50m"):
        assert text in body, f"{text!r} not on the Workshop page"
    assert page.locator('[data-testid="stSidebar"]').is_visible()
    _no_errors(page, "workshop")
    _open_member_table(page)
    _full_screenshot(page, "workshop")


def test_presentation_mode_steps_through_the_session(app_url, page):
    _open(page, app_url)
    page.locator(".st-key-ws_present label").click()
    page.locator('[data-testid="stSidebar"]').wait_for(state="hidden", timeout=30_000)
    _settle(page)
    assert page.locator('[data-testid="stHeader"]').is_hidden()
    assert page.locator(".st-key-ws_prep").count() == 0          # no preparation section
    for k, _step in enumerate(SESSION.steps, start=1):
        _wait_for_step(page, k)
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert f"Step {k} of {len(SESSION.steps)}" in body
        # large figures; no value, label or change cut off
        sizes = page.eval_on_selector_all(
            '[data-testid="stMetricValue"]',
            "els => els.map(e => [parseFloat(getComputedStyle(e).fontSize), e.innerText])")
        assert len(sizes) == len(workshop.view(SESSION, k).figures), f"step {k}"
        for size, text in sizes:
            assert size >= 36, f"step {k}: figure {text!r} at {size}px"
        clipped = page.eval_on_selector_all(
            '[data-testid="stMetric"] *',
            "els => els.filter(e => e.children.length === 0 && e.innerText && "
            "e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
        assert not clipped, f"step {k}: cut off: {clipped}"
        _no_errors(page, f"step {k}")
        _open_member_table(page)
        _full_screenshot(page, f"workshop_step_{k}")
        page.set_viewport_size({"width": 1440, "height": 1000})
        if k == 1:      # a presentation clicker's "next" key (PageDown) moves on too
            page.locator(".st-key-ws_heading h2").click()
            page.keyboard.press("PageDown")
        elif k < len(SESSION.steps):
            page.locator(".st-key-ws_next button").click()
    assert page.locator(".st-key-ws_next button").is_disabled()


def test_a_what_if_is_saved_and_the_reports_download(app_url, page):
    _open(page, app_url)
    page.locator(".st-key-ws_next button").click()
    _wait_for_step(page, 2)
    # the shock slider: one step up with the keyboard (1.0× -> 1.1×)
    page.locator(".st-key-ws_whatif input[type='range']").first.focus()
    page.keyboard.press("ArrowRight")
    page.get_by_text("What if: size of the shock 1.1×").wait_for(timeout=30_000)
    _settle(page)
    _no_errors(page, "step 2 with a what-if")
    with page.expect_download(timeout=60_000) as saving:
        page.locator(".st-key-ws_save").get_by_role("button", name="Save session").click()
    saved = read_session_text(open(saving.value.path(), encoding="utf-8").read())
    assert saved.step == 2 and saved.what_if.get("shock_scale") == pytest.approx(1.1)
    assert saving.value.suggested_filename.endswith(".toml")
    reports = [("Excel report", b"PK"), ("Printable report (HTML)", b"<")]
    if pdf_available():
        reports.append(("PDF", b"%PDF"))
    for name, start in reports:
        with page.expect_download(timeout=180_000) as report:
            page.get_by_role("button", name=name).click()
        data = open(report.value.path(), "rb").read()
        assert data.lstrip().startswith(start), (name, data[:40])
    _no_errors(page, "after the downloads")


# -- the presentation clicker and the presenter view ------------------------------------------------
SLIDER = ".st-key-ws_whatif input[type='range']"


def _present(page) -> None:
    """Turn presentation mode on with a click on the toggle (which keeps the keyboard focus)."""
    page.locator(".st-key-ws_present label").click()
    page.locator('[data-testid="stSidebar"]').wait_for(state="hidden", timeout=30_000)
    page.locator(".st-key-ws_clicker").wait_for(state="attached", timeout=30_000)
    _settle(page)


def _slider_values(page) -> list[str]:
    return page.eval_on_selector_all(SLIDER, "els => els.map(e => e.value)")


def test_pagedown_right_after_presentation_mode_is_turned_on_moves_to_the_next_step(app_url, page):
    _open(page, app_url)
    _present(page)
    _wait_for_step(page, 1)
    page.keyboard.press("PageDown")          # no click on the page first
    _wait_for_step(page, 2)
    assert f"Step 2 of {len(SESSION.steps)}" in page.locator('[data-testid="stMain"]').inner_text()
    page.keyboard.press("PageUp")
    _wait_for_step(page, 1)


def test_the_clicker_moves_the_step_and_never_a_focused_what_if_slider(app_url, page):
    n = len(SESSION.steps)
    _open(page, app_url)
    _present(page)
    page.locator(".st-key-ws_next button").click()
    _wait_for_step(page, 2)
    # the shock slider has the focus: PageDown moves to step 3, the slider does not move
    page.locator(SLIDER).first.focus()
    before = _slider_values(page)
    page.keyboard.press("PageDown")
    _wait_for_step(page, 3)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert f"Step 3 of {n}" in body and "What if:" not in body
    # the last step: Next is disabled, so PageDown does nothing at all; no other key moves a
    # focused slider either
    while f"Step {n} of {n}" not in page.locator('[data-testid="stMain"]').inner_text():
        page.keyboard.press("ArrowRight")    # a clicker's other "next" key
        page.wait_for_timeout(300)
        _settle(page)
    _wait_for_step(page, n)
    page.locator(SLIDER).first.focus()
    before = _slider_values(page)
    for key in ("PageDown", "ArrowRight", "ArrowDown", "End", "Home"):
        page.keyboard.press(key)
        page.wait_for_timeout(200)
    _settle(page)
    assert _slider_values(page) == before
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert f"Step {n} of {n}" in body and "What if:" not in body
    # the mouse still changes a what-if: a click near the end of the slider's track
    widget = page.locator(".st-key-ws_whatif [data-testid='stSlider']").first
    widget.scroll_into_view_if_needed()
    track = widget.locator("[role='group']").bounding_box()
    assert track is not None
    page.mouse.click(track["x"] + track["width"] - 10, track["y"] + track["height"] / 2)
    page.get_by_text("What if:").wait_for(timeout=60_000)
    _settle(page)
    assert _slider_values(page) != before
    _no_errors(page, "a what-if set with the mouse")
    page.keyboard.press("PageUp")
    _wait_for_step(page, n - 1)


def test_presenter_view_follows_and_moves_the_room(app_url, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    room, presenter = context.new_page(), context.new_page()
    try:
        _open(room, app_url)
        _present(room)
        link = room.locator(".st-key-ws_presenter a").first.get_attribute("href")
        assert link and "presenter?room=" in link
        presenter.goto(f"{app_url}/{link.lstrip('/')}" if not link.startswith("http") else link)
        heading = presenter.locator("h3").filter(has_text="Step 1 of")
        heading.wait_for(timeout=30_000)
        notes = presenter.locator(".st-key-pv_notes").inner_text()
        assert "Ask the room: whose target is realistic?" in notes
        assert "Next: step 2, A hard winter" in presenter.locator('[data-testid="stMain"]').inner_text()
        # Next in the presenter view moves the screen in the room
        presenter.locator(".st-key-pv_next button").click()
        presenter.locator("h3").filter(has_text="Step 2 of").wait_for(timeout=30_000)
        _wait_for_step(room, 2)
        # and the room's own clicker moves the presenter view
        room.keyboard.press("PageDown")
        _wait_for_step(room, 3)
        presenter.locator("h3").filter(has_text="Step 3 of").wait_for(timeout=30_000)
        _no_errors(presenter, "the presenter view")
        presenter.screenshot(path=str(SCREENSHOTS / "workshop_presenter.png"))
        room.screenshot(path=str(SCREENSHOTS / "workshop_present_1280x720.png"))
    finally:
        context.close()


@pytest.mark.parametrize("k", range(1, len(SESSION.steps) + 1))
def test_in_presentation_mode_at_1280x720_the_chart_is_on_screen(app_url, browser, k):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        _open(page, app_url)
        _present(page)
        for _ in range(k - 1):
            page.keyboard.press("PageDown")
            page.wait_for_timeout(300)
        _wait_for_step(page, k)
        box = page.locator("[data-testid='stVegaLiteChart']").first.bounding_box()
        assert box is not None
        assert box["y"] >= 0 and box["y"] + box["height"] <= 720, (k, box)
        page.screenshot(path=str(SCREENSHOTS / f"workshop_present_step_{k}.png"))
    finally:
        context.close()


def test_a_new_step_opens_at_its_top_after_the_facilitator_scrolled_down(app_url, browser):
    """At 1280×720 the What-if panel is below the fold; after scrolling down to it, the clicker's
    next step must show its title and chart, not the bottom half of the new step. Moving a
    what-if (same step) leaves the scroll where it is."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    main = '[data-testid="stMain"]'
    try:
        _open(page, app_url)
        _present(page)
        page.keyboard.press("PageDown")
        _wait_for_step(page, 2)
        page.locator(SLIDER).first.scroll_into_view_if_needed()
        _settle(page)
        scrolled = page.evaluate(f"() => document.querySelector('{main}').scrollTop")
        assert scrolled > 100, scrolled          # the what-if panel is below the fold
        page.keyboard.press("PageDown")
        _wait_for_step(page, 3)
        page.wait_for_function(f"() => document.querySelector('{main}').scrollTop < 5",
                               timeout=10_000)
        box = page.locator("[data-testid='stVegaLiteChart']").first.bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 720, box
    finally:
        context.close()
