"""The same network in PyTorch, as a second peer for the CPU benchmark.

Built from the layer tables of :mod:`models.spec` with the weights of
:func:`models.synthetic.synthesize_weights` (the same seed gives the same
weights as the synthesized caffemodel), so the three runtimes compute the
same function.  PyTorch is optional: ``make bench`` installs it into the
benchmark's own environment when it can.
"""
from __future__ import annotations

import os
from typing import List

import numpy as np

from models import spec as specs
from models.synthetic import synthesize_weights


def available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def build(spec: specs.NetSpec, seed: int = 0):
    """A ``torch.nn.Module`` computing ``spec``'s stage outputs."""
    import torch
    import torch.nn.functional as F

    weights = {name: (torch.from_numpy(w), torch.from_numpy(b))
               for name, w, b in synthesize_weights(spec, seed)}

    def run(layers, h):
        for layer in layers:
            if isinstance(layer, specs.Pool):
                h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
            else:
                w, b = weights[layer.name]
                h = F.conv2d(h, w, b, padding=layer.pad)
                if layer.relu:
                    h = F.relu(h, inplace=True)
        return h

    class Net(torch.nn.Module):
        def forward(self, x) -> List:
            features = run(spec.trunk, x)
            stage_input, outputs = features, []
            for stage in spec.stages:
                branches = [run(branch, stage_input) for branch in stage]
                outputs.append(branches)
                stage_input = torch.cat(branches + [features], dim=1)
            return outputs

    return Net().eval()


def forward_function(net, x: np.ndarray):
    """A function running ``net`` once on ``x`` (N, 3, H, W) float32 with
    every core, returning the last stage's outputs as NumPy arrays."""
    import torch
    torch.set_num_threads(os.cpu_count())
    tensor = torch.from_numpy(x)

    def forward():
        with torch.inference_mode():
            return [h.numpy() for h in net(tensor)[-1]]
    return forward
