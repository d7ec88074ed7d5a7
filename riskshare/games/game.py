"""`Game`: a transferable-utility cooperative game (docs/games.md).

Players are members (any hashable labels, usually org_ids); v(S) is what coalition S can secure
on its own (£ in riskshare; any unit for a textbook game), v(∅) = 0.

Coalitions are bit masks: bit i is the player in position i, so coalition S of players at
positions {0, 2} is mask 0b101 = 5, and the grand coalition N is 2ⁿ − 1. Up to `MAX_EXACT`
players the game keeps every value in one array indexed by mask (`values`), which the exact
methods use directly; above that it keeps only a way to evaluate coalitions on demand, and only
sampled methods (sampled Shapley) and checks of chosen coalitions are available.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from itertools import combinations

import numpy as np
import pandas as pd

from riskshare.core.errors import RiskshareError, problem, raise_if_errors

MAX_EXACT = 16          # exact methods enumerate 2ⁿ coalitions: 65,536 at 16 players
_MAX_LISTED = 5


class EmptyImputationSetError(RiskshareError, ValueError):
    """The singletons' values add up to more than v(N): no allocation gives every player at
    least what it secures alone, so the nucleolus (within imputations) does not exist. The
    prenucleolus still does."""


class TooManyPlayersError(RiskshareError, ValueError):
    """An exact method was asked of a game with more than MAX_EXACT players."""


class SampledShapleyWarning(UserWarning):
    """The Shapley value was estimated from random orders of arrival, not computed exactly."""


@cache
def bits(n: int) -> np.ndarray:
    """(2ⁿ, n) 0/1 matrix: row m is coalition mask m (n ≤ MAX_EXACT)."""
    masks = np.arange(1 << n, dtype=np.int64)
    out = ((masks[:, None] >> np.arange(n)) & 1).astype(np.int8)
    out.flags.writeable = False
    return out


@cache
def vector_order(n: int) -> np.ndarray:
    """Masks of the non-empty coalitions in `from_vector` order: by size, then
    lexicographically by player position ({1}, {2}, …, {1,2}, {1,3}, …, N)."""
    order = [sum(1 << i for i in combo) for k in range(1, n + 1)
             for combo in combinations(range(n), k)]
    out = np.array(order, dtype=np.int64)
    out.flags.writeable = False
    return out


class Game:
    """A cooperative game with transferable utility.

    Game(players, v): `players` a sequence of distinct labels; `v` either a mapping from
    coalitions (frozensets of players; sets, tuples and lists are accepted too) to values, with
    every non-empty coalition present, or a callable taking a frozenset of players. A callable
    is evaluated for every coalition at once when n ≤ MAX_EXACT, and on demand above.

    Game.from_vector(players, values): the 2ⁿ − 1 values of the non-empty coalitions ordered
    by size, then lexicographically by player position.
    """

    def __init__(self, players, v, *, name: str = ""):
        self.players = _check_players(players)
        self.name = name
        self.source: dict | None = None
        n = len(self.players)
        self._batch: Callable[[np.ndarray], np.ndarray] | None = None
        self._values: np.ndarray | None = None
        if isinstance(v, Mapping):
            self._values = self._from_mapping(v)
        elif callable(v):
            def evaluate(member_rows: np.ndarray) -> np.ndarray:
                return np.array([float(v(frozenset(np.asarray(self.players, dtype=object)[r])))
                                 for r in member_rows], dtype=float)
            self._batch = evaluate
            if n <= MAX_EXACT:
                self._values = self._evaluate_all()
        else:
            raise_if_errors([problem("must be a mapping from coalitions to values or a callable",
                                     column="v")], "game")

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_vector(cls, players, values, *, name: str = "") -> Game:
        """Build from the values of the 2ⁿ − 1 non-empty coalitions, ordered by coalition size,
        then lexicographically by player position."""
        players = _check_players(players)
        n = len(players)
        arr = np.asarray(values, dtype=float).ravel()
        expected = (1 << n) - 1
        if n > MAX_EXACT:
            raise TooManyPlayersError(f"a game given as a vector needs 2ⁿ − 1 values; with {n} "
                                      f"players (more than {MAX_EXACT}) build it from a callable")
        if len(arr) != expected:
            raise_if_errors([problem(f"must hold {expected:,} values for {n} players (one per "
                                     f"non-empty coalition); got {len(arr):,}",
                                     column="values")], "game")
        full = np.zeros(1 << n)
        full[vector_order(n)] = arr
        return cls._from_array(players, full, name)

    @classmethod
    def _from_array(cls, players, full: np.ndarray, name: str = "") -> Game:
        """From values indexed by mask (length 2ⁿ, v(∅) = 0)."""
        g = cls.__new__(cls)
        g.players = tuple(players)
        g.name = name
        g.source = None
        g._batch = None
        g._values = _checked_values(np.asarray(full, dtype=float), g.players)
        return g

    @classmethod
    def _from_batch(cls, players, batch: Callable[[np.ndarray], np.ndarray],
                    name: str = "", source: dict | None = None) -> Game:
        """From a vectorised evaluator: boolean member rows (R, n) -> values (R,). `source`
        records where the game came from (e.g. the agreement and system)."""
        g = cls.__new__(cls)
        g.players = _check_players(players)
        g.name = name
        g.source = source
        g._batch = batch
        g._values = None
        if len(g.players) <= MAX_EXACT:
            g._values = g._evaluate_all()
        return g

    def _from_mapping(self, v: Mapping) -> np.ndarray:
        n = len(self.players)
        if n > MAX_EXACT:
            raise TooManyPlayersError(f"a game given as a mapping needs all 2ⁿ − 1 coalitions; "
                                      f"with {n} players (more than {MAX_EXACT}) give a callable")
        position = {p: i for i, p in enumerate(self.players)}
        full = np.zeros(1 << n)
        given = np.zeros(1 << n, dtype=bool)
        given[0] = True
        problems = []
        for key, value in v.items():
            members = _as_coalition(key)
            unknown = [] if members is None else [m for m in members if m not in position]
            if members is None or unknown:
                problems.append(problem(f"is not a coalition of the players "
                                        f"({', '.join(map(str, self.players))})",
                                        column="v", value=str(key)))
                continue
            mask = sum(1 << position[m] for m in members)
            given[mask] = True
            try:
                full[mask] = float(value)
            except (TypeError, ValueError):
                problems.append(problem("must be a number", column=f"v[{_label(members)}]",
                                        value=value))
        missing = np.flatnonzero(~given)
        if len(missing):
            listed = ", ".join(self.coalition_label(m) for m in missing[:_MAX_LISTED])
            more = f" and {len(missing) - _MAX_LISTED:,} more" if len(missing) > _MAX_LISTED else ""
            problems.append(problem(f"has no value for {len(missing):,} coalition"
                                    f"{'s' if len(missing) != 1 else ''}: {listed}{more}",
                                    column="v"))
        raise_if_errors(problems, "game")
        return _checked_values(full, self.players)

    def _evaluate_all(self) -> np.ndarray:
        n = len(self.players)
        full = np.zeros(1 << n)
        assert self._batch is not None     # called only once a batch evaluator is set
        full[1:] = self._batch(bits(n)[1:].astype(bool))
        return _checked_values(full, self.players)

    # -- reading --------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.players)

    @property
    def exact(self) -> bool:
        """Whether every coalition's value is held (n ≤ MAX_EXACT), so exact methods apply."""
        return self._values is not None

    @property
    def values(self) -> np.ndarray:
        """The values v(S) by coalition mask (length 2ⁿ, read-only); raises
        TooManyPlayersError above MAX_EXACT players."""
        self.require_exact("enumerating every coalition")
        assert self._values is not None    # require_exact raised otherwise
        return self._values

    @property
    def grand(self) -> float:
        """v(N)."""
        return float(self.value_of(np.ones((1, self.n), bool))[0])

    @property
    def singletons(self) -> pd.Series:
        """v({i}) for each player."""
        return pd.Series(self.value_of(np.eye(self.n, dtype=bool)), index=self.index,
                         name="alone")

    @property
    def index(self) -> pd.Index:
        return pd.Index(list(self.players), name="player")

    def value_of(self, member_rows) -> np.ndarray:
        """The values v(S) of coalitions given as boolean rows (R, n) (True = in S)."""
        rows = np.asarray(member_rows, dtype=bool).reshape(-1, self.n)
        if self._values is not None:
            return self._values[rows.astype(np.int64) @ (1 << np.arange(self.n, dtype=np.int64))]
        out = np.zeros(len(rows))
        some = rows.any(axis=1)
        if some.any():
            assert self._batch is not None     # a game without all values has an evaluator
            out[some] = self._batch(rows[some])
        return out

    def __call__(self, coalition) -> float:
        """v(S) for a coalition given as an iterable of players."""
        members = _as_coalition(coalition)
        position = {p: i for i, p in enumerate(self.players)}
        unknown = [m for m in (members or ()) if m not in position]
        if members is None or unknown:
            raise_if_errors([problem("is not a coalition of the players", column="coalition",
                                     value=str(coalition))], "game")
        row = np.zeros((1, self.n), bool)
        row[0, [position[m] for m in members]] = True
        return float(self.value_of(row)[0])

    def to_vector(self) -> np.ndarray:
        """Values of the non-empty coalitions in `from_vector` order."""
        return self.values[vector_order(self.n)].copy()

    def coalition_label(self, mask: int) -> str:
        return _label([p for i, p in enumerate(self.players) if (int(mask) >> i) & 1])

    def coalition_players(self, mask: int) -> tuple:
        return tuple(p for i, p in enumerate(self.players) if (int(mask) >> i) & 1)

    def require_exact(self, what: str) -> None:
        if self._values is None:
            raise TooManyPlayersError(
                f"{what} needs all 2ⁿ coalitions; with {self.n} players that is "
                f"{2 ** self.n:,}, more than the {2 ** MAX_EXACT:,} ({MAX_EXACT} players) "
                f"riskshare enumerates. Use the sampled Shapley value instead.")

    def allocation(self, x, what: str = "allocation") -> np.ndarray:
        """`x` as a float array in player order: a Series indexed by the players (any order) or
        a sequence in player order. Raises ValidationError naming what is wrong."""
        if isinstance(x, pd.Series):
            unknown = [k for k in x.index if k not in self.players]
            missing = [p for p in self.players if p not in x.index]
            problems = [problem("is not a player", member=str(k), column=what) for k in unknown]
            problems += [problem("has no value", member=str(p), column=what) for p in missing]
            raise_if_errors(problems, what)
            arr = x.reindex(list(self.players)).to_numpy(dtype=float)
        else:
            arr = np.asarray(x, dtype=float).ravel()
            if len(arr) != self.n:
                raise_if_errors([problem(f"must have one value per player ({self.n}); got "
                                         f"{len(arr)}", column=what)], what)
        if not np.isfinite(arr).all():
            raise_if_errors([problem("must be finite numbers", column=what)], what)
        return arr

    def series(self, values, name: str) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=float) + 0.0, index=self.index, name=name)

    def __repr__(self) -> str:
        label = f" '{self.name}'" if self.name else ""
        return f"<Game{label}: {self.n} players, v(N) = {self.grand:,.6g}>"


