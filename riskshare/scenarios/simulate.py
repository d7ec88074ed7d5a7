"""Monte Carlo scenarios of members' variances (docs/workshop.md, scenario settings; issue 4).

`simulate(system, n, seed=..., correlation=..., ...)` returns `Scenarios`: an (n × members)
array of variances (£, forecast − control total plus a random draw plus any shocks) and what made
them. Same seed, same numbers.

The draw for member i in scenario s is

    volatility_i% × turnover_i × ( √ρ·Z_s + √ρ_k·K_{s,kind(i)} + √(1 − ρ − ρ_k)·ε_{s,i} )

with Z the common system factor, K one factor per kind of member (optional, `kind_correlation`
ρ_k) and ε independent, all standard normal; so any two members correlate at ρ (ρ + ρ_k within a
kind) and each has standard deviation volatility% of turnover. Volatility comes from the
`volatility` column, else the default for the member's kind (`schema.KINDS`).

With `distribution="t"` the normal vector of each scenario is divided by √(W/df), W ~ χ²(df),
and rescaled by √((df − 2)/df): a multivariate t with the same standard deviations and
correlations but fatter, jointly occurring tails (df > 2).

Each part of the draw has its own random stream, derived from the seed and a label: Z from
"system", K from the kind, the t mixing from "t", and ε_i from member i's org_id. So the same
seed gives each member the same figures whatever the order of the rows, and adding a member
leaves every other member's own draws as they were.

Work is bounded: `n` × members must fit the memory budget (`memory_budget`, 2 GB unless the
environment variable RISKSHARE_MEMORY_BUDGET says otherwise), and with a risk register `n` ×
its events too, checked before anything is drawn.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field, replace
from typing import cast

import numpy as np
import pandas as pd

from riskshare.core.errors import ArgumentTypeError, UsageError, problem, raise_if_errors
from riskshare.core.forecast import METHOD_WORDS, QUARTER_ENDS, YearPath, year_path
from riskshare.core.monthly import MONTHS
from riskshare.core.seed import SEED_MAX as SEED_MAX  # re-exported: its old home
from riskshare.core.seed import check_seed
from riskshare.core.system import System, require_system

DISTRIBUTIONS = ("normal", "t")
#: How a risk register enters the scenarios: its events on top of the members' volatility, or
#: the events alone ("none" in ScenarioSettings: the register is not drawn).
REGISTER_MODES = ("add", "instead")


@dataclass(frozen=True, eq=False)
class Scenarios:
    """Simulated variances and their recipe.

    variances:  (n, members) £, forecast − control total + draw + shocks.
    base:       (members,) £, forecast − control total.
    draws:      (n, members) £, the random part.
    shock:      (members,) £, the deterministic shock added to every scenario.
    volatility: (members,) % of turnover used.
    """

    system: System
    variances: np.ndarray
    base: np.ndarray
    draws: np.ndarray
    shock: np.ndarray
    volatility: np.ndarray
    seed: int | None
    correlation: float
    kind_correlation: float
    distribution: str
    df: float | None
    shocks: tuple = field(default=())
    #: in year (`simulate(..., monthly=...)`): the year at the month drawn from (a YearPath),
    #: and the bridge (n, members, 4): each scenario's deviation at the quarter ends still to
    #: come from the straight line between the month and the year end (£; 0 elsewhere)
    path: YearPath | None = None
    bridge: np.ndarray | None = None
    #: with a risk register (`simulate(..., register=...)`): the register, how it was drawn
    #: ("add": on top of the volatility; "instead": without it), the correlation between its
    #: events, and the events' part of each variance (n, members) £
    register: object = None
    register_mode: str = ""
    event_correlation: float = 0.0
    events: np.ndarray | None = None
    #: where each event happens (events × n, bool) and the events themselves
    #: (`scenarios.events.Events`: labels, probabilities, effect on each member)
    happens: np.ndarray | None = None
    event_set: object = None

    @property
    def n(self) -> int:
        return self.variances.shape[0]

    def frame(self) -> pd.DataFrame:
        """The variances as a DataFrame (scenario × org_id)."""
        return pd.DataFrame(self.variances, columns=self.system.members,
                            index=pd.RangeIndex(self.n, name="scenario"))

    def describe(self) -> str:
        dist = "normal" if self.distribution == "normal" else f"t with {self.df:g} d.f."
        text = (f"{self.n:,} scenario{'s' if self.n != 1 else ''} ({dist}; correlation "
                f"{self.correlation:g}"
                + (f", within kind +{self.kind_correlation:g}" if self.kind_correlation else "")
                + f"; seed {self.seed})")
        if self.shocks:
            text += "; shocks: " + ", ".join(s.name for s in self.shocks)
        if self.register is not None:
            k = len(self.register.table)           # type: ignore[attr-defined]
            text += (f"; {k:,} register item{'s' if k != 1 else ''} drawn as events "
                     + ("on top of the volatility" if self.register_mode == "add" else
                        "instead of the volatility")
                     + (f" (correlation {self.event_correlation:g})"
                        if self.event_correlation else ""))
        if self.path is not None:
            text += (f"; the months after month {self.path.month} drawn around the forecast "
                     f"({METHOD_WORDS[self.path.method]})")
        return text


def _real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


VOLATILITY_SCALE_MAX = 100.0
#: Bytes of memory a simulation needs per scenario and member, from drawing the scenarios to
#: judging an agreement across them (the variances and draws kept, the arrays of each run).
BYTES_PER_CELL = 48
#: In year, the bridge (four quarter ends per scenario and member) and the quarters judged
#: from it come on top.
IN_YEAR_BYTES_PER_CELL = BYTES_PER_CELL + 128
#: With a risk register, per scenario and event: its draw (float32, the latents the Risks page
#: keeps to re-threshold) and where it happens (bool, kept on the Scenarios) ...
EVENT_BYTES_PER_CELL = 5
#: ... and per scenario and member, the events' sum (kept) and the variances made with it.
REGISTER_BYTES_PER_CELL = 16
DEFAULT_MEMORY_BUDGET = 2 * 1024**3


def memory_budget() -> int:
    """The memory (bytes) a simulation may use: 2 GB, or the environment variable
    RISKSHARE_MEMORY_BUDGET (bytes, or a size such as "8GB" or "512MB") on a larger or
    smaller machine."""
    text = os.environ.get("RISKSHARE_MEMORY_BUDGET", "").strip().upper().replace(" ", "")
    if not text:
        return DEFAULT_MEMORY_BUDGET
    units = {"GB": 1024**3, "G": 1024**3, "MB": 1024**2, "M": 1024**2, "KB": 1024, "K": 1024,
             "B": 1}
    for unit, size in units.items():
        if text.endswith(unit):
            number, factor = text[:-len(unit)], size
            break
    else:
        number, factor = text, 1
    try:
        budget = int(float(number) * factor)
    except ValueError:
        raise UsageError(f"RISKSHARE_MEMORY_BUDGET must be a size such as 4GB or 512MB (got "
                         f"{os.environ['RISKSHARE_MEMORY_BUDGET']!r})") from None
    if budget <= 0:
        raise UsageError("RISKSHARE_MEMORY_BUDGET must be a positive size such as 4GB")
    return budget


def size_problem(n: int | np.integer, members: int, key: str = "n",
                 bytes_per_cell: int | None = None, events: int = 0):
    """A problem when `n` scenarios of `members` members would exceed the memory budget (the
    estimate, the budget and the largest n that fits), else None. Checked before anything is
    drawn, so a runaway request is refused at once. With a risk register, `events` is the
    number of its events (items on their own and groups): each adds its draws and where it
    happens to every scenario."""
    per_cell = bytes_per_cell or BYTES_PER_CELL
    budget = memory_budget()
    events = int(events)
    per_scenario = int(members) * per_cell
    if events:
        per_scenario += int(members) * REGISTER_BYTES_PER_CELL + events * EVENT_BYTES_PER_CELL
    need = int(n) * per_scenario
    if need <= budget:
        return None
    fits = max(0, budget // max(per_scenario, 1))
    what = (f"{int(n):,} scenarios × {int(members):,} members"
            + (f" and {events:,} risk register events" if events else ""))
    larger = ("raise the budget with the environment variable RISKSHARE_MEMORY_BUDGET, e.g. "
              "8GB")
    how = (f"use at most {fits:,} scenarios for this system and register, or a register of "
           f"fewer events (items that happen together can be one group); on a larger machine, "
           f"{larger}" if events else
           f"use at most {fits:,} scenarios for this system (on a larger machine, {larger})")
    return problem(f"{what} would need about {_size(need)} of memory, above riskshare's budget "
                   f"of {_size(budget)}: {how}", key=key)


def _size(nbytes: int) -> str:
    return (f"{nbytes / 1024**3:,.1f} GB" if nbytes >= 1024**3 else
            f"{nbytes / 1024**2:,.0f} MB")


def check_settings(n, correlation, kind_correlation, distribution, df, volatility_scale,
                   prefix: str = "", seed=0, members: int | None = None,
                   in_year: bool = False, events: int = 0) -> list:
    """Every problem with a set of simulation settings (keys prefixed with `prefix`, e.g.
    "scenarios." for a session file); [] when they can be simulated. With `members`, `n` must
    also fit the memory budget (`size_problem`; with `events`, a risk register's events
    too)."""
    problems = check_seed(seed, f"{prefix}seed")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        if isinstance(n, float) and n.is_integer() and n > 0:
            problems.append(problem(f"must be a whole number of scenarios: {n!r} has a decimal "
                                    f"point (write {int(n)})", key=f"{prefix}n"))
        else:
            problems.append(problem("must be a whole number of scenarios, at least 1",
                                    key=f"{prefix}n", value=n))
    elif members is not None:
        big = size_problem(n, members, f"{prefix}n",
                           IN_YEAR_BYTES_PER_CELL if in_year else BYTES_PER_CELL, events=events)
        if big is not None:
            problems.append(big)
    for key, value in (("correlation", correlation), ("kind_correlation", kind_correlation)):
        if not _real(value) or not 0.0 <= value <= 1.0:
            problems.append(problem("must lie in [0, 1]", key=f"{prefix}{key}", value=value))
    if _real(correlation) and _real(kind_correlation) and correlation + kind_correlation > 1.0:
        problems.append(problem(f"correlation + kind_correlation must be at most 1 (got "
                                f"{correlation + kind_correlation:g})",
                                key=f"{prefix}kind_correlation"))
    if distribution not in DISTRIBUTIONS:
        problems.append(problem(f"must be one of: {', '.join(DISTRIBUTIONS)}",
                                key=f"{prefix}distribution", value=distribution))
    if distribution == "t" and not (_real(df) and df > 2):
        problems.append(problem("degrees of freedom must be greater than 2 (so the variance "
                                "exists)", key=f"{prefix}df", value=df))
    if not _real(volatility_scale) or not 0 <= volatility_scale <= VOLATILITY_SCALE_MAX:
        problems.append(problem(f"must be a number ≥ 0 and at most {VOLATILITY_SCALE_MAX:g}",
                                key=f"{prefix}volatility_scale", value=volatility_scale))
    return problems


def simulate(system: System, n: int, seed: int | None = 0, correlation: float = 0.3,
             distribution: str = "normal", df: float = 5.0, shocks=(),
             kind_correlation: float = 0.0, volatility_scale: float = 1.0,
             monthly=None, month: int | None = None, forecast: str = "plan",
             register=None, register_mode: str = "add",
             event_correlation: float = 0.0) -> Scenarios:
    """Draw `n` scenarios of variances for `system` (see the module docstring).

    In year (`monthly` given), only the months still to come are drawn: the base is the
    forecast outturn at `month` by `forecast` (`core.forecast.year_path`) less the control
    total, and each member's standard deviation is scaled by √((12 − month) / 12), the spread
    of a year whose months are independent, so the fan of year-end outturns narrows as the
    year closes and has no spread at month 12. Between the month and the year end a Brownian
    bridge gives each scenario its year to date at the quarter ends still to come (`bridge`),
    which quarterly support is judged on; shocks land evenly over the months to come.

    shocks: Shock objects (or shock .toml paths / preset names) added to every scenario.
    volatility_scale: multiplies every member's volatility (1.0 = as given).

    Parameters
    ----------
    system : System
        The members: forecast and control total (£) give the base variance, turnover (£) and
        volatility (% of turnover; blank: the kind's default) the spread of the draws.
    n : int
        The number of scenarios, at least 1; n × members (and, with a register, n × its
        events) must fit the memory budget.
    seed : int or None, default 0
        A whole number from 0 to 2³² − 1: the same seed gives the same scenarios. None draws
        fresh randomness (not reproducible; `.seed` is then None).
    correlation : float, default 0.3
        ρ, the correlation between any two members (the common system factor), in [0, 1].
    distribution : {"normal", "t"}, default "normal"
        "t": a multivariate t with the same standard deviations and correlations but fatter,
        jointly occurring tails.
    df : float, default 5.0
        Degrees of freedom of the t distribution (> 2); not used with "normal".
    shocks : Shock, str, pathlib.Path or iterable of them, default ()
        Shocks added to every scenario: Shock objects, preset names, .toml paths or TOML
        text; one shock may be given on its own.
    kind_correlation : float, default 0.0
        ρ_k, extra correlation between members of the same kind, in [0, 1]; correlation +
        kind_correlation must be at most 1.
    volatility_scale : float, default 1.0
        Multiplies every member's volatility, from 0 to 100.
    monthly : Monthly, optional
        The year month by month (`rs.load_monthly`): simulate from `month` on.
    month : int, optional
        The months closed, 0–12 (default: the latest closed for every member); with `monthly`.
    forecast : {"plan", "run_rate", "submitted"}, default "plan"
        How the months to come are forecast (the base of the draws); with `monthly`.
    register : Register, optional
        The system's risk register (`rs.load_register`): each item, or each group of items
        that happen together, is drawn as an event that happens with its probability; a risk
        takes its amount off its member's variance, a mitigation adds it
        (`scenarios.events`). The mean is then the risk-adjusted forecast less the control
        total.
    register_mode : {"add", "instead"}, default "add"
        With a register: "add" draws the events on top of the members' volatility;
        "instead" draws the events alone (no volatility).
    event_correlation : float, default 0.0
        With a register: the correlation between events (0 to 1; 0: independent).

    Returns
    -------
    Scenarios
        `.variances` (n × members, £: forecast − control total + draw + shocks), `.base`,
        `.draws` and `.shock` (£), `.volatility` (% of turnover, as scaled) and the settings.

    Raises
    ------
    ValidationError
        When a setting is invalid or n × members would exceed the memory budget (every problem
        listed), or a shock has problems or does not fit the system.
    InputFileError
        When a shock cannot be read (see `load_shock`).
    UsageError
        When the environment variable RISKSHARE_MEMORY_BUDGET is not a size.
    ArgumentTypeError
        When `system` is not a System.
    """
    from riskshare.scenarios.shocks import Shock, load_shock, total_shock

    require_system(system, "simulate")
    problems = _register_problems(system, register, register_mode, event_correlation)
    # the memory budget counts the register's events' draws too (one message, one limit)
    problems = check_settings(n, correlation, kind_correlation, distribution, df,
                              volatility_scale, seed=seed, members=system.n,
                              in_year=monthly is not None,
                              events=_event_count(register) if register is not None else 0
                              ) + problems
    raise_if_errors(problems, "simulation settings")
    path = None if monthly is None else _path(system, monthly, month, forecast)
    if isinstance(shocks, (str, Shock)):        # one shock given on its own, not in a list
        shocks = (shocks,)
    shocks = tuple(load_shock(s) for s in (shocks or ()))
    shock = total_shock(system, shocks)

    # SeedSequence() with no entropy draws an int from the OS (numpy types .entropy as any
    # entropy it accepts: int, a sequence of ints or None)
    entropy = cast(int, np.random.SeedSequence().entropy) if seed is None else int(seed)
    rho, rho_k = float(correlation), float(kind_correlation)
    x = _normals(entropy, system, n, rho, rho_k)
    mix = None
    if distribution == "t":
        w = _stream(entropy, "t").chisquare(df, size=(n, 1))
        mix = np.sqrt((df - 2.0) / w)
        x *= mix
    vol = system.volatility().to_numpy(dtype=float) * float(volatility_scale)
    sd = vol / 100.0 * system.orgs["turnover"].to_numpy(dtype=float)
    base = system.variance.to_numpy(dtype=float)
    bridge = None
    if path is not None:
        left = MONTHS - path.month            # the months still to come
        sd = sd * np.sqrt(left / MONTHS)
        base = path.outturn - system.orgs["control_total"].to_numpy(dtype=float)
    if register is not None and register_mode == "instead":
        sd = np.zeros_like(sd)                # the register's events alone
    draws = x * sd
    if path is not None:
        bridge = _bridge(system, entropy, path.month, draws, sd, rho, rho_k, mix)
    variances = base + shock + draws
    out = Scenarios(system, variances, base, draws, shock, vol, seed, rho, rho_k, distribution,
                    float(df) if distribution == "t" else None, shocks, path, bridge)
    if register is None:
        return out
    from riskshare.scenarios.events import event_happenings, register_events

    events = register_events(register, system)
    happens = event_happenings(events, n, float(event_correlation),
                               lambda *label: _stream(entropy, *label), THREADS)
    return _with_events(out, register, register_mode, float(event_correlation),
                        happens=happens, events=events)


def register_latents(system: System, register, n: int, seed: int = 0,
                     event_correlation: float = 0.0) -> np.ndarray:
    """(events, n) float32: the register's events' draws as `simulate(..., register=...)` draws
    them for this seed — they do not depend on the probabilities, so a caller that keeps them
    can redraw after a probability changes by a new threshold alone (`with_register`).

    Parameters
    ----------
    system : System
        The members the register names.
    register : Register
        The risk register (`rs.load_register`).
    n : int
        The number of scenarios; n × the register's events must fit the memory budget.
    seed : int, default 0
        The simulation's seed: the same seed as `simulate` gives the same draws.
    event_correlation : float, default 0.0
        The correlation between events, 0 to 1.

    Returns
    -------
    numpy.ndarray
        (events, n) float32, one row per event (an item on its own or a group) in the
        register's order.

    Raises
    ------
    ValidationError
        When the register names strangers, a setting is invalid, or n × the events would
        exceed the memory budget.
    """
    from riskshare.scenarios.events import event_latents, register_events

    require_system(system, "register_latents")
    problems = _register_problems(system, register, "add", event_correlation)
    problems += check_seed(seed, "seed")
    if not problems:
        big = size_problem(n, system.n, "n", events=_event_count(register))
        problems += [big] if big is not None else []
    raise_if_errors(problems, "simulation settings")
    return event_latents(register_events(register, system), int(n), float(event_correlation),
                         streams(int(seed)), THREADS)


def with_register(scenarios: Scenarios, register, register_mode: str = "add",
                  event_correlation: float = 0.0, latents: np.ndarray | None = None
                  ) -> Scenarios:
    """`scenarios` (drawn without a register, with a seed) with `register`'s events drawn in:
    the same scenarios as `simulate(..., register=register)` with the same settings gives.

    Parameters
    ----------
    scenarios : Scenarios
        Drawn by `simulate` without a register and with a seed.
    register : Register
        The risk register (`rs.load_register`).
    register_mode : {"add", "instead"}, default "add"
        The events on top of the members' volatility, or alone (the volatility set to 0).
    event_correlation : float, default 0.0
        The correlation between events, 0 to 1.
    latents : numpy.ndarray, optional
        The events' draws from `register_latents` (same register events, n, seed and
        correlation), kept by the caller; by default drawn afresh.

    Returns
    -------
    Scenarios
        With `.register`, `.events` (n × members £), `.happens` (events × n) and `.event_set`.
    """
    if scenarios.register is not None:
        raise UsageError("these scenarios already have a register drawn in")
    if scenarios.seed is None and latents is None:
        raise UsageError("scenarios drawn without a seed cannot be redrawn with a register: "
                         "simulate with the register instead")
    problems = _register_problems(scenarios.system, register, register_mode, event_correlation)
    raise_if_errors(problems, "simulation settings")
    if latents is None:
        latents = register_latents(scenarios.system, register, scenarios.n,
                                   int(cast(int, scenarios.seed)), event_correlation)
    return _with_events(scenarios, register, register_mode, float(event_correlation), latents)


def _with_events(sc: Scenarios, register, mode: str, rho: float,
                 latents: np.ndarray | None = None, happens: np.ndarray | None = None,
                 events=None) -> Scenarios:
    """`sc` with the register's events (from their draws `latents`, or where they happen,
    `happens`) added: "instead" drops the volatility's draws (and the in-year bridge they
    make)."""
    from riskshare.scenarios.events import event_happens, register_events, sum_events

    if events is None:
        events = register_events(register, sc.system)
    if happens is None:
        assert latents is not None
        if latents.shape != (len(events.labels), sc.n):
            raise UsageError(f"the events' draws have shape {latents.shape}, not "
                             f"({len(events.labels)}, {sc.n}) for this register and these "
                             "scenarios")
        happens = event_happens(latents, events.probability)
    summed = sum_events(events.effect, happens, THREADS)
    draws, bridge = sc.draws, sc.bridge
    if mode == "instead":
        draws = np.zeros_like(draws)
        bridge = None if bridge is None else np.zeros_like(bridge)
    variances = sc.base + sc.shock + draws + summed
    return replace(sc, variances=variances, draws=draws, bridge=bridge, register=register,
                   register_mode=mode, event_correlation=rho, events=summed,
                   happens=happens, event_set=events)


def _event_count(register) -> int:
    """The events of a register: its items on their own and its groups."""
    group = register.table["group"]
    return int((group == "").sum()) + int(group[group != ""].nunique())


def _register_problems(system: System, register, mode, correlation) -> list:
    """Problems with the register settings of a simulation ([] without a register)."""
    if register is None:
        return []
    from riskshare.core.register import Register

    problems = []
    if not isinstance(register, Register):
        raise ArgumentTypeError("register must be a Register (rs.load_register), not "
                                f"{type(register).__name__}")
    strangers = sorted(set(register.table["org_id"]) - set(system.members))
    if strangers:
        problems.append(problem(f"names {', '.join(strangers)}, not members of this system: "
                                "load the register against this system", key="register"))
    if mode not in REGISTER_MODES:
        problems.append(problem("must be add (the events on top of the volatility) or "
                                "instead (the events alone)", key="register_mode", value=mode))
    if not _real(correlation) or not 0.0 <= correlation <= 1.0:
        problems.append(problem("must lie in [0, 1]", key="event_correlation",
                                value=correlation))
    return problems


def _path(system: System, monthly, month, forecast) -> YearPath:
    """The year a simulation starts from: `monthly` (a Monthly of this system) at `month`."""
    from riskshare.core.monthly import Monthly

    if not isinstance(monthly, Monthly):
        raise ArgumentTypeError("monthly must be a Monthly (rs.load_monthly), not "
                                f"{type(monthly).__name__}")
    path = year_path(monthly, month, forecast)
    if tuple(path.members) != tuple(system.members):
        raise UsageError("monthly: the monthly figures are for another system (its members "
                         "differ): load them against this system")
    return path


#: Threads drawing members' normals at once for large draws (each member's stream is its own,
#: so the draws are the same whatever the number of threads).
THREADS = max(1, min(4, os.cpu_count() or 1))

def _normals(entropy: int, system: System, n: int, rho: float, rho_k: float,
             *label: str) -> np.ndarray:
    """(n, members) standard normals correlated as the module docstring says (ρ between any
    two members, ρ + ρ_k within a kind), from streams named by `label` (so the year-end draws
    and each quarter end's bridge draws are independent of one another)."""
    z = _stream(entropy, *label, "system").standard_normal((n, 1))
    x = np.empty((n, system.n))

    def fill(j: int) -> None:      # each member's own stream into its own column
        x[:, j] = _stream(entropy, *label, "member", system.members[j]).standard_normal(n)

    if n * system.n >= 1_000_000 and system.n > 1 and THREADS > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(THREADS) as pool:      # numpy draws release the GIL
            list(pool.map(fill, range(system.n)))
    else:
        for j in range(system.n):
            fill(j)
    x *= np.sqrt(max(1.0 - rho - rho_k, 0.0))
    x += np.sqrt(rho) * z
    if rho_k > 0:
        for kind in np.unique(system.orgs["kind"].to_numpy()):
            mask = (system.orgs["kind"] == kind).to_numpy()
            x[:, mask] += np.sqrt(rho_k) * _stream(entropy, *label, "kind", kind
                                                   ).standard_normal((n, 1))
    return x


def _bridge(system: System, entropy: int, month: int, draws: np.ndarray, sd: np.ndarray,
            rho: float, rho_k: float, mix: np.ndarray | None) -> np.ndarray | None:
    """(n, members, 4): at each quarter end e still to come before March, the scenario's
    deviation from the straight line between the month (0) and its year-end draw — a Brownian
    bridge whose months are independent, each with a twelfth of the year's variance (`sd` is
    already the spread of the months to come). Correlated as the year-end draws; with the t
    distribution, scaled by the same mixing so the tails go together. None when no quarter end
    lies strictly between the month and the year end."""
    left = MONTHS - month
    ends = [e for e in QUARTER_ENDS if month < e < MONTHS]
    if not ends:
        return None
    # quarter-major (see quarter_variances); np.zeros leaves the quarters never written (closed,
    # or the year end) as untouched zero pages
    out = np.zeros((4, *draws.shape))
    monthly_sd = sd / np.sqrt(left)             # the spread of one month to come
    prev_t, prev_b = 0.0, np.zeros_like(draws)
    for e in ends:
        t = float(e - month)
        b = _normals(entropy, system, len(draws), rho, rho_k, "bridge", str(e))   # ξ
        if mix is not None:
            b *= mix
        # b = prev_b + (t − prev_t)/(left − prev_t) · (draws − prev_b) + spread · ξ
        b *= np.sqrt((t - prev_t) * (left - t) / (left - prev_t)) * monthly_sd
        step = draws - prev_b
        step *= (t - prev_t) / (left - prev_t)
        b += step
        b += prev_b
        q = out[QUARTER_ENDS.index(e)]
        np.multiply(draws, t / left, out=q)
        np.subtract(b, q, out=q)
        prev_t, prev_b = t, b
    return np.moveaxis(out, 0, -1)


def streams(seed: int):
    """The simulation's named random streams for `seed` (`stream(*label)`), so a caller can
    redraw one part exactly as `simulate` drew it (e.g. one register event)."""
    return lambda *label: _stream(int(seed), *label)


def _stream(entropy: int, *label: str) -> np.random.Generator:
    """The random stream for one part of the draw (the system factor, a kind's factor, the t
    mixing, or one member's own draws by org_id), from the seed and the label alone: so the
    same seed gives each member the same draws whatever the order of the rows, and adding a
    member leaves the others' own draws unchanged."""
    digest = hashlib.blake2b("\x1f".join(label).encode("utf-8"), digest_size=16).digest()
    key = tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=key))


