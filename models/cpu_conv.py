"""Faster CPU inference operations: convolution and 2x2 max pooling.

Two kinds of convolution run here.  :func:`conv2d` is the direct one: the
same multiply-adds as Chainer's, in another order.  :class:`ConvPlan` (one
per network, :func:`plan_for`) runs each layer of a network by the scheme
that does the fewest multiplications for it: the 7x7 layers by FFT over
16 x 16 tiles and the 3x3 layers by Winograd F(4x4, 3x3)
(:mod:`models.transform_conv`, :mod:`models.tile_transforms`), the others
directly.  :data:`SCHEME_VARIABLE` forces the direct path or times the
candidates instead (:func:`mode`).

Direct convolution: Chainer's CPU convolution builds an im2col array of
shape (N, C, kh, kw, H, W) and multiplies it with ``numpy.tensordot``,
which transposes and copies it again, then transposes the result.  Here a
k x k convolution copies its input only k times (once per column shift j,
as ``shifts[c, j, r, w] = x[c, r, w + j]``) and runs k GEMMs, one per
kernel row i, each over ``shifts`` viewed from row i on: a (C * k, rows *
W) matrix with one constant row stride, which BLAS takes without another
copy.  The products add up band by band of output rows, and bias and ReLU
are applied to the band while it is in cache.  Layers with very few input
channels (the image's three) take one GEMM over the whole k * k column
matrix instead.  Results agree with Chainer's to float32 rounding
(relative 1e-6), which the tests check.

Measured on the 2-core AVX-512 development machine (NumPy 2.4, OpenBLAS
SkylakeX, GEMM alone 170-185 GFLOP/s): a 7x7 128->128 convolution at 46x46
takes 20 ms directly (168 GFLOP/s), 8 ms by FFT over 16 x 16 tiles; a 3x3
64->64 one at 368x368 about 100 ms directly, 78 ms by Winograd F(4, 3).
Chainer's max pooling of 64x368x368 takes 76 ms, the strided maximum here
14 ms.  The body network at 368x368 takes 1.8 s directly and 0.9-1.0 s by
the plan (0.52-0.56 of the direct time, interleaved), at 656x368 3.2 s and
1.7-2.0 s (0.53-0.60); ``bench/bench_conv_schemes.py`` prints these.

Memory: the plan keeps every transformed kernel, complex64 (P, O, C) with
P = 144 points for fft16 (8 / 49 * 144 = 23.5x the 7x7 weights' bytes) and
float32 with P = 36 for winograd4 (4x the 3x3 weights'): 1.16 GB for the
body network (1.03 GB of it for its fifty 7x7 layers), 0.78 GB for the face
and 0.74 GB for the hand network.  ``OPENPOSE_CPU_CONV=direct`` keeps
none.

Errors against a float64 convolution (relative max, every layer shape of
the body network): direct 2e-7 to 7e-7, fft16 3e-7 to 4e-7, winograd4 3e-6
to 2e-5; each stage of the whole network differs from the direct path's by
at most 7e-6 (body, face and hand, 368x368 and 656x368).
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from models import tile_transforms, transform_conv

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
    if len(x) == 1:         # the usual case: no copy into a stacked array
        return _conv_one(x[0], weight, bias, relu)[None]
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


#: Environment variable choosing how :class:`ConvPlan` picks each layer's
#: scheme: ``rule`` (the default: :func:`rule_scheme`, the same choice on
#: every run), ``timed`` (the fastest candidate of :data:`SCHEMES`, timed on
#: the first call) or ``direct`` (the direct convolution above everywhere:
#: for its parity tests and for debugging).
SCHEME_VARIABLE = 'OPENPOSE_CPU_CONV'
#: The values :data:`SCHEME_VARIABLE` takes.
MODES = ('rule', 'timed', 'direct')

#: Candidate schemes of the ``timed`` mode by kernel size, in order of
#: preference on a tie.  ``fftT``: FFT over T x T tiles; ``winogradM``:
#: Winograd F(M x M, 3 x 3) (see :mod:`models.tile_transforms`).
SCHEMES: Dict[int, Tuple[str, ...]] = {
    3: ('direct', 'winograd2', 'winograd4'),
    7: ('direct', 'fft16', 'fft12'),
}

#: The ``rule`` mode's scheme by kernel size, for layers of at least
#: :data:`MIN_TRANSFORM_CHANNELS` input channels.  Measured on the 2-core
#: development machine with bench/bench_conv_schemes.py, every 3x3 and 7x7
#: layer shape of the body network at 368x368 and 656x368: fft16 took
#: 0.38-0.48 of the direct time of the 7x7 layers, fft12 0.45-0.6;
#: winograd4 0.53-0.92 of the 3x3 layers' (the least gain at 128 channels
#: on 46x46 maps and 64 at 368x656), winograd2 0.7-1.1.  The timed mode
#: picked the same for all but one of the body network's 92 layers.
RULE_SCHEMES: Dict[int, str] = {3: 'winograd4', 7: 'fft16'}
#: Below this many input channels a layer is convolved directly (the
#: image's 3 channels: the transforms' GEMMs would be too shallow).
MIN_TRANSFORM_CHANNELS = 16

_TRANSFORMS: Dict[Tuple[str, int], tile_transforms.TileTransform] = {}


def transform(scheme: str, ksize: int) -> tile_transforms.TileTransform:
    """The tile transform of ``scheme`` (``'fft16'``, ``'winograd2'``, ...)
    for k x k kernels, made once."""
    key = (scheme, ksize)
    if key not in _TRANSFORMS:
        if scheme.startswith('fft'):
            made = tile_transforms.fft(int(scheme[3:]), ksize)
        elif scheme.startswith('winograd') and ksize == 3:
            made = tile_transforms.winograd(int(scheme[8:]))
        else:
            raise ValueError(f'no scheme {scheme!r} for {ksize}x{ksize}')
        _TRANSFORMS[key] = made
    return _TRANSFORMS[key]


def mode() -> str:
    """The mode :data:`SCHEME_VARIABLE` asks for (``rule`` when unset)."""
    value = os.environ.get(SCHEME_VARIABLE, '').strip().lower() or 'rule'
    if value not in MODES:
        raise ValueError(f'{SCHEME_VARIABLE}={value!r}: use one of '
                         f'{", ".join(MODES)}')
    return value


def rule_scheme(weight_shape: Tuple[int, ...]) -> str:
    """The ``rule`` mode's scheme for weights of shape (O, C, k, k)."""
    channels, ksize = weight_shape[1], weight_shape[2]
    if channels < MIN_TRANSFORM_CHANNELS:
        return 'direct'
    return RULE_SCHEMES.get(ksize, 'direct')


