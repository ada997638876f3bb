"""The analysis of one trial: curves, key frame, measurements, score.

:func:`analyze_track` prepares the subject's track (gaps filled, smoothed:
:func:`fms.sequence.prepare_track`), computes the per-frame curves of the
test, picks the key frame, measures what the criteria compare there (or
over the trial) and judges them (:func:`fms.scoring.evaluate`).  Each test
has one small measuring function (:data:`MEASURES`).

Every measured value is a :class:`fms.measurements.Measurement` record:
its unit is stated here once (the curve's unit, for a value read off a
curve) and its anchor names the joint it belongs to (the stepping ankle's
clearance, the back knee's height, the trunk between the hips), so the
report writes it there.  Values used only for bookkeeping (a hand length
in pixels, flags) have no anchor.

Curves (``Analysis.curves``, (T,) float64, NaN where joints are missing);
"mid" points are the mean of the left and right joints found (in a side
view both sides project onto about the same place):

* deep_squat, side view: ``knee_flexion`` = flexion(hip, knee, ankle),
  ``hip_flexion`` = flexion(shoulder, hip, knee), ``trunk_inclination`` =
  inclination(hip, shoulder), ``tibia_inclination`` = inclination(ankle,
  knee), ``torso_tibia_difference`` = trunk - tibia inclination,
  ``femur_angle`` = angle_below_horizontal(hip, knee), ``dowel_offset`` =
  horizontal offset of the wrists from the ankle in tibia lengths (all of
  mid points); front view: ``knee_medial_offset_left`` / ``_right`` and
  their maximum ``knee_medial_offset`` (hip widths).  Both: ``hip_y``.
* hurdle_step: ``stepping_ankle_height`` (stance ankle y - stepping ankle
  y, in stance shank lengths); side: ``trunk_inclination``; front:
  ``leg_alignment`` (hip widths), ``trunk_lateral_lean`` (inclination of
  mid-hip -> neck), ``shoulder_tilt`` (|angle of the shoulder line to
  horizontal|).
* inline_lunge: ``hip_y``; side: ``trunk_inclination``,
  ``back_knee_height`` (front ankle y - back knee y, in front shank
  lengths); front: ``trunk_lateral_lean``, ``knee_alignment`` (|frontal
  knee deviation| of the front leg, degrees).
* shoulder_mobility: ``fist_distance`` (hand lengths).
* aslr: ``leg_raise`` (angle between raised hip->ankle and down hip->ankle),
  ``ankle_position`` (raised ankle projected onto the down leg: knee 0,
  hip 1).
* trunk_stability_pushup: ``shoulder_rise`` (pixels above the lowest
  shoulder position), ``hip_deviation`` = flexion(shoulder, hip, ankle),
  ``hand_position`` (wrists along the body: shoulder 0, nose 1).
* rotary_stability: ``reach`` (moving wrist to moving ankle, trunk
  lengths), ``arm_angle``, ``leg_angle`` (|angle to horizontal| of
  shoulder->wrist and hip->ankle), ``elbow_knee_distance`` (trunk lengths),
  ``trunk_angle`` (angle_below_horizontal(hip, shoulder)).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from common.numbers import finite_or_none
from entity import LEFT_HAND, RIGHT_HAND
from fms import FmsError
from fms import angles as geo
from fms.measurements import (CENTRAL, OPPOSITE, TESTED, Anchor, Measurement,
                              Measurements)
from fms.protocol import check_side, check_test, check_view
from fms.results import Analysis
from fms.scoring import evaluate
from fms.sequence import DEFAULT_TRACK_PARAMS, Track, TrackParams, \
    prepare_track
from fms.thresholds import test_thresholds

#: Hand length / forearm length when there are no hand keypoints: hand
#: 0.108 H, forearm 0.146 H (Drillis & Contini 1966, in Winter 2009).
HAND_PER_FOREARM = 0.108 / 0.146
#: Percentile of the wrist (0) -> middle fingertip (12) lengths taken as
#: the hand length: the fists curl the fingertips toward the wrist, so the
#: longer (open-hand) frames measure the hand, not the median.
HAND_LENGTH_PERCENTILE = 90
#: Hand keypoints of the wrist and of the middle fingertip.
HAND_WRIST, HAND_MIDDLE_TIP = 0, 12
#: Push-up phases, as fractions of the largest shoulder rise: the lift
#: (judged for one-unit movement) and before it (hands measured lying).
LIFT_FRACTION = 0.5
PRE_LIFT_FRACTION = 0.1


@dataclasses.dataclass
class Measures:
    """What a test's measuring function finds (see :data:`MEASURES`):
    curves (name -> (T,) float64) with their units, the key frame, the
    measurement records, and the threshold lines of the curves (curve ->
    [(label, threshold key)])."""
    curves: Dict[str, np.ndarray]
    units: Dict[str, str]
    key_index: int
    key_reason: str
    measurements: Measurements
    lines: Dict[str, List[Tuple[str, str]]]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _mid(xy: np.ndarray, name: str) -> np.ndarray:
    """(T, 2) mean of the left and right ``name`` joints found."""
    return geo.mean_point(geo.joint(xy, name, 'left'),
                          geo.joint(xy, name, 'right'))


def _require(points: Mapping[str, np.ndarray], test: str, view: str,
             framing: str) -> None:
    """FmsError naming the points (name -> (T, 2)) never found."""
    missing = [name for name, p in points.items()
               if not np.isfinite(p).all(axis=-1).any()]
    if missing:
        raise FmsError(f'{test} ({view} view): {", ".join(missing)} never '
                       f'found: {framing}')


def _key(curve: np.ndarray, largest: bool, what: str) -> int:
    """Index of the largest (or smallest) finite value of ``curve``."""
    if not np.isfinite(curve).any():
        raise FmsError(f'cannot find the key frame: {what} never measured; '
                       f'check the joints are in the frame')
    filled = np.where(np.isfinite(curve), curve,
                      -np.inf if largest else np.inf)
    return int(np.argmax(filled) if largest else np.argmin(filled))


def _at(curves: Mapping[str, np.ndarray], units: Mapping[str, str],
        key: int, anchors: Mapping[str, Anchor]) -> Measurements:
    """The records of the curves named in ``anchors`` at frame ``key``,
    each with its curve's unit and its anchor."""
    return {name: Measurement(curves[name][key], units[name], anchor)
            for name, anchor in anchors.items()}


