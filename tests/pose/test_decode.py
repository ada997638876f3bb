"""Tests of pose.decode: each step alone, then whole images of known people.

The whole-image tests decode the exact ground-truth maps of the paper
(:mod:`tests.fixtures.ground_truth_maps`: confidence-map spread sigma =
7 px, PAF half-width sigma_l = 4 px, at image resolution) and require every
person back: each joint inside the image within 2 px, each other joint
missing, no extra or merged people.
"""
import dataclasses
import warnings

import numpy as np
import pytest

from entity import (DEFAULT_PARAMS, JOINT_INDEX, LIMB_PAF_CHANNELS, LIMBS,
                    NUM_JOINTS)
from tests.fixtures import ground_truth_maps as sm
from pose.decode import (JOINT_FOUND, JOINT_MISSING, REDUNDANT_LIMBS, People,
                         assemble_people, decode_poses, filter_people,
                         find_peaks, find_smoothed_peaks, gaussian_kernel,
                         limb_candidates, limb_pairs, match_limbs,
                         sample_pafs, sample_pixels, smooth_heatmaps)

#: Largest distance in pixels between a decoded joint and the true one.
TOLERANCE = 2.0
LIMB = {pair: k for k, pair in enumerate(LIMBS)}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def joint_ids(*names):
    return [JOINT_INDEX[name] for name in names]


def visible(truth, image_shape):
    """(N, 18) bool: present in the truth and inside the image."""
    height, width = image_shape
    x, y = truth[..., 0], truth[..., 1]
    return ((truth[..., 2] > 0) & (x >= 0) & (x <= width - 1)
            & (y >= 0) & (y <= height - 1))


def match_people(found, truth, image_shape):
    """For each true person, the index of the decoded one nearest to it
    (mean distance over the joints both have); asserts one-to-one."""
    seen = visible(truth, image_shape)
    order = []
    for person, shown in zip(truth, seen):
        both = shown & (found[..., 2] > 0)                     # (M, 18)
        distance = np.linalg.norm(found[..., :2] - person[:, :2], axis=-1)
        mean = np.where(both.any(axis=1),
                        (distance * both).sum(axis=1)
                        / np.maximum(both.sum(axis=1), 1), np.inf)
        order.append(int(np.argmin(mean)))
    assert sorted(order) == list(range(len(found))), \
        f'decoded people {order} do not match the truth one-to-one'
    return order


def assert_decoded(truth, image_shape, **map_options):
    """Decode the ground-truth maps of ``truth`` and check every person."""
    truth = np.asarray(truth, np.float32).reshape(-1, NUM_JOINTS, 3)
    heatmaps, pafs = sm.ground_truth_maps(truth, image_shape, **map_options)
    found = decode_poses(heatmaps, pafs)
    poses, scores = found.poses, found.scores
    assert poses.shape == (len(truth), NUM_JOINTS, 3)
    assert scores.shape == (len(truth),)
    for person, k in zip(truth, match_people(poses, truth, image_shape)):
        shown = visible(person, image_shape)
        found = poses[k]
        np.testing.assert_array_equal(
            found[:, 2], np.where(shown, JOINT_FOUND, JOINT_MISSING))
        error = np.linalg.norm(found[shown, :2] - person[shown, :2], axis=1)
        assert error.max() <= TOLERANCE
        assert not found[~shown, :2].any()     # missing: x = y = 0
    return poses, scores


def peaks_of(counts, score=1.0):
    """18 peak arrays with ``counts[joint]`` peaks each (default 0), at
    made-up distinct positions, all with ``score``."""
    return [np.array([[10 * j, 10 * i, score]
                      for i in range(counts.get(j, 0))],
                     np.float32).reshape(-1, 3) for j in range(NUM_JOINTS)]


def matches_on(connections):
    """Per-limb match arrays from ``{(joint_a, joint_b): [(ia, ib, s)]}``."""
    return [np.array(connections.get(limb, []), np.float64).reshape(-1, 3)
            for limb in LIMBS]


# ---------------------------------------------------------------------------
# The ground-truth maps follow the paper's definitions
# ---------------------------------------------------------------------------


