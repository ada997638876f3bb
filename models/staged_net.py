"""The OpenPose networks as Chainer links, built from :mod:`models.spec`.

Every convolution is a ``chainer.links.Convolution2D`` child link named like
its Caffe layer (``conv1_1``, ``conv5_5_CPM_L1``, ``Mconv7_stage6_L2``, ...),
so converted weights load with ``chainer.serializers.load_npz`` and the
serialized keys are ``<layer>/W`` and ``<layer>/b``.
"""
from __future__ import annotations

import functools
from typing import List, Optional

import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from models import (cpu_conv, gpu_conv, precision as precisions,
                    spec as specs, threads)


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

    Inference (``train`` off, no backprop) takes a faster path than
    Chainer's ``convolution_2d``: :mod:`models.cpu_conv` on NumPy,
    :mod:`models.gpu_conv` on a GPU (set :attr:`gpu_kernels` False for
    Chainer's own GPU path).  :func:`models.precision.set_precision` casts
    the parameters for :attr:`precision` ``'float16'``; the stages' outputs
    then are float16 too.
    """

    #: ``'float32'``, ``'tf32'`` or ``'float16'`` (see
    #: :mod:`models.precision`); set with ``set_precision``.
    precision: str = precisions.DEFAULT_PRECISION
    #: GPU inference with :mod:`models.gpu_conv` (True) or with Chainer's
    #: own convolution (False; kept for comparison and for training).
    gpu_kernels: bool = True

    def __init__(self, spec: specs.NetSpec,
                 initialW: Optional[chainer.Initializer] = None) -> None:
        super().__init__()
        self.spec = spec
        #: BLAS threads of the CPU passes, lowered while other processes
        #: take cores (:mod:`models.threads`).
        self.blas_threads = threads.ThreadGovernor()
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

    def _run_inference(self, layers, h, ops):
        """:meth:`_run` on arrays with ``ops``, a module with ``conv2d(x,
        W, b, relu)`` and ``max_pool_2x2(x)``: :mod:`models.cpu_conv`
        (float32 NumPy) or :mod:`models.gpu_conv` (NumPy or CuPy, in the
        parameters' dtype).  An ``ops`` with ``plan_for(network)``
        (:mod:`models.cpu_conv`) runs each layer through the network's plan,
        which picks the layer's scheme and keeps its transformed kernels."""
        plan_for = getattr(ops, 'plan_for', None)
        plan = plan_for(self) if plan_for is not None else None
        for layer in layers:
            if isinstance(layer, specs.Pool):
                h = ops.max_pool_2x2(h)
                continue
            link = getattr(self, layer.name)
            if plan is not None:
                h = plan.conv2d(layer.name, h, link.W.array, link.b.array,
                                layer.relu)
            else:
                h = ops.conv2d(h, link.W.array, link.b.array, layer.relu)
        return h

    def inference_path(self, x) -> str:
        """Which code runs ``x``: ``'cpu'`` (:mod:`models.cpu_conv`,
        float32 NumPy inference), ``'device'`` (:mod:`models.gpu_conv`: GPU
        inference, or float16 on NumPy) or ``'chainer'`` (training,
        gradients, Variables, or :attr:`gpu_kernels` off)."""
        if (chainer.config.train or chainer.config.enable_backprop
                or isinstance(x, chainer.Variable)):
            return 'chainer'
        if self.xp is np:
            if not isinstance(x, np.ndarray):
                return 'chainer'
            return 'cpu' if self.precision != 'float16' else 'device'
        return 'device' if self.gpu_kernels else 'chainer'

    def _fast_path(self, x) -> bool:
        """Inference on the CPU (no training, no gradients) takes the faster
        convolution; the results are the same."""
        return self.inference_path(x) == 'cpu'

    def stages(self, x) -> List[List[chainer.Variable]]:
        """Outputs of every branch of every stage: ``[stage][branch]``."""
        path = self.inference_path(x)
        if path == 'cpu':
            return self.blas_threads.run(lambda: self._stages(path, x))
        with precisions.gemm_precision(self.precision, self.xp is not np):
            return self._stages(path, x)

    def _stages(self, path: str, x) -> List[List[chainer.Variable]]:
        if path == 'cpu':
            run = functools.partial(self._run_inference, ops=cpu_conv)
            concat = np.concatenate
        elif path == 'device':
            run = functools.partial(self._run_inference, ops=gpu_conv)
            concat = self.xp.concatenate
            x = x.astype(precisions.storage_dtype(self.precision),
                         copy=False)
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
