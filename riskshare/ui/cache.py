"""The library's pure computations, cached across reruns and sessions (`st.cache_data`).

A rerun happens on every click; what it shows must not be recomputed when nothing it depends on
has changed. Arguments are hashed by content — a System by `System.fingerprint`, an Agreement by
`Agreement.fingerprint` — never by object identity, so an edit that changes a figure always
recomputes and a reload of the same file never does. Errors are not cached: a ValidationError is
raised again on the next call, for the page to show.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import streamlit as st

from riskshare.agreements.describe import fit as _fit
from riskshare.agreements.incentives import incentives as _incentives
from riskshare.agreements.outcome import apply as _apply
from riskshare.agreements.presets import list_presets as _list_presets
from riskshare.agreements.presets import load_preset as _load_preset
from riskshare.agreements.spec import Agreement
from riskshare.core.monthly import Monthly
from riskshare.core.register import Register
from riskshare.core.system import System
from riskshare.core.write import excel_bytes as _excel_bytes
from riskshare.core.write import template_workbook as _template_workbook
from riskshare.reconciliation.rebalance import rebalance as _rebalance
from riskshare.reconciliation.reconcile import reconcile as _reconcile
from riskshare.years.rules import Rules

#: Digests already worked out, by object: a System or Monthly is never changed in place (an
#: edit makes a new one), and a page passes the same one to several cached calls every rerun
#: (a 40-member system's digest takes milliseconds).
_DIGESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fingerprint_of(obj: System | Monthly) -> str:
    """`obj.fingerprint`, worked out once per object."""
    digest = _DIGESTS.get(obj)
    if digest is None:
        digest = _DIGESTS[obj] = obj.fingerprint
    return digest


HASH_FUNCS: dict[str | type[Any], Callable[[Any], Any]] = {
    System: fingerprint_of, Agreement: lambda a: a.fingerprint, Monthly: fingerprint_of,
    Register: lambda r: r.fingerprint, Rules: lambda r: r.to_toml()}
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
def excel_bytes(system: System, monthly: Monthly | None = None,
                register: Register | None = None) -> bytes:
    """The system as a workbook (with its monthly sheet when given the monthly table and its
    risks sheet when given the register), cached."""
    return _excel_bytes(system, monthly, register)


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


# -- in year -------------------------------------------------------------------------------------
# Keyed on (system, monthly table, agreement) fingerprints and the month, forecast method and
# scenario settings, so moving the month back to one already seen redraws without recomputing.
@_cached
def sample_monthly(name: str, system: System) -> Monthly | None:
    """A sample's bundled monthly table (`rs.load_sample_monthly`), read once."""
    from riskshare.core.samples import sample_monthly as _sample_monthly

    return _sample_monthly(name, system)


@_cached
def sample_register(name: str, system: System):
    """A sample's bundled risk register (`rs.load_sample_register`), read once; None when it
    has none."""
    from riskshare.core.samples import sample_register as _sample_register

    return _sample_register(name, system)


@_cached
def in_year(system: System, monthly: Monthly, month: int, method: str):
    """`rs.in_year`, cached."""
    from riskshare.inyear.position import in_year as _in_year

    return _in_year(system, monthly, month, forecast=method)


@_cached
def in_year_outcome(agreement: Agreement, system: System, monthly: Monthly, month: int,
                    method: str):
    """`rs.apply(agreement, system, monthly=rs.in_year(...))`: the agreement on the in-year
    forecast, cached."""
    return _apply(agreement, system, monthly=in_year(system, monthly, month, method))


@st.cache_data(hash_funcs=HASH_FUNCS, max_entries=ENTRIES, show_spinner=False)
def landing(system: System, monthly: Monthly, agreement: Agreement | None, month: int,
            method: str, n: int, seed: int, correlation: float = 0.3, shocks: tuple = (),
            volatility_scale: float = 1.0, register: Register | None = None,
            register_mode: str = "add", event_correlation: float = 0.0):
    """`rs.landing`, cached. The scenarios drawn are not kept (only the fan's tables and the
    year they were drawn from): a cached fan of 100,000 scenarios stays a few kilobytes."""
    from riskshare.inyear.fan import landing as _landing

    land = _landing(system, monthly, agreement, month=month, forecast=method, n=n, seed=seed,
                    correlation=correlation, shocks=shocks, volatility_scale=volatility_scale,
                    register=register, register_mode=register_mode,
                    event_correlation=event_correlation)
    return land.slim()          # the table and the fan by month, without the scenarios' arrays


@_cached
def cumulative_chart(system: System, monthly: Monthly, agreement: Agreement | None, month: int,
                     method: str, fan: tuple | None, org_id: str, label: str,
                     height: int = 300) -> dict:
    """`charts.cumulative_chart` for one member or the system as a Vega-Lite spec, cached: a
    layered chart takes a tenth of a second to build and check, every rerun. `fan` is
    `landing`'s arguments after `method` (n, seed, correlation, shocks, volatility scale), or
    None for no fan."""
    from riskshare.reports.charts import cumulative_chart as _chart

    band = None if fan is None else landing(system, monthly, agreement, month, method,
                                            *fan).months
    return _chart(in_year(system, monthly, month, method), org_id, label, band,
                  height=height).to_dict(validate=False)   # built by our own code: valid


