"""Device-side upsampling, smoothing and peaks against the CPU path's
OpenCV operations (run here on NumPy arrays; tests/test_gpu.py runs them on
a GPU)."""
import numpy as np
import pytest

from pose import decode, detector, device_maps
from tests.fixtures import ground_truth_maps


@pytest.mark.parametrize('scaled, image', [
    ((368, 656), (368, 656)),           # the network's own size
    ((368, 654), (720, 1280)),          # padding dropped, then enlarged
    ((368, 277), (500, 375)),           # portrait
    ((64, 64), (40, 40)),               # reduced
])
def test_upsampling_equals_opencvs_bicubic_resizes(scaled, image):
    height, width = -(-scaled[0] // 8), -(-scaled[1] // 8)
    maps = np.random.default_rng(0).random((5, height, width),
                                           dtype=np.float32)
    expected = detector.upsample_maps(maps, scaled, image)
    got = device_maps.upsample_maps(maps, scaled, image)
    assert got.shape == expected.shape == (5,) + image
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)


def test_resize_matrix_rows_sum_to_one_and_keep_a_constant():
    matrix = device_maps.cubic_resize_matrix(7, 19)
    np.testing.assert_allclose(matrix.sum(axis=1), 1, atol=1e-6)
    assert np.allclose(device_maps.cubic_resize_matrix(9, 9), np.eye(9))


def test_smoothing_equals_opencvs_with_the_reflected_border():
    maps = np.random.default_rng(1).random((3, 30, 41), dtype=np.float32)
    np.testing.assert_allclose(device_maps.smooth_heatmaps(maps, 3.0),
                               decode.smooth_heatmaps(maps, 3.0),
                               rtol=0, atol=1e-6)


def test_peaks_equal_the_cpu_paths():
    truth = ground_truth_maps.five_people()
    heatmaps, _ = ground_truth_maps.ground_truth_maps(truth, (368, 656))
    expected = decode.find_smoothed_peaks(heatmaps, 3.0, 0.1)
    got = device_maps.find_peaks(heatmaps, 3.0, 0.1)
    assert [len(p) for p in got] == [len(p) for p in expected]
    assert sum(len(p) for p in got) >= 5 * 17
    for mine, theirs in zip(got, expected):
        np.testing.assert_array_equal(mine, theirs)


def test_map_evidence_on_the_device_decodes_as_the_cpu_path():
    """Peaks, PAF samples and matches read by the device functions (here on
    NumPy) give the people of :func:`pose.decode.decode_poses`."""
    truth = ground_truth_maps.five_people()
    heatmaps, pafs = ground_truth_maps.ground_truth_maps(truth, (368, 656))
    evidence = device_maps.map_evidence(np.concatenate([heatmaps, pafs]))
    got = decode.poses_from_evidence(evidence)
    expected = decode.decode_poses(heatmaps, pafs)
    assert len(got.poses) == len(truth)
    np.testing.assert_array_equal(got.poses, expected.poses)
    np.testing.assert_array_equal(got.scores, expected.scores)
    assert all(len(m) <= min(len(evidence.peaks[a]), len(evidence.peaks[b]))
               for m, (a, b) in zip(evidence.matches, decode.LIMBS))


@pytest.mark.parametrize('scales', [1, 2])
def test_a_field_reads_what_the_upsampled_maps_hold(scales):
    rng = np.random.default_rng(7)
    per_scale = [(rng.random((38, 46, 82), dtype=np.float32), (368, 654)),
                 (rng.random((38, 23, 41), dtype=np.float32), (184, 327))]
    per_scale = per_scale[:scales]
    image = (720, 1280)
    full = detector.average_maps([detector.upsample_maps(m, s, image)
                                  for m, s in per_scale])
    field = device_maps.UpsampledField(per_scale, image)
    assert field.shape == full.shape
    channel = rng.integers(0, 38, (2, 500))
    y, x = rng.integers(0, 720, (1, 500)), rng.integers(0, 1280, (1, 500))
    got = field[channel, y, x]
    assert got.shape == (2, 500) and got.dtype == np.float32
    np.testing.assert_allclose(got, full[channel, y, x], rtol=0, atol=2e-6)
