"""Stride-1 'same' convolution by a tile transform (FFT or Winograd).

The input is padded and cut into T x T tiles that step by S (overlap-save);
each tile goes through the separable transform of
:mod:`models.tile_transforms` (two GEMMs), each of the P points is one GEMM
over all input channels and tiles, ``(O, C) @ (C, tiles)`` (complex64 for
an FFT, float32 for Winograd), and two GEMMs map the products back to
S x S outputs per tile.  Tiles are taken a band of tile rows at a time so
that the band's work arrays stay in cache (:data:`BAND_BYTES`); the arrays
are reused (:class:`Buffers`).

The kernel's transform depends only on the weights: :class:`KernelCache`
keeps it per (layer, transform) with a fingerprint of the weights, so that
new weights loaded into the same array are noticed.
"""
from __future__ import annotations

import zlib
from typing import Dict, Optional, Tuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from models.tile_transforms import TileTransform

#: Bytes of one band's transformed input: its work arrays (four of about
#: this size) stay within the development machine's 32 MB L3.  Measured
#: there, interleaved, on 3x3 layers from 64 channels at 368x368 to 512 at
#: 46x46 and 7x7 ones at 46x82: 2 MB to 16 MB all within the machine's
#: drift (+-20 %) of each other, 1 MB and 32 MB slower.
BAND_BYTES = 8 << 20


