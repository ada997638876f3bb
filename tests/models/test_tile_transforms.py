"""The tile transforms' matrices against their definitions."""
import numpy as np
import pytest

from models import tile_transforms


@pytest.mark.parametrize('out, bt, g, at', [
    (2, tile_transforms.WINOGRAD_F2_BT, tile_transforms.WINOGRAD_F2_G,
     tile_transforms.WINOGRAD_F2_AT),
    (4, tile_transforms.WINOGRAD_F4_BT, tile_transforms.WINOGRAD_F4_G,
     tile_transforms.WINOGRAD_F4_AT)])
def test_winograd_tables_correlate(out, bt, g, at):
    """1-D F(m, 3): A^T [(G g) * (B^T d)] = sum_j d[i + j] g[j]."""
    rng = np.random.default_rng(0)
    d, kernel = rng.standard_normal(out + 2), rng.standard_normal(3)
    expected = [d[i:i + 3] @ kernel for i in range(out)]
    np.testing.assert_allclose(at @ ((g @ kernel) * (bt @ d)), expected,
                               rtol=1e-12, atol=1e-12)


def _forward_points(transform, tile):
    """The transform of one (T, T) tile (rows, columns): (G, T) points."""
    first = transform.first.astype(np.float64) @ tile.T   # (G * parts, T)
    groups = transform.column_points
    second = np.matmul(transform.second.astype(np.float64),
                       first.reshape(groups, transform.parts * transform.tile,
                                     1))[..., 0]
    second = second.reshape(groups, transform.tile, transform.parts)
    if transform.parts == 1:
        return second[..., 0]
    return second[..., 0] + 1j * second[..., 1]


@pytest.mark.parametrize('size', [8, 16])
def test_fft_forward_is_rfft2(size):
    """Point (column kc, row kr) is numpy's rfft2 coefficient [kr, kc]."""
    tile = np.random.default_rng(1).standard_normal((size, size))
    points = _forward_points(tile_transforms.fft(size, 3), tile)
    np.testing.assert_allclose(points, np.fft.rfft2(tile).T,
                               rtol=1e-5, atol=1e-5)


def test_fft_kernel_is_conjugate_spectrum():
    """Correlation, not convolution: the kernel's coefficients are the
    conjugate of the zero-padded kernel's rfft2."""
    transform = tile_transforms.fft(16, 7)
    weight = np.random.default_rng(2).standard_normal(
        (3, 2, 7, 7)).astype(np.float32)
    padded = np.zeros((3, 2, 16, 16))
    padded[..., :7, :7] = weight
    expected = np.conj(np.fft.rfft2(padded)).transpose(3, 2, 0, 1)
    found = transform.kernel(weight).reshape(9, 16, 3, 2)
    assert found.dtype == np.complex64
    np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-5)


def test_kernel_bytes_counts_the_stored_transform():
    transform = tile_transforms.fft(16, 7)
    weight = np.zeros((4, 3, 7, 7), np.float32)
    assert transform.kernel(weight).nbytes == transform.kernel_bytes(4, 3)
    # 144 complex64 points per (output, input) channel pair.
    assert transform.kernel_bytes(128, 128) == 144 * 8 * 128 * 128


def test_error_bounds_name_every_family():
    assert tile_transforms.error_bound('fft12') == \
        tile_transforms.ERROR_BOUNDS['fft']
    assert tile_transforms.error_bound('winograd4') > \
        tile_transforms.error_bound('winograd2')
