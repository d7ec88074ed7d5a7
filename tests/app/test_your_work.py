"""The user's own work is never replaced without asking (issue 15): loading a sample, an
agreement's sample or a workshop session over an edited or uploaded system asks first, the
replaced system comes back with "Return to your system", and edits on the System page can be
undone one by one or reset to the system as loaded."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

import riskshare as rs
from tests.app.test_app import current, start

WORKSHOP = "riskshare/ui/pages/workshop.py"
AGREEMENT = "riskshare/ui/pages/agreement.py"
NORTHSHIRE = "northshire_2018_19"


def edit_forecast(at: AppTest, row: int, value: float, editor: str = "editor_0") -> None:
    """Set one member's forecast in the members editor (AppTest sets the editor's delta)."""
    state = dict(at.session_state[editor]) if editor in at.session_state else {}
    rows = dict(state.get("edited_rows", {}))
    rows[row] = {**rows.get(row, {}), "forecast": value}
    at.session_state[editor] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception


def buttons(at: AppTest) -> dict[str, str]:
    return {b.key: b.label for b in at.button if b.key}


def test_loading_a_sample_over_an_edited_system_asks_first():
    at = start()
    edit_forecast(at, 0, 1_800_000.0)
    edited = current(at)
    assert edited.orgs.loc["NGH", "forecast"] == 1_800_000.0
    at.selectbox(key="sample_choice").select("workshop_4").run()
    at.button(key="load_sample").click().run()
    # nothing replaced yet: a question naming both systems
    assert current(at) is edited
    question = " ".join(w.value for w in at.warning)
    assert "replaces the system you are working on" in question
    assert "Workshop system" in question and "Northshire" in question
    # "Keep my system": still the edited system, and the question is gone
    at.button(key="cancel_load_system").click().run()
    assert current(at) is edited
    assert "cancel_load_system" not in buttons(at)
    # asked again and confirmed: replaced, with a way back in the sidebar
    at.button(key="load_sample").click().run()
    at.button(key="confirm_load_system").click().run()
    assert current(at).equals(rs.load_sample("workshop_4"))
    assert "Return to your system" in buttons(at)["return_previous"]
    at.button(key="return_previous").click().run()
    assert current(at).equals(edited)
    assert current(at).orgs.loc["NGH", "forecast"] == 1_800_000.0
    # its edits came back with it: Undo takes back the forecast edit, Reset goes to the sample
    assert not at.button(key="undo_edit").disabled
    assert not at.button(key="reset_loaded").disabled
    at.button(key="undo_edit").click().run()
    assert current(at).equals(rs.load_sample(NORTHSHIRE))
    assert "return_previous" not in buttons(at)   # the sample is not "your work": nothing kept


def test_loading_over_an_unedited_sample_does_not_ask():
    at = start()
    at.selectbox(key="sample_choice").select("workshop_4").run()
    at.button(key="load_sample").click().run()
    assert current(at).equals(rs.load_sample("workshop_4"))
    assert "confirm_load_system" not in buttons(at)
    assert "return_previous" not in buttons(at)


def test_undo_takes_back_one_edit_at_a_time_and_reset_drops_them_all():
    at = start()
    original = rs.load_sample(NORTHSHIRE)
    assert at.button(key="undo_edit").disabled
    assert at.button(key="reset_loaded").disabled
    edit_forecast(at, 0, 1_800_000.0)
    # on the very run that applied the edit, Undo can take it back (not one edit behind)
    assert not at.button(key="undo_edit").disabled
    assert not at.button(key="reset_loaded").disabled
    edit_forecast(at, 1, -3_000_000.0)
    second = current(at)
    assert second.orgs.iloc[1]["forecast"] == -3_000_000.0
    assert not at.button(key="undo_edit").disabled
    at.button(key="undo_edit").click().run()
    once = current(at)
    assert once.orgs.loc["NGH", "forecast"] == 1_800_000.0
    assert once.orgs.iloc[1]["forecast"] == original.orgs.iloc[1]["forecast"]
    # the editor shows the restored figures (its widgets start afresh)
    editor = at.data_editor[0].value.set_index("org_id")
    # SVH's forecast, -£10,700,000 in the sample, as the table writes pounds for editing
    assert original.orgs.iloc[1]["forecast"] == -10_700_000.0
    assert editor.iloc[1]["forecast"] == "-10,700,000"
    at.button(key="undo_edit").click().run()
    assert current(at).equals(original)
    assert at.button(key="undo_edit").disabled
    # reset after several edits: back to the loaded sample in one step
    v = at.session_state["rs_version"]
    edit_forecast(at, 0, 2_500_000.0, editor=f"editor_{v}")
    edit_forecast(at, 2, 0.0, editor=f"editor_{v}")
    assert not current(at).equals(original)
    at.button(key="reset_loaded").click().run()
    assert current(at).equals(original)
    assert "(edited)" not in at.session_state["rs_source"]


def test_opening_the_workshop_session_over_your_system_asks_first():
    at = start()
    edit_forecast(at, 0, 1_800_000.0)
    edited = current(at)
    at.switch_page(WORKSHOP).run()
    assert not at.exception, at.exception
    at.button(key="ws_load").click().run()
    assert current(at) is edited
    assert "replaces the system you are working on" in " ".join(w.value for w in at.warning)
    at.button(key="confirm_load_workshop").click().run()
    assert not at.exception, at.exception
    assert not current(at).equals(edited)
    assert at.session_state["rs_source"].startswith("workshop session: ")
    assert "return_previous" in buttons(at)


def test_the_sidebar_names_the_system_every_page_uses():
    at = start()
    edit_forecast(at, 0, 1_800_000.0)
    for page in (AGREEMENT, WORKSHOP):
        at.switch_page(page).run()
        sidebar = " ".join(c.value for c in at.sidebar.caption)
        assert "System: **Northshire and Vale 2018/19**" in sidebar and "(edited)" in sidebar


def test_choices_on_a_page_are_still_there_after_visiting_another():
    """Streamlit forgets a widget's value when another page runs; the app keeps them."""
    at = start()
    compare, fairness = "riskshare/ui/pages/compare.py", "riskshare/ui/pages/fairness.py"
    at.switch_page(compare).run()
    at.multiselect(key="cmp_agreements").select("support_cliff_2018_19").run()
    chosen = list(at.multiselect(key="cmp_agreements").value)
    assert "support_cliff_2018_19" in chosen and len(chosen) == 3
    at.switch_page(fairness).run()
    at.radio(key="fair_mode").set_value("scenarios").run()
    at.slider(key="fair_lambda").set_value(0.0).run()
    at.switch_page("riskshare/ui/pages/system.py").run()
    at.switch_page(compare).run()
    assert not at.exception, at.exception
    assert list(at.multiselect(key="cmp_agreements").value) == chosen
    at.switch_page(fairness).run()
    assert at.radio(key="fair_mode").value == "scenarios"
    assert at.slider(key="fair_lambda").value == 0.0
    assert not [w.value for w in at.warning if "Session State" in w.value]