def _check_players(players) -> tuple:
    try:
        out = tuple(players)
    except TypeError:
        out = None
    problems = []
    if out is None or len(out) == 0:
        problems.append(problem("must be a non-empty sequence of player labels", column="players"))
    else:
        seen, dupes = set(), []
        for p in out:
            if p in seen:
                dupes.append(p)
            seen.add(p)
        if dupes:
            problems.append(problem(f"must be distinct; repeated: {', '.join(map(str, dupes))}",
                                    column="players"))
        if len(out) > 62:
            problems.append(problem("riskshare handles games of at most 62 players",
                                    column="players", value=len(out)))
    raise_if_errors(problems, "game")
    assert out is not None      # None recorded an error: raised just above
    return out


def _checked_values(full: np.ndarray, players) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(full))
    problems = []
    if len(bad):
        names = ", ".join(_label([p for i, p in enumerate(players) if (int(m) >> i) & 1])
                          for m in bad[:_MAX_LISTED])
        problems.append(problem(f"must be finite; not finite for {len(bad):,} coalition(s): "
                                f"{names}", column="v"))
    if full[0] != 0 and np.isfinite(full[0]):
        problems.append(problem("v(∅) must be 0", column="v", value=float(full[0])))
    raise_if_errors(problems, "game")
    full = full.copy()
    full.flags.writeable = False
    return full


def _as_coalition(key):
    if isinstance(key, (str, bytes)) or not hasattr(key, "__iter__"):
        return None
    return frozenset(key)


def _label(members) -> str:
    return "{" + ", ".join(map(str, members)) + "}"