# -- risks ---------------------------------------------------------------------------------------
# The Risks page redraws after every edit of the register. What an edit of a probability or an
# amount does not change is kept as it was drawn (`st.cache_resource`: the arrays themselves, not
# a copy): the scenarios of the members' volatility, and each event's draws, keyed on the
# events' labels — so a changed probability is a new threshold on the same draws
# (`rs.with_register`), not a new simulation.
SCENARIO_ENTRIES = 4


@st.cache_resource(hash_funcs=HASH_FUNCS, max_entries=SCENARIO_ENTRIES, show_spinner=False)
def volatility_scenarios(system: System, n: int, seed: int, correlation: float,
                         kind_correlation: float, distribution: str, df: float,
                         volatility_scale: float, shocks: tuple = ()):
    """`rs.simulate` without a register, kept (shared, never changed in place)."""
    from riskshare.scenarios.simulate import simulate

    return simulate(system, n, seed=seed, correlation=correlation,
                    kind_correlation=kind_correlation, distribution=distribution, df=df,
                    volatility_scale=volatility_scale, shocks=shocks)


@st.cache_resource(hash_funcs=HASH_FUNCS, max_entries=SCENARIO_ENTRIES, show_spinner=False)
def event_latents(system: System, labels: tuple[str, ...], n: int, seed: int,
                  event_correlation: float, _register: Register):
    """The register's events' draws (`rs.register_latents`), keyed on the events' labels (not
    the probabilities or amounts), kept."""
    from riskshare.scenarios.simulate import register_latents

    return register_latents(system, _register, n, seed, event_correlation)


@_cached
def risk_adjusted(system: System, register: Register):
    """`rs.risk_adjusted`, cached."""
    from riskshare.risks.adjusted import risk_adjusted as _risk_adjusted

    return _risk_adjusted(system, register)


def register_scenarios(system: System, register: Register, n: int, settings: tuple, mode: str,
                       event_correlation: float):
    """The scenarios drawn with the register from the kept volatility scenarios and events'
    draws (`rs.with_register`): the same as `rs.simulate(..., register=...)` gives. `settings`
    as `risk_scenarios`."""
    from riskshare.scenarios.events import register_events
    from riskshare.scenarios.simulate import with_register

    plain = volatility_scenarios(system, n, *settings)
    labels = register_events(register, system).labels
    draws = event_latents(system, labels, n, settings[0], event_correlation, register)
    return with_register(plain, register, mode, event_correlation, draws)


@_cached
def risk_scenarios(system: System, register: Register, agreement: Agreement, n: int,
                   settings: tuple, mode: str, event_correlation: float) -> dict:
    """The reserve needed at 80/90/95% (`rs.reserve_needed`) and the ranking of the events
    (`rs.rank_events`) on `n` scenarios drawn with the register, cached; `settings` are the
    volatility's (seed, correlation, kind correlation, distribution, df, volatility scale,
    shocks). Also the scenarios' description."""
    from riskshare.risks.ranking import rank_events
    from riskshare.risks.reserve import reserve_needed

    sc = register_scenarios(system, register, n, settings, mode, event_correlation)
    from riskshare.agreements.describe import title as agreement_title
    from riskshare.reports.charts import tornado_chart

    ranking = rank_events(system, sc, agreement)
    return {"sizing": reserve_needed(system, sc, agreement), "ranking": ranking,
            "describe": sc.describe(),
            # the chart as a Vega-Lite spec, built once: building one takes a twentieth of a
            # second, every rerun
            "tornado": tornado_chart(ranking, n=n,
                                     under=f"under “{agreement_title(agreement)}”"
                                     ).to_dict(validate=False)}


@_cached
def risk_waterfall(system: System, register: Register, row: str, label: str) -> dict:
    """`charts.risk_waterfall` for one member or the system as a Vega-Lite spec, cached."""
    from riskshare.reports.charts import risk_waterfall as _chart

    return _chart(risk_adjusted(system, register).table, row, label).to_dict(validate=False)


# -- the years ahead ---------------------------------------------------------------------------------
@_cached
def project(system: System, rules: Rules | None, years: int, agreement: Agreement | None,
            register: Register | None):
    """`rs.project` at the plan (no scenarios), cached."""
    from riskshare.years.project import project as _project

    return _project(system, rules, years=years, agreement=agreement, register=register)


@_cached
def years_bridge(system: System, rules: Rules | None, years: int, agreement: Agreement | None,
                 register: Register | None, who: str, label: str) -> dict:
    """`charts.years_bridge` for one member or the system as a Vega-Lite spec, cached."""
    from riskshare.reports.charts import years_bridge as _chart

    return _chart(project(system, rules, years, agreement, register), who,
                  label).to_dict(validate=False)


@_cached
def project_scenarios(system: System, rules: Rules | None, years: int,
                      agreement: Agreement | None, register: Register | None, n: int,
                      settings: tuple, mode: str, event_correlation: float):
    """`rs.project` across `n` scenarios (drawn as the Risks page draws them when a register is
    given, else the volatility alone), cached; `settings` as `risk_scenarios`."""
    from riskshare.years.project import project as _project

    if register is not None and mode in ("add", "instead"):
        sc = register_scenarios(system, register, n, settings, mode, event_correlation)
    else:
        sc = volatility_scenarios(system, n, *settings)
    return _project(system, rules, years=years, agreement=agreement, register=register,
                    scenarios=sc), sc.describe()


@_cached
def capital_chart(capital) -> dict:
    """`charts.capital_chart` for one holder's capital by year, as a Vega-Lite spec, cached."""
    from riskshare.reports.charts import capital_chart as _chart

    return _chart(capital).to_dict(validate=False)
