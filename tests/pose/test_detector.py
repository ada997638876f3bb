"""The detection chain: pre-processing, network, maps, decoding.

Two kinds of network stand in for CMU's weights: the real CocoPoseNet with
synthesized weights (shapes, dtypes, every option runs; the slim network of
conftest's ``slim_weights``, as the chain does not depend on the network's
width), and a stand-in that renders the paper's ground-truth maps of known
skeletons at the network's output resolution (coordinates: the chain must
map them back to the image).
"""
import dataclasses
import tracemalloc

import chainer
import numpy as np
import pytest

import entity
from common.errors import ToolError
from tests.fixtures import ground_truth_maps
from pose import decode, detector as detector_module, device_maps
from pose.detector import (DeviceError, PoseDetector, average_maps,
                           get_device, network_input, upsample_maps)

STRIDE = entity.NETWORK_STRIDE
#: Centre of output cell 0 in input pixels: cell i covers pixels 8i .. 8i+7.
CELL_CENTRE = (STRIDE - 1) / 2


def small_params(**changes):
    return dataclasses.replace(entity.DEFAULT_PARAMS, **changes)


# ---------------------------------------------------------------------------
# Pre-processing and maps
# ---------------------------------------------------------------------------

def test_network_input_scales_pads_and_normalises():
    img = np.full((100, 130, 3), 255, np.uint8)
    img[0, 0] = 0
    x, scaled = network_input(img, 96)
    assert scaled == (96, 125)                      # 130 * 96 / 100 = 124.8
    assert x.shape == (1, 3, 96, 128) and x.dtype == np.float32
    pad = 128 / 256 - 0.5
    np.testing.assert_array_equal(x[0, :, :, 125:], pad)   # right padding
    assert x[0, :, 50, 60] == pytest.approx(255 / 256 - 0.5)
    assert x[0, :, 0, 0].min() < 0.0                # the dark corner pixel


def test_network_input_pads_bottom_to_the_stride():
    x, scaled = network_input(np.zeros((50, 50, 3), np.uint8), 60)
    assert scaled == (60, 60) and x.shape == (1, 3, 64, 64)
    np.testing.assert_array_equal(x[0, :, 60:], 128 / 256 - 0.5)


@pytest.mark.parametrize('image_shape, scaled', [
    ((300, 800), (246, 656)),   # wide: the width limits, 656 / 800 = 0.82
    ((400, 300), (368, 276)),   # tall: the height limits, 368 / 400 = 0.92
    ((368, 656), (368, 656)),   # exactly the box
])
def test_network_input_with_a_width_fits_the_box_and_pads_to_it(
        image_shape, scaled):
    img = np.full(image_shape + (3,), 255, np.uint8)
    params = small_params(input_height=368, input_width=656)
    x, size = network_input(img, 368, params)
    assert size == scaled and x.shape == (1, 3, 368, 656)
    pad = 128 / 256 - 0.5
    h, w = scaled
    np.testing.assert_array_equal(x[0, :, h:], pad)        # bottom padding
    np.testing.assert_array_equal(x[0, :, :, w:], pad)     # right padding
    assert x[0, :, :h, :w].min() == pytest.approx(255 / 256 - 0.5)


def test_network_input_width_follows_the_search_scale():
    """At search scale 0.5 the box is half of W x H (a stride multiple)."""
    params = small_params(input_height=368, input_width=656)
    x, size = network_input(np.zeros((300, 800, 3), np.uint8), 184, params)
    assert x.shape == (1, 3, 184, 328) and size == (123, 328)


def test_upsample_maps_removes_padding_and_reaches_image_size():
    maps = np.zeros((3, 8, 16), np.float32)
    maps[:, :, :7] = 1.0          # real content; column 7.. is padding
    up = upsample_maps(maps, scaled_size=(64, 56), image_size=(120, 100))
    assert up.shape == (3, 120, 100)
    assert up[:, 20:100, 10:90].min() == pytest.approx(1.0, abs=1e-3)


def test_average_maps_counts_each_scale_once():
    """Regression: an older port added the running sum to itself."""
    maps = [np.full((2, 4, 4), v, np.float32) for v in (1.0, 2.0, 6.0)]
    np.testing.assert_allclose(average_maps(maps), 3.0)


# ---------------------------------------------------------------------------
# A stand-in network rendering known skeletons
# ---------------------------------------------------------------------------

