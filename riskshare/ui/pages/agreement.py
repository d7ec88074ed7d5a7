"""Agreement page: choose, upload or edit a risk-share agreement and see what it does to each
member — against its control total, and against standing alone."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from riskshare.agreements import describe
from riskshare.agreements.claims import RULES
from riskshare.agreements.outcome import apply
from riskshare.agreements.presets import preset_header
from riskshare.agreements.spec import (
    DISTRIBUTE,
    TESTS,
    UNEARNED,
    Agreement,
    Schedule,
    read_agreement_text,
)
from riskshare.core.basis import bases
from riskshare.core.errors import ValidationError
from riskshare.core.filenames import export_name
from riskshare.core.format import listed, millions, money_m, share
from riskshare.core.samples import SAMPLES, load_sample
from riskshare.reports import charts
from riskshare.reports.workbooks import outcome_workbook
from riskshare.ui import cache, state
from riskshare.ui.tables import (
    bands_frame,
    bands_from_frame,
    money_m_columns,
    read_text_upload,
    show_validation_error,
    styled_money,
    warn_worse_off,
)
from riskshare.ui.text import md

DISTRIBUTE_LABELS = {"basis": "pro rata to a basis",
                     "counterparty": "all to one member (a counterparty)",
                     "claims": "first to members short of their control total, the rest by basis",
                     "optimise": "so the worst-placed member is as well placed as possible "
                                 "(optimised)"}
RULE_LABELS = {"proportional": "proportional to shortfalls", "cea": "constrained equal awards",
               "cel": "constrained equal losses", "talmud": "Talmud rule",
               "random_arrival": "random arrival"}
TEST_LABELS = {"organisation": "each member against its own control total",
               "system": "the system against the system control total",
               "none": "none: support is earned whatever happens"}
UNEARNED_LABELS = {"lost": "is lost",
                   "redistribute": "goes to members that earned all theirs, pro rata to support"}
WEIGHTS = "__weights__"  # the basis option "weights by member"

st.title("Agreement")
st.markdown("A risk-share agreement passes part of each member's variance (forecast against its "
            "control total) into a pool and shares the pool back. Choose a preset or upload "
            "your own, change any parameter, and see where each member ends up — and whether "
            "it would be better off on its own. Percentages are % of the scale column; shares "
            "are fractions (0.5 = half); money in £m.")
state.show_flash()
state.system_caption()
system = state.current_system()
agreement = state.current_agreement()
members = list(system.members)
# Editing widgets reset when a new agreement or a new system is loaded.
k = f"{state.agreement_version()}_{state.version()}"


#: The keys of each section the page's widgets write (the others are carried over unedited).
EDITED_KEYS = {
    "gains": {"bands", "threshold", "below_threshold_pool", "max_pool", "max_keep"},
    "losses": {"bands", "threshold", "below_threshold_pool", "max_pool", "max_keep"},
    "pool": {"distribute", "basis", "counterparty", "rule", "max_charge", "max_award"},
    "support": {"test", "system_share", "after_sharing", "taper", "unearned"},
}


def member_label(org_id: str) -> str:
    if org_id in system.orgs.index:
        return f"{org_id} · {system.orgs.loc[org_id, 'name']}"
    return f"{org_id} (not a member of this system)"


def with_current(options: list, current) -> list:
    """The options, plus the agreement's current value when it is not one of them (so a value
    that does not fit this system is shown, and reported by the check below)."""
    return options + [current] if current is not None and current not in options else options


def default_member() -> str:
    """The commissioner when there is one (the usual counterparty or reserve holder)."""
    commissioners = [m for m in members if system.orgs.loc[m, "kind"] == "commissioner"]
    return (commissioners or members)[0]


# -- choose ------------------------------------------------------------------------------------
def _choose_preset() -> None:
    name = st.session_state["preset_choice"]
    preset = cache.presets()[name]
    state.load_agreement(preset, f"preset: {name}", f"Now using the preset “{preset.name}”.",
                         preset=name)


with st.container(border=True):
    st.subheader("Choose an agreement")
    left, right = st.columns(2, gap="large")
    with left:
        catalogue = cache.presets()
        presets = list(catalogue)
        names = {p: a.name for p, a in catalogue.items()}
        unfit = {p: why for p, why in cache.preset_fit(system).items() if why}

        def preset_label(p: str) -> str:
            """The preset's name, marked when it cannot be applied to the current system."""
            return f"{names[p]} — does not fit this system" if p in unfit else names[p]

        # When which presets fit changes (another system loaded), the choice is set again
        # through session state: the browser otherwise keeps showing the chosen preset's old
        # label ("— does not fit this system"), as it does for any format_func change
        # (streamlit/streamlit#13788).
        fit_sig = hashlib.sha1("|".join(sorted(unfit)).encode()).hexdigest()
        if st.session_state.get("rs_preset_fit") != fit_sig:
            st.session_state["rs_preset_fit"] = fit_sig
            st.session_state["preset_choice"] = state.chosen_preset()
        choice = st.selectbox("Preset", presets, index=presets.index(state.chosen_preset()),
                              format_func=preset_label, key="preset_choice",
                              on_change=_choose_preset,
                              help="Choosing a preset replaces the current agreement. Presets "
                                   "marked “does not fit this system” name members or columns "
                                   "the current system lacks; choosing one offers its sample "
                                   "system.")
        assert choice is not None   # the options are never empty and an index is given
        if choice in unfit:
            st.warning(f"**{md(names[choice])}** {md(unfit[choice])}.",
                       icon=":material/block:")
        st.caption(preset_header(choice))
        if unfit:
            st.caption(f"{len(unfit)} of {len(presets)} presets do not fit this system and are "
                       "marked in the list (they name members or columns it lacks).")
        choose_slot = st.container()  # filled once edits are applied (below)
    with right:
        upload = st.file_uploader("Or upload an agreement (.toml)", type=["toml"],
                                  key=f"agreement_upload_{state.agreement_version()}",
                                  help="A TOML file as downloaded below (or one of the presets "
                                       "in models/). It must fit the current system.")
        if upload is not None:
            def read_fitting(text: str, name: str):
                try:
                    loaded = read_agreement_text(text, name)
                except ValidationError:
                    # every problem at once: the file's own, and those against the current
                    # system (members named, columns present) in the same message
                    read_agreement_text(text, name, system)
                    raise
                apply(loaded, system)  # does it fit the current system? (members, columns)
                return loaded

            loaded = read_text_upload(upload, read_fitting)
            if loaded is not None:
                state.load_agreement(loaded, f"upload: {upload.name}",
                                     f"Loaded “{loaded.name}” from {upload.name}.")
                st.rerun()
        current_slot = st.container()