def test_confidence_map_is_max_of_gaussians():
    a = sm.standing_person(100, 40, 10)
    b = sm.with_joints_at(a, {'Nose': (a[0, 0] + 6, a[0, 1])})
    maps = sm.confidence_maps(np.stack([a, b]), (120, 100), sigma=7.0)
    x, y = int(a[0, 0]) + 2, int(a[0, 1]) + 1
    expected = max(np.exp(-(2 ** 2 + 1) / 49), np.exp(-(4 ** 2 + 1) / 49))
    assert maps[0, y, x] == pytest.approx(expected, rel=1e-6)
    assert maps[0, int(a[0, 1]), int(a[0, 0])] == pytest.approx(1.0)


def test_paf_is_unit_vector_in_rectangle_and_mean_where_limbs_overlap():
    # Two people whose left forearms cross at (50, 50).
    one = sm.with_joints_at(sm.standing_person(100, 30, 0),
                            {'LElbow': (30, 30), 'LWrist': (70, 70)})
    two = sm.with_joints_at(sm.standing_person(100, 90, 0),
                            {'LElbow': (70, 30), 'LWrist': (30, 70)})
    pafs = sm.part_affinity_fields(np.stack([one, two]), (100, 120),
                                   limb_half_width=4.0)
    cx, cy = LIMB_PAF_CHANNELS[LIMB[(6, 7)]]
    diagonal = np.sqrt(0.5)
    assert (pafs[cx, 40, 40], pafs[cy, 40, 40]) == pytest.approx(
        (diagonal, diagonal))                       # one's forearm only
    assert (pafs[cx, 40, 60], pafs[cy, 40, 60]) == pytest.approx(
        (-diagonal, diagonal))                      # two's forearm only
    assert (pafs[cx, 50, 50], pafs[cy, 50, 50]) == pytest.approx(
        (0, diagonal), abs=1e-6)                    # both: their mean
    assert pafs[cx, 20, 20] == pafs[cy, 20, 20] == 0  # before the elbow
    assert pafs[cx, 40, 47] == 0                    # 4.95 px off the limb


def test_absent_joints_leave_no_trace_in_the_maps():
    person = sm.without_joints(sm.standing_person(100, 50, 5), ['LWrist'])
    heatmaps, pafs = sm.ground_truth_maps(person, (110, 100))
    assert not heatmaps[JOINT_INDEX['LWrist']].any()
    assert not pafs[list(LIMB_PAF_CHANNELS[LIMB[(6, 7)]])].any()


# ---------------------------------------------------------------------------
# Smoothing and peaks
# ---------------------------------------------------------------------------


def test_smoothing_is_a_normalised_gaussian_with_reflected_borders():
    sigma = 3.0
    impulse = np.zeros((1, 41, 41), np.float32)
    impulse[0, 20, 20] = 1
    radius = int(np.ceil(4 * sigma))     # scipy's truncate=4, as the demo
    d = np.arange(-radius, radius + 1)
    g = np.exp(-d ** 2 / (2 * sigma ** 2))
    g /= g.sum()
    smoothed = smooth_heatmaps(impulse, sigma)[0]
    np.testing.assert_allclose(smoothed[20 - radius:21 + radius,
                                        20 - radius:21 + radius],
                               np.outer(g, g), atol=1e-7)
    assert len(gaussian_kernel(sigma)) == 2 * radius + 1
    # In a corner, reflection keeps all the mass (zero padding would not).
    corner = np.zeros((1, 30, 30), np.float32)
    corner[0, 0, 0] = 1
    assert smooth_heatmaps(corner, sigma).sum() == pytest.approx(1, abs=1e-5)


def test_find_peaks_exact_positions_and_scores():
    maps = np.zeros((19, 8, 10), np.float32)
    maps[0, 2, 3] = 0.9
    maps[0, 2, 4] = 0.4            # lower 4-neighbour: not a peak
    maps[0, 6, 7] = 0.5
    maps[5, 0, 0] = 0.3            # in a corner
    maps[18, 4, 4] = 1.0           # background: ignored
    peaks = find_peaks(maps, 0.1)
    assert len(peaks) == NUM_JOINTS
    assert all(p.dtype == np.float32 and p.shape[1:] == (3,) for p in peaks)
    np.testing.assert_array_equal(peaks[0], np.float32([[3, 2, 0.9],
                                                        [7, 6, 0.5]]))
    np.testing.assert_array_equal(peaks[5], np.float32([[0, 0, 0.3]]))
    assert sum(len(p) for p in peaks) == 3


