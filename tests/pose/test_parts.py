"""Face and hand keypoints: crops, peaks, mapping back, the whole chain."""
import chainer
import numpy as np
import pytest

import entity
from pose.detection import Detection
from pose.parts import (FaceDetector, HandDetector, add_face_and_hands,
                        crop_squares, crop_to_image, heatmap_peaks)
from tests.fixtures import ground_truth_maps

S = 64                      # a small crop keeps the tests fast
PARAMS = entity.PartParams(input_size=S)
STRIDE = entity.NETWORK_STRIDE


def dot_image(points, shape=(120, 160)):
    """A black image with a white 3x3 dot at each (x, y)."""
    img = np.zeros(shape + (3,), np.uint8)
    for x, y in points:
        img[y - 1:y + 2, x - 1:x + 2] = 255
    return img


def brightest(crop):
    """(u, v): centre of the brightest spot of a (3, S, S) network input."""
    light = crop.sum(axis=0)
    v, u = np.nonzero(light >= (light.max() + light.min()) / 2)
    return u.mean(), v.mean()


@pytest.mark.parametrize('mirror', [False, True])
def test_crop_maps_image_points_into_the_square(mirror):
    img = dot_image([(100, 50)])
    box = np.array([[84.0, 34.0, 32.0]])          # 32 px -> 64 px: scale 2
    crop = crop_squares(img, box, np.array([mirror]), PARAMS)[0]
    u, v = brightest(crop)
    expected_u = (100 - 84) * 2
    assert v == pytest.approx((50 - 34) * 2, abs=1)
    assert u == pytest.approx(S - 1 - expected_u if mirror else expected_u,
                              abs=1)
    assert crop.shape == (3, S, S) and crop.dtype == np.float32


def test_crop_outside_the_image_is_padded():
    img = np.full((40, 40, 3), 255, np.uint8)
    crop = crop_squares(img, np.array([[-40.0, 0.0, 80.0]]),
                        np.array([False]), PARAMS)[0]
    pad = PARAMS.crop_pad_value / 256 - 0.5
    inside = S // 2 - 1                  # the image covers x, y in [0, 40)
    assert crop[:, :, :inside].max() == pytest.approx(pad)     # left of it
    assert crop[:, inside + 2:, :].max() == pytest.approx(pad)  # below it
    assert crop[:, :inside, inside + 2:].min() == pytest.approx(
        255 / 256 - 0.5)


def test_crops_are_normalised_with_the_part_networks_params(monkeypatch):
    """``x / input_scale - input_offset`` of the PartParams given, whatever
    the body network's parameters are."""
    img = np.full((40, 40, 3), 200, np.uint8)
    box, mirror = np.array([[5.0, 5.0, 20.0]]), np.array([False])  # inside
    assert (PARAMS.input_scale, PARAMS.input_offset) == (256.0, 0.5)
    default = crop_squares(img, box, mirror, PARAMS)
    np.testing.assert_allclose(default, 200 / 256 - 0.5, rtol=1e-6)
    monkeypatch.setattr(entity, 'DEFAULT_PARAMS', entity.InferenceParams(
        input_scale=1.0, input_offset=0.0))
    np.testing.assert_array_equal(crop_squares(img, box, mirror, PARAMS),
                                  default)
    other = entity.PartParams(input_size=S, input_scale=100.0,
                              input_offset=1.0)
    np.testing.assert_allclose(crop_squares(img, box, mirror, other),
                               200 / 100 - 1.0, rtol=1e-6)


def peak_maps(points, channels, threshold_value=1.0):
    """(1, channels + 1, S/8, S/8) maps with a Gaussian peak per channel at
    crop pixel ``points[c]`` (None: an empty channel)."""
    cells = S // STRIDE
    maps = np.zeros((1, channels + 1, cells, cells), np.float32)
    yy, xx = np.mgrid[:cells, :cells]
    for c, point in enumerate(points):
        if point is not None:
            cx, cy = ((np.array(point) - (STRIDE - 1) / 2) / STRIDE)
            maps[0, c] = threshold_value * np.exp(
                -((xx - cx) ** 2 + (yy - cy) ** 2) / 0.5)
    return maps


def test_peaks_are_found_in_crop_pixels_and_thresholded():
    maps = peak_maps([(20, 36), (44, 12), None], 3)
    maps[0, 1] *= 0.05                            # below the threshold
    peaks = heatmap_peaks(maps, S, threshold=0.1)
    assert peaks.shape == (1, 3, 3)
    np.testing.assert_allclose(peaks[0, 0, :2], (20, 36), atol=1.5)
    assert peaks[0, 0, 2] > 0.5
    np.testing.assert_array_equal(peaks[0, 1:], 0)