# -- edit --------------------------------------------------------------------------------------
def optional_cap(container, label: str, value: float | None, key: str, help: str):
    """A number that may be left blank (no cap): returns None when blank."""
    return container.number_input(label, value=None if value is None
                                  else float(value), step=0.1, format="%.2f",
                                  placeholder="no cap", key=f"{key}_{k}",
                                  help=help + " Leave blank for no cap.")


def schedule_inputs(which: str, sched: Schedule, scale: str) -> dict:
    """Widgets for the gains or losses schedule; returns the TOML section as a dict."""
    word = {"gains": "gain", "losses": "loss"}[which]
    editor_key = f"{which}_bands_{k}"
    base_key = f"rs_{which}_bands_base"
    if editor_key not in st.session_state or base_key not in st.session_state:
        # A fresh editor (new load, or back from another page): start from the agreement.
        st.session_state[base_key] = bands_frame(sched)
    cc = st.column_config
    edited = st.data_editor(
        st.session_state[base_key], key=editor_key, num_rows="dynamic", hide_index=True,
        width="stretch", placeholder="no upper end",
        column_config={
            "upto": cc.NumberColumn(f"band up to (% of {scale})", format="%.2f",
                                    help="Upper end of the band, % of the scale column. Leave "
                                         "it blank on the last band, which has no upper end."),
            "pool": cc.NumberColumn("share pooled (0–1)", format="%.2f",
                                    help=f"Of each £ of the {word} within this band, the share "
                                         "passed to the pool (0.5 = half); the member keeps "
                                         "the rest.")})
    st.caption("The last band's “band up to” is left empty (“no upper end”). Add or delete "
               "rows to change the bands.")
    section: dict = {"bands": bands_from_frame(edited)}
    threshold_on = st.checkbox(
        "First-pound threshold", value=sched.threshold is not None,
        key=f"{which}_threshold_on_{k}",
        help=f"Below the threshold, the share set on the right of the whole {word} is pooled; "
             "at or above it the bands apply from the first £.")
    c1, c2 = st.columns(2)
    threshold = c1.number_input(f"threshold (% of {scale})", value=2.0 if sched.threshold is None
                                else float(sched.threshold), step=0.1,
                                format="%.2f", key=f"{which}_threshold_{k}",
                                disabled=not threshold_on)
    below = c2.number_input("share pooled below it (0–1)",
                            value=float(sched.below_threshold_pool), step=0.05, format="%.2f",
                            key=f"{which}_below_threshold_pool_{k}", disabled=not threshold_on)
    if threshold_on:
        section["threshold"] = threshold
        section["below_threshold_pool"] = below
    c1, c2 = st.columns(2)
    of = sched.caps_of or scale       # the caps' column: `caps_of` when the file names one
    max_pool = optional_cap(c1, f"Pooled at most (% of {of})", sched.max_pool,
                            f"{which}_max_pool",
                            f"At most this % of {of} is pooled from a member's {word}.")
    max_keep = optional_cap(c2, f"Kept at most (% of {of})", sched.max_keep,
                            f"{which}_max_keep",
                            f"The member keeps at most this % of {of} of a {word}; the "
                            "rest is pooled.")
    if max_pool is not None:
        section["max_pool"] = max_pool
    if max_keep is not None:
        section["max_keep"] = max_keep
    return section