def test_find_peaks_threshold_is_strict():
    maps = np.zeros((18, 5, 5), np.float32)
    maps[0, 1, 1] = 0.1
    maps[1, 3, 3] = np.nextafter(np.float32(0.1), np.float32(1))
    peaks = find_peaks(maps, np.float32(0.1))
    assert len(peaks[0]) == 0 and len(peaks[1]) == 1


def test_find_peaks_plateaus_and_diagonals_follow_the_demo():
    maps = np.zeros((18, 6, 8), np.float32)
    maps[0, 2, 2:4] = 0.7          # flat top of two pixels: both kept
    maps[1, 1, 1] = 0.5            # diagonal neighbours do not suppress
    maps[1, 2, 2] = 0.6
    maps[2, 3, 1:6] = [0.2, 0.3, 0.6, 0.3, 0.2]   # a ridge: one top
    maps[3, 4, 1:5] = [0.2, 0.3, 0.3, 0.8]        # flat step: not below
    peaks = find_peaks(maps, 0.1)                 # its neighbours either
    np.testing.assert_array_equal(peaks[0][:, :2], [[2, 2], [3, 2]])
    np.testing.assert_array_equal(peaks[1][:, :2], [[1, 1], [2, 2]])
    np.testing.assert_array_equal(peaks[2][:, :2], [[3, 3]])
    np.testing.assert_array_equal(peaks[3][:, :2], [[2, 4], [4, 4]])


def test_find_peaks_reads_scores_from_other_maps():
    smoothed = np.zeros((18, 5, 5), np.float32)
    smoothed[3, 2, 2] = 0.5
    raw = np.full((18, 5, 5), 0.25, np.float32)
    raw[3, 2, 2] = 0.8
    peaks = find_peaks(smoothed, 0.1, scores_from=raw)
    np.testing.assert_array_equal(peaks[3], np.float32([[2, 2, 0.8]]))


def random_blob_maps(seed, shape=(90, 120), blobs=40):
    """19 maps of random Gaussian blobs, many at the borders and touching
    each other, plus weak noise."""
    rng = np.random.default_rng(seed)
    height, width = shape
    y, x = np.mgrid[0:height, 0:width]
    maps = rng.uniform(0, 0.05, (19,) + shape).astype(np.float32)
    for _ in range(blobs):
        c = rng.integers(18)
        cx, cy = rng.uniform(-5, width + 5), rng.uniform(-5, height + 5)
        spread = rng.uniform(1.5, 8)
        blob = rng.uniform(0.05, 1) * np.exp(
            -((x - cx) ** 2 + (y - cy) ** 2) / spread ** 2)
        maps[c] = np.maximum(maps[c], blob)
    return maps


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('sigma, threshold', [(3.0, 0.1), (1.5, 0.3),
                                              (3.0, 0.02)])
def test_find_smoothed_peaks_equals_smoothing_everything(seed, sigma,
                                                         threshold):
    maps = random_blob_maps(seed)
    expected = find_peaks(smooth_heatmaps(maps[:NUM_JOINTS], sigma),
                          threshold, scores_from=maps)
    got = find_smoothed_peaks(maps, sigma, threshold)
    assert sum(len(p) for p in expected) > 0
    for want, have in zip(expected, got):
        np.testing.assert_array_equal(have, want)


def test_find_smoothed_peaks_on_speckles_equals_smoothing_everything():
    # Isolated pixels, dense enough in some channels that smoothing the
    # whole channel at once is chosen, sparse in others.
    rng = np.random.default_rng(7)
    density = rng.uniform(0, 0.003, (19, 1, 1))
    maps = ((rng.random((19, 90, 120)) < density)
            * rng.uniform(0.2, 1, (19, 90, 120))).astype(np.float32)
    expected = find_peaks(smooth_heatmaps(maps[:NUM_JOINTS], 3.0), 0.005,
                          scores_from=maps)
    got = find_smoothed_peaks(maps, 3.0, 0.005)
    assert sum(len(p) for p in expected) > 100
    for want, have in zip(expected, got):
        np.testing.assert_array_equal(have, want)


