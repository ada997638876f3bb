"""Synthesized caffemodels with the real layer shapes, for tests and benchmarks.

The original CMU weights cannot be shipped with the project, so numerical
claims are checked on random weights with exactly the real layer names and
shapes, drawn from a fixed seed.  Weights are He-scaled (standard deviation
``sqrt(2 / fan_in)`` before a ReLU, ``sqrt(1 / fan_in)`` for a branch's last
convolution) so that activations stay of order one through all six stages
instead of exploding or vanishing.
"""
from __future__ import annotations

from typing import Iterator, List, Tuple

import numpy as np

from models import spec as specs
from models.caffemodel import write_caffemodel

#: Half-width of the uniform distribution of the synthesized biases.
BIAS_RANGE = 0.05


def synthesize_weights(spec: specs.NetSpec, seed: int = 0
                       ) -> Iterator[Tuple[str, np.ndarray, np.ndarray]]:
    """Yield ``(layer name, W, b)`` for every convolution, float32.

    ``W`` has shape (out, in, k, k) and ``b`` (out,).  The same ``seed``
    always gives the same weights.
    """
    rng = np.random.default_rng(seed)
    for conv in spec.convolutions():
        fan_in = conv.in_channels * conv.ksize ** 2
        std = np.float32(np.sqrt((2.0 if conv.relu else 1.0) / fan_in))
        weights = rng.standard_normal(conv.weight_shape, dtype=np.float32)
        weights *= std
        bias = rng.uniform(-BIAS_RANGE, BIAS_RANGE, conv.out_channels)
        yield conv.name, weights, bias.astype(np.float32)


def caffe_layers(spec: specs.NetSpec, seed: int = 0
                 ) -> Iterator[Tuple[str, str, List[np.ndarray]]]:
    """All layers of ``spec`` as a caffemodel stores them, in prototxt order.

    Layers without parameters (ReLU, Pooling, Concat) are included with no
    blobs, as in CMU's files.
    """
    weights = synthesize_weights(spec, seed)
    previous = False
    for t, stage in enumerate(spec.stages, start=1):
        layers = spec.trunk if t == 1 else ()
        for item in layers:
            yield from _layer(item, weights)
        if previous:
            yield f'concat_stage{t}', 'Concat', []
        for branch in stage:
            for item in branch:
                yield from _layer(item, weights)
        previous = True


def _layer(item, weights):
    if isinstance(item, specs.Pool):
        yield item.name, 'Pooling', []
        return
    name, w, b = next(weights)
    assert name == item.name
    yield name, 'Convolution', [w, b]
    if item.relu:
        yield f'relu_{name}', 'ReLU', []


def write_synthetic_caffemodel(path: str, spec: specs.NetSpec, seed: int = 0,
                               style: str = 'V2',
                               legacy_shape: bool = False) -> None:
    """Write a synthesized caffemodel of ``spec`` to ``path``.

    Args:
        style: ``'V2'`` (current ``layer`` field) or ``'V1'`` (legacy
            ``layers`` field).
        legacy_shape: blob shapes as num/channels/height/width (as old V1
            files store them) instead of the ``shape`` field.
    """
    with open(path, 'wb') as f:
        write_caffemodel(f, caffe_layers(spec, seed), style=style,
                         legacy_shape=legacy_shape)
