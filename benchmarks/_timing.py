"""Shared by the benchmark scripts: best-of-N timing and one printed line per figure."""

from __future__ import annotations

import time


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    """(the fastest of `repeat` wall times in seconds, the last result)."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def line(label: str, value: str, target: str, width: int = 62) -> None:
    """A figure with its target beside it."""
    print(f"{label:<{width}} {value:>12}   (target {target})")