@pytest.mark.parametrize('mirror', [False, True])
def test_crop_peaks_map_back_to_the_image(mirror):
    box = np.array([[84.0, 34.0, 32.0]])
    peaks = np.array([[[32.0, 32.0, 0.9], [0.0, 0.0, 0.0]]], np.float32)
    if mirror:
        peaks[0, 0, 0] = S - 1 - 32.0
    points = crop_to_image(peaks, box, np.array([mirror]), S)
    np.testing.assert_allclose(points[0, 0], (100, 50, 0.9))
    np.testing.assert_array_equal(points[0, 1], 0)   # not found stays zero


class DotNet(chainer.Link):
    """Stand-in part network: keypoint c peaks where the crop's brightest
    pixel is, so a keypoint must come back at the dot in the image."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.batch_sizes = []
        self.inputs = []

    def forward(self, x):
        self.batch_sizes.append(len(x))
        self.inputs.append(np.asarray(x))
        maps = np.concatenate([
            peak_maps([brightest(crop)] * self.channels, self.channels)
            for crop in np.asarray(x)])
        return [chainer.Variable(maps)] * 6


def person_at(x, scale=1.0):
    pose = ground_truth_maps.standing_person(200 * scale, x, 20).astype(
        np.float32)
    return pose, np.where(pose[:, 2] > 0, 1.0, 0.0).astype(np.float32)


@pytest.fixture
def hand_detector(slim_weights):
    detector = HandDetector(slim_weights('handnet'), params=PARAMS)
    detector.model = DotNet(entity.NUM_HAND_KEYPOINTS)
    return detector


def test_hands_come_back_at_the_wrists_dots(hand_detector):
    """Both hands of two people; the left hand is mirrored and mirrored
    back.  On the CPU the crops go one at a time."""
    poses, confidences = zip(*(person_at(x) for x in (60, 200)))
    poses, confidences = np.stack(poses), np.stack(confidences)
    from pose import regions
    boxes, valid = regions.hand_boxes(poses, confidences, PARAMS)
    assert valid.all()
    centres = (boxes[..., :2] + boxes[..., 2:] / 2).round().astype(int)
    img = dot_image(centres.reshape(-1, 2), shape=(300, 320))
    hands = hand_detector(img, poses, confidences)
    assert hands.shape == (2, 2, 21, 3)
    assert hand_detector.model.batch_sizes == [1, 1, 1, 1]
    for person in range(2):
        for side in (entity.LEFT_HAND, entity.RIGHT_HAND):
            np.testing.assert_allclose(
                hands[person, side, :, :2],
                np.broadcast_to(centres[person, side], (21, 2)),
                atol=boxes[person, side, 2] / S * 2 + 1)


def test_the_detector_normalises_with_its_own_params(slim_weights):
    """The crops the network sees are normalised with the PartParams given
    to the detector."""
    params = entity.PartParams(input_size=S, input_scale=128.0,
                               input_offset=0.25)
    detector = HandDetector(slim_weights('handnet'), params=params)
    detector.model = DotNet(entity.NUM_HAND_KEYPOINTS)
    pose, confidence = person_at(100)
    img = np.full((300, 320, 3), 64, np.uint8)
    detector(img, pose[None], confidence[None])
    assert len(detector.model.inputs) == 2          # both hands, one by one
    for x in detector.model.inputs:
        inside = x[0, :, S // 2, S // 2]             # the box's centre pixel
        np.testing.assert_allclose(inside, 64 / 128 - 0.25, rtol=1e-6)


def test_people_without_hand_joints_get_zeros(hand_detector):
    pose, confidence = person_at(100)
    confidence[entity.JOINT_INDEX['LElbow']] = 0.0          # no left box
    hands = hand_detector(dot_image([(5, 5)], (300, 320)), pose[None],
                          confidence[None])
    np.testing.assert_array_equal(hands[0, 0], 0)
    assert hand_detector.model.batch_sizes == [1]


def test_face_and_hands_on_real_networks(slim_weights):
    """The networks (slim, synthesized weights): shapes, and zeros for a
    person without a face box."""
    faces = FaceDetector(slim_weights('facenet'), params=PARAMS)
    hands = HandDetector(slim_weights('handnet'), params=PARAMS)
    pose, confidence = person_at(100)
    poses = np.stack([pose, np.zeros_like(pose)])
    confidences = np.stack([confidence, np.zeros_like(confidence)])
    detection = Detection(poses, np.ones(2, np.float32), confidences)
    img = np.random.default_rng(0).integers(0, 256, (300, 320, 3), np.uint8)
    result = add_face_and_hands(detection, img, faces, hands)
    assert result.faces.shape == (2, 70, 3) and result.hands.shape == (
        2, 2, 21, 3)
    np.testing.assert_array_equal(result.faces[1], 0)
    np.testing.assert_array_equal(result.hands[1], 0)
    assert result.poses is poses