class GroundTruthNet(chainer.Link):
    """Returns the paper's maps of ``poses`` (image pixels) at the output
    resolution of whatever input it gets, six identical stages."""

    def __init__(self, poses, image_height):
        super().__init__()
        self.poses, self.image_height = poses, image_height
        self.calls = []

    def forward(self, x):
        height, width = x.shape[2:]
        scale = height / self.image_height  # test sizes are stride multiples
        self.calls.append(scale)
        poses = self.poses.copy()
        poses[..., :2] = (poses[..., :2] * scale - CELL_CENTRE) / STRIDE
        heatmaps, pafs = ground_truth_maps.ground_truth_maps(
            poses, (height // STRIDE, width // STRIDE), sigma=1.0,
            limb_half_width=1.0)
        batch = len(x)
        return ([chainer.Variable(np.repeat(heatmaps[None], batch, 0))] * 6,
                [chainer.Variable(np.repeat(pafs[None], batch, 0))] * 6)


@pytest.fixture
def detector(slim_weights):
    """A detector whose network each test replaces by a stand-in."""
    return PoseDetector('posenet', slim_weights('posenet'),
                        params=small_params(input_height=96))


def people_in(image_shape):
    """Two whole-pixel standing people that fit the image."""
    height, width = image_shape
    tall = 0.7 * height
    return np.stack([
        ground_truth_maps.standing_person(tall, 0.3 * width, 0.1 * height),
        ground_truth_maps.standing_person(0.8 * tall, 0.7 * width,
                                          0.2 * height),
    ]).round()


def assert_found(poses, truth, tolerance):
    assert len(poses) == len(truth)
    for person in truth:
        found = person[:, 2] > 0
        distances = [np.abs(p[found, :2] - person[found, :2]).max()
                     for p in poses]
        assert min(distances) <= tolerance
        match = poses[int(np.argmin(distances))]
        np.testing.assert_array_equal(match[:, 2] > 0, found)


@pytest.mark.parametrize('image_shape, input_height', [
    ((368, 656), 368),      # scale 1
    ((300, 500), 368),      # non-square, upscaled by 1.23
    ((600, 400), 304),      # portrait, downscaled by 0.51
])
def test_known_people_come_back_in_image_pixels(detector, image_shape,
                                                input_height):
    truth = people_in(image_shape)
    detector.params = small_params(input_height=input_height)
    detector.model = GroundTruthNet(truth, image_shape[0])
    poses, scores = detector(np.zeros(image_shape + (3,), np.uint8))
    scale = input_height / image_shape[0]
    # Maps are rendered on the network's 8-pixel grid: allow half a cell.
    assert_found(poses, truth, tolerance=STRIDE / 2 / scale + 1)
    assert scores.shape == (2,) and poses.dtype == np.float32


def test_a_net_width_gives_poses_in_image_pixels(detector):
    """A wide image in a 656x368 box is scaled by min(368 / 368, 656 /
    1312) = 0.5; the same scale chosen by the height alone (184 / 368)
    gives the same people, so the box's padding is undone exactly."""
    shape = (368, 1312)
    truth = people_in(shape)
    img = np.zeros(shape + (3,), np.uint8)
    found = []
    for params in (small_params(input_height=368, input_width=656),
                   small_params(input_height=184)):
        detector.params = params
        detector.model = GroundTruthNet(truth, params.input_height / 0.5)
        found.append(detector(img)[0])
    np.testing.assert_array_equal(found[0], found[1])
    poses = found[0][np.argsort(found[0][:, 1, 0])]     # left to right
    assert len(poses) == 2
    both = (poses[..., 2] > 0) & (truth[..., 2] > 0)
    assert both.sum() >= 0.8 * (truth[..., 2] > 0).sum()
    error = np.abs(poses[..., :2] - truth[..., :2])[both]
    assert error.max() <= STRIDE / 2 / 0.5 + 1         # half a cell


def test_precise_averages_every_scale_once(detector):
    shape = (368, 656)
    truth = people_in(shape)
    detector.params = small_params(input_height=368)
    detector.model = GroundTruthNet(truth, shape[0])
    detector.precise = True
    try:
        poses, _ = detector(np.zeros(shape + (3,), np.uint8))
    finally:
        detector.precise = False
    assert detector.model.calls == list(entity.DEFAULT_PARAMS.precise_scales)
    assert_found(poses, truth, tolerance=STRIDE / 2 + 1)


# ---------------------------------------------------------------------------
# The real network with synthesized weights
# ---------------------------------------------------------------------------

@pytest.fixture
def real_detector(slim_weights):
    return PoseDetector('posenet', slim_weights('posenet'),
                        params=small_params(input_height=64))


@pytest.mark.parametrize('image_shape', [(80, 120), (120, 80), (64, 64)])
def test_detection_shapes_on_several_sizes(real_detector, image_shape):
    img = np.random.default_rng(0).integers(0, 256, image_shape + (3,),
                                            dtype=np.uint8)
    [detection] = real_detector.predict([img])
    n = len(detection.poses)
    assert detection.poses.shape == (n, 18, 3)
    assert detection.scores.shape == (n,)
    assert detection.confidences.shape == (n, 18)
    heatmaps, pafs = real_detector.maps(img)
    assert heatmaps.shape == (19,) + image_shape
    assert pafs.shape == (38,) + image_shape


def test_precise_and_stage_maps_run(real_detector):
    img = np.random.default_rng(1).integers(0, 256, (72, 96, 3), np.uint8)
    heatmaps, pafs = real_detector.stage_maps(img)
    assert len(heatmaps) == len(pafs) == 6
    assert heatmaps[0].shape == (19, 72, 96) and pafs[5].shape == (38, 72, 96)
    real_detector.precise = True
    poses, scores = real_detector(img)
    assert poses.shape[1:] == (18, 3) and scores.ndim == 1


def test_only_the_body_network_detects_bodies(slim_weights):
    with pytest.raises(ToolError, match='posenet'):
        PoseDetector('handnet', slim_weights('handnet'))


def test_gpu_without_cupy_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(chainer.backends.cuda, 'available', False)
    with pytest.raises(DeviceError, match='CuPy'):
        get_device(0)
    assert get_device(-1).xp is np


def test_a_batch_gives_the_results_of_single_images(real_detector):
    """Same-sized images share network passes, other sizes get their own;
    either way each image gets what it gets alone, in input order."""
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (72, 96, 3), np.uint8) for _ in range(3)]
    frames.insert(1, frames[0][:40])
    real_detector.params = small_params(input_height=64, peak_threshold=0.0,
                                        min_person_score=0.0,
                                        min_person_parts=1)
    batch = real_detector.predict(frames)
    assert len(batch) == len(frames)
    for frame, detection in zip(frames, batch):
        [single] = real_detector.predict([frame])
        assert len(single.poses) == len(detection.poses) > 0
        np.testing.assert_allclose(detection.poses, single.poses, atol=1e-3)
        np.testing.assert_allclose(detection.scores, single.scores,
                                   rtol=1e-4)


