"""The CPU inference convolution against Chainer's own."""
import chainer
import chainer.functions as F
import numpy as np
import pytest

from models import NETWORKS, cpu_conv


@pytest.mark.parametrize('channels, out, k, height, width, relu', [
    (5, 4, 7, 9, 11, True),         # shallow: one GEMM over all columns
    (3, 6, 3, 30, 17, False),
    (12, 5, 7, 10, 13, True),       # k GEMMs over shifted rows
    (24, 3, 3, 19, 8, False),
    (8, 2, 1, 5, 6, True)])
def test_equals_chainer_convolution(channels, out, k, height, width, relu,
                                    monkeypatch):
    monkeypatch.setattr(cpu_conv, 'BAND_BYTES', 4096)   # several bands
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, channels, height, width), dtype=np.float32)
    # Scaled so that outputs are O(1): the sums run in another order than
    # Chainer's, so they agree to float32 rounding, not bit for bit.
    w = rng.standard_normal((out, channels, k, k), dtype=np.float32) / (
        k * np.sqrt(channels))
    b = rng.standard_normal(out, dtype=np.float32)
    expected = F.convolution_2d(x, w, b, pad=k // 2)
    if relu:
        expected = F.relu(expected)
    np.testing.assert_allclose(cpu_conv.conv2d(x, w, b, relu),
                               expected.array, rtol=1e-5, atol=1e-5)


def test_network_fast_path_equals_chainer_functions(slim_networks):
    """Inference on the CPU takes the fast path; with gradients enabled the
    network runs Chainer's functions; both agree (on the slim network: the
    layer sequence is what counts here; the full-size networks take the
    fast path in test_parity_opencv)."""
    model = NETWORKS['handnet']()
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 3, 48, 40)).astype(
        np.float32)
    with chainer.using_config('train', False):
        slow = model(x)[-1]
        with chainer.no_backprop_mode():
            assert model._fast_path(x)
            fast = model(x)[-1]
    assert slow.creator is not None and fast.creator is None
    np.testing.assert_allclose(fast.array, slow.array, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('height, width', [(8, 6), (7, 6), (8, 5), (1, 3)])
def test_max_pool_equals_chainer(height, width):
    """Odd sizes round up, as Caffe's pooling (and Chainer's cover_all)."""
    x = np.random.default_rng(2).standard_normal(
        (2, 3, height, width), dtype=np.float32) - 5
    expected = F.max_pooling_2d(x, 2, stride=2).array
    pooled = cpu_conv.max_pool_2x2(x)
    assert pooled.shape == expected.shape
    np.testing.assert_array_equal(pooled, expected)


def _layer(channels, out, k, size=12, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, channels, size, size), dtype=np.float32)
    w = rng.standard_normal((out, channels, k, k), dtype=np.float32)
    w *= np.float32(1 / (k * np.sqrt(channels)))
    return x, w, rng.standard_normal(out, dtype=np.float32)


class FakeTimer:
    """A clock that advances by the seconds each scheme is said to take
    (read while the scheme runs: the plan times ``run``)."""

    def __init__(self, plan_seconds):
        self.seconds, self.now, self.calls = plan_seconds, 0.0, 0
        self.running = None

    def __call__(self):
        self.calls += 1
        if self.running is not None:
            self.now += self.seconds[self.running]
        return self.now


def _timed_plan(monkeypatch, seconds):
    monkeypatch.setenv(cpu_conv.SCHEME_VARIABLE, 'timed')
    timer = FakeTimer(seconds)
    plan = cpu_conv.ConvPlan(timer=timer)
    run = plan.run

    def tracked(scheme, *args):
        timer.running = scheme
        return run(scheme, *args)
    monkeypatch.setattr(plan, 'run', tracked)
    return plan, timer


def test_timed_mode_keeps_the_fastest_and_its_output(monkeypatch):
    plan, timer = _timed_plan(
        monkeypatch, {'direct': 3.0, 'winograd2': 1.0, 'winograd4': 2.0})
    x, w, b = _layer(8, 4, 3)
    first = plan.conv2d('conv', x, w, b, True)
    key = ('conv', x.shape, w.shape, 'timed')
    assert plan.choices[key] == 'winograd2'
    assert plan.timings[key] == {'direct': 3.0, 'winograd2': 1.0,
                                 'winograd4': 2.0}
    # The losers' kernel transforms are dropped, the winner's kept.
    assert len(plan.kernels) == 1
    calls = timer.calls
    again = plan.conv2d('conv', x, w, b, True)
    assert timer.calls == calls                # not timed again
    np.testing.assert_array_equal(again, first)
    np.testing.assert_allclose(first, cpu_conv.conv2d(x, w, b, True),
                               rtol=1e-5, atol=1e-5)


