"""What the CPU path runs on: the BLAS behind NumPy, its kernel, threads.

The network's CPU time is almost all single-precision GEMM, so the BLAS
kernel decides the speed.  OpenBLAS picks a kernel for the CPU at start-up;
an older OpenBLAS that does not know the CPU falls back to a generic one
(measured on the 2-core AVX-512 development machine: NumPy 1.26's OpenBLAS
0.3.23 ran its Prescott kernel at about 64 GFLOP/s, NumPy 2.4's 0.3.31 its
SkylakeX kernel at 170-280 GFLOP/s).  ``OPENBLAS_CORETYPE`` in the
environment forces a kernel, and can force a slow one.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

import numpy as np

#: OpenBLAS kernels built for CPUs without AVX2: on a CPU with AVX2 or
#: AVX-512 they leave most of its speed unused.
PRE_AVX2_KERNELS = frozenset(name.lower() for name in (
    'Prescott', 'Core2', 'Penryn', 'Dunnington', 'Nehalem', 'Atom',
    'Katmai', 'Coppermine', 'Northwood', 'Banias', 'Opteron', 'Barcelona',
    'Bobcat', 'Sandybridge', 'Bulldozer', 'Piledriver', 'Steamroller',
    'Excavator', 'Generic'))

#: CPU feature flags (as in /proc/cpuinfo) that a modern kernel would use.
VECTOR_FLAGS = ('avx512f', 'avx2')

CPUINFO = '/proc/cpuinfo'


def blas_libraries() -> List[Dict[str, object]]:
    """The BLAS libraries loaded in this process, as threadpoolctl reports
    them: dicts with ``internal_api`` ('openblas', 'mkl', ...), ``version``,
    ``architecture`` (OpenBLAS's kernel, e.g. 'SkylakeX'), ``num_threads``
    and ``filepath``, plus ``numpy``: whether it is NumPy's (the one the
    network's GEMMs run on; OpenCV's wheel brings an OpenBLAS of its own)."""
    from threadpoolctl import threadpool_info
    np.ones((2, 2), np.float32) @ np.ones((2, 2), np.float32)  # BLAS loaded
    found = [dict(info) for info in threadpool_info()
             if info.get('user_api') == 'blas']
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    for info in found:
        info['numpy'] = str(info.get('filepath', '')).startswith(
            os.path.join(numpy_dir, 'numpy'))
    if not any(info['numpy'] for info in found):    # a system BLAS, say
        for info in found:
            info['numpy'] = True
    return found


def cpu_vector_flags(path: str = CPUINFO) -> Tuple[str, ...]:
    """Which of :data:`VECTOR_FLAGS` this CPU has ('' if unknown)."""
    try:
        with open(path) as cpuinfo:
            for line in cpuinfo:
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
                    return tuple(f for f in VECTOR_FLAGS if f in flags)
    except OSError:
        pass
    return ()


def blas_warning(library: Dict[str, object],
                 vector_flags: Tuple[str, ...]) -> Optional[str]:
    """A warning when ``library`` runs a pre-AVX2 kernel on a CPU with
    AVX2/AVX-512, saying what to do; else None."""
    kernel = str(library.get('architecture') or '')
    if not vector_flags or kernel.lower() not in PRE_AVX2_KERNELS:
        return None
    forced = os.environ.get('OPENBLAS_CORETYPE')
    fix = (f'OPENBLAS_CORETYPE={forced} is set in the environment: unset it'
           if forced else
           'install a newer NumPy (2.x ships an OpenBLAS that knows more '
           'CPUs)')
    return (f'NumPy\'s BLAS ({library.get("internal_api")} '
            f'{library.get("version")}) runs its generic {kernel} kernel on '
            f'a CPU with {"/".join(vector_flags).upper()}: the network will '
            f'run several times slower than it could; {fix}')


def runtime_report() -> Tuple[List[str], List[str]]:
    """(information lines, warnings) about the CPU path: NumPy version,
    each BLAS with its kernel and threads, the CPU's vector flags."""
    flags = cpu_vector_flags()
    lines = [f'NumPy {np.__version__}; {os.cpu_count()} CPU cores; CPU '
             f'vector extensions: {", ".join(flags).upper() or "unknown"}']
    warnings = []
    for library in blas_libraries():
        owner = 'NumPy\'s BLAS' if library['numpy'] else 'other BLAS'
        lines.append(f'{owner}: {library.get("internal_api")} '
                     f'{library.get("version")}, kernel '
                     f'{library.get("architecture") or "n/a"}, '
                     f'{library.get("num_threads")} threads '
                     f'({library.get("filepath")})')
        warning = blas_warning(library, flags) if library['numpy'] else None
        if warning:
            warnings.append(warning)
    return lines, warnings