def test_find_smoothed_peaks_on_people_equals_smoothing_everything():
    heatmaps, _ = sm.ground_truth_maps(sm.five_people(), sm.FRAME_SHAPE)
    expected = find_peaks(smooth_heatmaps(heatmaps[:NUM_JOINTS], 3.0), 0.1,
                          scores_from=heatmaps)
    got = find_smoothed_peaks(heatmaps, 3.0, 0.1)
    assert [len(p) for p in got] == [5] * NUM_JOINTS
    for want, have in zip(expected, got):
        np.testing.assert_array_equal(have, want)


# ---------------------------------------------------------------------------
# Limb candidates: the PAF line integral
# ---------------------------------------------------------------------------


def uniform_field(shape, vector):
    return (np.full(shape, vector[0], np.float32),
            np.full(shape, vector[1], np.float32))


def peak_array(*points):
    return np.array([[x, y, 1.0] for x, y in points],
                    np.float32).reshape(-1, 3)


def test_aligned_field_scores_one():
    paf_x, paf_y = uniform_field((40, 60), (0.6, 0.8))
    a, b = peak_array((10, 5)), peak_array((22, 21))      # direction (.6, .8)
    result = limb_candidates(a, b, paf_x, paf_y, image_height=400)
    np.testing.assert_allclose(result, [[0, 0, 1.0]])


@pytest.mark.parametrize('vector', [(-1, 0), (0, 1), (0.04, 0)])
def test_opposite_perpendicular_or_weak_field_gives_no_limb(vector):
    paf_x, paf_y = uniform_field((40, 60), vector)
    result = limb_candidates(peak_array((10, 20)), peak_array((40, 20)),
                             paf_x, paf_y, image_height=400)
    assert result.shape == (0, 3)


def test_distance_prior_penalises_limbs_longer_than_half_the_image():
    # image height 40: limbs longer than 20 px are penalised.
    a, b = peak_array((10, 20)), peak_array((110, 20))    # 100 px
    prior = DEFAULT_PARAMS.limb_length_prior * 40 / 100 - 1   # -0.8
    full = limb_candidates(a, b, *uniform_field((40, 130), (1, 0)), 40)
    np.testing.assert_allclose(full, [[0, 0, 1 + prior]])
    half = limb_candidates(a, b, *uniform_field((40, 130), (0.5, 0)), 40)
    assert half.shape == (0, 3)                       # 0.5 - 0.8 < 0
    short = limb_candidates(a, peak_array((30, 20)),
                            *uniform_field((40, 130), (0.5, 0)), 40)
    np.testing.assert_allclose(short, [[0, 0, 0.5]])  # 20 px: no penalty


@pytest.mark.parametrize('gaps, kept', [(1, True), (2, False)])
def test_more_than_the_sample_fraction_must_be_aligned(gaps, kept):
    # 10 samples at x = 0..9 exactly; zero field at `gaps` of them.
    paf_x, paf_y = uniform_field((5, 10), (1, 0))
    paf_x[:, 3:3 + gaps] = 0
    result = limb_candidates(peak_array((0, 2)), peak_array((9, 2)),
                             paf_x, paf_y, image_height=100)
    if kept:
        np.testing.assert_allclose(result, [[0, 0, 0.9]])
    else:
        assert result.shape == (0, 3)     # 8 of 10 is not more than 80 %


def test_pairs_are_indexed_and_coincident_points_skipped():
    paf_x, paf_y = uniform_field((40, 60), (0, 0))
    paf_x[5, 5:31] = 1             # a horizontal limb on row 5 ...
    paf_x[30, 10:31] = 1           # ... and one on row 30
    a = peak_array((5, 5), (10, 30))
    b = peak_array((5, 5), (30, 5), (30, 30))
    with np.errstate(all='raise'), warnings.catch_warnings():
        warnings.simplefilter('error')
        result = limb_candidates(a, b, paf_x, paf_y, image_height=400)
    # (0, 0) coincide; the two horizontal pairs score 1; the others cross
    # the field only at their ends.
    np.testing.assert_allclose(result, [[0, 1, 1.0], [1, 2, 1.0]])


