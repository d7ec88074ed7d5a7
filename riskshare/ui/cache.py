"""The library's pure computations, cached across reruns and sessions (`st.cache_data`).

A rerun happens on every click; what it shows must not be recomputed when nothing it depends on
has changed. Arguments are hashed by content — a System by `System.fingerprint`, an Agreement by
`Agreement.fingerprint` — never by object identity, so an edit that changes a figure always
recomputes and a reload of the same file never does. Errors are not cached: a ValidationError is
raised again on the next call, for the page to show.
"""

from __future__ import annotations

import streamlit as st

from riskshare.agreements.describe import fit as _fit
from riskshare.agreements.incentives import incentives as _incentives
from riskshare.agreements.outcome import apply as _apply
from riskshare.agreements.presets import list_presets as _list_presets
from riskshare.agreements.presets import load_preset as _load_preset
from riskshare.agreements.spec import Agreement
from riskshare.core.system import System
from riskshare.core.write import excel_bytes as _excel_bytes
from riskshare.core.write import template_workbook as _template_workbook
from riskshare.reconciliation.rebalance import rebalance as _rebalance
from riskshare.reconciliation.reconcile import reconcile as _reconcile

HASH_FUNCS = {System: lambda s: s.fingerprint, Agreement: lambda a: a.fingerprint}
ENTRIES = 64   # per function: a workshop's worth of systems and agreements


def _cached(fn):
    return st.cache_data(fn, hash_funcs=HASH_FUNCS, max_entries=ENTRIES, show_spinner=False)


@_cached
def apply(agreement: Agreement, system: System, variances=None):
    """`rs.apply`, cached."""
    return _apply(agreement, system, variances)


@_cached
def incentives(agreement: Agreement, system: System):
    """`rs.incentives`, cached."""
    return _incentives(agreement, system)


@_cached
def reconcile(system: System, unrealistic_pct: float):
    """`rs.reconcile`, cached."""
    return _reconcile(system, unrealistic_pct=unrealistic_pct)


@_cached
def rebalance(system: System, method: str, **request):
    """`rs.rebalance`, cached (an optimised method solves an LP)."""
    return _rebalance(system, method=method, **request)


@_cached
def excel_bytes(system: System) -> bytes:
    """The system as a workbook, cached."""
    return _excel_bytes(system)


@_cached
def template_workbook() -> bytes:
    """The blank input workbook, made once."""
    return _template_workbook()


@st.cache_resource(show_spinner=False)
def presets() -> dict:
    """Every preset agreement by name, in display order, read once per process (an Agreement
    is frozen, so the one copy is shared safely)."""
    return {name: _load_preset(name) for name in _list_presets()}


@_cached
def preset_fit(system: System) -> dict:
    """Why each preset cannot be applied to `system` ("" when it can), by name
    (`describe.fit`)."""
    return {name: _fit(agreement, system) for name, agreement in presets().items()}