st.subheader("Edit the agreement")
st.caption("Changes apply as soon as the whole agreement is valid; until then the results keep "
           "using the last valid agreement.")
scales = bases(system)
tab_schedules, tab_pool, tab_reserve, tab_support, tab_scope = st.tabs(
    ["Gains and losses", "Pool", "Reserve", "Support funding",
     "Name, scale and exempt members"])

with tab_scope:  # first in the script: the scale's name labels the other tabs
    c1, c2 = st.columns(2, gap="large")
    with c1:
        name = st.text_input("Name", value=agreement.name, key=f"name_{k}")
        scale_options = with_current(scales, agreement.scale)
        scale = st.selectbox("Scale: the column the percentages refer to", scale_options,
                             index=scale_options.index(agreement.scale), key=f"scale_{k}")
    with c2:
        description = st.text_area("Description (your own words)", value=agreement.description,
                                   height=68, key=f"description_{k}",
                                   help="Kept as you write it. What the agreement does is "
                                        "always summarised from its parameters under “What "
                                        "the agreement does”.")
        description_slot = st.container()  # says whether it was written for other parameters
        exempt_options = members + [m for m in agreement.exempt if m not in members]
        exempt = st.multiselect("Exempt members: their own variance is not shared (they still "
                                "take part in the distribution)", exempt_options,
                                default=list(agreement.exempt), format_func=member_label,
                                key=f"exempt_{k}")

with tab_schedules:
    g, lo = st.columns(2, gap="large")
    with g:
        st.markdown("**Gains** (favourable variance): how much of a member's underspend or "
                    "surplus is pooled")
        gains = schedule_inputs("gains", agreement.gains, md(scale))
    with lo:
        st.markdown("**Losses** (adverse variance): how much of a member's overspend or "
                    "deficit is pooled")
        losses = schedule_inputs("losses", agreement.losses, md(scale))