def test_a_joint_without_peaks_yields_no_limb():
    paf_x, paf_y = uniform_field((40, 60), (1, 0))
    none = peak_array()
    for a, b in [(none, peak_array((30, 5))), (peak_array((5, 5)), none),
                 (none, none)]:
        assert limb_candidates(a, b, paf_x, paf_y, 400).shape == (0, 3)


# ---------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------


def test_match_limbs_is_greedy_by_score():
    candidates = np.array([[0, 0, 0.5], [0, 1, 0.9], [1, 1, 0.8],
                           [1, 0, 0.3]])
    # Greedy takes 0.9 first, then only (1, 0) is free: 1.2 in total,
    # although (0, 0) + (1, 1) would give 1.3.
    np.testing.assert_array_equal(match_limbs(candidates, 2, 2),
                                  [[0, 1, 0.9], [1, 0, 0.3]])


def test_match_limbs_uses_no_part_twice_and_is_maximal():
    rng = np.random.default_rng(0)
    n_a, n_b = 6, 4
    pairs = np.array([(a, b) for a in range(n_a) for b in range(n_b)])
    candidates = np.column_stack([pairs, rng.random(len(pairs))])
    matched = match_limbs(candidates, n_a, n_b)
    assert len(np.unique(matched[:, 0])) == len(matched)
    assert len(np.unique(matched[:, 1])) == len(matched)
    assert len(matched) == min(n_a, n_b)
    assert np.all(np.diff(matched[:, 2]) <= 0)
    for a, b, score in candidates:     # each rejected pair lost to a better
        if not ((matched[:, 0] == a) & (matched[:, 1] == b)).any():
            rivals = (matched[:, 0] == a) | (matched[:, 1] == b)
            assert rivals.any() and matched[rivals, 2].max() >= score


def test_match_limbs_empty():
    assert match_limbs(np.zeros((0, 3)), 3, 0).shape == (0, 3)


# ---------------------------------------------------------------------------
# Assembly and filtering
# ---------------------------------------------------------------------------

NECK, RSHOULDER, RELBOW, RWRIST = joint_ids('Neck', 'RShoulder', 'RElbow',
                                            'RWrist')
NOSE, REYE, REAR = joint_ids('Nose', 'REye', 'REar')


def test_redundant_limbs_are_the_ear_shoulder_ones():
    assert REDUNDANT_LIMBS == {LIMB[(2, 16)], LIMB[(5, 17)]}


def test_assemble_a_chain_into_one_person():
    peaks = peaks_of({NECK: 1, RSHOULDER: 1, RELBOW: 1, RWRIST: 1}, 0.9)
    people = assemble_people(matches_on({
        (NECK, RSHOULDER): [(0, 0, 0.5)], (RSHOULDER, RELBOW): [(0, 0, 0.6)],
        (RELBOW, RWRIST): [(0, 0, 0.7)]}), peaks)
    assert len(people.joint_ids) == 1
    np.testing.assert_array_equal(np.flatnonzero(people.joint_ids[0] >= 0),
                                  [NECK, RSHOULDER, RELBOW, RWRIST])
    assert people.part_counts.tolist() == [4]
    assert people.scores[0] == pytest.approx(4 * 0.9 + 0.5 + 0.6 + 0.7,
                                             rel=1e-6)


def test_merging_two_partial_people_sums_their_part_counts():
    """Regression: an older port added the limb score to the part count.

    The joining score is above 1 (network PAFs can exceed unit length) so
    that even a count truncated to an integer would show the defect.
    """
    peaks = peaks_of({NECK: 1, RSHOULDER: 1, REYE: 1, REAR: 1}, 0.8)
    people = assemble_people(matches_on({
        (NECK, RSHOULDER): [(0, 0, 0.5)],    # person 1
        (REYE, REAR): [(0, 0, 0.6)],         # no nose: person 2
        (RSHOULDER, REAR): [(0, 0, 1.3)]}),  # redundant limb joins them
        peaks)
    assert people.part_counts.dtype.kind == 'i'
    assert people.part_counts.tolist() == [4]
    np.testing.assert_array_equal(np.flatnonzero(people.joint_ids[0] >= 0),
                                  sorted([NECK, RSHOULDER, REYE, REAR]))
    assert people.scores[0] == pytest.approx(4 * 0.8 + 0.5 + 0.6 + 1.3,
                                             rel=1e-6)


