"""Tests of fms.key_frame: skeleton, labels at their joints, criteria box."""
import numpy as np
import pytest

import entity
from fms import FmsError, key_frame
from fms.analysis import analyze_track
from fms.measurements import CENTRAL, OPPOSITE, TESTED, Anchor
from fms.text_layout import text_style
from pose.draw import drawing_sizes
from tests.fixtures import movements
from tests.fms.analyses import (HEIGHT, KEY, WIDTH, joint, standing_xy,
                                synthetic_analysis)


def test_key_frame_image_keeps_the_frame_size_and_the_input(analysis, photo):
    before = photo.copy()
    out = key_frame.key_frame_image(analysis, photo)
    assert out.shape == photo.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(photo, before)


def test_skeleton_and_hand_are_drawn_at_the_key_frame(analysis, photo):
    out = key_frame.key_frame_image(analysis, photo)
    xy = analysis.track.xy[KEY]
    for name in ('RKnee', 'LKnee', 'RAnkle', 'Neck'):
        x, y = np.round(xy[joint(name)]).astype(int)
        patch = (slice(y - 2, y + 3), slice(x - 2, x + 3))
        assert np.abs(out[patch].astype(int)
                      - photo[patch].astype(int)).mean() > 20, name
    tip = np.round(analysis.track.hands[KEY, entity.RIGHT_HAND, -1]
                   ).astype(int)
    assert np.any(out[tip[1], tip[0]] != photo[tip[1], tip[0]])


def test_measured_value_is_written_right_of_its_joint(analysis, photo):
    without = synthetic_analysis()
    without.measurements = {}
    with_labels = key_frame.key_frame_image(analysis, photo)
    plain = key_frame.key_frame_image(without, photo)
    x, y = analysis.track.xy[KEY, joint('RKnee')]
    x_mid = (x + analysis.track.xy[KEY, joint('LKnee')][0]) / 2
    region = (slice(int(y) - 20, int(y) + 5),
              slice(int(x_mid) + 5, int(x_mid) + 150))
    assert np.any(with_labels[region] != plain[region])


def test_canvas_fits_the_keypoints_when_there_is_no_frame(analysis):
    out = key_frame.key_frame_image(analysis)
    height, width = out.shape[:2]
    assert width >= key_frame.CANVAS_MIN_SIZE[0]
    assert height >= key_frame.CANVAS_MIN_SIZE[1]
    dark = np.all(out == key_frame.CANVAS_BGR, axis=2).mean()
    assert dark > 0.5
    colours = {tuple(c) for c in entity.JOINT_COLORS_BGR}
    drawn = {tuple(p) for p in out.reshape(-1, 3)}
    assert colours & drawn


def test_canvas_of_the_given_frame_size_keeps_pixels(analysis):
    out = key_frame.key_frame_image(analysis, None, size=(WIDTH, HEIGHT))
    assert out.shape == (HEIGHT, WIDTH, 3)
    x, y = np.round(analysis.track.xy[KEY, joint('RAnkle')]).astype(int)
    assert np.any(out[y, x] != key_frame.CANVAS_BGR)


def test_bad_frame_is_refused(analysis):
    with pytest.raises(FmsError, match='uint8'):
        key_frame.key_frame_image(analysis,
                                  np.zeros((10, 10, 3), np.float32))


def test_anchor_points():
    xy = standing_xy()
    knees = (xy[joint('RKnee')] + xy[joint('LKnee')]) / 2
    hips = (xy[joint('RHip')] + xy[joint('LHip')]) / 2
    point = key_frame.anchor_point
    assert point(Anchor('Knee'), None, xy) == tuple(knees)
    assert point(Anchor('Knee'), 'left', xy) == tuple(xy[joint('LKnee')])
    assert point(Anchor('Knee', OPPOSITE), 'left', xy) == \
        tuple(xy[joint('RKnee')])
    assert point(Anchor('Hip', CENTRAL), 'left', xy) == tuple(hips)
    assert point(Anchor('Hip', 'right'), 'left', xy) == \
        tuple(xy[joint('RHip')])
    assert point(Anchor('Neck', CENTRAL), 'left', xy) == \
        tuple(xy[joint('Neck')])
    xy[joint('LKnee')] = np.nan
    assert point(Anchor('Knee'), 'left', xy) is None
    assert point(Anchor('Knee', CENTRAL), 'left', xy) == \
        tuple(xy[joint('RKnee')])


