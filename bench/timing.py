"""Timing helpers shared by the benchmarks."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import chainer
import numpy as np


def median_seconds(function: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls of ``function``, after one
    untimed warm-up call."""
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def network_forward(detector, x: np.ndarray) -> Callable[[], None]:
    """A function running ``detector``'s body network on ``x`` (already on
    the detector's device or not) once, results back on the CPU."""
    xs = detector.device.send(x)

    def forward():
        with chainer.using_config('train', False), \
                chainer.no_backprop_mode():
            heatmaps, _ = detector.model(xs)
        chainer.backend.CpuDevice().send(heatmaps[-1].array)
    return forward