def test_redundant_limb_never_starts_a_person():
    peaks = peaks_of({RSHOULDER: 1, REAR: 1})
    people = assemble_people(matches_on({(RSHOULDER, REAR): [(0, 0, 0.9)]}),
                             peaks)
    assert people.joint_ids.shape == (0, NUM_JOINTS)
    assert people.part_counts.shape == people.scores.shape == (0,)


def test_a_connection_adds_the_missing_part_from_either_end():
    peaks = peaks_of({NECK: 1, RSHOULDER: 1, REYE: 1, REAR: 1})
    # The ear-eye person learns its shoulder through the limb's B end.
    people = assemble_people(matches_on({
        (REYE, REAR): [(0, 0, 0.6)], (RSHOULDER, REAR): [(0, 0, 0.7)]}),
        peaks)
    assert people.part_counts.tolist() == [3]
    assert people.joint_ids[0, RSHOULDER] == 0


def test_a_connection_to_an_occupied_slot_is_ignored():
    peaks = peaks_of({NECK: 1, RSHOULDER: 1, NOSE: 1, REYE: 1, REAR: 2})
    people = assemble_people(matches_on({
        (NECK, RSHOULDER): [(0, 0, 0.5)], (NECK, NOSE): [(0, 0, 0.5)],
        (NOSE, REYE): [(0, 0, 0.5)], (REYE, REAR): [(0, 0, 0.5)],
        (RSHOULDER, REAR): [(0, 1, 0.9)]}),    # the person has ear 0
        peaks)
    # Not overwritten, not counted twice (the demo did both).
    assert people.part_counts.tolist() == [5]
    assert people.joint_ids[0, REAR] == 0
    assert people.scores[0] == pytest.approx(5 * 1.0 + 4 * 0.5)


def test_overlapping_people_are_not_merged():
    peaks = peaks_of({NECK: 2, RSHOULDER: 2, NOSE: 2, REYE: 1, REAR: 1})
    people = assemble_people(matches_on({
        (NECK, RSHOULDER): [(0, 0, 0.5), (1, 1, 0.5)],
        (NECK, NOSE): [(1, 1, 0.5)], (NOSE, REYE): [(1, 0, 0.5)],
        (REYE, REAR): [(0, 0, 0.5)],
        (RSHOULDER, REAR): [(0, 0, 0.9)]}),   # person 0's shoulder, 1's ear
        peaks)
    assert people.part_counts.tolist() == [2, 5]
    assert people.joint_ids[0, REAR] == -1


def test_filter_people_thresholds():
    people = People(np.zeros((4, NUM_JOINTS), np.int64),
                    np.array([3.0, 1.6, 1.5, 20.0]),
                    np.array([3, 4, 4, 10]))
    kept = filter_people(people)         # >= 4 parts, >= 0.4 per part
    assert kept.scores.tolist() == [1.6, 20.0]
    assert kept.part_counts.tolist() == [4, 10]
    looser = dataclasses.replace(DEFAULT_PARAMS, min_person_parts=3)
    assert filter_people(people, looser).scores.tolist() == [3.0, 1.6, 20.0]


# ---------------------------------------------------------------------------
# Whole images
# ---------------------------------------------------------------------------


def test_empty_image():
    heatmaps = np.zeros((19, 50, 70), np.float32)
    heatmaps[18] = 1
    pafs = np.zeros((38, 50, 70), np.float32)
    found = decode_poses(heatmaps, pafs)
    poses, scores = found.poses, found.scores
    assert poses.shape == (0, NUM_JOINTS, 3) and scores.shape == (0,)
    assert poses.dtype == scores.dtype == np.float32
    confidences = decode_poses(heatmaps, pafs).confidences
    assert confidences.shape == (0, NUM_JOINTS)


