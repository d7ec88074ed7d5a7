"""Named shocks: small TOML files that move members' variances by a fixed amount.

```toml
name = "Winter pressure"
description = "Acute trusts lose 2% of turnover to emergency demand."
[[effects]]
target = "kind:acute"      # "all", "kind:<kind>", "member:<org_id>"
pct = -2.0                 # % of `column` (default turnover) ...
# column = "turnover"
# amount = -10_000_000     # ... or £ per member targeted (exactly one of pct / amount)
```

A shock adds the same £ vector to every scenario (or, applied alone, to the forecast variances):
`shocked_variances(system, shocks)` gives forecast − control total plus the shocks.
Presets live in `sample_data/shocks/` (`list_shocks()`, `load_shock(name)`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from riskshare.core.errors import (
    ArgumentTypeError,
    Problem,
    problem,
    raise_if_errors,
    unknown_keys,
)
from riskshare.core.samples import bundled_dir
from riskshare.core.schema import KINDS, MONEY_LIMIT, numeric_columns, text_key
from riskshare.core.sources import bundled_only, parse_toml, resolve
from riskshare.core.system import System

_TOP = ("name", "description", "effects")
_EFFECT = ("target", "pct", "amount", "column")
PCT_LIMIT = 1000.0   # a shock of more than ten times a column is not a scenario


@dataclass(frozen=True)
class Effect:
    """One effect of a shock: the members it targets ("all", "kind:<kind>", "member:<org_id>")
    and what it adds to each one's variance: `pct` % of `column`, or `amount` £ (one of them)."""

    target: str
    pct: float | None = None
    amount: float | None = None
    column: str = "turnover"

    def describe(self) -> str:
        how = (f"{self.pct:+g}% of {self.column}" if self.pct is not None
               else f"£{self.amount:+,.0f}")
        return f"{self.target}: {how}"


@dataclass(frozen=True)
class Shock:
    """A named shock (see the module docstring): its effects add up, member by member."""

    name: str
    description: str
    effects: tuple[Effect, ...]

    def to_dict(self) -> dict:
        """The TOML document (defaults left out) that `read_shock_dict` reads back."""
        out: dict = {"name": self.name}
        if self.description:
            out["description"] = self.description
        effects = []
        for e in self.effects:
            d: dict = {"target": e.target}
            if e.pct is not None:
                d["pct"] = e.pct
            if e.amount is not None:
                d["amount"] = e.amount
            if e.column != "turnover":
                d["column"] = e.column
            effects.append(d)
        out["effects"] = effects
        return out


def shocks_dir() -> Path:
    """The folder of bundled shock presets (`sample_data/shocks/`)."""
    return bundled_dir("sample_data") / "shocks"


def list_shocks() -> list[str]:
    """Names of the shock presets (file stems).

    Returns
    -------
    list of str
        The bundled shock presets in `sample_data/shocks/`, in alphabetical order, each one
        `load_shock` takes.
    """
    return sorted(p.stem for p in shocks_dir().glob("*.toml"))


def shock_path(name: str) -> Path:
    """The file of the shock preset called `name` (which may not exist)."""
    return shocks_dir() / f"{name}.toml"


def load_shock(shock) -> Shock:
    """A Shock from a Shock, a preset name, a .toml path, or TOML text (a caller's value: see
    `sources.resolve`; names written inside a file go through `bundled_shock`).

    Parameters
    ----------
    shock : Shock, str or pathlib.Path
        A Shock (returned as it is), a preset name (see `list_shocks`), a path to a .toml
        file, or the TOML text itself (a str with a line break, or one holding an "=").

    Returns
    -------
    Shock
        The validated shock: its name, description and effects (each `pct` % of a column or
        `amount` £ per member targeted).

    Raises
    ------
    ValidationError
        When the shock has problems (every one listed by key, e.g. "effects[2].target").
    InputFileError
        When the file is missing or unreadable, is not UTF-8 or not TOML, or a one-line name is
        neither a preset nor a file.
    """
    if isinstance(shock, Shock):
        return shock
    source = resolve(shock, "shock", list_shocks, shock_path, "shock preset")
    return read_shock_dict(parse_toml(source.read(), source.label), source.label)


def bundled_shock(name, where: str = "") -> Shock:
    """A shock preset by name only (the file rule: a name inside a file is never a path)."""
    return load_shock(shock_path(bundled_only(name, "shock", list_shocks, where)))


