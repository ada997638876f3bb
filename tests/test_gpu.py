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


def test_the_network_clock_times_queued_passes_on_gpu(synthesized_weights):
    """A stream queues each batch's network pass and reads the previous
    batch meanwhile: the passes are timed by CUDA events, counted once
    their results have been read."""
    from pose.detector import PoseDetector
    gpu = PoseDetector('posenet', synthesized_weights('posenet'), device=0)
    frames = list(np.random.default_rng(6).integers(
        0, 256, (4, 64, 96, 3), np.uint8))
    out = list(gpu.stream([(k, frames[2 * k:2 * k + 2]) for k in range(2)]))
    assert [k for k, _ in out] == [0, 1]
    assert all(len(detections) == 2 for _, detections in out)
    assert gpu.network_seconds > 0


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


#: Relative max error of the last stage's maps against the float32 CPU path
#: allowed in TF32 and float16 (inputs of every GEMM rounded to a 10-bit
#: mantissa, float32 sums; bench/bench_gpu.py measures the actual figures
#: per stage on the full-size network).
REDUCED_TOLERANCE = 5e-2


@pytest.mark.parametrize('dtype', [np.float32, np.float16])
def test_cuda_kernels_equal_their_numpy_twins(dtype):
    import cupy
    from models import gpu_conv
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 5, 9, 7)).astype(dtype)
    for k, first, count in ((3, 1, 2), (7, 0, 3), (1, 2, 1)):
        np.testing.assert_array_equal(
            cupy.asnumpy(gpu_conv.im2col(cupy.asarray(x), first, count, k)),
            gpu_conv.im2col(x, first, count, k))
    product = rng.standard_normal((4, 2 * 63)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    for relu in (True, False):
        expected = np.empty((2, 4, 63), dtype)
        gpu_conv.bias_relu_nchw(product, bias, 2, relu, expected)
        found = cupy.empty((2, 4, 63), dtype)
        gpu_conv.bias_relu_nchw(cupy.asarray(product), cupy.asarray(bias), 2,
                                relu, found)
        np.testing.assert_array_equal(cupy.asnumpy(found), expected)
    np.testing.assert_array_equal(
        cupy.asnumpy(gpu_conv.max_pool_2x2(cupy.asarray(x))),
        gpu_conv.max_pool_2x2(x))


def relative(found, expected):
    return float(np.abs(found - expected).max() / np.abs(expected).max())


def stage_errors(weights, x, expected, precision='float32',
                 gpu_kernels=True):
    from models import precision as precisions
    model = load_weights(NETWORKS['posenet'](), weights)
    model.gpu_kernels = gpu_kernels
    model.to_device(chainer.get_device('@cupy:0'))
    precisions.set_precision(model, precision)
    found = run(model, x, '@cupy:0')
    return [max(relative(b.astype(np.float32), a) for a, b in zip(s, t))
            for s, t in zip(expected, found)]


def test_gpu_kernels_chainer_path_and_precisions_against_cpu(
        synthesized_weights):
    """The full-size body network: models.gpu_conv and Chainer's own GPU
    convolution equal the CPU in float32; TF32 and float16 stay within
    REDUCED_TOLERANCE per stage, and TF32 really is in use (its error is
    well above float32's)."""
    weights = synthesized_weights('posenet')
    x = np.random.default_rng(0).uniform(
        -0.5, 0.5, (2, 3, 64, 48)).astype(np.float32)
    cpu = run(load_weights(NETWORKS['posenet'](), weights), x, '@numpy')
    errors = {name: stage_errors(weights, x, cpu, precision, kernels)
              for name, precision, kernels in (
                  ('kernels', 'float32', True), ('chainer', 'float32', False),
                  ('tf32', 'tf32', True), ('float16', 'float16', True))}
    print(errors)
    assert max(errors['kernels']) <= TOLERANCE
    assert max(errors['chainer']) <= TOLERANCE
    for name in ('tf32', 'float16'):
        assert max(errors[name]) <= REDUCED_TOLERANCE
    assert max(errors['tf32']) > 10 * max(errors['kernels'])


def test_detector_precisions_on_gpu(synthesized_weights):
    from pose.detector import PoseDetector
    weights = synthesized_weights('posenet')
    img = np.random.default_rng(2).integers(0, 256, (96, 128, 3), np.uint8)
    expected = PoseDetector('posenet', weights).maps(img)
    for precision in ('tf32', 'float16'):
        detector = PoseDetector('posenet', weights, device=0,
                                precision=precision)
        found = detector.maps(img)
        assert all(m.dtype == np.float32 for m in found)
        for a, b in zip(expected, found):
            assert relative(b, a) <= REDUCED_TOLERANCE
        poses, _ = detector(img)
        assert poses.shape[1:] == (18, 3)


@pytest.mark.parametrize('precision', ['float32', 'float16'])
def test_face_crops_go_in_one_batch_on_gpu(synthesized_weights, precision):
    from pose.parts import FaceDetector
    gpu = FaceDetector(synthesized_weights('facenet'), device=0,
                       precision=precision)
    cpu = FaceDetector(synthesized_weights('facenet'))
    crops = np.random.default_rng(1).uniform(
        -0.5, 0.5, (3, 3, 96, 96)).astype(np.float32)
    batches = []
    model_call = gpu.model.forward
    gpu.model.forward = lambda x: batches.append(len(x)) or model_call(x)
    expected, found = cpu._heatmaps(crops), gpu._heatmaps(crops)
    assert batches == [3] and found.dtype == np.float32
    tolerance = TOLERANCE if precision == 'float32' else REDUCED_TOLERANCE
    assert relative(found, expected) <= tolerance
