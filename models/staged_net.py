"""The OpenPose networks as Chainer links, built from :mod:`models.spec`.

Every convolution is a ``chainer.links.Convolution2D`` child link named like
its Caffe layer (``conv1_1``, ``conv5_5_CPM_L1``, ``Mconv7_stage6_L2``, ...),
so converted weights load with ``chainer.serializers.load_npz`` and the
serialized keys are ``<layer>/W`` and ``<layer>/b``.
"""
from __future__ import annotations

from typing import List, Optional

import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from models import cpu_conv, spec as specs


class StagedNet(chainer.Chain):
    """A VGG trunk and six refinement stages, as described by a NetSpec.

    Args:
        spec: The layer table.
        initialW: Weight initializer of every convolution (Chainer's default
            when None).  Weights are normally loaded from a converted file.

    Calling the link with ``x`` of shape ``(N, 3, H, W)`` float32 (BGR,
    normalised as in :class:`entity.InferenceParams`, H and W multiples of
    8) returns a list over the six stages; each entry is a list over the
    stage's branches of ``chainer.Variable`` of shape ``(N, C, H/8, W/8)``.
    """

    def __init__(self, spec: specs.NetSpec,
                 initialW: Optional[chainer.Initializer] = None) -> None:
        super().__init__()
        self.spec = spec
        with self.init_scope():
            for conv in spec.convolutions():
                setattr(self, conv.name, L.Convolution2D(
                    conv.in_channels, conv.out_channels, conv.ksize,
                    pad=conv.pad, initialW=initialW))

    def _run(self, layers, h):
        for layer in layers:
            if isinstance(layer, specs.Pool):
                h = F.max_pooling_2d(h, 2, stride=2)
            else:
                h = getattr(self, layer.name)(h)
                if layer.relu:
                    h = F.relu(h)
        return h

    def _run_cpu_inference(self, layers, h: np.ndarray) -> np.ndarray:
        """:meth:`_run` on NumPy arrays with :mod:`models.cpu_conv`."""
        for layer in layers:
            if isinstance(layer, specs.Pool):
                h = cpu_conv.max_pool_2x2(h)
            else:
                link = getattr(self, layer.name)
                h = cpu_conv.conv2d(h, link.W.array, link.b.array,
                                    layer.relu)
        return h

    def _fast_path(self, x) -> bool:
        """Inference on the CPU (no training, no gradients) takes the faster
        convolution; the results are the same."""
        return (self.xp is np and not chainer.config.train
                and not chainer.config.enable_backprop
                and isinstance(x, np.ndarray))

    def stages(self, x) -> List[List[chainer.Variable]]:
        """Outputs of every branch of every stage: ``[stage][branch]``."""
        if self._fast_path(x):
            run, concat = self._run_cpu_inference, np.concatenate
        else:
            run, concat = self._run, F.concat
        features = run(self.spec.trunk, x)
        outputs = []
        stage_input = features
        for stage in self.spec.stages:
            branch_outputs = [run(branch, stage_input) for branch in stage]
            outputs.append(branch_outputs)
            stage_input = concat(branch_outputs + [features], axis=1)
        return [[chainer.as_variable(h) for h in stage] for stage in outputs]


class CocoPoseNet(StagedNet):
    """The COCO body model (``pose_iter_440000.caffemodel``).

    ``model(x)`` with ``x`` (N, 3, H, W) float32 returns ``(heatmaps,
    pafs)``, heatmaps first as everywhere in the project: two lists over the
    six stages of Variables of shape (N, 19, H/8, W/8) (confidence maps of
    the 18 joints and the background, branch L2) and (N, 38, H/8, W/8)
    (part affinity fields, branch L1).
    """

    def __init__(self, initialW: Optional[chainer.Initializer] = None):
        super().__init__(specs.POSENET, initialW)

    def forward(self, x):
        outputs = self.stages(x)
        pafs = [paf for paf, _ in outputs]
        heatmaps = [heatmap for _, heatmap in outputs]
        return heatmaps, pafs


class _PartNet(StagedNet):
    """Face and hand models: ``model(x)`` returns the per-stage heatmaps."""

    def forward(self, x):
        return [heatmaps for (heatmaps,) in self.stages(x)]


class FaceNet(_PartNet):
    """The face model (``pose_iter_116000.caffemodel``).

    ``model(x)`` returns a list over the six stages of (N, 71, H/8, W/8)
    Variables: 70 face keypoints and the background.
    """

    def __init__(self, initialW: Optional[chainer.Initializer] = None):
        super().__init__(specs.FACENET, initialW)


class HandNet(_PartNet):
    """The hand model (``pose_iter_102000.caffemodel``).

    ``model(x)`` returns a list over the six stages of (N, 22, H/8, W/8)
    Variables: 21 hand keypoints and the background.  It expects a right
    hand; mirror left hands first.
    """

    def __init__(self, initialW: Optional[chainer.Initializer] = None):
        super().__init__(specs.HANDNET, initialW)


NETWORKS = {'posenet': CocoPoseNet, 'facenet': FaceNet, 'handnet': HandNet}
