"""The agreement in plain English (`agreements.describe`), written from the parameters in force,
and the record that a name and description were written for other parameters
(`Agreement.description_for`).

Every expected sentence is written out by hand from the preset's TOML (models/*.toml), so a
wording that stops saying what the parameters say fails here.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import riskshare as rs
from riskshare.agreements import describe
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.agreements.spec import Agreement, Band, Pool, Reserve, Schedule, Support
from riskshare.core.errors import ValidationError

CLIFF = ("Each member earns its support funding by meeting its own control total, judged after "
         "the risk share, all or nothing (a cliff edge).")
LOST = "Support not earned is lost."


# -- the presets, sentence by sentence ------------------------------------------------------------
def test_the_50_50_deadband_preset():
    assert describe.explain(load_preset("gain_loss_50_50_deadband")) == [
        "Of a gain or a loss, a member pools none of the part up to 0.5% of turnover and 50% of "
        "the part beyond 0.5%.",
        # basis = "net_turnover" in the TOML (issue 16): the column is named in words
        "The net pool is shared pro rata to net turnover.",
        "Charges and awards from the pool are capped at 1% of turnover per member.",
        CLIFF, LOST]


def test_standalone_pools_nothing_and_says_nothing_of_a_pool():
    assert describe.explain(load_preset("standalone")) == [
        "Each member keeps all of a gain and bears all of a loss: nothing is pooled.", CLIFF, LOST]
    assert describe.headline(load_preset("standalone")) == "no sharing"


def test_aca_corridors_three_bands_an_exempt_payer_and_no_support_test():
    assert describe.explain(load_preset("aca_risk_corridors")) == [
        "Of a gain or a loss, a member pools none of the part up to 3% of target, 50% of the part "
        "from 3% to 8% and 80% of the part beyond 8%.",
        "PAYER is exempt: its own variance is not pooled (it still takes part in the "
        "distribution).",
        "The whole net pool goes to PAYER: it takes a net pooled gain and bears a net pooled "
        "loss.",
        "Charges and awards from the pool have no cap.",
        "Support funding is paid whatever happens (no support test)."]


def test_mssp_two_sided_thresholds_and_limits_on_each_side():
    sentences = describe.explain(load_preset("mssp_two_sided"))
    assert sentences[:2] == [
        "Of a gain below 2% of benchmark, a member pools all of it; of a gain of 2% or more, it "
        "pools 25% of it, from the first £; it keeps at most 20% of benchmark and the rest is "
        "pooled.",
        "Of a loss below 2% of benchmark, a member pools all of it; of a loss of 2% or more, it "
        "pools 60% of it, from the first £; it bears at most 15% of benchmark and the rest is "
        "pooled."]


def test_nec_target_cost_different_schedules_for_gains_and_losses():
    assert describe.explain(load_preset("nec_target_cost"))[:2] == [
        "Of a gain, a member pools 50% of the part up to 10% of target and 75% of the part "
        "beyond 10%.",
        "Of a loss, a member pools 50% of the part up to 10% of target and none of the part "
        "beyond 10%."]


def test_pooled_budget_reserve_names_the_reserve_in_pounds_m():
    sentences = describe.explain(load_preset("pooled_budget_reserve"))
    assert "The net pool is shared pro rata to contribution." in sentences
    assert ("A reserve of £1.00m held by ICB meets a net pooled loss first (ICB is charged what "
            "it uses).") in sentences


def test_support_presets():
    assert describe.explain(load_preset("support_cliff_2018_19"))[1] == (
        "Each member earns its support funding by meeting its own control total, judged before "
        "the risk share, all or nothing (a cliff edge).")
    assert describe.explain(load_preset("system_support_taper_2020_21"))[1] == (
        "50% of each member's support funding is earned by meeting its own control total and "
        "50% by the system meeting its system control total, judged after the risk share, in "
        "full at target and tapering to nothing 1% of turnover below it.")


def test_worst_placed_first_and_claims():
    a = load_preset("worst_placed_first")
    assert describe.explain(a)[1] == ("The net pool lifts the worst-placed member (as % of "
                                      "turnover) first, until members are level or at their "
                                      "caps.")
    claims = a.replace(pool=Pool("claims", "equal", rule="talmud", max_charge=0.5))
    assert describe.explain(claims)[1:3] == [
        "A net pooled gain goes first to members still short of their control total, by the "
        "Talmud rule; the rest of a gain, and any net pooled loss, is shared equally between the "
        "members.",
        "Charges from the pool are capped at 0.5% of turnover per member; awards have no cap."]


def test_inline_weights_are_shown_as_shares_of_the_total():
    a = load_preset("full_pooling_turnover").replace(
        pool=Pool(basis=(("A", 3.0), ("B", 1.0))), support=Support("none"))
    assert describe.explain(a)[1] == "The net pool is shared by agreed weights (A 75%, B 25%)."


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_has_a_summary_and_a_headline(name):
    a = load_preset(name)
    assert describe.summary(a) == " ".join(describe.explain(a))
    assert describe.summary(a).endswith(".") and describe.headline(a)
    assert not describe.edited(a) and describe.title(a) == a.name


# -- an edited agreement --------------------------------------------------------------------------
def test_editing_the_cap_changes_the_words_and_marks_the_name():
    a = load_preset("gain_loss_50_50_deadband")
    b = a.replace(pool=replace(a.pool, max_charge=2.0, max_award=2.0),
                  description_for=a.parameters_fingerprint)
    assert describe.explain(b)[2] == ("Charges and awards from the pool are capped at 2% of "
                                      "turnover per member.")
    assert "capped at 1%" not in describe.summary(b)
    # the pool's basis is the net_turnover column (issue 16); the caps stay % of turnover
    assert describe.headline(b) == ("pooled: 50% beyond 0.5% of turnover; shared pro rata to "
                                    "net turnover; capped at 2% of turnover")
    assert describe.headline(a) == ("pooled: 50% beyond 0.5% of turnover; shared pro rata to "
                                    "net turnover; capped at 1% of turnover")
    # the name and description are the author's, kept; the name is marked
    assert b.name == a.name and b.description == a.description
    assert describe.edited(b)
    assert describe.title(b) == "Gain/loss share 50:50 beyond 0.5% of turnover, capped at 1% " \
                                "(edited)"


def test_different_caps_and_a_single_cap():
    a = load_preset("gain_loss_50_50_deadband")
    assert describe.explain(a.replace(pool=replace(a.pool, max_award=1.5)))[2] == (
        "Charges from the pool are capped at 1% of turnover per member and awards at 1.5%.")
    assert describe.explain(a.replace(pool=replace(a.pool, max_charge=None)))[2] == (
        "Awards from the pool are capped at 1% of turnover per member; charges have no cap.")
    assert describe.headline(a.replace(pool=replace(a.pool, max_award=None))).endswith(
        "charges capped at 1% of turnover")


def test_a_schedule_with_max_pool_and_a_gain_only_schedule():
    a = load_preset("standalone").replace(
        gains=Schedule((Band(0.0, 1.0), Band(0.25)), max_pool=2.0), support=Support("none"))
    assert describe.explain(a)[:2] == [
        "Of a gain, a member pools none of the part up to 1% of turnover and 25% of the part "
        "beyond 1%; it pools at most 2% of turnover.",
        "A member bears all of a loss."]
    assert describe.headline(a).startswith("gains pooled: 25% beyond 1% of turnover, at most 2%; "
                                           "losses pooled: none")


def test_reverting_the_edit_clears_the_mark():
    a = load_preset("gain_loss_50_50_deadband")
    b = a.replace(pool=replace(a.pool, max_charge=2.0), description_for=a.parameters_fingerprint)
    back = b.replace(pool=a.pool)
    assert back.description_for is None and back == a


def test_a_new_description_is_taken_as_written_for_the_parameters_in_force():
    a = load_preset("gain_loss_50_50_deadband")
    b = a.replace(pool=replace(a.pool, max_charge=2.0), description_for=a.parameters_fingerprint)
    c = b.replace(description="Charges capped at 2%.", description_for=None)
    assert not describe.edited(c)


def test_the_parameters_fingerprint_ignores_the_words():
    a = load_preset("gain_loss_50_50_deadband")
    renamed = a.replace(name="Another name", description="Other words", sample="")
    assert renamed.parameters_fingerprint == a.parameters_fingerprint
    assert renamed.fingerprint != a.fingerprint
    assert a.replace(scale="support").parameters_fingerprint != a.parameters_fingerprint
    assert len(a.parameters_fingerprint) == 12


# -- the exported file ----------------------------------------------------------------------------
def test_the_toml_starts_with_the_summary_and_reads_back_equal():
    a = load_preset("gain_loss_50_50_deadband")
    b = a.replace(pool=replace(a.pool, max_charge=2.0, max_award=2.0),
                  description_for=a.parameters_fingerprint)
    text = b.to_toml()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments[0] == ("# In words (written by riskshare from the parameters below; not "
                           "read back):")
    header = " ".join(line[1:].strip() for line in comments[1:])
    assert "Charges and awards from the pool are capped at 2% of turnover per member." in header
    assert "The name and description were written for earlier parameters" in header
    assert f'description_for = "{a.parameters_fingerprint}"' in text
    again = rs.load_agreement(text)
    assert again == b and describe.edited(again)
    assert again.to_toml() == text
    # an unedited preset writes no description_for and no note
    assert "description_for" not in a.to_toml() and "edited since" not in a.to_toml()


def test_a_name_with_a_line_break_cannot_escape_the_comment_header():
    a = load_preset("standalone").replace(
        pool=Pool("counterparty", counterparty="X\n[gains]\nbands = 1"),
        gains=Schedule((Band(1.0),)))
    text = a.to_toml()
    assert rs.load_agreement(text) == a
    assert "X\\n[gains]\\nbands = 1" in text.split("\n\n")[0]


@pytest.mark.parametrize("value", ["abc", 12, "0123456789AB", ""])
def test_a_bad_description_for_is_refused_by_key(value):
    a = load_preset("standalone")
    with pytest.raises(ValidationError) as err:
        Agreement.from_dict({**a.to_dict(), "description_for": value})
    assert "key 'description_for'" in str(err.value)
    assert "12-digit fingerprint" in str(err.value)


def test_a_workshop_session_keeps_the_mark():
    from riskshare.workshop.session import load_session, read_session_text

    session = load_session("northshire_workshop")
    label, a = session.agreements[0]
    # the northshire commissioner is the CCG (issue 16)
    edited = a.replace(reserve=Reserve("CCG", 2_000_000.0),
                       description_for=a.parameters_fingerprint)
    changed = replace(session, agreements=((label, edited), *session.agreements[1:]))
    again = read_session_text(changed.to_toml())
    assert again.agreements[0][1] == edited and describe.edited(again.agreements[0][1])


# -- fit ------------------------------------------------------------------------------------------
def test_fit_names_what_the_system_lacks():
    northshire = rs.load_sample("northshire_2018_19")
    assert describe.fit(load_preset("gain_loss_50_50_deadband"), northshire) == ""
    assert describe.fit(load_preset("aca_risk_corridors"), northshire) == (
        "needs member PAYER and column target, not in this system")
    assert describe.fit(load_preset("nec_target_cost"), rs.load_sample("corridor_2")) == (
        "needs member CLI, not in this system")
    assert describe.fit(load_preset("aca_risk_corridors"), rs.load_sample("corridor_2")) == ""


def test_fit_lists_several_members_and_falls_back_to_the_problem():
    workshop = rs.load_sample("workshop_4")
    a = load_preset("standalone").replace(exempt=("X", "Y"))
    assert describe.fit(a, workshop) == "needs members X and Y, not in this system"
    # a column that is there but not > 0 for every member: the check's own words
    b = load_preset("standalone").replace(scale="support")
    assert describe.fit(b, workshop).startswith("key 'scale': the scale column 'support' must be "
                                                "> 0 for every member")


def test_the_member_ledger_marks_an_edited_name():
    a = load_preset("gain_loss_50_50_deadband")
    b = a.replace(pool=replace(a.pool, max_charge=2.0), description_for=a.parameters_fingerprint)
    system = rs.load_sample("workshop_4")
    assert rs.apply(b, system).explain("A").splitlines()[0] == (
        "Acute trust (A) under “Gain/loss share 50:50 beyond 0.5% of turnover, capped at 1%” "
        "(edited)")
    assert rs.apply(a, system).explain("A").splitlines()[0].endswith("capped at 1%”")


def test_the_headline_names_the_published_rule_keys():
    # the one-line summary (sidebar, covers) says what the keys of issue 16 add
    frf = describe.headline(rs.load_agreement("system_support_taper_2020_21"))
    assert "support for deficit control totals only" in frf
    assert ("0.5% of turnover reward at breakeven or better (members planning breakeven or a "
            "surplus)") in frf
    assert "30% performance element (ae_performance)" in describe.headline(
        rs.load_agreement("support_cliff_2018_19"))
    mssp = describe.headline(rs.load_agreement("mssp_one_sided"))
    assert mssp.endswith("gains threshold by beneficiaries; savings kept × quality")
