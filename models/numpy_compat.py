"""Lets Chainer 7.8.1 (the last release) import and run on NumPy 2.

Chainer 7.8.1 refers to a few NumPy names that NumPy removed: ``np.sctypes``
(read at import time by ``chainer.functions.array.as_strided``) and the
builtin-type aliases ``np.float``, ``np.int``, ``np.bool``, ... (used by some
functions, e.g. ``F.resize_images``).  :func:`install` puts back exactly those
names, with the meaning they had, and only where they are missing, so it is a
no-op on NumPy versions that still have them.

Why not pin NumPy < 2 instead: on the 2-core AVX-512 machine this project is
developed on, NumPy 1.26's OpenBLAS runs its generic Prescott kernel
(about 64 GFLOP/s single-precision GEMM) and the body network took 7.2 s per
368x368 forward pass, while NumPy 2.4's OpenBLAS runs its SkylakeX kernel
(180-280 GFLOP/s) and the same pass took 3.1 s with identical outputs.

On Python 3.12 and later, where ``numpy.distutils`` no longer exists, it
also provides the one function Chainer's start-up check imports from it
(``numpy.distutils.system_info.get_info``, used only on macOS to warn about
Accelerate), answering that nothing is known.

Import :mod:`models` (which calls :func:`install`) before ``chainer``.
"""
from __future__ import annotations

import importlib
import sys
import types
import warnings

import numpy

#: Names removed from NumPy 1.24 / 2.0 that Chainer 7.8.1 uses, with the
#: builtin types they used to alias.
REMOVED_ALIASES = {
    'bool': bool,
    'int': int,
    'float': float,
    'complex': complex,
    'object': object,
    'str': str,
}


def _sctypes() -> dict:
    """The ``np.sctypes`` table of NumPy 1.x (scalar types by kind)."""
    return {
        'int': [numpy.int8, numpy.int16, numpy.int32, numpy.int64],
        'uint': [numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64],
        'float': [numpy.float16, numpy.float32, numpy.float64],
        'complex': [numpy.complex64, numpy.complex128],
        'others': [bool, object, bytes, str, numpy.void],
    }


def missing_names() -> list:
    """Names of :data:`REMOVED_ALIASES` and ``sctypes`` absent from numpy."""
    names = list(REMOVED_ALIASES) + ['sctypes']
    return [name for name in names if name not in vars(numpy)]


def _provide_distutils_system_info() -> bool:
    """Register a minimal ``numpy.distutils.system_info`` if it is missing.

    Returns:
        True if the stand-in was registered.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            importlib.import_module('numpy.distutils.system_info')
        return False
    except ImportError:
        pass
    system_info = types.ModuleType('numpy.distutils.system_info')
    system_info.get_info = lambda name, notfound_action=0: {}
    distutils = types.ModuleType('numpy.distutils')
    distutils.system_info = system_info
    sys.modules['numpy.distutils'] = distutils
    sys.modules['numpy.distutils.system_info'] = system_info
    return True


def install() -> list:
    """Restore the removed NumPy names that are missing; idempotent.

    Returns:
        The names that were added (empty if nothing was missing), with
        ``'distutils.system_info'`` when the stand-in was registered.
    """
    added = missing_names()
    for name in added:
        value = _sctypes() if name == 'sctypes' else REMOVED_ALIASES[name]
        setattr(numpy, name, value)
    if _provide_distutils_system_info():
        added.append('distutils.system_info')
    return added
