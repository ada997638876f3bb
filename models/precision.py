"""Numeric precision of the networks' inference on a GPU.

Three modes, by name:

* ``'float32'``: weights, activations and GEMM arithmetic in float32, as on
  the CPU (results equal to the CPU's to float32 rounding).
* ``'tf32'``: float32 weights and activations; the convolutions' GEMMs run
  on the tensor cores in TensorFloat-32 (inputs rounded to a 10-bit
  mantissa, float32 accumulation).  Needs compute capability 8.0 or higher
  (Ampere, Hopper); older GPUs fall back to float32 with CuPy's warning.
* ``'float16'``: weights and activations in half precision; cuBLAS
  multiplies them on the tensor cores and accumulates in float32 (CuPy's
  default compute type for float16), each layer's result rounded to half.

CuPy's switch for TF32 is its float32 "compute type"
(``cupy/_core/_routines_linalg.pyx``: ``set_compute_type`` and
``get_compute_type``, which map ``COMPUTE_TYPE_TF32`` to
``CUBLAS_COMPUTE_32F_FAST_TF32``).  The environment variable
``CUPY_TF32=1`` only sets its initial value, read on the process's first
float32 matrix product, not at import.  :func:`gemm_precision` therefore
sets the compute type explicitly around a network pass and restores it
afterwards: ``'tf32'`` gets TF32 and ``'float32'`` gets plain float32 even
where ``CUPY_TF32=1`` is set, and the maps' upsampling products outside the
pass keep whatever the process had.  NVIDIA's ``NVIDIA_TF32_OVERRIDE=0``
disables TF32 below CuPy, whatever is asked here.  Only CuPy's 2-D
products honour the compute type (its batched ones do not), which is one
reason :mod:`models.gpu_conv` runs each convolution as one 2-D GEMM.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

from common.errors import ToolError

#: The precision names, the default first.
PRECISIONS = ('float32', 'tf32', 'float16')
DEFAULT_PRECISION = PRECISIONS[0]

#: CuPy's compute-type codes (``cupy/_core/_routines_linalg.pxd``, enum
#: ``COMPUTE_TYPE_*``), used where the module does not export the names.
COMPUTE_TYPE_DEFAULT = 1
COMPUTE_TYPE_TF32 = 7


class PrecisionError(ToolError):
    """An unknown precision name, or one the device cannot run."""


def check_precision(name: str, on_gpu: bool) -> None:
    """PrecisionError (one line, naming the option) unless ``name`` is a
    known precision that the device can run: tf32 and float16 need a
    GPU."""
    if name not in PRECISIONS:
        raise PrecisionError(f'--precision must be one of '
                             f'{", ".join(PRECISIONS)}, not {name!r}')
    if name != DEFAULT_PRECISION and not on_gpu:
        raise PrecisionError(f'--precision {name} needs a GPU (--gpu N); '
                             f'the CPU runs float32')


def storage_dtype(name: str) -> np.dtype:
    """dtype of the weights and activations in precision ``name``."""
    return np.dtype(np.float16 if name == 'float16' else np.float32)


def set_precision(model, name: str):
    """Cast ``model``'s parameters (a Chainer link, on any device) to the
    storage dtype of ``name`` and record ``name`` as ``model.precision``.

    Going back to float32 after float16 keeps the half-rounded weights;
    load the weights again for exact float32.

    Returns:
        ``model``.
    """
    dtype = storage_dtype(name)
    for param in model.params():
        if param.array is not None and param.array.dtype != dtype:
            param.array = param.array.astype(dtype)
    model.precision = name
    return model


def _linalg():
    from cupy._core import _routines_linalg
    return _routines_linalg


def tf32_code(linalg) -> int:
    return getattr(linalg, 'COMPUTE_TYPE_TF32', COMPUTE_TYPE_TF32)


@contextlib.contextmanager
def gemm_precision(name: str, on_gpu: bool) -> Iterator[None]:
    """Within the block, CuPy's float32 GEMMs run in TF32 if ``name`` is
    ``'tf32'`` and in plain float32 otherwise; the previous setting is
    restored afterwards.  Does nothing off the GPU."""
    if not on_gpu:
        yield
        return
    linalg = _linalg()
    previous = linalg.get_compute_type(np.float32)
    wanted = (tf32_code(linalg) if name == 'tf32' else
              getattr(linalg, 'COMPUTE_TYPE_DEFAULT', COMPUTE_TYPE_DEFAULT))
    linalg.set_compute_type(np.float32, wanted)
    try:
        yield
    finally:
        linalg.set_compute_type(np.float32, previous)
