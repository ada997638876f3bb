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
