"""Separable tile transforms for fast convolution: FFT and Winograd.

A k x k convolution of a tile of T x T inputs gives S x S outputs
(S = T - k + 1).  A *transform* maps the tile to P points where the
convolution becomes a product, point by point, then maps the products back:

* FFT over the tile (overlap-save): the points are the T * (T / 2 + 1)
  frequencies of the real 2-D DFT, each a complex number (two parts); the
  product is the tile's coefficient times the conjugate of the zero-padded
  kernel's (Caffe's convolution is a cross-correlation, no kernel flip).
* Winograd F(m x m, 3 x 3) (Lavin and Gray, "Fast Algorithms for
  Convolutional Neural Networks", CVPR 2016, section 4): T = m + 2 real
  points per axis, ``Y = A^T [(G g G^T) * (B^T d B)] A``.

Both are separable, and here every stage is a real matrix applied from the
left to a (rows, columns) matrix, so each runs as one BLAS GEMM:

1. ``first`` (G * parts, T) on the tile's columns: G column points, each
   with ``parts`` real numbers (2 for a complex coefficient, 1 for real);
2. ``second`` (T * parts, parts * T) on each column point's (part, row)
   block: T row points, each with its parts;
3. the point-wise product: one GEMM per point, ``(O, C) @ (C, tiles)``,
   complex (BLAS cgemm, which runs 1.4x the rate of the same product
   written as real GEMMs at these shapes) or real;
4. ``rows_back`` (S, T): back over the rows, S outputs;
5. ``columns_back`` (S, G): back over the columns; the real part is the
   output.

Every matrix is built here in float64 and stored in float32 (complex64).

Errors, relative max ``|a - b|.max() / |b|.max()`` against a float64 direct
convolution of the same float32 inputs, measured on every 3x3 and 7x7 layer
shape of the body network (``bench/bench_conv_schemes.py``): the direct
float32 GEMM path 2e-7 to 7e-7; FFT 3e-7 to 4e-7; Winograd F(2, 3) 2e-7 to
8e-7; Winograd F(4, 3) 3e-6 to 2e-5 (its transforms' entries up to 8 and
1/24 cost about four bits).  :data:`ERROR_BOUNDS` are the documented limits
the tests hold each scheme to.
"""
from __future__ import annotations

import dataclasses
import numpy as np

#: Winograd F(2, 3) (Lavin and Gray 2016, eq. 7): B^T, G, A^T.
WINOGRAD_F2_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0],
                           [0, 1, 0, -1]], np.float64)
WINOGRAD_F2_G = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5],
                          [0, 0, 1]], np.float64)
WINOGRAD_F2_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)

#: Winograd F(4, 3) (Lavin and Gray 2016, section 4.2, points 0, +-1, +-2
#: and infinity): B^T, G, A^T.
WINOGRAD_F4_BT = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0],
                           [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
                           [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
                          np.float64)
WINOGRAD_F4_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6],
                          [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
                          [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64)
WINOGRAD_F4_AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0],
                           [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
                          np.float64)

#: Documented relative max error of each transform family (see above):
#: about 5x the largest measured, for other weights and inputs.
ERROR_BOUNDS = {'fft': 2e-6, 'winograd2': 4e-6, 'winograd4': 1e-4}


def error_bound(name: str) -> float:
    """:data:`ERROR_BOUNDS` of the transform called ``name``."""
    return ERROR_BOUNDS['fft' if name.startswith('fft') else name]