def test_timed_mode_prefers_the_earlier_candidate_on_a_tie(monkeypatch):
    plan, _ = _timed_plan(monkeypatch, {'direct': 1.0, 'fft16': 1.0,
                                        'fft12': 0.5})
    x, w, b = _layer(4, 4, 7)
    plan.conv2d('a', x, w, b, False)
    plan.schemes[7] = ('direct', 'fft16')
    plan.conv2d('b', x, w, b, False)
    assert plan.choices[('a', x.shape, w.shape, 'timed')] == 'fft12'
    assert plan.choices[('b', x.shape, w.shape, 'timed')] == 'direct'


@pytest.mark.parametrize('k, channels, expected', [
    (3, 3, 'direct'), (3, 64, 'winograd4'), (7, 185, 'fft16'),
    (7, 8, 'direct'), (1, 128, 'direct')])
def test_rule_mode_scheme(k, channels, expected, monkeypatch):
    monkeypatch.delenv(cpu_conv.SCHEME_VARIABLE, raising=False)
    assert cpu_conv.mode() == 'rule'
    assert cpu_conv.rule_scheme((16, channels, k, k)) == expected
    plan = cpu_conv.ConvPlan()
    x, w, b = _layer(channels, 5, k, size=9)
    found = plan.conv2d('layer', x, w, b, True)
    assert plan.choices[('layer', x.shape, w.shape, 'rule')] == expected
    assert (len(plan.kernels) > 0) == (expected != 'direct')
    # Every call by the same scheme: the same output bit for bit.
    np.testing.assert_array_equal(plan.conv2d('layer', x, w, b, True),
                                  found)
    np.testing.assert_allclose(found, cpu_conv.conv2d(x, w, b, True),
                               rtol=1e-4, atol=1e-4)


def test_direct_mode_runs_no_transform(monkeypatch):
    monkeypatch.setenv(cpu_conv.SCHEME_VARIABLE, 'direct')

    def refuse(*args, **kwargs):
        raise AssertionError('a transform ran')
    monkeypatch.setattr(cpu_conv.transform_conv, 'conv2d', refuse)
    plan = cpu_conv.ConvPlan()
    x, w, b = _layer(32, 8, 7)
    np.testing.assert_array_equal(plan.conv2d('layer', x, w, b, False),
                                  cpu_conv.conv2d(x, w, b, False))
    assert not plan.choices and len(plan.kernels) == 0


def test_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv(cpu_conv.SCHEME_VARIABLE, 'fastest')
    with pytest.raises(ValueError, match=cpu_conv.SCHEME_VARIABLE):
        cpu_conv.mode()


def test_plan_belongs_to_its_network():
    class Network:
        pass
    first, second = Network(), Network()
    plan = cpu_conv.plan_for(first)
    assert cpu_conv.plan_for(first) is plan
    assert cpu_conv.plan_for(second) is not plan
    del first
    assert plan not in cpu_conv._PLANS.values()     # freed with it


def test_network_keeps_transformed_kernels(slim_networks, monkeypatch):
    """The slim hand network in the rule mode: its 3x3 and 7x7 layers of
    16 or more input channels are transformed on the first pass, and later
    passes reuse the transforms and give the same outputs."""
    monkeypatch.delenv(cpu_conv.SCHEME_VARIABLE, raising=False)
    model = NETWORKS['handnet']()
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 3, 48, 40)).astype(
        np.float32)
    plan = cpu_conv.plan_for(model)
    passes = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for _ in range(2):
            passes.append(model(x)[-1].array)
            if len(passes) == 1:
                kept = dict(plan.kernels._entries)
        monkeypatch.setenv(cpu_conv.SCHEME_VARIABLE, 'direct')
        direct = model(x)[-1].array
    assert {key[1] for key in kept} == {'winograd4', 'fft16'}
    assert plan.kernels._entries.keys() == kept.keys()
    assert all(plan.kernels._entries[key][2] is entry[2]
               for key, entry in kept.items())
    assert {'fft16', 'winograd4', 'direct'} <= set(plan.choices.values())
    np.testing.assert_array_equal(passes[0], passes[1])
    np.testing.assert_allclose(passes[0], direct, rtol=1e-5, atol=1e-5)
