"""The layer tables against facts of CMU's deploy prototxts."""
import re

import pytest

from models import NETWORKS, spec as specs
from models.convert import expected_parameters
from models.spec import Conv, Pool


def convs(spec):
    return {conv.name: conv for conv in spec.convolutions()}


@pytest.mark.parametrize('spec, count, parameters', [
    (specs.POSENET, 92, 52_311_446),   # pose_iter_440000.caffemodel: 209 MB
    (specs.FACENET, 52, 38_425_706),   # pose_iter_116000.caffemodel: 154 MB
    (specs.HANDNET, 52, 36_832_324),   # pose_iter_102000.caffemodel: 147 MB
])
def test_layer_and_parameter_counts(spec, count, parameters):
    layers = list(spec.convolutions())
    assert len(layers) == len({c.name for c in layers}) == count
    total = sum(c.out_channels * (c.in_channels * c.ksize ** 2 + 1)
                for c in layers)
    assert total == parameters


def test_body_trunk_is_vgg19_to_conv4_2_plus_cpm():
    trunk = [item.name for item in specs.POSENET.trunk]
    assert trunk == [
        'conv1_1', 'conv1_2', 'pool1_stage1', 'conv2_1', 'conv2_2',
        'pool2_stage1', 'conv3_1', 'conv3_2', 'conv3_3', 'conv3_4',
        'pool3_stage1', 'conv4_1', 'conv4_2', 'conv4_3_CPM', 'conv4_4_CPM']
    assert sum(isinstance(i, Pool) for i in specs.POSENET.trunk) == 3
    assert specs.POSENET.feature_channels == 128


def test_body_stages():
    layers = convs(specs.POSENET)
    assert layers['conv5_1_CPM_L1'].in_channels == 128
    assert layers['conv5_4_CPM_L2'].ksize == 1
    assert layers['conv5_5_CPM_L1'].out_channels == 38
    assert layers['conv5_5_CPM_L2'].out_channels == 19
    for t in range(2, 7):
        for branch, out in (('L1', 38), ('L2', 19)):
            first = layers[f'Mconv1_stage{t}_{branch}']
            assert (first.in_channels, first.ksize, first.pad) == (185, 7, 3)
            assert layers[f'Mconv6_stage{t}_{branch}'].ksize == 1
            assert layers[f'Mconv7_stage{t}_{branch}'].out_channels == out


@pytest.mark.parametrize('spec, maps', [(specs.FACENET, 71), (specs.HANDNET, 22)])
def test_face_and_hand_share_one_definition(spec, maps):
    layers = convs(spec)
    assert specs.FACENET.trunk == specs.HANDNET.trunk
    assert layers['conv5_3_CPM'].out_channels == 128
    assert layers['conv6_2_CPM'].out_channels == maps
    assert layers['Mconv1_stage2'].in_channels == maps + 128
    assert layers['Mconv7_stage6'].out_channels == maps


def test_relu_after_every_convolution_but_branch_outputs():
    for spec in specs.SPECS.values():
        outputs = {name for stage in specs.stage_output_names(spec)
                   for name in stage}
        for conv in spec.convolutions():
            assert conv.relu == (conv.name not in outputs), conv.name


def concat_bottoms(prototxt):
    return {m.group(1): re.findall(r'bottom: "([^"]+)"', m.group(0))
            for m in re.finditer(r'layer \{ name: "(concat_stage\d)".*', prototxt)}


def test_prototxt_concatenation_order_is_cmus():
    """concat_stage{t} = (L1 output, L2 output, features), as in CMU's file."""
    bottoms = concat_bottoms(specs.deploy_prototxt(specs.POSENET, 368, 368))
    assert bottoms['concat_stage2'] == [
        'conv5_5_CPM_L1', 'conv5_5_CPM_L2', 'conv4_4_CPM']
    assert bottoms['concat_stage6'] == [
        'Mconv7_stage5_L1', 'Mconv7_stage5_L2', 'conv4_4_CPM']
    hand = concat_bottoms(specs.deploy_prototxt(specs.HANDNET, 368, 368))
    assert hand['concat_stage2'] == ['conv6_2_CPM', 'conv5_3_CPM']
    assert hand['concat_stage3'] == ['Mconv7_stage2', 'conv5_3_CPM']


def test_chainer_links_are_named_like_caffe_layers():
    """Every parameter of the Chainer networks (built without initialising
    them, by models.convert) is ``<Caffe layer>/W`` or ``/b``, with the
    layer's shape."""
    for name in NETWORKS:
        expected = {}
        for conv in specs.SPECS[name].convolutions():
            expected[f'{conv.name}/W'] = conv.weight_shape
            expected[f'{conv.name}/b'] = (conv.out_channels,)
        assert expected_parameters(name) == expected


def test_conv_geometry():
    conv = Conv('x', 185, 128, 7)
    assert conv.pad == 3 and conv.weight_shape == (128, 185, 7, 7)


@pytest.mark.parametrize('name', sorted(specs.SPECS))
@pytest.mark.parametrize('divisor', [1, 8, 16])
def test_narrowed_keeps_the_topology(name, divisor):
    """Same layers, kernels, ReLUs, pools and outputs; hidden channels
    divided (rounded up); each layer reads what the previous one gives."""
    spec = specs.SPECS[name]
    narrow = specs.narrowed(spec, divisor)
    assert [type(layer) for layer in narrow.trunk] == [
        type(layer) for layer in spec.trunk]
    assert [(c.name, c.ksize, c.relu) for c in narrow.convolutions()] == [
        (c.name, c.ksize, c.relu) for c in spec.convolutions()]
    assert narrow.output_channels == spec.output_channels
    assert specs.stage_output_names(narrow) == specs.stage_output_names(spec)
    outputs = {n for stage in specs.stage_output_names(spec) for n in stage}
    wide = convs(spec)
    for conv in narrow.convolutions():
        out = wide[conv.name].out_channels
        assert conv.out_channels == (
            out if conv.name in outputs else -(-out // divisor))
    layers = convs(narrow)
    features = narrow.feature_channels
    assert features == -(-spec.feature_channels // divisor)
    assert layers['conv1_1'].in_channels == 3
    for stage, previous in zip(narrow.stages[1:], narrow.stages):
        for branch in stage:
            assert branch[0].in_channels == features + sum(
                b[-1].out_channels for b in previous)
    for chain in [[c for c in narrow.trunk if isinstance(c, Conv)]] + [
            list(branch) for stage in narrow.stages for branch in stage]:
        for before, after in zip(chain, chain[1:]):
            assert after.in_channels == before.out_channels
    if divisor == 1:
        assert narrow == spec


def test_narrowed_body_by_8():
    layers = convs(specs.narrowed(specs.POSENET, 8))
    assert layers['conv1_1'].weight_shape == (8, 3, 3, 3)
    assert layers['conv5_1_CPM_L1'].in_channels == 16
    assert layers['Mconv1_stage2_L1'].weight_shape == (16, 73, 7, 7)
    assert layers['Mconv7_stage6_L2'].weight_shape == (19, 16, 1, 1)


@pytest.mark.parametrize('divisor', [0, -2, 2.0])
def test_narrowed_needs_a_positive_integer(divisor):
    with pytest.raises(ValueError, match='divisor'):
        specs.narrowed(specs.HANDNET, divisor)