def test_an_edited_agreement_replaced_by_a_preset_can_be_brought_back():
    at = start()
    at.switch_page(AGREEMENT).run()
    cap = next(w.key for w in at.number_input if w.key and w.key.startswith("losses_max_pool"))
    at.number_input(key=cap).set_value(2.0).run()
    edited = at.session_state["rs_agreement"]
    assert "(edited)" in at.session_state["rs_agreement_source"]
    assert edited.losses.max_pool == 2.0
    at.selectbox(key="preset_choice").set_value("full_pooling_turnover").run()
    assert at.session_state["rs_agreement"] != edited
    assert "Return to your agreement" in buttons(at)["return_agreement"]
    at.button(key="return_agreement").click().run()
    assert not at.exception, at.exception
    assert at.session_state["rs_agreement"] == edited
    assert "return_agreement" not in buttons(at)


def test_a_bracketed_deficit_typed_in_the_members_table_is_a_deficit():
    """A finance director types a deficit as "(£9,000,000)": the members table hands the text to
    the library's money reader (as an upload's cells are), never a number cell that would drop
    the brackets and make it +£9,000,000 without a word."""
    at = start()
    at.session_state["editor_0"] = {"edited_rows": {0: {"forecast": "(£9,000,000)"},
                                                    1: {"forecast": "-1,234,567.89"}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    assert not at.error
    assert current(at).orgs.loc["NGH", "forecast"] == -9_000_000.0
    assert current(at).orgs.iloc[1]["forecast"] == -1_234_567.89
    # something unreadable is refused, naming the row and column, and nothing is applied
    before = current(at)
    at.session_state["editor_0"] = {"edited_rows": {0: {"forecast": "nine million"}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert "Your edits are not applied yet" in " ".join(e.value for e in at.error)
    assert "row 1 (NGH), column 'forecast'" in " ".join(e.value for e in at.error)
    assert current(at) is before