@dataclasses.dataclass(frozen=True, eq=False)
class TileTransform:
    """One transform of T x T tiles for k x k kernels (see the module).

    Attributes:
        name: e.g. ``'fft16'``, ``'winograd2'``.
        ksize: k.
        tile: T, input tile side.
        out: S = T - k + 1, output tile side (tiles step by S).
        parts: real numbers per point (2: complex, 1: real).
        first: (G * parts, T) float32, rows ordered (column point, part).
        second: (T * parts, parts * T) float32, rows ordered (row point,
            part), columns (part, row).
        kernel_columns: (G, k): the kernel's transform over its columns;
            complex64 when ``parts`` is 2, float32 otherwise.
        kernel_rows: (T, k): the same over its rows.  The transform of
            w[o, c, j, i] (row j, column i) at point (a, b) is
            ``sum_ij kernel_columns[a, i] kernel_rows[b, j] w[o, c, j, i]``.
        rows_back: (S, T) back over the row points (complex64 or float32).
        columns_back: (S, G) back over the column points; the real part
            of the result is the output.
    """
    name: str
    ksize: int
    tile: int
    out: int
    parts: int
    first: np.ndarray
    second: np.ndarray
    kernel_columns: np.ndarray
    kernel_rows: np.ndarray
    rows_back: np.ndarray
    columns_back: np.ndarray

    @property
    def column_points(self) -> int:
        """G: points of the first (column) transform."""
        return self.first.shape[0] // self.parts

    @property
    def points(self) -> int:
        """P = G * T: GEMMs per tile band."""
        return self.column_points * self.tile

    @property
    def dtype(self) -> np.dtype:
        """complex64 or float32: the point-wise products' type."""
        return self.kernel_rows.dtype

    def kernel_bytes(self, out_channels: int, channels: int) -> int:
        """Bytes of one layer's transformed kernel."""
        return self.points * out_channels * channels * self.dtype.itemsize

    def kernel(self, weight: np.ndarray) -> np.ndarray:
        """(P, O, C) transform of ``weight`` (O, C, k, k): two GEMMs, over
        the kernel's columns, then its rows."""
        out_channels, channels, k = weight.shape[:3]
        by_column = weight.transpose(3, 2, 0, 1).reshape(
            k, k * out_channels * channels).astype(self.dtype)
        first = np.matmul(self.kernel_columns, by_column)  # (G, k * O * C)
        both = np.matmul(self.kernel_rows, first.reshape(
            self.column_points, k, out_channels * channels))
        return both.reshape(self.points, out_channels, channels)


def fft(tile: int, ksize: int) -> TileTransform:
    """The real 2-D DFT of ``tile`` x ``tile`` tiles (``tile`` even)."""
    half = tile // 2 + 1
    n = np.arange(tile)
    angle = 2 * np.pi * np.outer(np.arange(half), n) / tile   # (half, T)
    first = np.stack([np.cos(angle), -np.sin(angle)], axis=1).reshape(
        2 * half, tile)
    full = 2 * np.pi * np.outer(n, n) / tile                   # (T, T)
    cos, sin = np.cos(full), np.sin(full)
    # (kr, re/im) <- (re/im, r): X = sum_r A[r] e^{-i full}.
    second = _interleave_rows(np.block([[cos, sin], [-sin, cos]]), tile)
    # Cross-correlation: the tiles' coefficients times the conjugate of the
    # kernel's, sum_{i, j} w[i, j] e^{+2 pi i (kr i + kc j) / T}.
    k = np.arange(ksize)
    kernel_rows = np.exp(2j * np.pi * np.outer(n, k) / tile)     # (kr, j)
    kernel_columns = np.exp(2j * np.pi * np.outer(np.arange(half), k)
                            / tile)                               # (kc, i)
    out = tile - ksize + 1
    rows_back = np.exp(2j * np.pi * np.outer(np.arange(out), n) / tile) / tile
    # The real part of sum over the half spectrum: the columns strictly
    # inside count twice (Hermitian symmetry).
    weight = np.full(half, 2.0)
    weight[[0, -1]] = 1.0
    columns_back = weight * np.exp(2j * np.pi * np.outer(
        np.arange(out), np.arange(half)) / tile) / tile
    return TileTransform(
        f'fft{tile}', ksize, tile, out, 2, _real(first), _real(second),
        _complex(kernel_columns), _complex(kernel_rows), _complex(rows_back),
        _complex(columns_back))


def winograd(out: int) -> TileTransform:
    """Winograd F(``out`` x ``out``, 3 x 3), ``out`` 2 or 4."""
    bt, g, at = {2: (WINOGRAD_F2_BT, WINOGRAD_F2_G, WINOGRAD_F2_AT),
                 4: (WINOGRAD_F4_BT, WINOGRAD_F4_G, WINOGRAD_F4_AT)}[out]
    # U[a, b] = sum_{j, i} G[a, i] G[b, j] w[j, i]: column point a,
    # row point b, kernel row j, column i.
    return TileTransform(f'winograd{out}', 3, out + 2, out, 1, _real(bt),
                         _real(bt), _real(g), _real(g), _real(at), _real(at))


def _real(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(matrix, np.float32)


def _complex(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(matrix, np.complex64)


def _interleave_rows(matrix: np.ndarray, tile: int) -> np.ndarray:
    """Rows ordered (part, point) -> (point, part)."""
    return matrix.reshape(2, tile, -1).transpose(1, 0, 2).reshape(
        2 * tile, -1)
