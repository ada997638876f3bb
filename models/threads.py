"""BLAS threads that hold up when other processes share the cores.

OpenBLAS splits each GEMM over its threads and waits, spinning, until all
of them are done.  When another process is busy on one of the cores, the
thread that shares a core with it is descheduled half the time, and every
GEMM waits for it: measured on the 2-core development machine (AMD EPYC,
one other process spinning on one core), the body network at 368x368 went
from 0.93 s to 3.6 s with 2 BLAS threads, and took 1.4 s with 1.  OpenCV DNN
went from 2.3 to 4.3 s on the same machine, so the tool fell behind it
under load (0.85 of its time against 0.40 quiet).

:class:`ThreadGovernor` runs each network pass with as many BLAS threads as
the cores give it: after a pass it compares the CPU time the process got
with the wall time times the threads (quiet: 0.98 to 1.0; with a core taken:
0.62 to 0.66), lowers the threads when that share shows contention, and
every :data:`PROBE_EVERY` passes tries all of them again, so the threads come
back when the other process ends.
"""
from __future__ import annotations

import contextlib
import time
from typing import Callable, ContextManager, Optional, TypeVar

T = TypeVar('T')

#: A pass whose CPU time is below this share of wall time x threads ran on
#: contended cores (measured: 0.98-1.0 quiet, 0.62-0.66 with one of two
#: cores busy).
CONTENDED_SHARE = 0.8

#: After this many passes with fewer threads, one pass tries all of them
#: again (under sustained load: one slow pass in this many).
PROBE_EVERY = 10

#: Passes shorter than this are not measured (too short to tell; the small
#: networks of the tests).
MIN_MEASURED_SECONDS = 0.2


def blas_threads() -> int:
    """The most threads NumPy's BLAS uses now (its own limit, which a
    caller such as a Ray worker may have lowered)."""
    from models.runtime import blas_libraries
    numpy_blas = [lib for lib in blas_libraries() if lib.get('numpy')]
    return max([int(lib['num_threads']) for lib in numpy_blas] or [1])


def limit_blas_threads(threads: int) -> ContextManager:
    """NumPy's BLAS limited to ``threads`` for a block (threadpoolctl)."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(threads, user_api='blas')


class ThreadGovernor:
    """The BLAS threads of each pass, from how much CPU the last ones got.

    Args:
        most: the most threads (default: what the BLAS uses when first
            asked, :func:`blas_threads`).
        wall_clock, cpu_clock: seconds (``time.perf_counter``,
            ``time.process_time``; fakes in tests).
        limit: ``limit(threads)`` -> a context manager running a block
            with that many BLAS threads (:func:`limit_blas_threads`).

    Attributes:
        threads: the threads the next pass gets.
    """

    def __init__(self, most: Optional[int] = None,
                 wall_clock: Callable[[], float] = time.perf_counter,
                 cpu_clock: Callable[[], float] = time.process_time,
                 limit: Callable[[int], ContextManager] = limit_blas_threads
                 ) -> None:
        self.most = most
        self.threads = most
        self.wall_clock, self.cpu_clock, self.limit = (wall_clock,
                                                       cpu_clock, limit)
        self._reduced_passes = 0

    def run(self, work: Callable[[], T]) -> T:
        """``work()`` with :attr:`threads` BLAS threads; then the threads of
        the next pass are settled from this one's CPU share."""
        if self.most is None:
            self.most = self.threads = blas_threads()
        if self.most <= 1:
            return work()
        threads = self.threads
        limited = (self.limit(threads) if threads < self.most
                   else contextlib.nullcontext())
        wall, cpu = self.wall_clock(), self.cpu_clock()
        with limited:
            result = work()
        self._settle(threads, self.wall_clock() - wall,
                     self.cpu_clock() - cpu)
        return result

    def _settle(self, threads: int, wall: float, cpu: float) -> None:
        if wall < MIN_MEASURED_SECONDS:
            return
        share = cpu / (wall * threads)
        if share < CONTENDED_SHARE and threads > 1:
            self.threads = max(1, int(threads * share))
            self._reduced_passes = 0
        elif self.threads < self.most:
            self._reduced_passes += 1
            if self._reduced_passes >= PROBE_EVERY:
                self.threads, self._reduced_passes = self.most, 0
