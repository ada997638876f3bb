"""The CUDA path (CuPy) against the CPU path; skipped without a GPU."""
import chainer
import numpy as np
import pytest

from models import NETWORKS, spec as specs
from models.convert import load_weights

cuda = chainer.backends.cuda
pytestmark = pytest.mark.skipif(
    not (cuda.available and cuda.cupy.cuda.runtime.getDeviceCount() > 0),
    reason='needs CuPy and a CUDA GPU')

#: Relative max error allowed between GPU and CPU results (float32, cuDNN or
#: cuBLAS summation order differs from OpenBLAS's).
TOLERANCE = 1e-4


def run(model, x, device):
    device = chainer.get_device(device)
    device.use()
    model.to_device(device)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        stages = model.stages(device.send(x))
    return [[chainer.backend.CpuDevice().send(v.array) for v in stage]
            for stage in stages]


@pytest.mark.parametrize('network', sorted(NETWORKS))
def test_network_on_gpu_matches_cpu(network, tmp_path):
    from models.synthetic import write_synthetic_caffemodel
    from models.convert import convert
    caffemodel, weights = tmp_path / 'w.caffemodel', tmp_path / 'w.npz'
    write_synthetic_caffemodel(str(caffemodel), specs.SPECS[network], seed=3)
    convert(network, str(caffemodel), str(weights))
    x = np.random.default_rng(0).uniform(
        -0.5, 0.5, (2, 3, 64, 48)).astype(np.float32)
    cpu = run(load_weights(NETWORKS[network](), str(weights)), x, '@numpy')
    gpu = run(load_weights(NETWORKS[network](), str(weights)), x, '@cupy:0')
    for cpu_stage, gpu_stage in zip(cpu, gpu):
        for a, b in zip(cpu_stage, gpu_stage):
            assert np.abs(a - b).max() <= TOLERANCE * np.abs(a).max()


def test_detector_on_gpu_matches_cpu(synthesized_weights):
    from pose.detector import PoseDetector
    weights = synthesized_weights('posenet')
    img = np.random.default_rng(2).integers(0, 256, (96, 128, 3), np.uint8)
    maps = {}
    for device in (-1, 0):
        detector = PoseDetector('posenet', weights, device=device)
        maps[device] = detector.maps(img)
        poses, scores = detector(img)
        assert poses.shape[1:] == (18, 3) and isinstance(poses, np.ndarray)
    for cpu, gpu in zip(maps[-1], maps[0]):
        assert np.abs(cpu - gpu).max() <= TOLERANCE * np.abs(cpu).max()


def test_video_batches_on_gpu_match_the_cpu(tmp_path, synthesized_weights,
                                            capsys):
    import json
    import video_pose_detector
    from tests.video_clips import make_clip
    clip = make_clip(tmp_path / 'clip.avi', frames=9, size=(96, 64))
    lines = {}
    for name, extra in (('cpu', []), ('gpu', ['--gpu', '0', '--batch', '4'])):
        lines[name] = tmp_path / f'{name}.jsonl'
        assert video_pose_detector.main(
            ['--video', clip, '--weights', synthesized_weights('posenet'),
             '--size', '64', '--no-video', '--json', str(lines[name])]
            + extra) == 0
    cpu, gpu = ([json.loads(line) for line in lines[name].read_text()
                 .splitlines()] for name in ('cpu', 'gpu'))
    assert [r['frame'] for r in gpu] == list(range(9))
    for a, b in zip(cpu, gpu):
        assert len(a['people']) == len(b['people'])
        for p, q in zip(a['people'], b['people']):
            np.testing.assert_allclose(p['pose_keypoints_2d'],
                                       q['pose_keypoints_2d'], atol=0.01)


def test_hand_crops_go_in_one_batch_on_gpu(synthesized_weights):
    from pose.parts import HandDetector
    gpu = HandDetector(synthesized_weights('handnet'), device=0)
    cpu = HandDetector(synthesized_weights('handnet'))
    crops = np.random.default_rng(0).uniform(
        -0.5, 0.5, (3, 3, 96, 96)).astype(np.float32)
    batches = []
    model_call = gpu.model.forward
    gpu.model.forward = lambda x: batches.append(len(x)) or model_call(x)
    expected, found = cpu._heatmaps(crops), gpu._heatmaps(crops)
    assert batches == [3]
    assert np.abs(found - expected).max() <= TOLERANCE * np.abs(
        expected).max()


def test_maps_stay_on_the_gpu_until_the_peaks():
    """Upsampling, smoothing and peaks on CuPy arrays equal the CPU path."""
    import cupy
    from pose import decode, detector, device_maps
    from tests.fixtures import ground_truth_maps
    maps = np.random.default_rng(4).random((57, 46, 82), dtype=np.float32)
    up = device_maps.upsample_maps(cupy.asarray(maps), (368, 654), (720, 1280))
    assert isinstance(up, cupy.ndarray)
    np.testing.assert_allclose(
        cupy.asnumpy(up), detector.upsample_maps(maps, (368, 654), (720, 1280)),
        rtol=0, atol=1e-5)
    heatmaps, _ = ground_truth_maps.ground_truth_maps(
        ground_truth_maps.five_people(), (368, 656))
    expected = decode.find_smoothed_peaks(heatmaps, 3.0, 0.1)
    found = device_maps.find_peaks(cupy.asarray(heatmaps), 3.0, 0.1)
    assert [len(p) for p in found] == [len(p) for p in expected]
    for a, b in zip(found, expected):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_precise_detection_on_gpu_matches_cpu(synthesized_weights):
    from pose.detector import PoseDetector
    weights = synthesized_weights('posenet')
    img = np.random.default_rng(5).integers(0, 256, (80, 120, 3), np.uint8)
    found = [PoseDetector('posenet', weights, device=d, precise=True)
             .maps(img) for d in (-1, 0)]
    for cpu, gpu in zip(*found):
        assert isinstance(gpu, np.ndarray)
        assert np.abs(cpu - gpu).max() <= TOLERANCE * np.abs(cpu).max()