def _nan_stat(function, values: np.ndarray) -> Optional[float]:
    """``function`` (np.nanmax, ...) of the finite values, None if none."""
    finite = values[np.isfinite(values)]
    return finite_or_none(function(finite)) if finite.size else None


#: Anchors of the trunk measures: between the hips, and at the neck (for a
#: second trunk value of the same trial).
TRUNK = Anchor('Hip', CENTRAL)
NECK = Anchor('Neck', CENTRAL)

FULL_BODY = 'film the whole body, feet included, from the {view}'


# ---------------------------------------------------------------------------
# One measuring function per test
# ---------------------------------------------------------------------------

def _deep_squat(track: Track, side, view: str, inputs) -> Measures:
    xy = track.xy
    hip = _mid(xy, 'Hip')
    key = _key(hip[:, 1], True, 'the hip height')
    curves = {'hip_y': hip[:, 1]}
    units = {'hip_y': 'px'}
    if view == 'side':
        knee, ankle = _mid(xy, 'Knee'), _mid(xy, 'Ankle')
        shoulder, wrist = _mid(xy, 'Shoulder'), _mid(xy, 'Wrist')
        _require({'hip': hip, 'knee': knee, 'ankle': ankle,
                  'shoulder': shoulder}, 'deep_squat', view,
                 FULL_BODY.format(view=view))
        trunk, tibia = geo.inclination(hip, shoulder), \
            geo.inclination(ankle, knee)
        curves.update(
            knee_flexion=geo.flexion(hip, knee, ankle),
            hip_flexion=geo.flexion(shoulder, hip, knee),
            trunk_inclination=trunk, tibia_inclination=tibia,
            torso_tibia_difference=trunk - tibia,
            femur_angle=geo.angle_below_horizontal(hip, knee),
            dowel_offset=geo.horizontal_offset(wrist, ankle, ankle, knee))
        units.update({name: 'deg' for name in curves if name != 'hip_y'})
        units['dowel_offset'] = 'tibia lengths'
        anchors = {'knee_flexion': Anchor('Knee'), 'hip_flexion': Anchor(
            'Hip'), 'trunk_inclination': NECK, 'tibia_inclination': Anchor(
            'Ankle'), 'torso_tibia_difference': TRUNK,
            'femur_angle': Anchor('Knee'),
            'dowel_offset': Anchor('Wrist', CENTRAL)}
        lines = {'femur_angle': [('femur horizontal', 'femur_angle_min_deg')],
                 'torso_tibia_difference': [('limit', 'torso_tibia_max_deg')],
                 'dowel_offset': [('limit', 'dowel_offset_max_tibia')]}
    else:
        offsets = {}
        for side_name in ('left', 'right'):
            other = geo.other_side(side_name)
            points = {f'{side_name} {j.lower()}': geo.joint(xy, j, side_name)
                      for j in ('Hip', 'Knee', 'Ankle')}
            _require(points, 'deep_squat', view, FULL_BODY.format(view=view))
            offsets[side_name] = geo.medial_offset(
                *(geo.joint(xy, j, side_name) for j in ('Knee', 'Ankle',
                                                        'Hip')),
                geo.joint(xy, 'Hip', other))
            curves[f'knee_medial_offset_{side_name}'] = offsets[side_name]
        curves['knee_medial_offset'] = np.fmax(offsets['left'],
                                               offsets['right'])
        units.update({name: 'hip widths' for name in curves
                      if name != 'hip_y'})
        worse = 'left' if not offsets['right'][key] > offsets['left'][key] \
            else 'right'
        anchors = {f'knee_medial_offset_{s}': Anchor('Knee', s)
                   for s in ('left', 'right')}
        anchors['knee_medial_offset'] = Anchor('Knee', worse)
        lines = {'knee_medial_offset': [('limit',
                                         'knee_medial_max_hip_widths')]}
    return Measures(curves, units, key, 'lowest hip position (largest hip '
                    'y)', _at(curves, units, key, anchors), lines)