class _NumpyDevice:
    """Chainer's CPU device standing in for a GPU, so that the detector's
    device-side branch (maps upsampled, searched for peaks and their PAFs
    read where the network left them) runs here on NumPy arrays."""
    xp = np

    @staticmethod
    def send(array):
        return array


@pytest.mark.parametrize('precise', [False, True])
def test_device_side_decoding_equals_the_cpu_path(detector, monkeypatch,
                                                  precise):
    shape = (300, 500)
    truth = people_in(shape)
    detector.params = small_params(input_height=304)
    detector.model = GroundTruthNet(truth, shape[0])
    detector.precise = precise
    frames = [np.zeros(shape + (3,), np.uint8)] * 2
    try:
        cpu = detector.predict(frames)
        monkeypatch.setattr(PoseDetector, 'on_gpu', True)
        monkeypatch.setattr(detector, 'device', _NumpyDevice())
        device = detector.predict(frames)
    finally:
        detector.precise = False
    assert len(cpu) == len(device) == len(frames)
    for a, b in zip(cpu, device):
        assert len(a.poses) == len(b.poses) == len(truth)
        np.testing.assert_allclose(a.poses, b.poses, atol=1e-3)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-4)
        np.testing.assert_allclose(a.confidences, b.confidences, atol=1e-5)


# ---------------------------------------------------------------------------
# A stream of batches: each decoded while the network runs on the next
# ---------------------------------------------------------------------------

def test_a_stream_gives_each_batch_what_predict_gives(detector):
    shape = (300, 500)
    truth = people_in(shape)
    detector.params = small_params(input_height=304)
    detector.model = GroundTruthNet(truth, shape[0])
    frames = [np.zeros(shape + (3,), np.uint8)] * 2
    small = [np.zeros((150, 250, 3), np.uint8)]     # its own size and pass
    batches = [('a', frames), ('b', small + frames), ('c', []), ('d', small)]
    streamed = list(detector.stream(iter(batches)))
    assert [payload for payload, _ in streamed] == ['a', 'b', 'c', 'd']
    for (_, images), (_, detections) in zip(batches, streamed):
        assert len(detections) == len(images)
        for image, detection in zip(images, detections):
            [alone] = detector.predict([image])
            assert len(detection.poses) == len(truth)
            np.testing.assert_array_equal(detection.poses, alone.poses)
            np.testing.assert_array_equal(detection.scores, alone.scores)


