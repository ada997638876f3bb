"""Convolution by tile transforms against a float64 direct convolution."""
import chainer.functions as F
import numpy as np
import pytest

from models import cpu_conv, tile_transforms, transform_conv

SCHEMES = {3: ('winograd2', 'winograd4', 'fft8', 'fft16'),
           7: ('fft12', 'fft16')}


def _case(channels, out, k, height, width, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, height, width),
                            dtype=np.float32)
    weight = rng.standard_normal((out, channels, k, k), dtype=np.float32)
    weight *= np.float32(1 / (k * np.sqrt(channels)))
    bias = rng.standard_normal(out, dtype=np.float32)
    return x, weight, bias


def _exact(x, weight, bias, relu):
    """float64 direct convolution of the float32 inputs."""
    y = F.convolution_2d(x.astype(np.float64), weight.astype(np.float64),
                         bias.astype(np.float64),
                         pad=weight.shape[2] // 2).array
    return np.maximum(y, 0) if relu else y


@pytest.mark.parametrize('k, channels, out, height, width, relu', [
    (3, 1, 2, 2, 3, False),         # smaller than one tile
    (3, 5, 4, 13, 10, True),        # odd, not a multiple of any tile
    (3, 19, 7, 24, 16, False),      # even
    (7, 3, 5, 5, 4, True),          # smaller than one tile
    (7, 12, 6, 23, 30, False),      # several tiles, odd
    (7, 20, 9, 16, 20, True)])
def test_every_scheme_within_its_bound(k, channels, out, height, width, relu):
    x, weight, bias = _case(channels, out, k, height, width)
    expected = _exact(x, weight, bias, relu)
    scale = np.abs(expected).max()
    for scheme in SCHEMES[k]:
        transform = cpu_conv.transform(scheme, k)
        found = transform_conv.conv2d(x, weight, bias, relu, transform)
        assert found.shape == expected.shape and found.dtype == np.float32
        error = np.abs(found - expected).max() / scale
        assert error <= tile_transforms.error_bound(scheme), scheme


def test_bands_of_tile_rows_give_the_same_result(monkeypatch):
    x, weight, bias = _case(6, 4, 7, 37, 21, batch=1)
    transform = cpu_conv.transform('fft16', 7)
    whole = transform_conv.conv2d(x, weight, bias, True, transform)
    monkeypatch.setattr(transform_conv, 'BAND_BYTES', 1)   # a row a band
    banded = transform_conv.conv2d(x, weight, bias, True, transform)
    np.testing.assert_allclose(banded, whole, rtol=1e-6, atol=1e-6)


def test_wrong_kernel_size_is_refused():
    x, weight, bias = _case(2, 2, 7, 8, 8)
    with pytest.raises(ValueError, match='3x3'):
        transform_conv.conv2d(x, weight, bias, False,
                              cpu_conv.transform('winograd2', 3))


def test_kernel_cache_reuses_and_notices_new_weights():
    transform = cpu_conv.transform('fft16', 7)
    cache = transform_conv.KernelCache()
    _, weight, _ = _case(4, 3, 7, 1, 1)
    first = cache.get(weight, transform)
    assert cache.get(weight, transform) is first and len(cache) == 1
    assert cache.nbytes == transform.kernel_bytes(3, 4)
    # New weights loaded into the same array (as load_npz does).
    weight[...] = _case(4, 3, 7, 1, 1, seed=5)[1]
    second = cache.get(weight, transform)
    assert second is not first
    np.testing.assert_allclose(second, transform.kernel(weight))
    # Another array with equal values is another entry.
    assert cache.get(weight.copy(), transform) is not second
    assert len(cache) == 2
    cache.discard(weight, transform)
    assert len(cache) == 1
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_fingerprint_sees_shape_and_sampled_values():
    weight = np.zeros((2, 3, 3, 3), np.float32)
    base = transform_conv.fingerprint(weight)
    assert transform_conv.fingerprint(weight.reshape(3, 2, 3, 3)) != base
    weight[0, 0, 0, 0] = 1
    assert transform_conv.fingerprint(weight) != base


def test_kernel_cache_keeps_one_entry_per_layer():
    """Weights given in a new array (parameters cast and cast back, say)
    replace the layer's entry instead of piling up."""
    transform = cpu_conv.transform('winograd2', 3)
    cache = transform_conv.KernelCache()
    _, weight, _ = _case(4, 3, 3, 1, 1)
    first = cache.get(weight, transform, 'conv')
    assert cache.get(weight, transform, 'conv') is first
    copy = weight.copy()
    assert cache.get(copy, transform, 'conv') is not first
    assert len(cache) == 1
    cache.discard(copy, transform, 'conv')
    assert len(cache) == 0


def test_buffers_are_reused_by_name_and_type():
    buffers = transform_conv.Buffers()
    big = buffers.get('a', (4, 5), np.float32)
    small = buffers.get('a', (3, 2), np.float32)
    assert small.shape == (3, 2) and small.flags.c_contiguous
    assert np.shares_memory(big, small)
    other = buffers.get('a', (3, 2), np.complex64)
    assert other.dtype == np.complex64 and not np.shares_memory(other, big)
    assert np.shares_memory(buffers.get('a', (20,), np.float32), big)
