"""The analysis of one trial: curves, key frame, measurements, score.

:func:`analyze_track` prepares the subject's track (gaps filled, smoothed:
:func:`fms.sequence.prepare_track`), computes the per-frame curves of the
test, picks the key frame, measures what the criteria compare there (or
over the trial) and judges them (:func:`fms.criteria.evaluate`).  Each test
has one small measuring function (:data:`MEASURES`).

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
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from fms import FmsError
from fms import angles as geo
from fms.criteria import evaluate, load_thresholds
from fms.protocol import check_side, check_test, check_view
from fms.results import Analysis
from fms.sequence import DEFAULT_TRACK_PARAMS, Track, TrackParams, \
    prepare_track

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
    """What a test's measuring function finds (see :data:`MEASURES`)."""
    curves: Dict[str, np.ndarray]
    units: Dict[str, str]
    key_index: int
    key_reason: str
    measurements: Dict[str, Optional[float]]
    lines: Dict[str, List[Tuple[str, str]]]   # curve -> (label, key)


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


def _at(curves: Mapping[str, np.ndarray], key: int,
        names: Sequence[str]) -> Dict[str, Optional[float]]:
    """Values of the curves ``names`` at ``key`` (None where NaN)."""
    values = {}
    for name in names:
        value = float(curves[name][key])
        values[name] = value if np.isfinite(value) else None
    return values


def _finite(value) -> Optional[float]:
    value = float(value)
    return value if np.isfinite(value) else None


def _nan_stat(function, values: np.ndarray) -> Optional[float]:
    """``function`` (np.nanmax, ...) of the finite values, None if none."""
    finite = values[np.isfinite(values)]
    return _finite(function(finite)) if finite.size else None


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
        lines = {'knee_medial_offset': [('limit',
                                         'knee_medial_max_hip_widths')]}
    measured = _at(curves, key, [n for n in curves if n != 'hip_y'])
    return Measures(curves, units, key, 'lowest hip position (largest hip '
                    'y)', measured, lines)


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
        measured = {'trunk_forward_lean': _finite(
                        curves['trunk_inclination'][key])}
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
        measured = _at(curves, key, ['leg_alignment', 'trunk_lateral_lean',
                                     'shoulder_tilt'])
        lines = {'leg_alignment': [('limit', 'leg_alignment_max_hip_widths')],
                 'trunk_lateral_lean': [('limit', 'trunk_lateral_max_deg')],
                 'shoulder_tilt': [('limit', 'shoulder_tilt_max_deg')]}
    lines['stepping_ankle_height'] = [('hurdle', 'clearance_min_shanks')]
    measured['clearance'] = _finite(height[key])
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
        measured = _at(curves, key, ['trunk_inclination', 'back_knee_height'])
        measured['trunk_inclination_range'] = _nan_stat(
            np.ptp, curves['trunk_inclination'])
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
        measured = _at(curves, key, ['trunk_lateral_lean', 'knee_alignment'])
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
            return (centres[:, 0], centres[:, 1], float(np.nanpercentile(
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
    measured = {'fist_distance': _finite(distance[key]),
                'hand_length_px': hand_length,
                'hand_length_estimated': 1.0 if estimated else 0.0}
    return Measures({'fist_distance': distance},
                    {'fist_distance': 'hand lengths'}, key,
                    'smallest fist distance', measured,
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
    key = _key(leg_raise, True, 'the leg raise angle')
    return Measures(curves, {'leg_raise': 'deg', 'ankle_position': 'fraction'},
                    key, 'largest leg raise angle',
                    _at(curves, key, ['ankle_position', 'leg_raise']),
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
    measured = {
        'hip_deviation': _nan_stat(np.max, deviation[lift]),
        'hand_position': _nan_stat(np.median, hand[before]),
        'shoulder_rise_px': _finite(top)}
    curves = {'shoulder_rise': rise, 'hip_deviation': deviation,
              'hand_position': hand}
    return Measures(curves, {'shoulder_rise': 'px', 'hip_deviation': 'deg',
                             'hand_position': 'shoulder-to-nose lengths'},
                    key, 'highest shoulder during the lift', measured,
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
    measured = _at(curves, key, ['arm_angle', 'leg_angle'])
    measured.update(
        elbow_knee_distance=_nan_stat(np.min,
                                      curves['elbow_knee_distance'][key:]),
        trunk_angle_range=_nan_stat(np.ptp, curves['trunk_angle']),
        same_side_leg=1.0 if leg == side else 0.0)
    units = {name: 'deg' for name in curves}
    units.update(reach='trunk lengths', elbow_knee_distance='trunk lengths')
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


def thresholds_for(test: str, thresholds: Optional[Mapping] = None
                    ) -> Dict[str, float]:
    """The threshold values of ``test``: the packaged ones, overridden by
    ``thresholds`` (either the test's key -> value, or test -> key ->
    value as :func:`fms.criteria.load_thresholds` returns)."""
    values = dict(load_thresholds()[test])
    if thresholds:
        given = thresholds.get(test, thresholds) \
            if isinstance(thresholds.get(test), Mapping) else thresholds
        unknown = [k for k in given if k not in values]
        if unknown:
            raise FmsError(f'unknown thresholds for {test}: '
                           f'{", ".join(unknown)}; {test} has '
                           f'{", ".join(values)}')
        values.update({k: float(v) for k, v in given.items()})
    return values


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
            :func:`thresholds_for`).
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
    values = thresholds_for(test, thresholds)
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