def read_shock_dict(data: dict, source: str = "shock") -> Shock:
    """A Shock from a parsed TOML document; one ValidationError lists every problem."""
    problems: list[Problem] = []
    unknown_keys(data, _TOP, "", problems)
    name = text_key(data, "name", problems, needed_by="shock")
    description = text_key(data, "description", problems, multiline=True)
    effects = []
    raw = data.get("effects", [])
    if not isinstance(raw, list) or not raw:
        problems.append(problem("needs at least one [[effects]] table", key="effects"))
        raw = []
    for i, e in enumerate(raw, start=1):
        key = f"effects[{i}]"
        if not isinstance(e, dict):
            problems.append(problem("must be a table", key=key))
            continue
        unknown_keys(e, _EFFECT, f"{key}.", problems)
        target = e.get("target")
        if not isinstance(target, str) or not _target_form(target):
            problems.append(problem("must be 'all', 'kind:<kind>' or 'member:<org_id>'",
                                    key=f"{key}.target", value=target))
        if ("pct" in e) == ("amount" in e):
            problems.append(problem("needs exactly one of 'pct' or 'amount'", key=key))
        for k, limit, words in (("pct", PCT_LIMIT, f"within ±{PCT_LIMIT:,.0f} (% of the "
                                                   "column)"),
                                ("amount", MONEY_LIMIT, "within ±£1,000,000,000,000 (10¹²)")):
            v = e.get(k)
            if k in e and (isinstance(v, bool) or not isinstance(v, (int, float))
                           or not math.isfinite(v)):
                problems.append(problem("must be a finite number", key=f"{key}.{k}", value=v))
            elif k in e and abs(cast(float, v)) > limit:     # a number: the `if` took the rest
                problems.append(problem(f"must lie {words}", key=f"{key}.{k}", value=v))
        column = e.get("column", "turnover")
        if not isinstance(column, str):
            problems.append(problem("must name a numeric column", key=f"{key}.column"))
            column = "turnover"
        effects.append(Effect(str(target), _num(e.get("pct")), _num(e.get("amount")), column))
    raise_if_errors(problems, source)
    return Shock(name.strip(), description, tuple(effects))


def _num(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _target_form(target: str) -> bool:
    return target == "all" or target.startswith("kind:") or target.startswith("member:")


def shock_vector(shock, system: System) -> np.ndarray:
    """The £ a shock adds to each member's variance; ValidationError for targets or columns the
    system does not have."""
    shock = load_shock(shock)
    problems: list[Problem] = []
    total = np.zeros(system.n)
    usable = numeric_columns(system.orgs)
    for i, e in enumerate(shock.effects, start=1):
        key = f"effects[{i}]"
        if e.target == "all":
            mask = np.ones(system.n, dtype=bool)
        elif e.target.startswith("kind:"):
            kind = e.target[5:]
            if kind not in KINDS:
                problems.append(problem(f"unknown kind '{kind}' (kinds: {', '.join(KINDS)})",
                                        key=f"{key}.target"))
                continue
            mask = (system.orgs["kind"] == kind).to_numpy()
        else:
            org_id = e.target[7:]
            if org_id not in system.members:
                problems.append(problem(f"'{org_id}' is not a member of {system.label} "
                                        f"(members: {', '.join(system.members)})",
                                        key=f"{key}.target"))
                continue
            mask = (system.members == org_id)
        if e.pct is not None:
            if e.column not in usable:
                problems.append(problem(f"'{e.column}' is not a numeric column of the system "
                                        f"(numeric columns: {', '.join(usable)})",
                                        key=f"{key}.column"))
                continue
            total += np.where(mask, e.pct / 100.0 * system.orgs[e.column].to_numpy(float), 0.0)
        else:
            total += np.where(mask, e.amount, 0.0)
    big = [m for m, x in zip(system.members, total, strict=True) if abs(x) > MONEY_LIMIT]
    if big:
        problems.append(problem("moves " + ", ".join(big[:5]) + " by more than "
                                "£1,000,000,000,000 (10¹²), the most riskshare takes",
                                key="effects"))
    raise_if_errors(problems, f"shock '{shock.name}' on {system.label}")
    return total


def total_shock(system: System, shocks=()) -> np.ndarray:
    """The £ that all of `shocks` together add to each member's variance; `shocks` is a list of
    shocks (names, paths, TOML text or Shock objects), or one of them on its own."""
    if shocks is None:
        shocks = []
    elif isinstance(shocks, (str, Path, Shock)):
        shocks = [shocks]
    elif not isinstance(shocks, (list, tuple)):
        raise ArgumentTypeError(f"shocks must be a shock (a name, a .toml path, TOML text or a "
                                f"Shock) or a list of them, not {type(shocks).__name__}")
    return sum((shock_vector(s, system) for s in shocks), np.zeros(system.n))


def shocked_system(system: System, shocks=(), scale: float = 1.0) -> System:
    """`system` with each member's forecast moved by `shocks` together, times `scale`, in whole
    pennies (a forecast is always pennies): the one rule for applying a shock, used by the
    Scenarios page, the CLI and every workshop step."""
    moved = np.round(scale * total_shock(system, shocks), 2)
    if not moved.any():
        return system
    orgs = system.orgs.copy()
    orgs["forecast"] = orgs["forecast"] + moved
    return system.replace(orgs=orgs)


def shocked_variances(system: System, shocks=()) -> np.ndarray:
    """Forecast − control total after every shock (£ per member): the deterministic case.

    The shocks move each member's forecast together, in whole pennies, as every page and
    workshop step applies them (`shocked_system`).

    Parameters
    ----------
    system : System
        The members, their forecasts and control totals (£).
    shocks : iterable of Shock, str or pathlib.Path, default ()
        The shocks to add: Shock objects, preset names, .toml paths or TOML text. Give a list,
        even of one shock; none gives the forecast variances.

    Returns
    -------
    numpy.ndarray
        One variance per member, in member order (£; positive = favourable).

    Raises
    ------
    ValidationError
        When a shock has problems or does not fit the system (a kind, member or column it does
        not have, or a move beyond £10¹²).
    InputFileError
        When a shock cannot be read (see `load_shock`).
    """
    return shocked_system(system, shocks).variance.to_numpy(dtype=float)