with tab_pool:
    c1, c2 = st.columns(2, gap="large")
    p = agreement.pool
    with c1:
        distribute = st.selectbox("The net pool goes", DISTRIBUTE,
                                  index=DISTRIBUTE.index(p.distribute),
                                  format_func=lambda d: DISTRIBUTE_LABELS[d],
                                  key=f"distribute_{k}")
        inline = isinstance(p.basis, tuple)
        basis_options = with_current(["equal", *scales], None if inline else p.basis)
        basis_options.append(WEIGHTS)
        basis = st.selectbox("Basis (pro rata to)", basis_options,
                             index=basis_options.index(WEIGHTS if inline else p.basis),
                             format_func=lambda b: {"equal": "equal shares",
                                                    WEIGHTS: "weights by member"}.get(b, b),
                             key=f"basis_{k}",
                             disabled=distribute in ("counterparty", "optimise"))
        if basis == WEIGHTS and distribute not in ("counterparty", "optimise"):
            weights_key = f"weights_{k}"
            if weights_key not in st.session_state or "rs_weights_base" not in st.session_state:
                # start from the agreement's weights, or equal ones
                agreed = dict(p.basis) if isinstance(p.basis, tuple) else {}
                ids = members + [m for m in agreed if m not in members]
                st.session_state["rs_weights_base"] = pd.DataFrame(
                    {"org_id": ids, "weight": [float(agreed.get(m, 0.0 if agreed else 1.0))
                                               for m in ids]})
            edited_weights = st.data_editor(
                st.session_state["rs_weights_base"], key=weights_key, hide_index=True,
                disabled=["org_id"],
                column_config={"weight": st.column_config.NumberColumn(
                    "weight", format="%.2f",
                    help="Shares of the pool are proportional to these weights.")})
            basis_value = {str(r.org_id): float(r.weight) for r in edited_weights.itertuples()
                           if not pd.isna(r.weight)}
        else:
            basis_value = basis
        counterparty_options = with_current(members, p.counterparty)
        counterparty = st.selectbox(
            "Counterparty: takes the whole net pool", counterparty_options,
            index=counterparty_options.index(p.counterparty or default_member()),
            format_func=member_label, key=f"counterparty_{k}",
            disabled=distribute != "counterparty")
        rule = st.selectbox("Rule for the claims of members short of their control total",
                            list(RULES), index=list(RULES).index(p.rule),
                            format_func=lambda r: RULE_LABELS.get(r, r), key=f"rule_{k}",
                            disabled=distribute != "claims")
    with c2:
        max_charge = optional_cap(
            st, f"Cap on the charge to a member from a net loss (% of {md(scale)})", p.max_charge,
            "max_charge", "What a cap leaves over is spread over the other members; what nobody "
            "can take is reported as unallocated.")
        max_award = optional_cap(
            st, f"Cap on the award to a member from a net gain (% of {md(scale)})", p.max_award,
            "max_award", "What a cap leaves over is spread over the other members; what nobody "
            "can take is reported as unallocated.")
    pool: dict = {"distribute": distribute, "basis": basis_value}
    if distribute == "counterparty":
        pool["counterparty"] = counterparty
    if distribute == "claims":
        pool["rule"] = rule
    if max_charge is not None:
        pool["max_charge"] = max_charge
    if max_award is not None:
        pool["max_award"] = max_award

with tab_reserve:
    r = agreement.reserve
    reserve_on = st.checkbox("A reserve absorbs a net pooled loss first", value=r is not None,
                             key=f"reserve_on_{k}",
                             help="The holder is charged what the reserve absorbs.")
    c1, c2 = st.columns(2, gap="large")
    holder_options = with_current(members, r.holder if r else None)
    holder = c1.selectbox("Held by", holder_options,
                          index=holder_options.index(r.holder if r else default_member()),
                          format_func=member_label, key=f"reserve_holder_{k}",
                          disabled=not reserve_on)
    amount = c2.number_input("Amount (£)", value=float(r.amount) if r else 1_000_000.0,
                             step=100_000.0, format="%.2f",
                             key=f"reserve_amount_{k}", disabled=not reserve_on)
    c2.caption(f"= {money_m(amount, 2)}")

