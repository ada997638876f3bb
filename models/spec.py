"""Layer tables of the three OpenPose networks, as in CMU's deploy prototxts.

A network is a :class:`NetSpec`: a VGG-19 *trunk* (convolutions and max-pools)
that computes the features F at 1/8 resolution, followed by six *stages*.
Each stage has one or two *branches* (sequences of convolutions).  Stage 1
reads F; stage t > 1 reads ``concat(outputs of stage t-1's branches, F)``.

* Body (``pose/coco/pose_deploy_linevec.prototxt``): branches L1 (38 PAF
  channels) and L2 (19 confidence maps).
* Face (``face/pose_deploy.prototxt``, 71 maps) and hand
  (``hand/pose_deploy.prototxt``, 22 maps): one branch; both share one
  definition that differs only in the output channel count.

Every convolution is followed by a ReLU except the last one of each branch.
Names are the Caffe layer names, so the Chainer links built from these tables
(:mod:`models.staged_net`) and the prototxt written by :func:`deploy_prototxt`
agree name for name with the original files.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator, Sequence, Tuple, Union

import entity


@dataclasses.dataclass(frozen=True)
class Conv:
    """A stride-1 convolution with 'same' padding, optionally followed by ReLU."""
    name: str
    in_channels: int
    out_channels: int
    ksize: int
    relu: bool = True

    @property
    def pad(self) -> int:
        return self.ksize // 2

    @property
    def weight_shape(self) -> Tuple[int, int, int, int]:
        """Caffe and Chainer layout: (out, in, kh, kw)."""
        return (self.out_channels, self.in_channels, self.ksize, self.ksize)


@dataclasses.dataclass(frozen=True)
class Pool:
    """A 2x2, stride-2 max-pooling."""
    name: str


Branch = Tuple[Conv, ...]
Stage = Tuple[Branch, ...]


@dataclasses.dataclass(frozen=True)
class NetSpec:
    """One network: trunk, stages, and the name Caffe gives each stage concat."""
    name: str
    trunk: Tuple[Union[Conv, Pool], ...]
    stages: Tuple[Stage, ...]

    def convolutions(self) -> Iterator[Conv]:
        """All convolutions in forward order."""
        for layer in self.trunk:
            if isinstance(layer, Conv):
                yield layer
        for stage in self.stages:
            for branch in stage:
                yield from branch

    @property
    def feature_channels(self) -> int:
        return [c for c in self.trunk if isinstance(c, Conv)][-1].out_channels

    @property
    def output_channels(self) -> Tuple[int, ...]:
        """Channels of each branch output (the same in every stage)."""
        return tuple(branch[-1].out_channels for branch in self.stages[0])


# A layer row: (name, out_channels, ksize), or a Pool.
_Row = Union[Tuple[str, int, int], Pool]

_VGG19_HEAD: Tuple[_Row, ...] = (
    ('conv1_1', 64, 3), ('conv1_2', 64, 3), Pool('pool1_stage1'),
    ('conv2_1', 128, 3), ('conv2_2', 128, 3), Pool('pool2_stage1'),
    ('conv3_1', 256, 3), ('conv3_2', 256, 3), ('conv3_3', 256, 3),
    ('conv3_4', 256, 3), Pool('pool3_stage1'),
    ('conv4_1', 512, 3), ('conv4_2', 512, 3),
)
_BODY_TRUNK = _VGG19_HEAD + (('conv4_3_CPM', 256, 3), ('conv4_4_CPM', 128, 3))
_PART_TRUNK = _VGG19_HEAD + (
    ('conv4_3', 512, 3), ('conv4_4', 512, 3),
    ('conv5_1', 512, 3), ('conv5_2', 512, 3), ('conv5_3_CPM', 128, 3),
)
#: Refinement stages 2..6: five 7x7 convolutions, then two 1x1.
_REFINE_ROWS = ((128, 7),) * 5 + ((128, 1),)
#: Number of stages of every OpenPose network.
NUM_STAGES = 6


def _chain(rows: Sequence[_Row], in_channels: int, relu_last: bool = True):
    """Turn rows into layers, threading the channel count through."""
    layers = []
    for i, row in enumerate(rows):
        if isinstance(row, Pool):
            layers.append(row)
            continue
        name, out_channels, ksize = row
        relu = relu_last or i < len(rows) - 1
        layers.append(Conv(name, in_channels, out_channels, ksize, relu))
        in_channels = out_channels
    return tuple(layers)


def _refine_rows(stage: int, suffix: str, out_channels: int):
    rows = [(f'Mconv{i}_stage{stage}{suffix}', c, k)
            for i, (c, k) in enumerate(_REFINE_ROWS, start=1)]
    return rows + [(f'Mconv7_stage{stage}{suffix}', out_channels, 1)]


def _body_spec() -> NetSpec:
    trunk = _chain(_BODY_TRUNK, 3)
    features = trunk[-1].out_channels
    outputs = {'_L1': entity.NUM_PAF_CHANNELS, '_L2': entity.NUM_HEATMAPS}
    stage1 = tuple(
        _chain([(f'conv5_{i}_CPM{suffix}', 128, 3) for i in (1, 2, 3)]
               + [(f'conv5_4_CPM{suffix}', 512, 1),
                  (f'conv5_5_CPM{suffix}', out, 1)], features, False)
        for suffix, out in outputs.items())
    stage_input = sum(outputs.values()) + features
    later = tuple(
        tuple(_chain(_refine_rows(t, suffix, out), stage_input, False)
              for suffix, out in outputs.items())
        for t in range(2, NUM_STAGES + 1))
    return NetSpec('posenet', trunk, (stage1,) + later)


def _part_spec(name: str, num_maps: int) -> NetSpec:
    """Face and hand networks: the same layers, ``num_maps`` outputs."""
    trunk = _chain(_PART_TRUNK, 3)
    features = trunk[-1].out_channels
    stage1 = (_chain([('conv6_1_CPM', 512, 1), ('conv6_2_CPM', num_maps, 1)],
                     features, False),)
    later = tuple(
        (_chain(_refine_rows(t, '', num_maps), num_maps + features, False),)
        for t in range(2, NUM_STAGES + 1))
    return NetSpec(name, trunk, (stage1,) + later)


POSENET = _body_spec()
FACENET = _part_spec('facenet', entity.NUM_FACE_HEATMAPS)
HANDNET = _part_spec('handnet', entity.NUM_HAND_HEATMAPS)
SPECS = {spec.name: spec for spec in (POSENET, FACENET, HANDNET)}


def narrowed(spec: NetSpec, divisor: int) -> NetSpec:
    """``spec`` with every hidden channel count divided by ``divisor``.

    For tests and quick experiments: the same topology (layer names, kernel
    sizes, pools, ReLUs, stages and the branch outputs, e.g. 19 and 38 maps
    of the body network) with ``ceil(channels / divisor)`` channels in every
    other convolution, so about ``divisor ** 2`` times fewer parameters and
    multiply-adds.  Input channels are threaded through as in the original
    (a later stage reads the branch outputs and the narrowed features).
    ``narrowed(spec, 1) == spec``.

    Example: ``narrowed(POSENET, 8)`` has ``conv1_1`` of shape (8, 3, 3, 3),
    features of 16 channels, ``Mconv1_stage2_L1`` reading 38 + 19 + 16 = 73
    channels, and 19 + 38 output maps per stage as the original.

    Raises:
        ValueError: ``divisor`` is not a positive integer.
    """
    if not isinstance(divisor, int) or divisor < 1:
        raise ValueError(f'divisor must be a positive integer, not '
                         f'{divisor!r}')

    def narrow(layers, in_channels, keep_last):
        result = []
        for i, layer in enumerate(layers):
            if isinstance(layer, Conv):
                out = layer.out_channels
                if not (keep_last and i == len(layers) - 1):
                    out = -(-out // divisor)
                layer = dataclasses.replace(
                    layer, in_channels=in_channels, out_channels=out)
                in_channels = out
            result.append(layer)
        return tuple(result)

    trunk = narrow(spec.trunk, next(spec.convolutions()).in_channels, False)
    features = [c for c in trunk if isinstance(c, Conv)][-1].out_channels
    stages, stage_input = [], features
    for stage in spec.stages:
        branches = tuple(narrow(branch, stage_input, True) for branch in stage)
        stages.append(branches)
        stage_input = sum(b[-1].out_channels for b in branches) + features
    return NetSpec(spec.name, trunk, tuple(stages))


def deploy_prototxt(spec: NetSpec, height: int, width: int,
                    batch: int = 1) -> str:
    """A Caffe deploy prototxt for ``spec`` with a fixed input shape.

    Written from the same table as the Chainer network, with CMU's layer and
    blob names (input ``image``, in-place ReLUs, ``concat_stage{t}``), so any
    Caffe runtime can run it with weights converted from the original files.
    The last convolution of each branch of each stage is a named output blob.
    """
    lines = ['input: "image"'] + [
        f'input_dim: {d}' for d in (batch, 3, height, width)]

    def layer(name, type_, bottoms, top, body=''):
        bottom = ''.join(f' bottom: "{b}"' for b in bottoms)
        lines.append(f'layer {{ name: "{name}" type: "{type_}"{bottom}'
                     f' top: "{top}"{body} }}')

    def add(layers, bottom):
        for item in layers:
            if isinstance(item, Pool):
                layer(item.name, 'Pooling', [bottom], item.name,
                      ' pooling_param { pool: MAX kernel_size: 2 stride: 2 }')
            else:
                layer(item.name, 'Convolution', [bottom], item.name,
                      f' convolution_param {{ num_output: {item.out_channels}'
                      f' pad: {item.pad} kernel_size: {item.ksize} }}')
                if item.relu:
                    layer(f'relu_{item.name}', 'ReLU', [item.name], item.name)
            bottom = item.name
        return bottom

    features = add(spec.trunk, 'image')
    previous = []
    for t, stage in enumerate(spec.stages, start=1):
        stage_input = features
        if previous:
            stage_input = f'concat_stage{t}'
            layer(stage_input, 'Concat', previous + [features], stage_input,
                  ' concat_param { axis: 1 }')
        previous = [add(branch, stage_input) for branch in stage]
    return '\n'.join(lines) + '\n'


def stage_output_names(spec: NetSpec) -> Tuple[Tuple[str, ...], ...]:
    """Blob names of the branch outputs, per stage: ``[stage][branch]``."""
    return tuple(tuple(branch[-1].name for branch in stage)
                 for stage in spec.stages)
