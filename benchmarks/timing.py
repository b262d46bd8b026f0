"""Shared by the benchmarks: best-of-N timing that treats every candidate alike."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence


def best_of(fns: Sequence[Callable[[], object]], repeats: int) -> list[float]:
    """Best-of-``repeats`` seconds of each function, run interleaved so load spikes hit all of them alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [min(ts) for ts in times]