with tab_support:
    s = agreement.support
    c1, c2 = st.columns(2, gap="large")
    test = c1.selectbox("Support funding is tested on", TESTS, index=TESTS.index(s.test),
                        format_func=lambda t: TEST_LABELS[t], key=f"support_test_{k}")
    system_share = c1.number_input(
        "Part of each member's support tied to the system test instead (0–1)",
        value=float(s.system_share), step=0.05, format="%.2f",
        key=f"support_system_share_{k}", disabled=test != "organisation")
    after_sharing = c1.checkbox("Test the position after the risk share (untick: before it)",
                                value=s.after_sharing, key=f"support_after_sharing_{k}",
                                disabled=test == "none")
    taper = c2.number_input(f"Taper (% of {md(scale)} below target; 0 = cliff edge)",
                            value=float(s.taper), step=0.1, format="%.2f",
                            key=f"support_taper_{k}", disabled=test == "none",
                            help="Support is earned linearly over this width below the target "
                                 "instead of all or nothing.")
    unearned = c2.selectbox("Support a member does not earn", UNEARNED,
                            index=UNEARNED.index(s.unearned),
                            format_func=lambda u: UNEARNED_LABELS[u],
                            key=f"support_unearned_{k}", disabled=test == "none")
    support = {"test": test, "after_sharing": after_sharing, "taper": taper,
               "unearned": unearned}
    if test == "organisation":
        support["system_share"] = system_share

# keys the page has no widget for (a line variance, rule tables and columns of published rules,
# support rules) are carried over as the agreement has them, never dropped by an edit
loaded = agreement.to_dict()
kept: dict[str, dict] = {
    section: {key: value for key, value in loaded.get(section, {}).items()
              if key not in EDITED_KEYS[section]}
    for section in EDITED_KEYS}
document = {"name": name, "description": description, "sample": agreement.sample,
            "scale": scale, "exempt": exempt, "gains": {**kept["gains"], **gains},
            "losses": {**kept["losses"], **losses}, "pool": {**kept["pool"], **pool},
            "support": {**kept["support"], **support}}
if "variance" in loaded:
    document["variance"] = loaded["variance"]
carried = sorted({f"{section}.{key}" for section, keys in kept.items() for key in keys}
                 | ({"variance"} if "variance" in loaded else set()))
if name == agreement.name and description == agreement.description:
    # the name and description stay those written for the parameters before any edit; a new
    # name or description is taken as written for the parameters in force
    document["description_for"] = agreement.description_for or agreement.parameters_fingerprint
if reserve_on:
    document["reserve"] = {"holder": holder, "amount": amount}
try:
    candidate = Agreement.from_dict(document, source="the agreement as edited")
except ValidationError as exc:
    show_validation_error(exc, "Your changes are not applied yet —")
    st.caption("The results below keep using the last valid agreement until these are fixed.")
else:
    state.update_agreement(candidate)
    agreement = state.current_agreement()
if carried:
    st.caption(md("Also in force, kept as the file has them (edit them in the TOML and upload "
                  "it): " + ", ".join(carried) + "."))

source = state.agreement_source()
# what the name and description were written for: the file loaded, if edited here since
written_for = ("earlier parameters" if "(edited)" not in source else "the preset"
               if source.startswith("preset") else "the uploaded file"
               if source.startswith("upload") else "earlier parameters")
with current_slot:
    st.caption(f"**Current agreement:** {md(describe.title(agreement))} · {md(source)}")
with description_slot:
    if describe.edited(agreement):
        st.caption(f"The name and description were written for {written_for}; the parameters "
                   "have been edited since. Edit either to describe the parameters in force.")
