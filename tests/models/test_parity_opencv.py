"""The Chainer networks against an independent Caffe runtime (OpenCV DNN).

For each network, a caffemodel with random He-scaled weights (fixed seed) is
synthesized with the real layer names and shapes, in the current (V2) and the
legacy (V1, 4-d blob shapes) format.  OpenCV runs it with a deploy prototxt
written from the layer table; the Chainer network runs on the weights that
``convert_model.py`` produced from the same file.  Every stage must agree to a
relative max error of 1e-4.
"""
import chainer
import cv2
import numpy as np
import pytest

import convert_model
from models import NETWORKS, spec as specs
from models.convert import load_weights
from models.synthetic import write_synthetic_caffemodel

#: Relative max error allowed between the two runtimes.
TOLERANCE = 1e-4
#: A non-square input (multiples of 8) keeps the test fast and checks H/W order.
HEIGHT, WIDTH = 40, 56
STYLES = {'V2': dict(style='V2'), 'V1-legacy': dict(style='V1', legacy_shape=True)}


def relative_max_error(actual, reference):
    return float(np.abs(actual - reference).max() / np.abs(reference).max())


def network_input(seed=0):
    """A random BGR image, normalised as the models were trained."""
    image = np.random.default_rng(seed).integers(
        0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    return (image.astype(np.float32) / 256 - 0.5).transpose(2, 0, 1)[None]


def opencv_stages(spec, prototxt, caffemodel, x):
    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setInput(x)
    names = [name for stage in specs.stage_output_names(spec) for name in stage]
    outputs = dict(zip(names, net.forward(names)))
    return [[outputs[name] for name in stage]
            for stage in specs.stage_output_names(spec)]


def chainer_stages(network, weights, x):
    model = load_weights(NETWORKS[network](), str(weights))
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return [[v.array for v in stage] for stage in model.stages(x)]


@pytest.fixture(scope='module', params=[
    (network, style) for network in NETWORKS for style in STYLES],
    ids=lambda p: f'{p[0]}-{p[1]}')
def both_runtimes(request, tmp_path_factory):
    network, style = request.param
    spec = specs.SPECS[network]
    folder = tmp_path_factory.mktemp(f'{network}-{style}')
    caffemodel = folder / 'weights.caffemodel'
    write_synthetic_caffemodel(str(caffemodel), spec, seed=7, **STYLES[style])
    prototxt = folder / 'deploy.prototxt'
    prototxt.write_text(specs.deploy_prototxt(spec, HEIGHT, WIDTH))
    weights = folder / 'weights.npz'
    assert convert_model.main([network, str(caffemodel), str(weights)]) == 0
    x = network_input()
    return (spec, opencv_stages(spec, prototxt, caffemodel, x),
            chainer_stages(network, weights, x))


def test_every_stage_matches_opencv(both_runtimes):
    spec, reference, ours = both_runtimes
    assert len(ours) == len(reference) == specs.NUM_STAGES
    for stage, (ref_branches, our_branches) in enumerate(zip(reference, ours)):
        for ref, out in zip(ref_branches, our_branches):
            assert out.shape == ref.shape
            error = relative_max_error(out, ref)
            assert error <= TOLERANCE, f'stage {stage + 1}: {error:.2e}'


def test_output_shapes(both_runtimes):
    spec, _, ours = both_runtimes
    for stage in ours:
        assert [b.shape for b in stage] == [
            (1, c, HEIGHT // 8, WIDTH // 8) for c in spec.output_channels]
        assert all(b.dtype == np.float32 for b in stage)


def test_synthesized_activations_stay_order_one(both_runtimes):
    """The weight scaling keeps every stage's output neither exploding nor
    vanishing, so the parity above compares meaningful numbers."""
    _, reference, _ = both_runtimes
    for stage in reference:
        for output in stage:
            assert np.isfinite(output).all()
            assert 0.05 < output.std() < 5.0
            assert np.abs(output).max() < 50.0


def test_body_model_call_returns_heatmaps_then_pafs(tmp_path):
    """``CocoPoseNet(x)`` gives (heatmaps, pafs), six stages each: branch
    L2 (19 maps) and branch L1 (38 PAFs)."""
    model = NETWORKS['posenet']()
    x = network_input()
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        heatmaps, pafs = model(x)
        stages = model.stages(x)
    assert len(pafs) == len(heatmaps) == specs.NUM_STAGES
    assert pafs[-1].shape == (1, 38, HEIGHT // 8, WIDTH // 8)
    assert heatmaps[-1].shape == (1, 19, HEIGHT // 8, WIDTH // 8)
    np.testing.assert_array_equal(pafs[-1].array, stages[-1][0].array)
    np.testing.assert_array_equal(heatmaps[-1].array, stages[-1][1].array)


@pytest.mark.parametrize('network, channels', [('facenet', 71), ('handnet', 22)])
def test_part_model_call_returns_heatmaps(network, channels):
    model = NETWORKS[network]()
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        heatmaps = model(network_input())
    assert len(heatmaps) == specs.NUM_STAGES
    assert heatmaps[-1].shape == (1, channels, HEIGHT // 8, WIDTH // 8)