def _hurdle_step(track: Track, side: str, view: str, inputs) -> Measures:
    xy, other = track.xy, geo.other_side(side)
    step = {j: geo.joint(xy, j, side) for j in ('Hip', 'Knee', 'Ankle')}
    stance = {j: geo.joint(xy, j, other) for j in ('Hip', 'Knee', 'Ankle')}
    _require({f'{side} ankle': step['Ankle'], f'{other} ankle':
              stance['Ankle'], f'{other} knee': stance['Knee']},
             'hurdle_step', view, FULL_BODY.format(view=view))
    shank = np.nanmedian(geo.distance(stance['Knee'], stance['Ankle']))
    height = (stance['Ankle'][:, 1] - step['Ankle'][:, 1]) / shank
    key = _key(height, True, 'the stepping ankle height')
    curves = {'stepping_ankle_height': height}
    units = {'stepping_ankle_height': 'shank lengths'}
    hip, shoulder = _mid(xy, 'Hip'), _mid(xy, 'Shoulder')
    if view == 'side':
        curves['trunk_inclination'] = geo.inclination(hip, shoulder)
        units['trunk_inclination'] = 'deg'
        measured = {'trunk_forward_lean': Measurement(
            curves['trunk_inclination'][key], units['trunk_inclination'],
            TRUNK)}
        lines = {'trunk_inclination': [('limit', 'trunk_forward_max_deg')]}
    else:
        width = np.abs(step['Hip'][:, 0] - stance['Hip'][:, 0])
        drift = np.fmax(np.abs(step['Knee'][:, 0] - step['Hip'][:, 0]),
                        np.abs(step['Ankle'][:, 0] - step['Hip'][:, 0]))
        with np.errstate(invalid='ignore', divide='ignore'):
            curves['leg_alignment'] = np.where(width > 0, drift / width,
                                               np.nan)
        curves['trunk_lateral_lean'] = geo.inclination(
            hip, geo.joint(xy, 'Neck'))
        curves['shoulder_tilt'] = np.abs(geo.angle_below_horizontal(
            geo.joint(xy, 'Shoulder', 'right'),
            geo.joint(xy, 'Shoulder', 'left')))
        units.update(leg_alignment='hip widths', trunk_lateral_lean='deg',
                     shoulder_tilt='deg')
        measured = _at(curves, units, key, {
            'leg_alignment': Anchor('Knee'), 'trunk_lateral_lean': TRUNK,
            'shoulder_tilt': Anchor('Shoulder', CENTRAL)})
        lines = {'leg_alignment': [('limit', 'leg_alignment_max_hip_widths')],
                 'trunk_lateral_lean': [('limit', 'trunk_lateral_max_deg')],
                 'shoulder_tilt': [('limit', 'shoulder_tilt_max_deg')]}
    lines['stepping_ankle_height'] = [('hurdle', 'clearance_min_shanks')]
    measured['clearance'] = Measurement(
        height[key], units['stepping_ankle_height'], Anchor('Ankle'))
    return Measures(curves, units, key, 'highest stepping ankle', measured,
                    lines)