def test_one_person():
    assert_decoded(sm.standing_person(300, 200, 30), (368, 400))


def test_five_people_far_apart_and_the_output_contract():
    truth = sm.five_people()
    poses, scores = assert_decoded(truth, sm.FRAME_SHAPE)
    heatmaps, pafs = sm.ground_truth_maps(truth, sm.FRAME_SHAPE)
    again = decode_poses(heatmaps, pafs)
    confidences = again.confidences
    np.testing.assert_array_equal(again.poses, poses)
    np.testing.assert_array_equal(again.scores, scores)
    assert confidences.shape == (5, NUM_JOINTS)
    assert confidences.dtype == np.float32
    np.testing.assert_allclose(confidences, 1.0)   # joints on whole pixels
    assert np.all(np.diff(scores) <= 0)
    assert set(np.unique(poses[..., 2])) == {JOINT_FOUND}


def test_people_with_crossing_arms():
    # Their left forearms cross (same PAF channel, averaged where they
    # overlap); the second's right arm crosses the first's left upper arm.
    one = sm.with_joints_at(sm.standing_person(300, 230, 40),
                            {'LElbow': (300, 180), 'LWrist': (400, 120)})
    two = sm.with_joints_at(sm.standing_person(300, 400, 40),
                            {'LElbow': (400, 180), 'LWrist': (300, 120),
                             'RElbow': (290, 140), 'RWrist': (240, 200)})
    assert_decoded(np.stack([one, two]), (368, 656))


def test_people_cut_by_the_image_border():
    # Joints outside lie > 3 sigma beyond the border, so their maps end
    # before it (nearer ones would leave a legitimate peak on the border).
    legs_out = sm.standing_person(300, 330, 173)          # knees at y 398
    arm_out_right = sm.with_joints_at(sm.standing_person(300, 596, 40),
                                      {'LElbow': (690, 94),
                                       'LWrist': (740, 94)})
    arm_out_left = sm.with_joints_at(sm.standing_person(300, 60, 30),
                                     {'RElbow': (-30, 84),
                                      'RWrist': (-80, 84)})
    truth = np.stack([legs_out, arm_out_right, arm_out_left])
    assert (~visible(truth, (368, 656))).sum() == 4 + 2 + 2
    assert_decoded(truth, (368, 656))


def test_very_small_people():
    # 40 px tall: eye to ear about 2 px.  The default sigma = 7 works
    # since each joint has its own channel and the people are apart.
    truth = np.stack([sm.standing_person(40, x, y) for x, y in
                      [(30, 10), (120, 60), (200, 300), (420, 150),
                       (600, 320)]])
    assert_decoded(truth, (368, 656))


def test_image_filling_person():
    assert_decoded(sm.standing_person(360, 200, 4), (368, 400))


def test_people_with_missing_joints():
    no_left_arm = sm.without_joints(sm.standing_person(300, 120, 30),
                                    ['LShoulder', 'LElbow', 'LWrist'])
    no_face = sm.without_joints(sm.standing_person(300, 330, 30),
                                ['Nose', 'REye', 'LEye', 'REar', 'LEar'])
    # Without a nose the eye-ear pairs start apart and only the redundant
    # ear-shoulder limbs bring them back (the merge path).
    no_nose = sm.without_joints(sm.standing_person(300, 540, 30), ['Nose'])
    assert_decoded(np.stack([no_left_arm, no_face, no_nose]), (368, 656))


def test_unsmoothed_decoding_of_exact_maps():
    truth = sm.five_people()
    heatmaps, pafs = sm.ground_truth_maps(truth, sm.FRAME_SHAPE)
    poses = decode_poses(heatmaps, pafs, smooth=False).poses
    order = match_people(poses, truth, sm.FRAME_SHAPE)
    np.testing.assert_allclose(poses[order], truth)