@dataclass(frozen=True)
class ScenarioSettings:
    """The recipe for `simulate` as one value (what the app's scenario widgets and a workshop
    session hold): shocks by name, scenario count, correlations, distribution, volatility scale
    and seed. The same settings always give the same scenarios."""

    shocks: tuple[str, ...] = ()
    n: int = 1_000
    correlation: float = 0.3
    kind_correlation: float = 0.0
    distribution: str = "normal"
    df: float = 5.0
    volatility_scale: float = 1.0
    seed: int = 0
    register: str = "none"
    event_correlation: float = 0.0

    def simulate(self, system: System, shocks=None, register=None) -> Scenarios:
        """The scenarios for `system`; `shocks` (Shock objects) replace the named ones.

        `register` (a Register) is drawn when the settings' `register` source is "add" (its
        events on top of the volatility) or "instead" (the events alone); with "none", or
        with no register given, the scenarios are the volatility alone."""
        use = register if self.register in REGISTER_MODES and register is not None else None
        return simulate(system, self.n, seed=self.seed, correlation=self.correlation,
                        distribution=self.distribution, df=self.df,
                        shocks=self.shocks if shocks is None else shocks,
                        kind_correlation=self.kind_correlation,
                        volatility_scale=self.volatility_scale,
                        register=use, register_mode=self.register if use is not None else "add",
                        event_correlation=self.event_correlation if use is not None else 0.0)

    def uses_register(self) -> bool:
        """True when these settings draw the system's risk register (when it has one)."""
        return self.register in REGISTER_MODES

    def kwargs(self) -> dict:
        return asdict(self)