class ConvPlan:
    """The convolutions of one network: each layer's scheme per input shape
    and the layers' transformed kernels.

    In the ``rule`` mode (:func:`mode`) the scheme is :func:`rule_scheme`'s,
    on every call: the same input gives the same output bit for bit.  The
    kernel transforms are made on a layer's first call (1.2 GB for the body
    network, written to fresh memory: 0.5 to 1.5 s in all), so the first
    pass takes about what the direct path takes, and every later one
    gains.
    In the ``timed`` mode the first call for a (layer, input shape, weight
    shape) runs every candidate of :data:`SCHEMES` once (kernel transforms
    made beforehand, not timed), keeps the fastest (the earlier candidate
    on a tie) and returns its output; later calls run the chosen scheme.  The losers'
    kernel transforms are dropped.  Which scheme wins depends on the
    machine and its load at that moment, so two processes may choose
    differently; their outputs differ by float32 rounding only (each scheme
    is within its documented error of the exact convolution).

    Args:
        timer: seconds, e.g. ``time.perf_counter`` (a fake one in tests).
        schemes: candidates by kernel size (default :data:`SCHEMES`).
    """

    def __init__(self, timer: Callable[[], float] = time.perf_counter,
                 schemes: Optional[Dict[int, Tuple[str, ...]]] = None) -> None:
        self.timer = timer
        self.schemes = dict(SCHEMES if schemes is None else schemes)
        self.kernels = transform_conv.KernelCache()
        self._local = threading.local()
        #: (layer, input shape, weight shape, mode) -> chosen scheme.
        self.choices: Dict[tuple, str] = {}
        #: The same keys (``timed`` mode) -> {scheme: seconds}.
        self.timings: Dict[tuple, Dict[str, float]] = {}

    def conv2d(self, layer: str, x: np.ndarray, weight: np.ndarray,
               bias: np.ndarray, relu: bool) -> np.ndarray:
        """:func:`conv2d` of layer ``layer`` (a name) by its scheme."""
        current = mode()
        if current == 'direct':
            return conv2d(x, weight, bias, relu)
        key = (layer, x.shape, weight.shape, current)
        scheme = self.choices.get(key)
        if scheme is None:
            if current == 'timed':
                return self._choose(key, x, weight, bias, relu)
            scheme = self.choices[key] = rule_scheme(weight.shape)
        return self.run(scheme, x, weight, bias, relu, layer)

    def run(self, scheme: str, x: np.ndarray, weight: np.ndarray,
            bias: np.ndarray, relu: bool,
            layer: Optional[str] = None) -> np.ndarray:
        """The convolution by ``scheme`` (``'direct'``, ``'fft16'``, ...);
        ``layer`` names the kernel transforms kept."""
        if scheme == 'direct':
            return conv2d(x, weight, bias, relu)
        return transform_conv.conv2d(x, weight, bias, relu,
                                     transform(scheme, weight.shape[2]),
                                     self.kernels, layer, self.buffers())

    def buffers(self) -> transform_conv.Buffers:
        """This thread's work arrays, kept from layer to layer."""
        if not hasattr(self._local, 'buffers'):
            self._local.buffers = transform_conv.Buffers()
        return self._local.buffers

    def candidates(self, weight: np.ndarray) -> Tuple[str, ...]:
        """The schemes tried for ``weight`` (O, C, k, k)."""
        return self.schemes.get(weight.shape[2], ('direct',))

    def _choose(self, key: tuple, x: np.ndarray, weight: np.ndarray,
                bias: np.ndarray, relu: bool) -> np.ndarray:
        candidates = self.candidates(weight)
        seconds, outputs = {}, {}
        layer, ksize = key[0], weight.shape[2]
        for scheme in candidates:
            if scheme != 'direct':
                self.kernels.get(weight, transform(scheme, ksize), layer)
            start = self.timer()
            outputs[scheme] = self.run(scheme, x, weight, bias, relu, layer)
            seconds[scheme] = self.timer() - start
        best = min(candidates, key=lambda name: (seconds[name],
                                                 candidates.index(name)))
        for scheme in candidates:
            if scheme not in (best, 'direct') and not self._kept(
                    key, scheme):
                self.kernels.discard(weight, transform(scheme, ksize), layer)
        self.choices[key] = best
        self.timings[key] = seconds
        return outputs[best]

    def _kept(self, key: tuple, scheme: str) -> bool:
        """Whether another input shape of the layer chose ``scheme``."""
        return any(other[0] == key[0] and other[2] == key[2]
                   and chosen == scheme
                   for other, chosen in self.choices.items())


_PLANS: 'weakref.WeakKeyDictionary[object, ConvPlan]' = \
    weakref.WeakKeyDictionary()


def plan_for(network: object) -> ConvPlan:
    """The :class:`ConvPlan` of ``network`` (made on first use, freed with
    the network)."""
    plan = _PLANS.get(network)
    if plan is None:
        plan = _PLANS[network] = ConvPlan()
    return plan