with choose_slot:
    if agreement != cache.presets()[choice]:
        if st.button(f"Use the preset “{names[choice]}”", key="preset_reuse",
                     help="Replace the current agreement (and any changes) with this preset."):
            _choose_preset()
            st.rerun()
    sample = agreement.sample
    if sample in SAMPLES and not system.equals(load_sample(sample)):
        title = SAMPLES[sample].title
        st.caption(f"“{md(agreement.name)}” is designed for the sample system **{md(title)}**; "
                   f"the current system is {md(system.label)}.")
        if st.button(f"Load its sample system ({title})", key="load_agreement_sample") and \
                state.request_load(load_sample(sample), f"sample: {title}",
                                   f"Loaded the sample {title}, which “{agreement.name}” is "
                                   "designed for.", origin="agreement"):
            st.rerun()
    state.confirm_pending("agreement")

# -- outcome -----------------------------------------------------------------------------------
st.header("What the agreement does", anchor="outcome")
st.caption(f"**{md(describe.title(agreement))}** on **{md(system.label)}**")
with st.container(border=True):
    # written from the parameters in force, never from the name or description
    st.markdown("**In words:** " + " ".join(md(s) for s in describe.explain(agreement)))
    if agreement.description:
        if describe.edited(agreement):
            st.caption(f"*Description, written for {written_for}; parameters edited since:* "
                       f"{md(agreement.description)}")
        else:
            st.caption(f"*Description:* {md(agreement.description)}")
outcome = inc = None
problems = agreement.check(system)
if problems:
    show_validation_error(ValidationError(problems, f"agreement '{agreement.name}' on "
                                                    f"{system.label}"),
                          "This agreement does not fit the current system —")
    st.caption("Change the parameters named above, or load the system the agreement is "
               "designed for.")
else:
    try:
        outcome = cache.apply(agreement, system)
        inc = cache.incentives(agreement, system)
    except ValidationError as exc:
        show_validation_error(exc, "This agreement cannot be applied —")
        outcome = inc = None