def test_a_person_too_weak_or_too_small_is_dropped():
    person = sm.standing_person(300, 200, 30)
    heatmaps, pafs = sm.ground_truth_maps(person, (368, 400))
    strict = dataclasses.replace(DEFAULT_PARAMS, min_person_parts=19)
    assert decode_poses(heatmaps, pafs, strict).poses.shape == (0, 18, 3)
    # Three joints: below the four-part minimum.
    stub = sm.without_joints(person, [n for n in sm.TEMPLATE_POSE
                                      if n not in ('Neck', 'RShoulder',
                                                   'RElbow')])
    assert decode_poses(*sm.ground_truth_maps(stub, (368, 400))).poses.shape \
        == (0, 18, 3)


@pytest.mark.parametrize('heatmap_shape, paf_shape', [
    ((18, 20, 30), (38, 20, 30)), ((19, 20, 30), (38, 20, 31)),
    ((19, 20, 30), (36, 20, 30)), ((19, 600), (38, 20, 30))])
def test_wrong_map_shapes_are_refused(heatmap_shape, paf_shape):
    with pytest.raises(ValueError, match='must be'):
        decode_poses(np.zeros(heatmap_shape, np.float32),
                     np.zeros(paf_shape, np.float32))


# ---------------------------------------------------------------------------
# The PAF samples of every limb in one gather
# ---------------------------------------------------------------------------

def test_pafs_are_read_at_each_limbs_pixels_from_its_own_channels():
    """Limb by limb (the CPU) and in one gather (the GPU's
    :func:`pose.device_maps.sample_pafs`, here on NumPy): the same
    samples."""
    from pose import device_maps
    rng = np.random.default_rng(5)
    pafs = rng.standard_normal((38, 30, 40)).astype(np.float32)
    peaks = [np.column_stack([rng.uniform(0, 40, k), rng.uniform(0, 30, k),
                              np.ones(k)]).astype(np.float32)
             for k in rng.integers(0, 4, NUM_JOINTS)]
    pairs = [limb_pairs(peaks[a], peaks[b]) for a, b in LIMBS]
    pixels = [sample_pixels(p, 10, (30, 40)) for p in pairs]
    assert sum(len(p.length) for p in pairs) > 0
    for reader in (sample_pafs, device_maps.sample_pafs):
        for (cx, cy), (y, x), (got_x, got_y) in zip(
                LIMB_PAF_CHANNELS, pixels, reader(pafs, pixels)):
            assert got_x.shape == got_y.shape == y.shape
            np.testing.assert_array_equal(got_x, pafs[cx][y, x])
            np.testing.assert_array_equal(got_y, pafs[cy][y, x])


def test_no_pairs_read_nothing():
    from pose import device_maps
    empty = np.zeros((0, 3), np.float32)
    pairs = [limb_pairs(empty, empty) for _ in LIMBS]
    pixels = [sample_pixels(p, 10, (30, 40)) for p in pairs]
    pafs = np.ones((38, 30, 40), np.float32)
    for reader in (sample_pafs, device_maps.sample_pafs):
        assert [(x.shape, y.shape) for x, y in reader(pafs, pixels)] == [
            ((0, 10), (0, 10))] * len(LIMBS)


def test_limbs_are_read_in_groups_of_bounded_pairs(monkeypatch):
    """Maps with many peaks are read limb by limb (memory of one limb's
    pairs), with the same people as one gather for all limbs."""
    from pose import decode
    heatmaps, pafs = sm.ground_truth_maps(sm.five_people(), (368, 656))
    together = decode_poses(heatmaps, pafs)
    peaks = find_smoothed_peaks(heatmaps, DEFAULT_PARAMS.gaussian_sigma,
                                DEFAULT_PARAMS.peak_threshold)
    assert decode._gather_groups(peaks) == [list(range(len(LIMBS)))]
    monkeypatch.setattr(decode, 'PAIRS_PER_GATHER', 30)
    groups = decode._gather_groups(peaks)
    assert sum(groups, []) == list(range(len(LIMBS))) and len(groups) > 5
    for group in groups:
        pairs = [len(peaks[LIMBS[k][0]]) * len(peaks[LIMBS[k][1]])
                 for k in group]
        assert len(group) == 1 or sum(pairs) <= 30
    apart = decode_poses(heatmaps, pafs)
    np.testing.assert_array_equal(apart.poses, together.poses)
    np.testing.assert_array_equal(apart.scores, together.scores)