def test_labels_skip_values_without_anchor_value_or_joint(analysis):
    xy = analysis.track.xy[KEY]
    labels = key_frame.measurement_labels(analysis, xy, (HEIGHT, WIDTH),
                                          text_style((HEIGHT, WIDTH)))
    assert [label.name for label in labels] == ['knee_flexion',
                                                'trunk_inclination']
    assert labels[0].colour == key_frame.PASS_BGR
    assert labels[1].colour == key_frame.FAIL_BGR
    assert labels[0].text == 'knee flexion 95 deg'


#: The joint each judged measurement belongs to: (joint, where) with where
#: the tested side, the other side, or both sides' mean.
EXPECTED_JOINTS = {
    'torso_tibia_difference': ('Hip', 'both'),
    'femur_angle': ('Knee', 'both'),
    'dowel_offset': ('Wrist', 'both'),
    'knee_medial_offset': ('Knee', 'worse'),
    'leg_alignment': ('Knee', 'tested'),
    'trunk_lateral_lean': ('Hip', 'both'),
    'shoulder_tilt': ('Shoulder', 'both'),
    'trunk_forward_lean': ('Hip', 'both'),
    'clearance': ('Ankle', 'tested'),
    'trunk_inclination': ('Hip', 'both'),
    'back_knee_height': ('Knee', 'other'),
    'trunk_inclination_range': ('Neck', None),
    'knee_alignment': ('Knee', 'tested'),
    'fist_distance': ('Wrist', 'tested'),
    'ankle_position': ('Ankle', 'tested'),
    'hip_deviation': ('Hip', 'both'),
    'hand_position': ('Wrist', 'both'),
    'arm_angle': ('Shoulder', 'tested'),
    'leg_angle': ('Hip', 'tested'),
    'elbow_knee_distance': ('Elbow', 'tested'),
    'trunk_angle_range': ('Hip', 'both'),
}


def expected_point(name, analysis, xy):
    joint_name, where = EXPECTED_JOINTS[name]
    if where is None:
        return xy[joint(joint_name)]
    side, other = analysis.side, 'right' if analysis.side == 'left' else \
        'left'
    if where == 'worse':
        offsets = {s: analysis.measurements[f'knee_medial_offset_{s}'].value
                   for s in ('left', 'right')}
        side = max(offsets, key=offsets.get)
    elif where == 'other':
        side = other
    letters = 'LR' if where == 'both' else side[0].upper()
    return np.mean([xy[joint(letter + joint_name)] for letter in letters],
                   axis=0)


@pytest.mark.parametrize('test, side, view, inputs',
                         movements.EXAMPLE_TRIALS)
def test_every_judged_value_is_labelled_at_its_joint(test, side, view,
                                                     inputs):
    analysis = analyze_track(movements.example_track(test, side, view),
                             test, side, view, inputs)
    xy = analysis.track.xy[analysis.key_index]
    labels = {label.name: label for label in key_frame.measurement_labels(
        analysis, xy, (2000, 2000), text_style((2000, 2000)))}
    judged = [c.measurement for c in analysis.criteria if c.observable]
    assert judged
    for name in judged:
        assert name in labels, (test, view, name)
        np.testing.assert_allclose(labels[name].anchor,
                                   expected_point(name, analysis, xy),
                                   err_msg=f'{test} {view} {name}')


def test_bookkeeping_values_have_no_label():
    analysis = analyze_track(movements.shoulder_mobility_sequence(),
                             'shoulder_mobility', 'right', 'front', {})
    labels = key_frame.measurement_labels(
        analysis, analysis.track.xy[analysis.key_index], (2000, 2000),
        text_style((2000, 2000)))
    assert {label.name for label in labels} == {'fist_distance'}
    assert TESTED == analysis.measurements['fist_distance'].anchor.place


