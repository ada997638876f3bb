"""The GPU queue's bookkeeping, with stand-ins for CuPy's events and
streams (tests/test_gpu.py runs the real ones)."""
import pytest

from pose import gpu_queue
from pose.gpu_queue import NetworkClock, ReadStream


class FakeCuda:
    """CuPy's ``cuda`` module as far as pose.gpu_queue uses it: events
    that finish when told, at a given time, and a stream logging what it
    is asked."""

    def __init__(self):
        self.log, self.events = [], []
        self.now = 0.0
        cuda = self

        class Event:
            def __init__(self, disable_timing=False):
                self.done, self.time = False, None
                cuda.events.append(self)

            def record(self):
                cuda.log.append('record')
                self.time = cuda.now

            def synchronize(self):
                cuda.log.append('synchronize')
                self.done = True

        class Stream:
            def __init__(self, non_blocking=False):
                assert non_blocking       # must not wait for the null stream

            def wait_event(self, event):
                cuda.log.append(('wait', event))

            def __enter__(self):
                cuda.log.append('enter')

            def __exit__(self, *error):
                cuda.log.append('exit')

        self.Event, self.Stream = Event, Stream

    @staticmethod
    def get_elapsed_time(start, end):
        return 1e3 * (end.time - start.time)      # milliseconds


@pytest.fixture
def cuda(monkeypatch):
    fake = FakeCuda()
    monkeypatch.setattr(gpu_queue, '_cuda', lambda: fake)
    return fake


def timed_pass(clock, cuda, seconds):
    with clock.timing():
        cuda.now += seconds
    return cuda.events[-1]          # the pass's end


def test_the_clock_counts_passes_once_they_have_finished(cuda):
    clock = NetworkClock(gpu=True)
    first = timed_pass(clock, cuda, 0.25)
    second = timed_pass(clock, cuda, 0.5)
    clock.settle()
    assert clock.seconds == 0             # queued, not finished
    first.done = True
    clock.settle()
    assert clock.seconds == pytest.approx(0.25)
    clock.settle()                        # counted once
    assert clock.seconds == pytest.approx(0.25)
    assert not second.done
    clock.settle(wait=True)
    assert second.done and clock.seconds == pytest.approx(0.75)


def test_the_cpu_clock_is_the_wall_clock(monkeypatch):
    times = iter([10.0, 10.5])
    monkeypatch.setattr(gpu_queue.time, 'perf_counter', lambda: next(times))
    clock = NetworkClock(gpu=False)
    with clock.timing():
        pass
    clock.settle(wait=True)
    assert clock.seconds == pytest.approx(0.5)


def test_reading_waits_for_its_mark_on_its_own_stream(cuda):
    stream = ReadStream(gpu=True)
    mark = stream.mark()
    with stream.after(mark):
        cuda.log.append('read')
    assert cuda.log == ['record', ('wait', mark), 'enter', 'read', 'exit']


def test_on_the_cpu_reading_runs_in_place():
    stream = ReadStream(gpu=False)
    assert stream.mark() is None
    with stream.after(None):
        ran = True
    assert ran
