"""The BLAS threads of each pass follow the CPU share the passes got."""
import contextlib

import chainer
import numpy as np
import pytest

from models import NETWORKS, threads
from models.threads import ThreadGovernor


class FakeMachine:
    """Clocks and a thread limit: each pass takes ``seconds`` of wall time
    and gets ``share`` of a core per thread."""

    def __init__(self):
        self.wall = self.cpu = 0.0
        self.share, self.seconds = 1.0, 1.0
        self.limits = []             # the threads of each limited block
        self.current = None

    @contextlib.contextmanager
    def limit(self, count):
        self.limits.append(count)
        self.current = count
        yield
        self.current = None

    def governor(self, most=2):
        return ThreadGovernor(most, lambda: self.wall, lambda: self.cpu,
                              self.limit)

    def work(self, governor):
        def one_pass():
            used = self.current or governor.most
            self.wall += self.seconds
            self.cpu += self.seconds * used * self.share
            return used
        return governor.run(one_pass)


def test_quiet_cores_keep_every_thread():
    machine = FakeMachine()
    governor = machine.governor()
    assert [machine.work(governor) for _ in range(5)] == [2] * 5
    assert machine.limits == []        # never limited


def test_contention_lowers_the_threads_and_a_probe_raises_them_again():
    machine = FakeMachine()
    governor = machine.governor()
    machine.share = 0.65               # another process on one of 2 cores
    assert machine.work(governor) == 2
    assert governor.threads == 1
    machine.share = 1.0                # one thread gets its whole core
    used = [machine.work(governor) for _ in range(threads.PROBE_EVERY)]
    assert used == [1] * threads.PROBE_EVERY
    assert governor.threads == 2       # the probe: the other process ended?
    assert machine.work(governor) == 2 and governor.threads == 2


def test_a_probe_under_sustained_load_drops_back():
    machine = FakeMachine()
    governor = machine.governor()
    machine.share = 0.65
    used = [machine.work(governor) for _ in range(2 * threads.PROBE_EVERY)]
    # Per PROBE_EVERY passes with one thread, one probe pass with two.
    assert used.count(2) == 2 and governor.threads in (1, 2)


def test_many_cores_drop_in_proportion():
    machine = FakeMachine()
    governor = machine.governor(most=8)
    machine.share = 0.5
    machine.work(governor)
    assert governor.threads == 4


def test_short_passes_are_not_judged():
    machine = FakeMachine()
    governor = machine.governor()
    machine.share, machine.seconds = 0.3, threads.MIN_MEASURED_SECONDS / 2
    machine.work(governor)
    assert governor.threads == 2


def test_one_thread_is_left_alone():
    machine = FakeMachine()
    governor = machine.governor(most=1)
    machine.share = 0.3
    assert machine.work(governor) == 1 and machine.limits == []


def test_the_real_limit_changes_numpys_blas_threads():
    if threads.blas_threads() < 2:
        pytest.skip('needs a BLAS with 2 or more threads')
    with threads.limit_blas_threads(1):
        assert threads.blas_threads() == 1
    assert threads.blas_threads() >= 2


def test_the_network_runs_its_cpu_passes_through_the_governor(slim_networks):
    model = NETWORKS['posenet']()
    seen = []
    real = model.blas_threads.run
    model.blas_threads.run = lambda work: seen.append(1) or real(work)
    x = np.zeros((1, 3, 32, 32), np.float32)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        model(x)
    assert seen == [1]