# ---------------------------------------------------------------------------
# Any keypoints (issue case 12): the image is drawn, never an overflow
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('value', [1e308, -1e308, np.inf, 1e30, 3e9, 1e6])
@pytest.mark.parametrize('where', ['photo', 'size', 'fitted'])
def test_key_frame_image_of_absurd_keypoints(photo, value, where):
    """1e308 coordinates gave an OverflowError in pose/draw.py; values past
    a C int an OpenCV error."""
    analysis = synthetic_analysis()
    analysis.track.xy[KEY, joint('RKnee')] = (value, 100.0)
    analysis.track.xy[KEY, joint('LHip')] = (100.0, -value)
    analysis.track.xy[:, joint('Nose')] = value         # every frame
    analysis.track.hands[KEY, entity.RIGHT_HAND, 3] = (value, value)
    image, size = {'photo': (photo, None), 'size': (None, (WIDTH, HEIGHT)),
                   'fitted': (None, None)}[where]
    out = key_frame.key_frame_image(analysis, image, size)
    assert out.dtype == np.uint8 and out.ndim == 3
    assert max(out.shape[:2]) <= max(key_frame.CANVAS_MAX_SIDE,
                                     WIDTH, HEIGHT)
    x, y = np.round(analysis.track.xy[KEY, joint('RAnkle')]).astype(int)
    if where == 'photo':                  # the sane joints are still drawn
        assert np.any(out[y, x] != photo[y, x])
    elif where == 'size':
        assert np.any(out[y, x] != key_frame.CANVAS_BGR)


def test_labels_of_joints_beyond_the_drawing_area_are_left_out(analysis):
    xy = analysis.track.xy[KEY].copy()
    xy[joint('RKnee')] = xy[joint('LKnee')] = (1e9, 200.0)
    labels = key_frame.measurement_labels(analysis, xy, (HEIGHT, WIDTH),
                                          text_style((HEIGHT, WIDTH)))
    assert [label.name for label in labels] == ['trunk_inclination']


def test_pose_and_hand_arrays_keep_any_finite_value():
    xy = standing_xy()
    xy[0] = (1e308, -1e308)
    xy[1] = np.nan
    pose = key_frame.pose_array(xy)
    assert pose.dtype == np.float64 and pose[0, 0].tolist() == [
        1e308, -1e308, entity.JOINT_FOUND]
    assert pose[0, 1].tolist() == [0.0, 0.0, entity.JOINT_MISSING]
    hands = np.full((2, entity.NUM_HAND_KEYPOINTS, 2), np.nan)
    hands[1, 4] = (3e38 * 10, 5.0)
    assert key_frame.hand_array(hands)[0, 1, 4].tolist() == [3e39, 5.0, 1.0]


# ---------------------------------------------------------------------------
# Who was followed (issue "Screening sessions", part 4)
# ---------------------------------------------------------------------------


def followed_pixels(out, centre, radius):
    """Count of FOLLOWED_BGR pixels within ``radius`` of ``centre``."""
    rows, cols = np.indices(out.shape[:2])
    near = np.hypot(cols - centre[0], rows - centre[1]) <= radius
    return int((np.all(out == key_frame.FOLLOWED_BGR, axis=2) & near).sum())


def test_the_followed_person_is_named_in_the_box(analysis):
    lines = key_frame.box_lines(analysis)
    assert lines[2] == ('followed: person 3 (ring at the neck)',
                        key_frame.FOLLOWED_BGR)
    untracked = synthetic_analysis()
    untracked.track.person_id = -1
    assert key_frame.box_lines(untracked)[2][0] == \
        'followed: untracked person (ring at the neck)'


@pytest.mark.parametrize('where', ['photo', 'size'])
def test_a_ring_marks_the_followed_persons_neck(analysis, photo, where):
    image, size = (photo, None) if where == 'photo' else (None,
                                                          (WIDTH, HEIGHT))
    out = key_frame.key_frame_image(analysis, image, size)
    neck = analysis.track.xy[KEY, joint('Neck')]
    radius = int(key_frame.FOLLOWED_RING_RADII
                 * drawing_sizes((HEIGHT, WIDTH))[1])
    assert followed_pixels(out, neck, radius + 2) > 2 * radius
    assert followed_pixels(out, neck, radius - 3) == 0    # round the neck
    without = synthetic_analysis()
    without.track.xy[KEY] = np.nan          # nobody drawn: no ring
    out = key_frame.key_frame_image(without, image, size)
    assert followed_pixels(out, neck, radius + 2) == 0


def test_marker_falls_back_to_the_body_centre_without_a_neck():
    xy = standing_xy()
    assert key_frame.followed_point(xy) == tuple(xy[joint('Neck')])
    xy[joint('Neck')] = np.nan
    assert key_frame.followed_point(xy) == pytest.approx(
        tuple(np.nanmean(xy, axis=0)))
    assert key_frame.followed_point(np.full((18, 2), np.nan)) is None
    canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    key_frame.draw_followed_marker(canvas, np.full((18, 2), 1e300))
    assert not canvas.any()