def _inline_lunge(track: Track, side: str, view: str, inputs) -> Measures:
    xy, back = track.xy, geo.other_side(side)
    hip, shoulder = _mid(xy, 'Hip'), _mid(xy, 'Shoulder')
    _require({'hip': hip, 'shoulder': shoulder}, 'inline_lunge', view,
             FULL_BODY.format(view=view))
    key = _key(hip[:, 1], True, 'the hip height')
    curves, units = {'hip_y': hip[:, 1]}, {'hip_y': 'px'}
    front = {j: geo.joint(xy, j, side) for j in ('Hip', 'Knee', 'Ankle')}
    if view == 'side':
        back_knee = geo.joint(xy, 'Knee', back)
        _require({f'{side} knee': front['Knee'], f'{side} ankle':
                  front['Ankle'], f'{back} knee': back_knee},
                 'inline_lunge', view, FULL_BODY.format(view=view))
        shank = np.nanmedian(geo.distance(front['Knee'], front['Ankle']))
        curves['trunk_inclination'] = geo.inclination(hip, shoulder)
        curves['back_knee_height'] = (front['Ankle'][:, 1]
                                      - back_knee[:, 1]) / shank
        units.update(trunk_inclination='deg',
                     back_knee_height='shank lengths')
        measured = _at(curves, units, key, {
            'trunk_inclination': TRUNK,
            'back_knee_height': Anchor('Knee', OPPOSITE)})
        measured['trunk_inclination_range'] = Measurement(_nan_stat(
            np.ptp, curves['trunk_inclination']), units['trunk_inclination'],
            NECK)
        lines = {'trunk_inclination': [('limit',
                                        'trunk_inclination_max_deg')],
                 'back_knee_height': [('board',
                                       'back_knee_height_max_shanks')]}
    else:
        _require({f'{side} {j.lower()}': p for j, p in front.items()},
                 'inline_lunge', view, FULL_BODY.format(view=view))
        curves['trunk_lateral_lean'] = geo.inclination(
            hip, geo.joint(xy, 'Neck'))
        curves['knee_alignment'] = np.abs(geo.frontal_knee_deviation(
            front['Hip'], front['Knee'], front['Ankle'],
            geo.joint(xy, 'Hip', back)))
        units.update(trunk_lateral_lean='deg', knee_alignment='deg')
        measured = _at(curves, units, key, {
            'trunk_lateral_lean': TRUNK, 'knee_alignment': Anchor('Knee')})
        lines = {'trunk_lateral_lean': [('limit', 'trunk_lateral_max_deg')],
                 'knee_alignment': [('limit', 'knee_alignment_max_deg')]}
    return Measures(curves, units, key, 'lowest hip position (largest hip '
                    'y)', measured, lines)