class KernelCache:
    """Transformed kernels, (P, O, C) complex64 or float32 each, by (layer
    name, transform name); the id of the weights array stands for the
    layer's name when none is given.

    An entry keeps the weights array it was made from (so that an id is not
    reused while the entry lives) and a fingerprint: weights given in
    another array replace the entry, and the CRC-32 of at most
    :data:`FINGERPRINT_SAMPLES` weights taken at an even stride (~10 us,
    where a CRC of all 52 M body weights would take ~100 ms a pass).  New
    weights loaded into the same array (``load_npz`` copies in place) change
    the fingerprint: either way the transform is made again.  An edit in
    place of a few weights between the samples is not seen: call
    :meth:`clear` after one.
    """

    def __init__(self) -> None:
        self._entries: Dict[Tuple[int, str],
                            Tuple[np.ndarray, int, np.ndarray]] = {}

    def get(self, weight: np.ndarray, transform: TileTransform,
            layer: Optional[str] = None) -> np.ndarray:
        """(P, O, C) transform of ``weight`` (O, C, k, k), the weights of
        ``layer``."""
        key = (id(weight) if layer is None else layer, transform.name)
        checksum = fingerprint(weight)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is weight and entry[1] == checksum:
            return entry[2]
        matrices = transform.kernel(weight)
        self._entries[key] = (weight, checksum, matrices)
        return matrices

    def discard(self, weight: np.ndarray, transform: TileTransform,
                layer: Optional[str] = None) -> None:
        """Forget the transform by ``transform`` of ``layer``'s weights (of
        ``weight`` when no layer is named), if kept."""
        self._entries.pop((id(weight) if layer is None else layer,
                           transform.name), None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Memory the transformed kernels take."""
        return sum(entry[2].nbytes for entry in self._entries.values())


#: Weights sampled by :func:`fingerprint`.
FINGERPRINT_SAMPLES = 4096


def fingerprint(weight: np.ndarray) -> int:
    """CRC-32 of ``weight``'s shape and of at most FINGERPRINT_SAMPLES of
    its values at an even stride."""
    flat = weight.reshape(-1)
    sample = np.ascontiguousarray(
        flat[::max(1, flat.size // FINGERPRINT_SAMPLES)])
    return zlib.crc32(sample.view(np.uint8), zlib.crc32(
        repr(weight.shape).encode()))


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, relu: bool,
           transform: TileTransform, kernels: Optional[KernelCache] = None,
           layer: Optional[str] = None,
           buffers: Optional['Buffers'] = None) -> np.ndarray:
    """As :func:`models.cpu_conv.conv2d`, by ``transform``.

    Args:
        x: (N, C, H, W) float32.
        weight: (O, C, k, k) float32, k == ``transform.ksize``.
        bias: (O,) float32.
        relu: apply max(0, .) to the result.
        transform: the tile transform.
        kernels: where the kernel's transform is kept (None: made for
            this call only).
        layer: the layer's name, the key of its transform in ``kernels``
            (None: the weights array's id).
        buffers: work arrays to reuse (None: new ones for this call).

    Returns:
        (N, O, H, W) float32.
    """
    if weight.shape[2:] != (transform.ksize, transform.ksize):
        raise ValueError(f'{transform.name} is for {transform.ksize}x'
                         f'{transform.ksize} kernels, not {weight.shape[2:]}')
    if kernels is None:
        kernels = KernelCache()
    matrices = kernels.get(weight, transform, layer)
    result = np.empty((x.shape[0], weight.shape[0]) + x.shape[2:],
                      np.float32)
    if buffers is None:
        buffers = Buffers()
    height, width = x.shape[2:]
    for image, out in zip(x, result):
        whole = _conv_one(image, matrices, transform, buffers)
        np.add(whole[:, :height, :width], bias[:, None, None], out=out)
        if relu:
            np.maximum(out, 0, out=out)
    return result


class Buffers:
    """Work arrays reused band after band and layer after layer: ``get``
    returns a C-contiguous prefix of one flat array per name, grown when
    too small.  Fresh arrays of megabytes cost a page fault per 4 KB page
    on first use, up to 8 us each on the development VM (37 ms for a 19 MB
    array): more than the band's arithmetic.  One thread at a time."""

    def __init__(self) -> None:
        self._flat: Dict[Tuple[str, str], np.ndarray] = {}

    def get(self, name: str, shape: Tuple[int, ...], dtype) -> np.ndarray:
        """A C-contiguous array of ``shape`` and ``dtype``, its values
        left from an earlier use."""
        size, key = int(np.prod(shape)), (name, np.dtype(dtype).str)
        flat = self._flat.get(key)
        if flat is None or flat.size < size:
            flat = self._flat[key] = np.empty(size, dtype)
        return flat[:size].reshape(shape)


def _conv_one(x: np.ndarray, matrices: np.ndarray, transform: TileTransform,
              buffers: Buffers) -> np.ndarray:
    """The convolution of ``x`` (C, H, W), no bias: (O, rows * S, cols * S)
    float32, the map (O, H, W) at its top left."""
    channels, height, width = x.shape
    step, k = transform.out, transform.ksize
    rows, cols = -(-height // step), -(-width // step)
    padded = np.zeros((channels, rows * step + k - 1, cols * step + k - 1),
                      np.float32)
    padded[:, k // 2:k // 2 + height, k // 2:k // 2 + width] = x
    out = buffers.get('out', (matrices.shape[1], rows * step, cols * step),
                      np.float32)
    band = _band_tile_rows(transform, channels, cols, rows)
    for top in range(0, rows, band):
        count = min(band, rows - top)
        tiles = _tiles(padded, transform, top, count, cols, buffers)
        products = _products(_forward(tiles, transform, buffers), matrices,
                             buffers)
        _backward(products, transform, buffers,
                  out[:, top * step:(top + count) * step])
    return out


def _band_tile_rows(transform: TileTransform, channels: int, cols: int,
                    rows: int) -> int:
    """Tile rows per band so that its transform takes ~BAND_BYTES."""
    per_row = 4 * transform.points * transform.parts * channels * cols
    return max(1, min(rows, BAND_BYTES // per_row))


def _tiles(padded: np.ndarray, transform: TileTransform, top: int,
           count: int, cols: int, buffers: Buffers) -> np.ndarray:
    """(T columns, T rows * C * count * cols) float32: every tile of the
    band, column index first, as the first GEMM takes it."""
    channels = padded.shape[0]
    size, step = transform.tile, transform.out
    s_c, s_r, s_w = padded.strides
    shape = (size, size, channels, count, cols)
    view = as_strided(padded[:, top * step:], shape,
                      (s_w, s_r, s_c, step * s_r, step * s_w))
    tiles = buffers.get('tiles', shape, np.float32)
    np.copyto(tiles, view)
    return tiles.reshape(size, -1)


def _forward(tiles: np.ndarray, transform: TileTransform,
             buffers: Buffers) -> np.ndarray:
    """(T, T * C * n) tiles -> (P, C * n) transformed (complex64 for an
    FFT, else float32), P ordered (column point, row point)."""
    size, parts = transform.tile, transform.parts
    groups, columns = transform.column_points, tiles.shape[1] // size
    first = np.matmul(transform.first, tiles, out=buffers.get(
        'first', (groups * parts, tiles.shape[1]), np.float32))
    second = np.matmul(
        transform.second, first.reshape(groups, parts * size, -1),
        out=buffers.get('second', (groups, size * parts, columns),
                        np.float32))
    if parts == 1:
        return second.reshape(groups * size, -1)
    second = second.reshape(groups * size, 2, -1)
    points = buffers.get('points', (groups * size, columns), np.complex64)
    points.real = second[:, 0]
    points.imag = second[:, 1]
    return points


def _products(transformed: np.ndarray, matrices: np.ndarray,
              buffers: Buffers) -> np.ndarray:
    """(P, C * n) -> (P, O, n): one GEMM per point."""
    points, out_channels, channels = matrices.shape
    tiles = transformed.shape[1] // channels
    return np.matmul(matrices, transformed.reshape(points, channels, tiles),
                     out=buffers.get('products', (points, out_channels,
                                                  tiles), matrices.dtype))


def _backward(products: np.ndarray, transform: TileTransform,
              buffers: Buffers, out: np.ndarray) -> None:
    """(P, O, n) products -> ``out`` (O, count * S, cols * S), a band of
    whole tiles."""
    size, step = transform.tile, transform.out
    groups, dtype = transform.column_points, products.dtype
    out_channels = products.shape[1]
    count, cols = out.shape[1] // step, out.shape[2] // step
    rows_back = np.matmul(
        transform.rows_back, products.reshape(groups, size, -1),
        out=buffers.get('rows_back', (groups, step, products[0].size),
                        dtype))
    result = np.matmul(transform.columns_back, rows_back.reshape(groups, -1),
                       out=buffers.get('result', (step, rows_back[0].size),
                                       dtype))
    # (S columns, S rows, O, count, cols) -> (O, count, S rows, cols, S).
    result = result.real.reshape(step, step, out_channels, count, cols)
    tiles = out.view()
    tiles.shape = (out_channels, count, step, cols, step)   # never a copy
    tiles[...] = result.transpose(2, 3, 1, 4, 0)