if outcome is not None and inc is not None:   # both, or neither (see above)
    line = outcome.system
    m = st.columns(6)
    m[0].metric("Net pool", money_m(line["pool"], 2),
                help="Σ pooled: positive when members pool a net gain, negative for a net loss.")
    m[1].metric("Reserve used", money_m(line["reserve_used"], 2))
    m[2].metric("Unallocated", money_m(line["unallocated"], 2),
                help="What caps left with nobody: the pool that no member could take.")
    m[3].metric("Support earned", money_m(line["support_earned_total"], 2),
                help=f"Of {money_m(line['support_at_stake'], 2)} at stake.")
    m[4].metric("Support lost", money_m(line["support_lost"], 2))
    m[5].metric("System outturn", money_m(line["system_outturn"], 2),
                delta=f"{money_m(line['sct_variance'], 2, sign=True)} vs SCT",
                help="Σ outturn excluding support, and its distance from the system control "
                     f"total ({money_m(system.control_total, 2)}).")

    if not warn_worse_off(outcome, "They would do better outside the agreement."):
        st.success("Every member is at least as well off as it would be on its own.",
                   icon=":material/check_circle:")

    st.altair_chart(charts.member_walk(outcome), width="stretch")

    st.subheader("Members")
    st.caption("£m. Outturn = control total + retained + received; final = outturn + support "
               "earned; standalone = the final position with no agreement. Rows of members "
               "worse off than standalone are shaded.")
    member_money = {"control_total": "control total", "variance": "variance", "pooled": "pooled",
                    "retained": "retained", "received": "received",
                    "net_transfer": "net transfer", "outturn": "outturn",
                    "support_earned": "support earned", "final": "final",
                    "standalone": "standalone", "vs_standalone": "vs standalone"}
    members_table = outcome.table.reset_index()
    st.dataframe(styled_money(members_table, list(member_money),
                              highlight=members_table["org_id"].isin(outcome.worse_off)),
                 hide_index=True, width="stretch", placeholder="—",
                 column_order=["org_id", *member_money],
                 column_config={**money_m_columns(member_money),
                                "org_id": st.column_config.TextColumn("org_id", pinned=True)})

    st.subheader("Incentives and participation")
    st.caption("At each member's current position: of one more £ of gain (loss), the share it "
               "keeps (bears) — 100% is the full incentive of standing alone; support earned per "
               "extra £ (non-zero inside a taper); the support that hangs on a cliff edge, and "
               "how far (£m) the member's tested position is above (+) or below (−) that edge.")
    t = inc.table.reset_index()
    cliff_money = ["cliff_exposure", "vs_standalone"]
    # blank (NaN) when no support hangs on a cliff edge: say so rather than show "None"
    t["distance_to_cliff"] = [("no cliff edge" if pd.isna(d) else
                               millions(d / 1e6)) for d in t["distance_to_cliff"]]
    # Labels only (no number formats), so the Styler's display text is what shows.
    # shares by the one percent rule: a rate a hair below zero reads "0.0%", never "-0.0%"
    st.dataframe(styled_money(t, cliff_money, highlight=t["worse_off"]).format(
                     lambda v: share(v, 1), subset=["retention_gain", "retention_loss"]).format(
                     lambda v: f"{round(v, 2) + 0.0:.2f}", subset=["support_per_pound"]),
                 hide_index=True, width="stretch", placeholder="—",
                 column_order=["org_id", "retention_gain", "retention_loss",
                               "support_per_pound", "cliff_exposure", "distance_to_cliff",
                               "vs_standalone", "worse_off"],
                 column_config={
                     "org_id": st.column_config.TextColumn("org_id", pinned=True),
                     "retention_gain": "keeps of a £1 gain",
                     "retention_loss": "bears of a £1 loss",
                     "support_per_pound": "support per £",
                     "cliff_exposure": "support on a cliff edge £m",
                     "distance_to_cliff": st.column_config.TextColumn(
                         "distance to the edge £m", alignment="right"),
                     "vs_standalone": "vs standalone £m",
                     "worse_off": st.column_config.CheckboxColumn("worse off?")})
    sentences = []
    if inc.worse_off:
        sentences.append(f"**Worse off than on their own ({len(inc.worse_off)} of {system.n}, "
                         "shaded):** " + listed(md(m) for m in inc.worse_off) + ".")
    else:
        sentences.append("**No member would be better off on its own.**")
    weakest = t.loc[(t["retention_gain"] + t["retention_loss"]).idxmin()]
    if min(weakest["retention_gain"], weakest["retention_loss"]) < 1:
        sentences.append(f"**Weakest incentive:** {md(weakest['org_id'])} keeps "
                         f"{share(weakest['retention_gain'], 1)} of an extra £1 gain and bears "
                         f"{share(weakest['retention_loss'], 1)} of an extra £1 loss.")
    st.markdown(" ".join(sentences))
    st.altair_chart(charts.retention_chart(inc.table), width="stretch")

    st.subheader("Explain one member")
    who = st.selectbox("Member", members, format_func=member_label, key=f"explain_member_{k}")
    with st.container(border=True):
        first, *steps = outcome.explain(who).splitlines()
        st.markdown(f"**{md(first)}**\n\n" + "  \n".join(md(step) for step in steps))

# -- downloads ---------------------------------------------------------------------------------
slug = "".join(ch if ch.isalnum() else "_" for ch in agreement.name.lower()).strip("_")
slug = "_".join(filter(None, slug.split("_")))[:60] or "agreement"
d1, d2, _ = st.columns([1, 1, 2])
d1.download_button("Download the agreement (.toml)", agreement.to_toml(),
                   file_name=f"{slug}.toml", key="dl_agreement_toml", mime="application/toml",
                   on_click="ignore")
d2.download_button("Download the results (.xlsx)",
                   # made only when asked for (a workbook takes a moment to write)
                   (lambda: outcome_workbook(outcome, inc)) if outcome is not None else b"",
                   file_name=export_name(system.label, f"results {agreement.name}", "xlsx"),
                   key="dl_agreement_xlsx",
                   disabled=outcome is None, on_click="ignore",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
