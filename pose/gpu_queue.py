"""Work queued on a GPU: timing it, and reading one batch's results while
the network runs on the next.

CuPy queues kernels on a CUDA stream and returns at once; only a copy to
the host waits.  :class:`NetworkClock` therefore times the network's
passes with CUDA events, and :class:`ReadStream` gives the reading of a
batch's maps (upsampling, peaks, PAF samples: :mod:`pose.device_maps`) a
stream of its own, which waits for that batch's pass but not for the
passes queued after it.  On the CPU, where every operation is done when
it returns, the clock is the wall clock and the read stream is nothing.
CuPy is imported only on a GPU.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator, List, Optional, Tuple


def _cuda():
    import cupy
    return cupy.cuda


class NetworkClock:
    """Seconds spent in the network's passes.

    On the CPU a pass is timed by the wall clock.  On a GPU, where passes
    are queued and overlap the host's work, CUDA events are recorded around
    each pass and its device time is added by :meth:`settle` once the pass
    has finished.
    """

    def __init__(self, gpu: bool):
        self.seconds = 0.0
        self._gpu = gpu
        self._pending: List[Tuple[Any, Any]] = []   # (start, end) events

    @contextlib.contextmanager
    def timing(self) -> Iterator[None]:
        """Times the block: the work it runs, or queues on the GPU."""
        if not self._gpu:
            start = time.perf_counter()
            yield
            self.seconds += time.perf_counter() - start
            return
        start, end = _cuda().Event(), _cuda().Event()
        start.record()
        yield
        end.record()
        self._pending.append((start, end))

    def settle(self, wait: bool = False) -> None:
        """Add the device time of the timed passes that have finished (all
        of them, waiting for them, with ``wait``)."""
        pending = []
        for start, end in self._pending:
            if wait:
                end.synchronize()
            elif not end.done:
                pending.append((start, end))
                continue
            self.seconds += _cuda().get_elapsed_time(start, end) / 1000
        self._pending = pending


class ReadStream:
    """Where a batch's maps are read on a GPU: a second, non-blocking CUDA
    stream.  :meth:`mark` records an event after the work queued so far
    (a batch's network pass); work run in :meth:`after` that mark waits for
    it, and for nothing queued later, so reading batch k overlaps the
    network's pass on batch k+1.  On the CPU both do nothing.

    Create it with the detector's device current.
    """

    def __init__(self, gpu: bool):
        self._stream = _cuda().Stream(non_blocking=True) if gpu else None

    def mark(self) -> Optional[Any]:
        """An event after the work queued so far on the current stream
        (None on the CPU)."""
        if self._stream is None:
            return None
        event = _cuda().Event(disable_timing=True)
        event.record()
        return event

    @contextlib.contextmanager
    def after(self, mark: Optional[Any]) -> Iterator[None]:
        """Run the block's device work on the read stream, once ``mark``
        (from :meth:`mark`; None: nothing to wait for) is reached."""
        if self._stream is None:
            yield
            return
        if mark is not None:
            self._stream.wait_event(mark)
        with self._stream:
            yield