def _fists(track: Track) -> Tuple[np.ndarray, np.ndarray, float, bool]:
    """``(left, right, hand_length, estimated)``: (T, 2) fist centres
    (mean of the found hand keypoints) and the hand length in pixels, or
    the wrists and a hand length estimated from the forearms."""
    hands = track.hands
    if hands is not None:
        found = np.isfinite(hands).all(axis=-1)                # (T, 2, 21)
        with np.errstate(invalid='ignore', divide='ignore'):
            centres = np.where(found[..., None], hands, 0.0).sum(axis=2) \
                / found.sum(axis=2)[..., None]                 # (T, 2, 2)
        lengths = geo.distance(hands[:, :, HAND_WRIST],
                               hands[:, :, HAND_MIDDLE_TIP]).ravel()
        both = np.isfinite(centres).all(axis=(1, 2))
        if both.any() and np.isfinite(lengths).any():
            return (centres[:, LEFT_HAND], centres[:, RIGHT_HAND],
                    float(np.nanpercentile(
                lengths, HAND_LENGTH_PERCENTILE)), False)
    xy = track.xy
    forearms = np.concatenate([geo.distance(geo.joint(xy, 'Elbow', s),
                                            geo.joint(xy, 'Wrist', s))
                               for s in ('left', 'right')])
    if not np.isfinite(forearms).any():
        raise FmsError('shoulder_mobility: no hand keypoints and no forearm '
                       '(elbow and wrist) found: film the arms from behind '
                       'or run video_pose_detector.py with hands')
    return (geo.joint(xy, 'Wrist', 'left'), geo.joint(xy, 'Wrist', 'right'),
            HAND_PER_FOREARM * float(np.nanmedian(forearms)), True)


def _shoulder_mobility(track: Track, side: str, view: str,
                       inputs) -> Measures:
    left, right, hand_length, estimated = _fists(track)
    _require({'left fist or wrist': left, 'right fist or wrist': right},
             'shoulder_mobility', view, 'film both hands, from behind')
    distance = geo.distance(left, right) / hand_length
    key = _key(distance, False, 'the fist distance')
    curves, units = {'fist_distance': distance}, {'fist_distance':
                                                  'hand lengths'}
    measured = _at(curves, units, key, {'fist_distance': Anchor('Wrist')})
    measured.update(hand_length_px=Measurement(hand_length, 'px'),
                    hand_length_estimated=Measurement(
                        1.0 if estimated else 0.0, 'flag'))
    return Measures(curves, units, key, 'smallest fist distance', measured,
                    {'fist_distance': [
                        ('3', 'within_one_max_hands'),
                        ('2', 'within_one_and_half_max_hands')]})


def _aslr(track: Track, side: str, view: str, inputs) -> Measures:
    xy, down = track.xy, geo.other_side(side)
    raised = {j: geo.joint(xy, j, side) for j in ('Hip', 'Ankle')}
    lying = {j: geo.joint(xy, j, down) for j in ('Hip', 'Knee', 'Ankle')}
    _require({f'{side} hip': raised['Hip'], f'{side} ankle': raised['Ankle'],
              **{f'{down} {j.lower()}': p for j, p in lying.items()}},
             'aslr', view, 'film the whole body lying, from the side')
    leg_raise = geo.segment_angle(raised['Hip'], raised['Ankle'],
                                  lying['Hip'], lying['Ankle'])
    position = geo.projection_fraction(raised['Ankle'], lying['Knee'],
                                       lying['Hip'])
    curves = {'leg_raise': leg_raise, 'ankle_position': position}
    units = {'leg_raise': 'deg', 'ankle_position': 'fraction'}
    key = _key(leg_raise, True, 'the leg raise angle')
    return Measures(curves, units, key, 'largest leg raise angle',
                    _at(curves, units, key, {
                        'ankle_position': Anchor('Ankle'),
                        'leg_raise': Anchor('Hip')}),
                    {'ankle_position': [
                        ('mid-thigh', 'mid_thigh_min_fraction'),
                        ('knee', 'knee_min_fraction')]})


