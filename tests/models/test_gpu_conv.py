"""The GPU convolution's logic on NumPy, against models.cpu_conv.

The CUDA kernels' bodies are also compiled as C++ (where a compiler is
installed) and run against their NumPy twins, so their index arithmetic is
checked on machines without a GPU.
"""
import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from models import cpu_conv, gpu_conv

#: float32 results agree with cpu_conv to rounding (other summation order).
RELATIVE = 1e-5


def relative_error(found, expected) -> float:
    return float(np.abs(found.astype(np.float32) - expected).max()
                 / np.abs(expected).max())


def random_layer(rng, batch, channels, outputs, k, height, width):
    x = rng.standard_normal((batch, channels, height, width), np.float32)
    w = rng.standard_normal((outputs, channels, k, k), np.float32)
    b = rng.standard_normal(outputs, np.float32)
    return x, w, b


@pytest.mark.parametrize('channels, k', [(3, 3), (5, 7), (6, 1)])
@pytest.mark.parametrize('relu', [True, False])
def test_conv2d_matches_cpu_conv(channels, k, relu, monkeypatch):
    """Chunks of one image and of two (the column budget forced small)."""
    rng = np.random.default_rng(k + channels)
    x, w, b = random_layer(rng, 3, channels, 4, k, 9, 11)
    expected = cpu_conv.conv2d(x, w, b, relu)
    for budget in (1, 2 * channels * k * k * 99 * 4, gpu_conv.COLUMN_BYTES):
        monkeypatch.setattr(gpu_conv, 'COLUMN_BYTES', budget)
        found = gpu_conv.conv2d(x, w, b, relu)
        assert found.shape == expected.shape and found.dtype == np.float32
        assert relative_error(found, expected) <= RELATIVE


def test_chunks_stay_within_the_column_budget(monkeypatch):
    monkeypatch.setattr(gpu_conv, 'COLUMN_BYTES', 1000)
    assert gpu_conv.chunk_images(2, 3, 10, 4, 8) == 1000 // 720
    assert gpu_conv.chunk_images(64, 3, 10 ** 6, 4, 8) == 1
    assert gpu_conv.chunk_images(1, 1, 1, 2, 8) == 8


def test_float16_convolution_accumulates_in_float32():
    """Half inputs, float32 sums: the error is the inputs' and the
    result's rounding (2^-11 each), not a half-precision sum's."""
    rng = np.random.default_rng(3)
    x, w, b = random_layer(rng, 2, 32, 8, 3, 8, 8)
    expected = cpu_conv.conv2d(x, w, b, False)
    found = gpu_conv.conv2d(x.astype(np.float16), w.astype(np.float16),
                            b.astype(np.float16), False)
    assert found.dtype == np.float16
    assert relative_error(found, expected) <= 4e-3


@pytest.mark.parametrize('height, width', [(8, 6), (7, 6), (8, 5), (1, 3)])
@pytest.mark.parametrize('dtype', [np.float32, np.float16])
def test_max_pool_equals_cpu_conv(height, width, dtype):
    x = np.random.default_rng(2).standard_normal(
        (2, 3, height, width)).astype(dtype) - 5
    pooled = gpu_conv.max_pool_2x2(x)
    assert pooled.dtype == dtype
    np.testing.assert_array_equal(
        pooled, cpu_conv.max_pool_2x2(x.astype(np.float32)).astype(dtype))


HARNESS = r'''
#include <cmath>
typedef float T;
static float fmaxf_(float a, float b) { return a > b ? a : b; }
#define fmaxf fmaxf_
extern "C" {
void im2col(const T* x, long long first, long long count, long long channels,
            long long height, long long width, long long k, long long pad,
            T* result, long long size) {
  for (long long i = 0; i < size; i++) { T& columns = result[i];
%s
  }
}
void bias_relu(const T* product, const T* bias, long long count,
               long long outputs, long long pixels, bool relu, T* result,
               long long size) {
  for (long long i = 0; i < size; i++) { T& y = result[i];
%s
  }
}
void pool(const T* x, long long height, long long width, T* result,
          long long size) {
  for (long long i = 0; i < size; i++) { T& y = result[i];
%s
  }
}
}
'''


@pytest.fixture(scope='module')
def kernels(tmp_path_factory):
    """The CUDA kernels' bodies built as a C++ library (float32)."""
    compiler = shutil.which('g++') or shutil.which('c++')
    if compiler is None:
        pytest.skip('no C++ compiler to build the kernel bodies')
    folder = tmp_path_factory.mktemp('kernels')
    source = folder / 'kernels.cpp'
    source.write_text(HARNESS % (gpu_conv._IM2COL, gpu_conv._BIAS_RELU,
                                 gpu_conv._MAX_POOL))
    library = folder / 'kernels.so'
    subprocess.run([compiler, '-O1', '-shared', '-fPIC', '-o', str(library),
                    str(source)], check=True)
    return ctypes.CDLL(str(library))


def pointer(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def test_cuda_kernel_bodies_equal_their_numpy_twins(kernels):
    n = ctypes.c_longlong
    rng = np.random.default_rng(0)
    for batch, channels, height, width, k, first, count in [
            (3, 4, 7, 9, 3, 1, 2), (2, 3, 5, 6, 7, 0, 2), (4, 5, 6, 3, 1, 2, 2)]:
        x = rng.standard_normal((batch, channels, height, width), np.float32)
        expected = gpu_conv.im2col(x, first, count, k)
        found = np.full_like(expected, np.nan)
        kernels.im2col(pointer(x), n(first), n(count), n(channels),
                       n(height), n(width), n(k), n(k // 2), pointer(found),
                       n(found.size))
        np.testing.assert_array_equal(found, expected)
        outputs, pixels = 5, height * width
        product = rng.standard_normal((outputs, count * pixels), np.float32)
        bias = rng.standard_normal(outputs, np.float32)
        for relu in (True, False):
            expected = np.empty((count, outputs, pixels), np.float32)
            gpu_conv.bias_relu_nchw(product, bias, count, relu, expected)
            found = np.full_like(expected, np.nan)
            kernels.bias_relu(pointer(product), pointer(bias), n(count),
                              n(outputs), n(pixels), ctypes.c_bool(relu),
                              pointer(found), n(found.size))
            np.testing.assert_array_equal(found, expected)
        expected = gpu_conv.max_pool_2x2(x)
        found = np.full_like(expected, np.nan)
        kernels.pool(pointer(x), n(height), n(width), pointer(found),
                     n(found.size))
        np.testing.assert_array_equal(found, expected)
