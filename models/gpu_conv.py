"""Inference convolution and pooling on a GPU (CuPy), also runnable on NumPy.

Chainer's GPU convolution (CuPy 14 has no cuDNN) builds an im2col array of
shape (N, C, kh, kw, H, W), multiplies it with ``cupy.tensordot``, which
gives (N, H, W, O), transposes that to NCHW with another copy, then adds
the bias and applies ReLU in two more passes over the output.  Here a
convolution is three kernels:

1. :func:`im2col`: one CUDA kernel writes the column matrix
   ``columns[(c, i, j), (n, y, x)] = x[n, c, y + i - p, x + j - p]``
   (zero outside), (C * k * k, N * H * W), for a chunk of the batch;
2. one cuBLAS GEMM, ``weight (O, C * k * k) @ columns``, (O, N * H * W):
   a plain 2-D product is the one CuPy runs with its float32 compute type
   (TF32 when :mod:`models.precision` asks for it; its batched and
   broadcast products ignore that setting) and, in float16, on the tensor
   cores with float32 accumulation;
3. :func:`bias_relu_nchw`: one elementwise kernel adds the bias, applies
   ReLU and writes the (O, N, H * W) product as (N, O, H, W), so the
   transpose to NCHW costs no pass of its own.

Every function takes NumPy or CuPy arrays (``xp`` is the arrays' module):
on NumPy the CUDA kernels have twins written with array operations, which
is how the CPU tests check the index arithmetic and the chunking against
:func:`models.cpu_conv.conv2d`.  CuPy is imported only when a CuPy array
arrives, so the CPU install never needs it.  Arrays are float32 or
float16; the elementwise kernels compute in float32 either way.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

#: Largest column matrix of one chunk of the batch, in bytes.  The first
#: 3x3 layers at 656x368 need 0.56 GB per image in float32, so a batch of
#: eight goes through them one image at a time, and the later, smaller
#: layers in one chunk.
COLUMN_BYTES = 1 << 30

#: Prefix of the CUDA kernels' names (as profilers list them).
_KERNEL_NAME_PREFIX = 'openpose_'

_IM2COL = r'''
    // columns (C, k, k, n, H, W), flat index i; x (N, C, H, W) from image
    // ``first`` on.  32-bit unsigned arithmetic: on the GPU the sizes are
    // compile-time constants (:func:`_im2col_kernel`), so each division is
    // a multiplication and a shift.
    unsigned int t = (unsigned int)i;
    const unsigned int col = t % width; t /= width;
    const unsigned int row = t % height; t /= height;
    const unsigned int image = t % count; t /= count;
    const unsigned int dx = t % k; t /= k;
    const unsigned int dy = t % k;
    const unsigned int channel = t / k;
    const int sy = (int)(row + dy) - (int)pad;
    const int sx = (int)(col + dx) - (int)pad;
    if (sy >= 0 && sy < (int)height && sx >= 0 && sx < (int)width) {
        columns = x[(((long long)(first + image) * channels + channel)
                     * height + sy) * width + sx];
    } else {
        columns = (T)0.0f;
    }
'''

#: The sizes :data:`_IM2COL` reads, defined as constants in each compiled
#: kernel.
_IM2COL_CONSTANTS = ('count', 'channels', 'height', 'width', 'k', 'pad')

#: Largest column matrix the 32-bit index arithmetic of :data:`_IM2COL`
#: addresses, in elements.
MAX_COLUMN_ELEMENTS = 1 << 32

_BIAS_RELU = r'''
    // y (n, O, P) from product (O, n, P), flat index i over y.
    long long t = i;
    const long long p = t % pixels; t /= pixels;
    const long long o = t % outputs;
    const long long image = t / outputs;
    float v = (float)product[(o * count + image) * pixels + p]
              + (float)bias[o];
    if (relu && v < 0.0f) v = 0.0f;
    y = (T)v;
'''

_MAX_POOL = r'''
    // y (N, C, ceil(H / 2), ceil(W / 2)), flat index i; x (N, C, H, W).
    const long long out_w = (width + 1) / 2, out_h = (height + 1) / 2;
    long long t = i;
    const long long ox = t % out_w; t /= out_w;
    const long long oy = t % out_h;
    const long long plane = t / out_h;
    const long long sy = 2 * oy, sx = 2 * ox;
    const T* base = &x[(plane * height + sy) * width + sx];
    float m = (float)base[0];
    if (sx + 1 < width) m = fmaxf(m, (float)base[1]);
    if (sy + 1 < height) {
        m = fmaxf(m, (float)base[width]);
        if (sx + 1 < width) m = fmaxf(m, (float)base[width + 1]);
    }
    y = (T)m;
'''


def array_module(x) -> Any:
    """``numpy`` for NumPy arrays, ``cupy`` for CuPy arrays (imported only
    then)."""
    if isinstance(x, np.ndarray):
        return np
    import cupy
    return cupy.get_array_module(x)


@functools.lru_cache(maxsize=None)
def _im2col_kernel(count: int, channels: int, height: int, width: int,
                   k: int):
    """The im2col CUDA kernel for one layer shape, its sizes compiled in
    as constants (CuPy compiles it on first use per dtype and caches it on
    disk).  With the sizes as run-time 64-bit values, the six divisions
    per element made im2col two thirds of the network's time on an H100."""
    import cupy
    values = dict(count=count, channels=channels, height=height,
                  width=width, k=k, pad=k // 2)
    constants = ''.join(f'    const unsigned int {name} = {values[name]}u;\n'
                        for name in _IM2COL_CONSTANTS)
    name = (f'{_KERNEL_NAME_PREFIX}im2col_{count}x{channels}x{height}x'
            f'{width}_k{k}')
    return cupy.ElementwiseKernel('raw T x, int64 first', 'T columns',
                                  constants + _IM2COL, name)


@functools.lru_cache(maxsize=None)
def _kernels():
    """The bias-ReLU and pooling CUDA kernels (compiled by CuPy on first
    use per dtype)."""
    import cupy
    bias_relu = cupy.ElementwiseKernel(
        'raw T product, raw T bias, int64 count, int64 outputs, '
        'int64 pixels, bool relu', 'T y', _BIAS_RELU,
        _KERNEL_NAME_PREFIX + 'bias_relu_nchw')
    pool = cupy.ElementwiseKernel(
        'raw T x, int64 height, int64 width', 'T y', _MAX_POOL,
        _KERNEL_NAME_PREFIX + 'max_pool_2x2')
    return bias_relu, pool


def im2col(x, first: int, count: int, k: int):
    """Column matrix of images ``first:first + count`` of ``x``.

    Args:
        x: (N, C, H, W) float32 or float16, NumPy or CuPy.
        first, count: the chunk of the batch.
        k: odd kernel size; padding k // 2 (zeros).

    Returns:
        (C * k * k, count * H * W), same dtype and device:
        ``[(c, i, j), (n, y, x)] = x[first + n, c, y + i - k // 2,
        x + j - k // 2]``, zero outside the image.
    """
    n, channels, height, width = x.shape
    xp = array_module(x)
    shape = (channels * k * k, count * height * width)
    if xp is np:
        return _im2col_numpy(x[first:first + count], k).reshape(shape)
    if shape[0] * shape[1] >= MAX_COLUMN_ELEMENTS:
        raise ValueError(f'an image of {height}x{width} pixels is too large '
                         f'for the GPU convolution; use a smaller size')
    columns = xp.empty(shape, x.dtype)
    _im2col_kernel(count, channels, height, width, k)(
        xp.ascontiguousarray(x), first, columns)
    return columns


def _im2col_numpy(x: np.ndarray, k: int) -> np.ndarray:
    """:func:`im2col` on NumPy: (C, k, k, n, H, W)."""
    n, channels, height, width = x.shape
    pad = k // 2
    padded = np.zeros((n, channels, height + 2 * pad, width + 2 * pad),
                      x.dtype)
    padded[:, :, pad:pad + height, pad:pad + width] = x
    columns = np.empty((channels, k, k, n, height, width), x.dtype)
    for i in range(k):
        for j in range(k):
            columns[:, i, j] = padded[:, :, i:i + height,
                                      j:j + width].transpose(1, 0, 2, 3)
    return columns


def bias_relu_nchw(product, bias, count: int, relu: bool, out) -> None:
    """``out = relu(product + bias)`` with the batch axis moved first.

    Args:
        product: (O, count * P) GEMM result, P pixels per image.
        bias: (O,) same dtype.
        count: images in the chunk.
        relu: apply max(0, .).
        out: (count, O, P) view to write (contiguous rows of P).
    """
    outputs, pixels = bias.shape[0], out.shape[-1]
    xp = array_module(product)
    if xp is np:
        value = (product.reshape(outputs, count, pixels).astype(np.float32)
                 + bias.astype(np.float32)[:, None, None])
        if relu:
            np.maximum(value, 0, out=value)
        out[...] = value.transpose(1, 0, 2)
        return
    _kernels()[0](product, bias, count, outputs, pixels, relu, out)


def chunk_images(channels: int, k: int, pixels: int, itemsize: int,
                 images: int) -> int:
    """Images per chunk so that a chunk's column matrix stays within
    :data:`COLUMN_BYTES` (at least one)."""
    per_image = channels * k * k * pixels * itemsize
    return max(1, min(images, COLUMN_BYTES // max(1, per_image)))


def conv2d(x, weight, bias, relu: bool):
    """Stride-1 'same' convolution (+ bias, + optional ReLU) of a batch.

    Args:
        x: (N, C, H, W) float32 or float16, NumPy or CuPy.
        weight: (O, C, k, k), k odd; padding k // 2; x's dtype and device.
        bias: (O,), x's dtype and device.
        relu: apply max(0, .) to the result.

    Returns:
        (N, O, H, W), x's dtype and device.
    """
    xp = array_module(x)
    n, channels, height, width = x.shape
    outputs, _, k, _ = weight.shape
    pixels = height * width
    matrix = weight.reshape(outputs, channels * k * k)
    out = xp.empty((n, outputs, pixels), x.dtype)
    step = chunk_images(channels, k, pixels, x.dtype.itemsize, n)
    for first in range(0, n, step):
        count = min(step, n - first)
        if k == 1 and count == 1:
            columns = x[first].reshape(channels, pixels)   # no copy needed
        else:
            columns = im2col(x, first, count, k)
        product = _gemm(xp, matrix, columns)
        bias_relu_nchw(product, bias, count, relu, out[first:first + count])
    return out.reshape(n, outputs, height, width)


def _gemm(xp, matrix, columns):
    """``matrix @ columns`` as cuBLAS runs it: a float16 product has
    float32 accumulation and a float16 result (on NumPy: a float32
    product, rounded)."""
    if xp is np and matrix.dtype == np.float16:
        return (matrix.astype(np.float32) @ columns.astype(np.float32)
                ).astype(np.float16)
    return xp.matmul(matrix, columns)


def max_pool_2x2(x):
    """2x2 max pooling, stride 2, odd sizes rounded up as Caffe does
    (:func:`models.cpu_conv.max_pool_2x2` for NumPy or CuPy, float32 or
    float16).

    Args:
        x: (N, C, H, W).

    Returns:
        (N, C, ceil(H / 2), ceil(W / 2)), x's dtype and device.
    """
    xp = array_module(x)
    n, c, height, width = x.shape
    shape = (n, c, (height + 1) // 2, (width + 1) // 2)
    if xp is np:
        padded = np.full((n, c, height + height % 2, width + width % 2),
                         -np.inf, x.dtype)
        padded[:, :, :height, :width] = x
        rows = np.maximum(padded[:, :, 0::2], padded[:, :, 1::2])
        return np.maximum(rows[..., 0::2], rows[..., 1::2])
    out = xp.empty(shape, x.dtype)
    _kernels()[1](xp.ascontiguousarray(x), height, width, out)
    return out