def _pushup(track: Track, side, view: str, inputs) -> Measures:
    xy = track.xy
    shoulder, hip, ankle = _mid(xy, 'Shoulder'), _mid(xy, 'Hip'), \
        _mid(xy, 'Ankle')
    wrist, nose = _mid(xy, 'Wrist'), geo.joint(xy, 'Nose')
    _require({'shoulder': shoulder, 'hip': hip, 'ankle': ankle,
              'wrist': wrist}, 'trunk_stability_pushup', view,
             FULL_BODY.format(view=view))
    rise = np.nanmax(shoulder[:, 1]) - shoulder[:, 1]
    key = _key(rise, True, 'the shoulder height')
    deviation = geo.flexion(shoulder, hip, ankle)
    axis = shoulder - ankle
    axis = axis / np.hypot(axis[:, 0], axis[:, 1])[:, None]
    with np.errstate(invalid='ignore', divide='ignore'):
        hand = ((wrist - shoulder) * axis).sum(axis=1) \
            / ((nose - shoulder) * axis).sum(axis=1)
    top = np.nanmax(rise)
    lift = rise >= LIFT_FRACTION * top
    before = (rise < PRE_LIFT_FRACTION * top) & (np.arange(len(rise)) < key)
    units = {'shoulder_rise': 'px', 'hip_deviation': 'deg',
             'hand_position': 'shoulder-to-nose lengths'}
    measured = {
        'hip_deviation': Measurement(_nan_stat(np.max, deviation[lift]),
                                     units['hip_deviation'], TRUNK),
        'hand_position': Measurement(_nan_stat(np.median, hand[before]),
                                     units['hand_position'],
                                     Anchor('Wrist', CENTRAL)),
        'shoulder_rise_px': Measurement(top, 'px')}
    curves = {'shoulder_rise': rise, 'hip_deviation': deviation,
              'hand_position': hand}
    return Measures(curves, units, key, 'highest shoulder during the lift',
                    measured,
                    {'hip_deviation': [('limit', 'one_unit_max_deg')],
                     'hand_position': [('forehead', 'hand_forehead_min'),
                                       ('chin', 'hand_chin_min'),
                                       ('clavicle', 'hand_clavicle_min')]})


def _moving_leg(xy: np.ndarray, side: str, inputs) -> str:
    """The side of the moving leg: from ``inputs['pattern']`` when given,
    else the ankle farthest from its median position at some frame."""
    pattern = inputs.get('pattern')
    if pattern in ('unilateral', 'diagonal'):
        return side if pattern == 'unilateral' else geo.other_side(side)
    motion = {}
    for leg in ('left', 'right'):
        ankle = geo.joint(xy, 'Ankle', leg)
        centre = np.nanmedian(ankle, axis=0)
        motion[leg] = _nan_stat(np.max, geo.distance(ankle, centre)) or 0.0
    return max(motion, key=motion.get)


