"""The analysis of one trial: curves, repetitions, key frames,
measurements, score.

:func:`analyze_track` prepares the subject's track (gaps filled, smoothed:
:func:`fms.sequence.prepare_track`), computes the per-frame curves of the
test, cuts the clip into its repetitions (:mod:`fms.repetitions`, from the
test's driving curve: the hip height for the squat and the lunge, the
stepping ankle's height for the hurdle step, the fist distance for
shoulder mobility, the leg raise angle for the ASLR, the shoulder rise for
the push-up, the reach for rotary stability), measures what the criteria
compare at each repetition's key frame (or over the repetition, or over
the trial where said) and judges each (:func:`fms.scoring.evaluate`).
FMS scores the best of up to three repetitions, so the trial's score,
key frame, measurements and criteria are those of the best-scoring
repetition (ties: the first).  Each test has one small measuring function
(:data:`MEASURES`).

What stays trial-wide: the checks that the clip holds the movement and
shows the ``--side`` given (they are about the clip, not a repetition),
the moving leg of rotary stability, the hand length of shoulder mobility,
and the curves themselves (the push-up's shoulder rise is measured from
the lowest shoulder of the whole clip).

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
* shoulder_mobility: ``fist_distance`` (closest points of the two fists,
  in hand lengths: see :func:`_fist_gap` and :func:`_hand_length`).
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
from fms.labels import scores_in_words
from fms.measurements import (CENTRAL, OPPOSITE, TESTED, Anchor, Measurement,
                              Measurements)
from fms.protocol import check_side, check_test, check_view
from fms.results import Analysis, Repetition
from fms.criteria import check_inputs
from fms.repetitions import Span, find_repetitions, separation_frames
from fms.scoring import check_observable, evaluate, score_repetitions
from fms.sequence import DEFAULT_TRACK_PARAMS, Track, TrackParams, \
    prepare_track
from fms.thresholds import test_thresholds

#: Hand length / forearm length when there are no hand keypoints: hand
#: 0.108 H, forearm 0.146 H (Drillis & Contini 1966, in Winter 2009).
HAND_PER_FOREARM = 0.108 / 0.146
#: Percentile of the open-hand wrist (0) -> middle fingertip (12) lengths
#: taken as the hand length (the longer frames: a hand seen flat).
HAND_LENGTH_PERCENTILE = 90
#: Hand keypoints of the wrist and of the middle fingertip, and the middle
#: finger's chain from its knuckle to its tip.
HAND_WRIST, HAND_MIDDLE_TIP = 0, 12
MIDDLE_FINGER = (9, 10, 11, 12)
#: A hand is open when its wrist-to-middle-fingertip distance is at least
#: this fraction of the finger chain's length (wrist, knuckle, joints,
#: tip): a fist curls the chain back.
OPEN_HAND_STRAIGHTNESS = 0.9
#: How far a clenched fist reaches beyond its wrist, in hand lengths, for
#: the fists' closest points without hand keypoints: the middle finger's
#: proximal joint, about the knuckles (0.45) plus a phalanx' thickness
#: (our estimate).
FIST_REACH_HANDS = 0.55
#: Shoulder height above the ankle, as a fraction of the stature (0.818 H -
#: 0.039 H: Drillis & Contini 1966, in Winter 2009).
SHOULDER_ABOVE_ANKLE = 0.818 - 0.039
#: Push-up phases, as fractions of the largest shoulder rise: the lift
#: (judged for one-unit movement) and before it (hands measured lying).
LIFT_FRACTION = 0.5
PRE_LIFT_FRACTION = 0.1
#: The detected moving side must do the movement at least this many times
#: more than the other side for a ``--side`` mismatch to be an error.
SIDE_MARGIN = 2.0
#: Fewer frames than this is no movement at all.
MIN_FRAMES = 3
#: Least movement of a trial, else the clip is refused (our choice, well
#: below the movements of a real trial): the hip lowers this many trunk
#: lengths (deep squat, in-line lunge); the stepping ankle rises this many
#: stance shank lengths (hurdle step); the raised ankle travels this many
#: shank lengths (ASLR); the shoulders rise this many trunk lengths
#: (push-up); the moving wrist travels this many trunk lengths (rotary
#: stability).
MIN_HIP_DROP_TRUNKS = 0.15
MIN_STEP_SHANKS = 0.3
MIN_LEG_TRAVEL_SHANKS = 0.3
MIN_SHOULDER_RISE_TRUNKS = 0.1
MIN_REACH_TRUNKS = 0.3
#: Head cues for the push-up's hand position when the nose is not found:
#: (name, joints) in order of preference, with the ratio of the
#: shoulder-to-nose height to the shoulder-to-cue height along the body
#: (nose 0.09 H, eyes 0.11 H, ears 0.10 H above the neck: our
#: approximation of Drillis & Contini 1966, as in tests/fixtures).
HEAD_CUES = (('nose', ('Nose',), 1.0), ('eyes', ('Eye',), 0.09 / 0.11),
             ('ears', ('Ear',), 0.09 / 0.10))


@dataclasses.dataclass
class Measures:
    """What a test's measuring function finds (see :data:`MEASURES`):
    curves (name -> (T,) float64) with their units, the repetitions
    (:class:`fms.repetitions.Span`) and how their key frames were chosen,
    the measurement records of each repetition (in the same order), and
    the threshold lines of the curves (curve -> [(label, threshold
    key)])."""
    curves: Dict[str, np.ndarray]
    units: Dict[str, str]
    spans: List[Span]
    key_reason: str
    measurements: List[Measurements]
    lines: Dict[str, List[Tuple[str, str]]]
    notes: List[str] = dataclasses.field(default_factory=list)


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


def _repetitions(track: Track, curve: np.ndarray, largest: bool,
                 what: str) -> List[Span]:
    """The repetitions of the clip from its driving ``curve`` (extreme:
    ``largest`` or smallest), :func:`fms.repetitions.find_repetitions`;
    FmsError (as :func:`_key`'s) when the curve is never measured."""
    _key(curve, largest, what)
    return find_repetitions(curve, largest, separation_frames(track.times))


def _span_mask(span: Span, frames: int) -> np.ndarray:
    """(frames,) bool: the frames of ``span``."""
    t = np.arange(frames)
    return (t >= span.first) & (t <= span.last)


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


def _trunk_length(xy: np.ndarray) -> float:
    """Median hip-to-shoulder distance (mid points) in pixels, the scale of
    the movement checks (NaN when never found)."""
    d = geo.distance(_mid(xy, 'Hip'), _mid(xy, 'Shoulder'))
    return float(np.nanmedian(d)) if np.isfinite(d).any() else float('nan')


def _moved(test: str, amount: Optional[float], least: float,
           missing: str) -> None:
    """FmsError naming the movement ``missing`` when ``amount`` (None: not
    measured) is below ``least``: a clip without the tested pattern."""
    if amount is not None and np.isfinite(amount) and amount < least:
        raise FmsError(f'{test}: {missing} in this clip: give a keypoint '
                       f'file or video of the whole trial')


def _check_side(test: str, given: str, scores: Mapping[str, float],
                what: str, least: float = 0.1) -> None:
    """FmsError when the movement shows the other side than ``given``:
    ``scores`` (side -> how much that side does the movement, in body
    units) must favour the other side clearly (:data:`SIDE_MARGIN` times,
    and by at least ``least``) for the check to speak."""
    other = geo.other_side(given)
    mine, theirs = scores.get(given), scores.get(other)
    if mine is None or theirs is None or not np.isfinite(theirs):
        return
    mine = mine if np.isfinite(mine) else 0.0
    if theirs > SIDE_MARGIN * max(mine, 0.0) and theirs - mine > least:
        raise FmsError(f'{test}: the movement shows the {other} side ({what} '
                       f'is the {other} one), but --side {given} was given: '
                       f'run with --side {other}')


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
    _require({'hip': hip}, 'deep_squat', view, FULL_BODY.format(view=view))
    spans = _repetitions(track, hip[:, 1], True, 'the hip height')
    _moved('deep_squat', (_nan_stat(np.ptp, hip[:, 1]) or 0.0)
           / _trunk_length(xy), MIN_HIP_DROP_TRUNKS, 'the hip never lowers')
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
        measured = [_at(curves, units, span.key, anchors) for span in spans]
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
        measured = []
        for span in spans:
            key = span.key
            worse = 'left' if not offsets['right'][key] \
                > offsets['left'][key] else 'right'
            anchors = {f'knee_medial_offset_{s}': Anchor('Knee', s)
                       for s in ('left', 'right')}
            anchors['knee_medial_offset'] = Anchor('Knee', worse)
            measured.append(_at(curves, units, key, anchors))
        lines = {'knee_medial_offset': [('limit',
                                         'knee_medial_max_hip_widths')]}
    return Measures(curves, units, spans, 'lowest hip position (largest '
                    'hip y)', measured, lines)


def _hurdle_step(track: Track, side: str, view: str, inputs) -> Measures:
    xy, other = track.xy, geo.other_side(side)
    step = {j: geo.joint(xy, j, side) for j in ('Hip', 'Knee', 'Ankle')}
    stance = {j: geo.joint(xy, j, other) for j in ('Hip', 'Knee', 'Ankle')}
    _require({f'{side} ankle': step['Ankle'], f'{other} ankle':
              stance['Ankle'], f'{other} knee': stance['Knee']},
             'hurdle_step', view, FULL_BODY.format(view=view))
    shank = np.nanmedian(geo.distance(stance['Knee'], stance['Ankle']))
    height = (stance['Ankle'][:, 1] - step['Ankle'][:, 1]) / shank
    rises = {side: _nan_stat(np.max, height) or 0.0,
             other: _nan_stat(np.max, -height) or 0.0}
    _moved('hurdle_step', max(rises.values()), MIN_STEP_SHANKS,
           'no foot ever lifts (no step)')
    _check_side('hurdle_step', side, rises, 'the stepping leg')
    spans = _repetitions(track, height, True, 'the stepping ankle height')
    curves = {'stepping_ankle_height': height}
    units = {'stepping_ankle_height': 'shank lengths'}
    hip, shoulder = _mid(xy, 'Hip'), _mid(xy, 'Shoulder')
    if view == 'side':
        curves['trunk_inclination'] = geo.inclination(hip, shoulder)
        units['trunk_inclination'] = 'deg'
        anchors = {}
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
        anchors = {'leg_alignment': Anchor('Knee'),
                   'trunk_lateral_lean': TRUNK,
                   'shoulder_tilt': Anchor('Shoulder', CENTRAL)}
        lines = {'leg_alignment': [('limit', 'leg_alignment_max_hip_widths')],
                 'trunk_lateral_lean': [('limit', 'trunk_lateral_max_deg')],
                 'shoulder_tilt': [('limit', 'shoulder_tilt_max_deg')]}
    lines['stepping_ankle_height'] = [('hurdle', 'clearance_min_shanks')]
    measured = []
    for span in spans:
        key = span.key
        records = _at(curves, units, key, anchors)
        if view == 'side':
            records['trunk_forward_lean'] = Measurement(
                curves['trunk_inclination'][key], units['trunk_inclination'],
                TRUNK)
        records['clearance'] = Measurement(
            height[key], units['stepping_ankle_height'], Anchor('Ankle'))
        measured.append(records)
    return Measures(curves, units, spans, 'highest stepping ankle',
                    measured, lines)


def _inline_lunge(track: Track, side: str, view: str, inputs) -> Measures:
    xy, back = track.xy, geo.other_side(side)
    hip, shoulder = _mid(xy, 'Hip'), _mid(xy, 'Shoulder')
    _require({'hip': hip, 'shoulder': shoulder}, 'inline_lunge', view,
             FULL_BODY.format(view=view))
    spans = _repetitions(track, hip[:, 1], True, 'the hip height')
    key = _key(hip[:, 1], True, 'the hip height')      # the lowest of all
    _moved('inline_lunge', (_nan_stat(np.ptp, hip[:, 1]) or 0.0)
           / _trunk_length(xy),
           MIN_HIP_DROP_TRUNKS, 'the hip never lowers')
    curves, units = {'hip_y': hip[:, 1]}, {'hip_y': 'px'}
    front = {j: geo.joint(xy, j, side) for j in ('Hip', 'Knee', 'Ankle')}
    # the back knee lowers toward the board: the front knee is the higher
    # one at the lowest hip position
    knee_gap = (geo.joint(xy, 'Knee', back)[key, 1] - front['Knee'][key, 1]) \
        / _trunk_length(xy)
    if np.isfinite(knee_gap):
        _check_side('inline_lunge', side, {side: knee_gap, back: -knee_gap},
                    'the front leg (the higher knee at the bottom)')
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
        measured = []
        for span in spans:
            records = _at(curves, units, span.key, {
                'trunk_inclination': TRUNK,
                'back_knee_height': Anchor('Knee', OPPOSITE)})
            # FMS: no torso movement during the repetition: the range
            # over the repetition's frames
            records['trunk_inclination_range'] = Measurement(_nan_stat(
                np.ptp, curves['trunk_inclination'][span.first:
                                                    span.last + 1]),
                units['trunk_inclination'], NECK)
            measured.append(records)
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
        measured = [_at(curves, units, span.key, {
            'trunk_lateral_lean': TRUNK, 'knee_alignment': Anchor('Knee')})
            for span in spans]
        lines = {'trunk_lateral_lean': [('limit', 'trunk_lateral_max_deg')],
                 'knee_alignment': [('limit', 'knee_alignment_max_deg')]}
    return Measures(curves, units, spans, 'lowest hip position (largest '
                    'hip y)', measured, lines)


def _fist_gap(track: Track) -> Tuple[np.ndarray, bool]:
    """``(gap, estimated)``: (T,) pixel distance between the closest points
    of the two fists (FMS), from the hand keypoints: the smallest distance
    between a found keypoint of one hand and one of the other; without
    hand keypoints, the wrists' distance less each fist's reach beyond its
    wrist (:data:`FIST_REACH_HANDS` hand lengths of the forearm estimate),
    ``estimated`` True."""
    hands = track.hands
    if hands is not None:
        left, right = hands[:, LEFT_HAND], hands[:, RIGHT_HAND]  # (T, 21, 2)
        pairs = np.linalg.norm(left[:, :, None] - right[:, None], axis=-1)
        found = np.isfinite(pairs)
        if found.any(axis=(1, 2)).any():
            gap = np.where(found, pairs, np.inf).min(axis=(1, 2))
            return np.where(np.isfinite(gap), gap, np.nan), False
    xy = track.xy
    wrists = geo.distance(geo.joint(xy, 'Wrist', 'left'),
                          geo.joint(xy, 'Wrist', 'right'))
    reach = 2 * FIST_REACH_HANDS * _forearm_hand_length(track)
    return np.maximum(wrists - reach, 0.0), True


def _forearm_hand_length(track: Track) -> float:
    """Hand length in pixels estimated from the forearms (elbow to wrist,
    :data:`HAND_PER_FOREARM`)."""
    xy = track.xy
    forearms = np.concatenate([geo.distance(geo.joint(xy, 'Elbow', s),
                                            geo.joint(xy, 'Wrist', s))
                               for s in ('left', 'right')])
    if not np.isfinite(forearms).any():
        raise FmsError('shoulder_mobility: no hand keypoints and no forearm '
                       '(elbow and wrist) found: film the arms from behind '
                       'or run video_pose_detector.py with hands')
    return HAND_PER_FOREARM * float(np.nanmedian(forearms))


def _open_hand_length(track: Track) -> Optional[float]:
    """Wrist to middle fingertip in pixels over the frames where a hand is
    open (its middle finger straight: the wrist-to-tip distance at least
    :data:`OPEN_HAND_STRAIGHTNESS` of the finger chain's length), the
    :data:`HAND_LENGTH_PERCENTILE` percentile; None without an open hand."""
    hands = track.hands
    if hands is None:
        return None
    chain = [HAND_WRIST] + list(MIDDLE_FINGER)
    length = geo.distance(hands[..., HAND_WRIST, :],
                          hands[..., HAND_MIDDLE_TIP, :])          # (T, 2)
    along = sum(geo.distance(hands[..., a, :], hands[..., b, :])
                for a, b in zip(chain, chain[1:]))
    with np.errstate(invalid='ignore', divide='ignore'):
        straight = length >= OPEN_HAND_STRAIGHTNESS * along
    lengths = length[straight & np.isfinite(length)]
    if not lengths.size:
        return None
    return float(np.percentile(lengths, HAND_LENGTH_PERCENTILE))


def _body_height_px(xy: np.ndarray) -> float:
    """The standing body height in pixels: median vertical distance from
    the ankles to the shoulders over :data:`SHOULDER_ABOVE_ANKLE` of the
    stature (shoulder 0.818 H, ankle 0.039 H: Drillis & Contini 1966, in
    Winter 2009)."""
    rise = _mid(xy, 'Ankle')[:, 1] - _mid(xy, 'Shoulder')[:, 1]
    if not np.isfinite(rise).any():
        raise FmsError('shoulder_mobility: --stature-cm needs the ankles and '
                       'shoulders in the frame to set the pixel scale')
    return float(np.nanmedian(rise)) / SHOULDER_ABOVE_ANKLE


def _hand_length(track: Track, inputs: Mapping) -> Tuple[float, str, bool]:
    """``(pixels, source, estimated)``: the hand length (FMS: distal wrist
    crease to the tip of the longest finger, measured before the test):
    ``inputs['hand_length_cm']`` at the pixel scale of
    ``inputs['stature_cm']`` and the body height in pixels
    (:func:`_body_height_px`) when given; else an open hand measured in the
    clip (:func:`_open_hand_length`); else estimated from the forearms."""
    given = inputs.get('hand_length_cm')
    if given is not None:
        stature = inputs['stature_cm']      # both or neither: check_inputs
        scale = _body_height_px(track.xy) / float(stature)
        return (float(given) * scale, f'hand length {float(given):g} cm as '
                f'given, at {scale:.2f} px/cm from the stature '
                f'{float(stature):g} cm', False)
    measured = _open_hand_length(track)
    if measured is not None:
        return measured, 'hand length measured from an open hand in the ' \
            'clip', False
    return (_forearm_hand_length(track), 'hand length estimated from the '
            'forearm (hand 0.108 H, forearm 0.146 H, Drillis & Contini '
            '1966): give --hand-length-cm and --stature-cm', True)


def _shoulder_mobility(track: Track, side: str, view: str,
                       inputs) -> Measures:
    gap, fists_estimated = _fist_gap(track)
    _require({'left and right fists or wrists': gap[:, None]},
             'shoulder_mobility', view, 'film both hands, from behind')
    hand_length, source, estimated = _hand_length(track, inputs)
    distance = gap / hand_length
    spans = _repetitions(track, distance, False, 'the fist distance')
    key = _key(distance, False, 'the fist distance')    # closest of all
    # the upper hand (reaching down from over the shoulder) is the higher
    # wrist at the closest approach
    wrists = {s: geo.joint(track.xy, 'Wrist', s)[key, 1]
              for s in ('left', 'right')}
    other = geo.other_side(side)
    higher = (wrists[other] - wrists[side]) / _trunk_length(track.xy)
    if np.isfinite(higher):
        _check_side('shoulder_mobility', side, {side: higher,
                                                other: -higher},
                    'the upper hand')
    curves, units = {'fist_distance': distance}, {'fist_distance':
                                                  'hand lengths'}
    measured = []
    for span in spans:
        records = _at(curves, units, span.key,
                      {'fist_distance': Anchor('Wrist')})
        records.update(hand_length_px=Measurement(hand_length, 'px'),
                       hand_length_estimated=Measurement(
                           1.0 if estimated else 0.0, 'flag'),
                       fist_distance_estimated=Measurement(
                           1.0 if fists_estimated else 0.0, 'flag'))
        measured.append(records)
    notes = [source]
    if fists_estimated:
        notes.append(f'fist distance estimated: no hand keypoints, so the '
                     f'wrists\' distance less {FIST_REACH_HANDS:g} hand '
                     f'lengths for each fist')
    return Measures(curves, units, spans, 'smallest distance between the '
                    'fists', measured,
                    {'fist_distance': [
                        ('3', 'within_one_max_hands'),
                        ('2', 'within_one_and_half_max_hands')]}, notes)


def _travel(points: np.ndarray, length: float) -> float:
    """How far (T, 2) ``points`` get from their median position, in units
    of ``length`` pixels (0 when never found)."""
    centre = np.nanmedian(points, axis=0)
    return (_nan_stat(np.max, geo.distance(points, centre)) or 0.0) / length


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
    shank = np.nanmedian(geo.distance(lying['Knee'], lying['Ankle']))
    travel = {side: _travel(raised['Ankle'], shank),
              down: _travel(lying['Ankle'], shank)}
    _moved('aslr', max(travel.values()), MIN_LEG_TRAVEL_SHANKS,
           'the leg never rises')
    _check_side('aslr', side, travel, 'the raised leg')
    spans = _repetitions(track, leg_raise, True, 'the leg raise angle')
    return Measures(curves, units, spans, 'largest leg raise angle',
                    [_at(curves, units, span.key, {
                        'ankle_position': Anchor('Ankle'),
                        'leg_raise': Anchor('Hip')}) for span in spans],
                    {'ankle_position': [
                        ('mid-thigh', 'mid_thigh_min_fraction'),
                        ('knee', 'knee_min_fraction')]})


def _pushup(track: Track, side, view: str, inputs) -> Measures:
    xy = track.xy
    shoulder, hip, ankle = _mid(xy, 'Shoulder'), _mid(xy, 'Hip'), \
        _mid(xy, 'Ankle')
    wrist = _mid(xy, 'Wrist')
    _require({'shoulder': shoulder, 'hip': hip, 'ankle': ankle,
              'wrist': wrist}, 'trunk_stability_pushup', view,
             FULL_BODY.format(view=view))
    rise = np.nanmax(shoulder[:, 1]) - shoulder[:, 1]
    spans = _repetitions(track, rise, True, 'the shoulder height')
    _moved('trunk_stability_pushup', (_nan_stat(np.max, rise) or 0.0)
           / _trunk_length(xy), MIN_SHOULDER_RISE_TRUNKS,
           'the body never lifts')
    nose, scale, notes = _head_cue(xy)
    deviation = geo.flexion(shoulder, hip, ankle)
    axis = shoulder - ankle
    axis = axis / np.hypot(axis[:, 0], axis[:, 1])[:, None]
    with np.errstate(invalid='ignore', divide='ignore'):
        hand = ((wrist - shoulder) * axis).sum(axis=1) \
            / (((nose - shoulder) * axis).sum(axis=1) * scale)
    units = {'shoulder_rise': 'px', 'hip_deviation': 'deg',
             'hand_position': 'shoulder-to-nose lengths'}
    measured = []
    lying = rise < PRE_LIFT_FRACTION * np.nanmax(rise)
    index = np.arange(len(rise))
    for span in spans:
        inside = _span_mask(span, len(rise))
        top = rise[span.key]
        # the lift of this repetition; the hands measured lying before it
        # (in its span, else anywhere before its key frame)
        lift = inside & (rise >= LIFT_FRACTION * top)
        before = lying & (index < span.key)
        if (before & inside).any():
            before &= inside
        measured.append({
            'hip_deviation': Measurement(_nan_stat(np.max, deviation[lift]),
                                         units['hip_deviation'], TRUNK),
            'hand_position': Measurement(_nan_stat(np.median, hand[before]),
                                         units['hand_position'],
                                         Anchor('Wrist', CENTRAL)),
            'shoulder_rise_px': Measurement(top, 'px')})
    curves = {'shoulder_rise': rise, 'hip_deviation': deviation,
              'hand_position': hand}
    return Measures(curves, units, spans, 'highest shoulder during the '
                    'lift',
                    measured,
                    {'hip_deviation': [('limit', 'one_unit_max_deg')],
                     'hand_position': [('forehead', 'hand_forehead_min'),
                                       ('chin', 'hand_chin_min'),
                                       ('clavicle', 'hand_clavicle_min')]},
                    notes)


def _head_cue(xy: np.ndarray) -> Tuple[np.ndarray, float, List[str]]:
    """``(point, scale, notes)``: the (T, 2) head point the push-up's hand
    position is measured against, the ratio that converts its height over
    the shoulders into the nose's (:data:`HEAD_CUES`), and a note saying
    which cue stood in for the nose (all NaN when no head point was
    found: the hand position is then not judged)."""
    for name, joints, scale in HEAD_CUES:
        if joints == ('Nose',):
            point = geo.joint(xy, 'Nose')
        else:
            point = _mid(xy, joints[0])
        if np.isfinite(point).all(axis=-1).any():
            notes = [] if name == 'nose' else [
                f'head position from the {name} (nose not found), '
                f'converted to nose height']
            return point, scale, notes
    return np.full((len(xy), 2), np.nan), 1.0, [
        'hand position not judged: no nose, eyes or ears found']


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
    trunk_px = _trunk_length(xy)
    travel = {arm_side: _travel(geo.joint(xy, 'Wrist', arm_side), trunk_px)
              for arm_side in ('left', 'right')}
    _moved('rotary_stability', max(travel.values()), MIN_REACH_TRUNKS,
           'no arm ever reaches')
    _check_side('rotary_stability', side, travel, 'the moving arm')
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
    spans = _repetitions(track, curves['reach'], True, 'the reach')
    units = {name: 'deg' for name in curves}
    units.update(reach='trunk lengths', elbow_knee_distance='trunk lengths')
    measured = []
    for span in spans:
        key, end = span.key, span.last + 1
        records = _at(curves, units, key, {
            'arm_angle': Anchor('Shoulder'),
            'leg_angle': Anchor('Hip', TESTED if leg == side else OPPOSITE)})
        # the touch after the reach, and the trunk's stability, within the
        # repetition
        records.update(
            elbow_knee_distance=Measurement(
                _nan_stat(np.min, curves['elbow_knee_distance'][key:end]),
                units['elbow_knee_distance'], Anchor('Elbow')),
            trunk_angle_range=Measurement(
                _nan_stat(np.ptp, curves['trunk_angle'][span.first:end]),
                units['trunk_angle'], TRUNK),
            same_side_leg=Measurement(1.0 if leg == side else 0.0, 'flag'))
        measured.append(records)
    return Measures(curves, units, spans, 'largest reach (moving wrist to '
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
        inputs: what the camera cannot see: ``pain``, ``clearing_pain``
            (shoulder mobility, push-up, rotary stability),
            ``heels_raised``, ``sex`` ('male'/'female', push-up),
            ``pattern`` (rotary), ``hand_length_cm`` and ``stature_cm``
            (shoulder mobility: the hand length measured before the test,
            and the stature that sets its pixel scale).
        thresholds: overrides of the packaged thresholds (see
            :func:`fms.thresholds.test_thresholds`).
        params: gap filling and smoothing of the track.

    Returns:
        The :class:`fms.results.Analysis`, ``curve_thresholds`` holding the
        threshold lines (label, value) of the curves.

    Raises:
        FmsError: bad test, side or view; joints the test needs never found
            (the message names them and the framing to use); no criterion
            observable in the view; a clip without the tested movement
            (too few frames, or e.g. a squat whose hip never lowers); a
            ``side`` the movement contradicts (the message names the side
            detected); clearing pain for a test without a clearing test;
            a hand length or stature that is not a positive number, given
            without the other, or given for another test than shoulder
            mobility (:func:`fms.criteria.check_hand_scale`).
    """
    check_test(test)
    side = check_side(test, side)
    check_view(view)
    check_inputs(test, inputs)
    check_observable(test, view)
    values = test_thresholds(test, thresholds)
    if len(track) < MIN_FRAMES:
        raise FmsError(f'{test}: only {len(track)} frame(s): no movement to '
                       f'analyse; give a keypoint file or video of the '
                       f'whole trial')
    prepared = prepare_track(track, params)
    measures = MEASURES[test](prepared, side, view, inputs)
    verdicts = [evaluate(test, view, measured, values, inputs)
                for measured in measures.measurements]
    # a repetition where nothing was judged (its key frame without the
    # joints) cannot be the best; none judged at all: an error
    trial = score_repetitions(test, view, verdicts)
    chosen = trial.chosen
    repetitions = [Repetition(span.first, span.last, span.key, v.score,
                              measured, v.possible if v.judged else ())
                   for span, v, measured in zip(
                       measures.spans, verdicts, measures.measurements)]
    reasons = trial.reasons + list(measures.notes) + [
        repetition_line(repetitions, chosen, prepared.frames)]
    lines = {curve: [(label, values[key]) for label, key in entries]
             for curve, entries in measures.lines.items()
             if curve in measures.curves}
    key_reason = measures.key_reason
    if len(repetitions) > 1:
        key_reason += f', repetition {chosen + 1} of {len(repetitions)}'
    return Analysis(
        test=test, side=side, view=view, track=prepared,
        curves=measures.curves, curve_units=measures.units,
        curve_thresholds=lines, key_index=repetitions[chosen].key_index,
        key_reason=key_reason,
        measurements=repetitions[chosen].measurements,
        criteria=verdicts[chosen].criteria, score=trial.score,
        possible=trial.possible, to_film=trial.to_film, reasons=reasons, inputs=dict(inputs),
        thresholds=values, repetitions=repetitions, repetition=chosen)


def repetition_outcome(repetition: Repetition) -> str:
    """``scored 2``, ``provisional (1 or 3)`` or ``not judged (joints not
    found)``."""
    if repetition.score is not None:
        return f'scored {repetition.score}'
    if repetition.possible:
        return f'provisional ({scores_in_words(repetition.possible)})'
    return 'not judged (joints not found)'


def repetition_line(repetitions: List[Repetition], chosen: int,
                    frames: np.ndarray) -> str:
    """The reason line naming the repetition scored: ``repetition 2 of 3
    (frames 61-118), the best; others: repetition 1 scored 1, repetition 3
    scored 2`` (``one repetition (frames 0-89)`` when only one)."""
    def span(r: Repetition) -> str:
        return (f'frames {int(frames[r.first_index])}-'
                f'{int(frames[r.last_index])}')
    best = repetitions[chosen]
    if len(repetitions) == 1:
        return f'one repetition ({span(best)})'
    others = ', '.join(f'repetition {i + 1} {repetition_outcome(r)}'
                       for i, r in enumerate(repetitions) if i != chosen)
    return (f'repetition {chosen + 1} of {len(repetitions)} ({span(best)}), '
            f'the best; others: {others}')