def test_a_stream_starts_the_next_batch_before_handing_one_out(
        detector, monkeypatch):
    """The order that lets a GPU work while the host decodes: batch k+1 is
    prepared while the device still runs batch k and started, and only
    then are batch k's maps read (on a stream of their own) and its people
    handed out (which the caller then uses while the device runs)."""
    events = []

    def spy(name, method):
        def recorded(self, *args):
            events.append(name)
            return method(self, *args)
        monkeypatch.setattr(PoseDetector, name, recorded)
    for name in ('_prepare', '_evidence', '_launch'):
        spy(name, getattr(PoseDetector, name))
    shape = (120, 160)
    detector.model = GroundTruthNet(people_in(shape), shape[0])
    batches = ((k, [np.zeros(shape + (3,), np.uint8)]) for k in range(3))
    for k, _ in detector.stream(batches):
        events.append(f'out {k}')
    assert events == [
        '_prepare', '_launch',
        '_prepare', '_launch', '_evidence', 'out 0',
        '_prepare', '_launch', '_evidence', 'out 1',
        '_evidence', 'out 2']


def test_the_network_clock_counts_each_pass(detector):
    shape = (120, 160)
    detector.model = GroundTruthNet(people_in(shape), shape[0])
    assert detector.network_seconds == 0
    detector.predict([np.zeros(shape + (3,), np.uint8)])
    once = detector.network_seconds
    assert once > 0 and len(detector.model.calls) == 1
    list(detector.stream([(0, [np.zeros(shape + (3,), np.uint8)])] * 2))
    assert detector.network_seconds > once
    assert len(detector.model.calls) == 3


# ---------------------------------------------------------------------------
# The CPU path never makes every map at image resolution
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('pafs_whole', [False, True])
def test_cpu_decoding_equals_decoding_the_full_size_maps(detector,
                                                         monkeypatch,
                                                         pafs_whole):
    """The PAFs read at points, or upsampled whole when that is cheaper
    (many candidate pairs: forced here), decode as the full-size maps."""
    if pafs_whole:
        monkeypatch.setattr(device_maps.UpsampledField, 'point_cost',
                            lambda per_scale, points: float('inf'))
    shape = (300, 500)
    truth = people_in(shape)
    detector.params = small_params(input_height=304)
    detector.model = GroundTruthNet(truth, shape[0])
    img = np.zeros(shape + (3,), np.uint8)
    [found] = detector.predict([img])
    full = decode.decode_poses(*detector.maps(img), detector.params)
    assert len(found.poses) == len(truth)
    np.testing.assert_array_equal(found.poses, full.poses)
    np.testing.assert_allclose(found.scores, full.scores, rtol=1e-5)


def test_joint_maps_upsampled_a_few_at_a_time_give_the_same_people(
        detector, monkeypatch):
    shape = (300, 500)
    detector.params = small_params(input_height=304)
    detector.model = GroundTruthNet(people_in(shape), shape[0])
    img = np.zeros(shape + (3,), np.uint8)
    [together] = detector.predict([img])
    assert len(detector_module.joint_chunks(shape)) == 1
    monkeypatch.setattr(detector_module, 'JOINT_MAP_BYTES',
                        4 * 5 * shape[0] * shape[1])
    chunks = detector_module.joint_chunks(shape)
    assert [c.stop - c.start for c in chunks] == [5, 5, 5, 3]
    [apart] = detector.predict([img])
    np.testing.assert_array_equal(apart.poses, together.poses)
    np.testing.assert_allclose(apart.scores, together.scores, rtol=1e-6)


def test_a_large_photo_never_holds_every_full_size_map(detector):
    """12 megapixels: the 57 maps at image resolution would take 2.7 GB;
    the peak must stay within one run of joint maps and a few maps' worth
    (the PAFs are read at points)."""
    shape = (3000, 4000)
    detector.params = small_params(input_height=368)
    detector.model = GroundTruthNet(people_in(shape), shape[0])
    img = np.zeros(shape + (3,), np.uint8)
    tracemalloc.start()
    try:
        [found] = detector.predict([img])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_map = 4 * shape[0] * shape[1]
    assert len(found.poses) == 2
    # One run of joint maps, the image and the resize's temporaries.
    allowed = detector_module.JOINT_MAP_BYTES + 3 * one_map
    assert peak < allowed, (f'peak {peak / 2 ** 20:.0f} MiB, allowed '
                            f'{allowed / 2 ** 20:.0f} MiB')
