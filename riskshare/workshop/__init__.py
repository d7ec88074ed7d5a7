"""Workshops: a session file (a system, labelled agreements, scenario settings, shocks and
steps) played step by step in front of a room, with live what-ifs, and the reports that record it.

    session = load_session("northshire_workshop")     # a bundled name, TOML text or a path
    v = view(session, 3, WhatIf(values=(("pool_share", 0.75),)))
    v.figures, v.sentences, v.table, v.chart          # what the room sees

Modules: `session` (the file format and its validation), `whatif` (the knobs), `steps` (what
each step shows), `report` (the session workbook), `printable` (HTML and PDF).
"""

from riskshare.workshop.session import (
    STEP_KINDS,
    Session,
    Step,
    WhatIf,
    draft_session,
    list_sessions,
    load_session,
)
from riskshare.workshop.steps import Figure, StepView, system_at, view, views
from riskshare.workshop.whatif import (
    KNOBS,
    LIMITS,
    Knob,
    KnobSetting,
    changed_agreement,
    changed_register,
    changed_rules,
    describe_changes,
    item_labels,
    knobs,
    target_item,
    target_label,
    uses_register,
)

__all__ = ["Session", "Step", "WhatIf", "STEP_KINDS", "load_session", "list_sessions",
           "draft_session", "view", "views", "StepView", "Figure", "system_at", "KNOBS",
           "LIMITS", "Knob", "KnobSetting", "knobs", "target_label", "changed_agreement",
           "describe_changes", "item_labels", "target_item", "uses_register",
           "changed_register", "changed_rules"]
