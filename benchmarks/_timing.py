"""Wall-clock timing shared by the benchmark scripts (run as ``python benchmarks/bench_*.py``, so this folder is on
``sys.path``)."""

from __future__ import annotations

import statistics
import time


def seconds(fn, reps: int = 1, clock=time.perf_counter) -> list[float]:
    """The duration of each of ``reps`` calls of ``fn()``, in seconds (of wall time, or of ``clock``)."""
    out = []
    for _ in range(reps):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def cpu_seconds(fn, reps: int = 1) -> list[float]:
    """The CPU time this thread spent in each of ``reps`` calls of ``fn()``, in seconds: what the call costs,
    without the time the scheduler gave other processes (on a shared machine wall time includes both)."""
    return seconds(fn, reps, time.thread_time)


def median_seconds(fn, reps: int, *, warmup: int = 0) -> float:
    """The median of ``reps`` timed calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    return statistics.median(seconds(fn, reps))
