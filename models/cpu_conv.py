"""Faster CPU inference operations: convolution and 2x2 max pooling.

Chainer's CPU convolution builds an im2col array of shape
(N, C, kh, kw, H, W) and multiplies it with ``numpy.tensordot``, which
transposes and copies it again, then transposes the result.  Here a k x k
convolution copies its input only k times (once per column shift j, as
``shifts[c, j, r, w] = x[c, r, w + j]``) and runs k GEMMs, one per kernel
row i, each over ``shifts`` viewed from row i on: a (C * k, rows * W) matrix
with one constant row stride, which BLAS takes without another copy.  The
products add up band by band of output rows, and bias and ReLU are applied
to the band while it is in cache.  Layers with very few input channels (the
image's three) take one GEMM over the whole k * k column matrix instead.

The arithmetic is the same single-precision multiply-adds as Chainer's,
summed in another order: results agree to float32 rounding (relative
1e-6), which the tests check.

Measured on the 2-core AVX-512 development machine (NumPy 2.4, OpenBLAS
SkylakeX, GEMM alone 170-185 GFLOP/s): a 7x7 128->128 convolution at 46x46
takes 20 ms (168 GFLOP/s); one GEMM per band over the whole column matrix
took 26-30 ms, Chainer's own about 38 ms.  Chainer's max pooling of
64x368x368 takes 76 ms, the strided maximum here 14 ms.
"""
from __future__ import annotations

import numpy as np

#: Size of the column matrix of one band of output rows.
BAND_BYTES = 16 << 20

#: Below this depth (C * k) of a kernel row's GEMM, one GEMM over the whole
#: column matrix is faster than k shallow ones.
MIN_SHIFTED_DEPTH = 64


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
           relu: bool) -> np.ndarray:
    """Stride-1 'same' convolution (+ bias, + optional ReLU) of a batch.

    Args:
        x: (N, C, H, W) float32.
        weight: (O, C, k, k) float32, k odd; padding k // 2.
        bias: (O,) float32.
        relu: apply max(0, .) to the result.

    Returns:
        (N, O, H, W) float32.
    """
    return np.stack([_conv_one(image, weight, bias, relu) for image in x])


def _conv_one(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
              relu: bool) -> np.ndarray:
    out_channels, channels, k, _ = weight.shape
    _, height, width = x.shape
    out = np.empty((out_channels, height * width), np.float32)
    if k == 1:
        np.matmul(weight.reshape(out_channels, channels),
                  x.reshape(channels, height * width), out=out)
        _bias_relu(out, bias, relu)
    elif channels * k < MIN_SHIFTED_DEPTH:
        _im2col_matmul(_padded(x, k // 2), weight, bias, relu, out)
    else:
        _shifted_matmul(_padded(x, k // 2), weight, bias, relu, out)
    return out.reshape(out_channels, height, width)


def _bias_relu(out: np.ndarray, bias: np.ndarray, relu: bool) -> None:
    out += bias[:, None]
    if relu:
        np.maximum(out, 0, out=out)


def _padded(x: np.ndarray, pad: int) -> np.ndarray:
    channels, height, width = x.shape
    padded = np.zeros((channels, height + 2 * pad, width + 2 * pad),
                      np.float32)
    padded[:, pad:pad + height, pad:pad + width] = x
    return padded


def _band_rows(bytes_per_row: int, height: int) -> int:
    """Output rows per band so that a band's columns take BAND_BYTES."""
    return max(1, min(height, BAND_BYTES // bytes_per_row))


def _shifted_matmul(padded: np.ndarray, weight: np.ndarray,
                    bias: np.ndarray, relu: bool, out: np.ndarray) -> None:
    """``out`` (O, H * W) = conv(x) + bias (ReLU), band by band of rows.

    ``padded`` is x (C, H + k - 1, W + k - 1) with its zero border.  The k
    column shifts of a band's input rows are copied once, as
    ``shifts[c, j, r, w] = padded[c, r, w + j]``; then kernel row i is one
    GEMM over ``shifts`` viewed from row i on, (C * k, rows * W) with a
    constant row stride, so no other copy is made.  The k products add up
    in the band's slice of ``out`` while it is still in cache.
    """
    out_channels, channels, k, _ = weight.shape
    width = padded.shape[2] - k + 1
    height = padded.shape[1] - k + 1
    # [i, o, (c, j)]: the weights of kernel row i, in the shifts' order.
    row_weights = weight.transpose(2, 0, 1, 3).reshape(
        k, out_channels, channels * k)
    band = _band_rows(channels * k * width * 4, height)
    shifts = np.empty((channels, k, band + k - 1, width), np.float32)
    columns = shifts.reshape(channels * k, -1)
    product = np.empty((out_channels, band * width), np.float32)
    for top in range(0, height, band):
        rows = min(band, height - top)
        for j in range(k):
            shifts[:, j, :rows + k - 1] = \
                padded[:, top:top + rows + k - 1, j:j + width]
        target = out[:, top * width:(top + rows) * width]
        for i in range(k):
            np.matmul(row_weights[i], columns[:, i * width:(i + rows) * width],
                      out=product[:, :rows * width] if i else target)
            if i:
                target += product[:, :rows * width]
        _bias_relu(target, bias, relu)


def _im2col_matmul(padded: np.ndarray, weight: np.ndarray,
                   bias: np.ndarray, relu: bool, out: np.ndarray) -> None:
    """As :func:`_shifted_matmul` with the whole (C * k * k, rows * W)
    column matrix of a band, for layers with few input channels (the
    image's three), where k GEMMs of depth C * k would be too shallow."""
    out_channels, channels, k, _ = weight.shape
    width = padded.shape[2] - k + 1
    height = padded.shape[1] - k + 1
    matrix = weight.reshape(out_channels, channels * k * k)
    band = _band_rows(channels * k * k * width * 4, height)
    columns = np.empty((channels, k, k, band, width), np.float32)
    for top in range(0, height, band):
        rows = min(band, height - top)
        part = columns[:, :, :, :rows]
        for i in range(k):
            for j in range(k):
                part[:, i, j] = padded[:, top + i:top + i + rows, j:j + width]
        target = out[:, top * width:(top + rows) * width]
        np.matmul(matrix, part.reshape(channels * k * k, -1), out=target)
        _bias_relu(target, bias, relu)


def max_pool_2x2(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling with stride 2, rounding the output size up as Caffe
    (and Chainer's ``cover_all``) do: an odd last row or column is pooled
    alone.

    Args:
        x: (N, C, H, W) float32.

    Returns:
        (N, C, ceil(H / 2), ceil(W / 2)) float32.
    """
    n, c, height, width = x.shape
    if height % 2 or width % 2:
        padded = np.full((n, c, height + height % 2, width + width % 2),
                         -np.inf, np.float32)
        padded[:, :, :height, :width] = x
        x = padded
    rows = np.maximum(x[:, :, 0::2], x[:, :, 1::2])
    return np.maximum(rows[..., 0::2], rows[..., 1::2])