def _rotary_stability(track: Track, side: str, view: str,
                      inputs) -> Measures:
    xy = track.xy
    leg = _moving_leg(xy, side, inputs)
    arm = {j: geo.joint(xy, j, side) for j in ('Shoulder', 'Elbow', 'Wrist')}
    limb = {j: geo.joint(xy, j, leg) for j in ('Hip', 'Knee', 'Ankle')}
    hip, shoulder = _mid(xy, 'Hip'), _mid(xy, 'Shoulder')
    _require({**{f'{side} {j.lower()}': p for j, p in arm.items()},
              **{f'{leg} {j.lower()}': p for j, p in limb.items()}},
             'rotary_stability', view, FULL_BODY.format(view=view))
    trunk = float(np.nanmedian(geo.distance(hip, shoulder)))
    curves = {
        'reach': geo.distance(arm['Wrist'], limb['Ankle']) / trunk,
        'arm_angle': np.abs(geo.angle_below_horizontal(arm['Wrist'],
                                                       arm['Shoulder'])),
        'leg_angle': np.abs(geo.angle_below_horizontal(limb['Ankle'],
                                                       limb['Hip'])),
        'elbow_knee_distance': geo.distance(arm['Elbow'],
                                            limb['Knee']) / trunk,
        'trunk_angle': geo.angle_below_horizontal(hip, shoulder)}
    key = _key(curves['reach'], True, 'the reach')
    units = {name: 'deg' for name in curves}
    units.update(reach='trunk lengths', elbow_knee_distance='trunk lengths')
    measured = _at(curves, units, key, {
        'arm_angle': Anchor('Shoulder'),
        'leg_angle': Anchor('Hip', TESTED if leg == side else OPPOSITE)})
    measured.update(
        elbow_knee_distance=Measurement(
            _nan_stat(np.min, curves['elbow_knee_distance'][key:]),
            units['elbow_knee_distance'], Anchor('Elbow')),
        trunk_angle_range=Measurement(
            _nan_stat(np.ptp, curves['trunk_angle']), units['trunk_angle'],
            TRUNK),
        same_side_leg=Measurement(1.0 if leg == side else 0.0, 'flag'))
    return Measures(curves, units, key, 'largest reach (moving wrist to '
                    'moving ankle)', measured,
                    {'arm_angle': [('limit', 'arm_extension_max_deg')],
                     'leg_angle': [('limit', 'leg_extension_max_deg')],
                     'elbow_knee_distance': [('touch',
                                              'elbow_knee_max_trunk')]})


Measure = Callable[[Track, Optional[str], str, Mapping], Measures]

#: The measuring function of each test: (prepared track, side, view,
#: inputs) -> :class:`Measures`.
MEASURES: Dict[str, Measure] = {
    'deep_squat': _deep_squat,
    'hurdle_step': _hurdle_step,
    'inline_lunge': _inline_lunge,
    'shoulder_mobility': _shoulder_mobility,
    'aslr': _aslr,
    'trunk_stability_pushup': _pushup,
    'rotary_stability': _rotary_stability,
}


def analyze_track(track: Track, test: str, side: Optional[str], view: str,
                  inputs: Mapping, thresholds: Optional[Mapping] = None,
                  params: TrackParams = DEFAULT_TRACK_PARAMS) -> Analysis:
    """Analyse one trial of ``test`` filmed in ``view``.

    Args:
        track: the subject's raw track (:func:`fms.sequence.select_subject`).
        test, side, view: see :mod:`fms.protocol`; ``side`` is required for
            bilateral tests (the moving limb's side) and None otherwise.
        inputs: what the camera cannot see: ``pain``, ``heels_raised``,
            ``sex`` ('male'/'female', push-up), ``pattern`` (rotary).
        thresholds: overrides of the packaged thresholds (see
            :func:`fms.thresholds.test_thresholds`).
        params: gap filling and smoothing of the track.

    Returns:
        The :class:`fms.results.Analysis`, ``curve_thresholds`` holding the
        threshold lines (label, value) of the curves.

    Raises:
        FmsError: bad test, side or view; joints the test needs never found
            (the message names them and the framing to use); no criterion
            observable in the view.
    """
    check_test(test)
    side = check_side(test, side)
    check_view(view)
    values = test_thresholds(test, thresholds)
    prepared = prepare_track(track, params)
    measures = MEASURES[test](prepared, side, view, inputs)
    score, criteria, reasons = evaluate(test, view, measures.measurements,
                                        values, inputs)
    lines = {curve: [(label, values[key]) for label, key in entries]
             for curve, entries in measures.lines.items()
             if curve in measures.curves}
    return Analysis(
        test=test, side=side, view=view, track=prepared,
        curves=measures.curves, curve_units=measures.units,
        curve_thresholds=lines, key_index=measures.key_index,
        key_reason=measures.key_reason,
        measurements=measures.measurements, criteria=criteria, score=score,
        reasons=reasons, inputs=dict(inputs), thresholds=values)
