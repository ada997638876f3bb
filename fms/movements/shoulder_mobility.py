"""Shoulder mobility: the fist distance, its repetitions (from the fist
distance) and the measurements at each repetition's key frame, the
smallest distance between the fists.

Curve ((T,) float64, NaN where joints are missing): ``fist_distance``
(closest points of the two fists, in hand lengths: see :func:`_fist_gap`
and :func:`_hand_length`).  The hand length is trial-wide: given with the
stature, else measured from an open hand in the clip, else estimated from
the forearms.
"""
from __future__ import annotations

from typing import Mapping, Optional, Tuple

import numpy as np

from entity import LEFT_HAND, RIGHT_HAND
from fms import FmsError
from fms import angles as geo
from fms.measurements import Anchor, Measurement
from fms.movements.common import (Measures, at, check_moving_side, find_key,
                                  mid, repetitions, require, trunk_length)
from fms.sequence import Track

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


def measure_shoulder_mobility(track: Track, side: str, view: str,
                              inputs: Mapping) -> Measures:
    """Shoulder mobility's :class:`Measures`, ``side`` the upper hand's;
    ``inputs`` may hold ``hand_length_cm`` and ``stature_cm``
    (:func:`_hand_length`)."""
    gap, fists_estimated = _fist_gap(track)
    require({'left and right fists or wrists': gap[:, None]},
            'shoulder_mobility', view, 'film both hands, from behind')
    hand_length, source, estimated = _hand_length(track, inputs)
    distance = gap / hand_length
    spans = repetitions(track, distance, False, 'the fist distance')
    key = find_key(distance, False, 'the fist distance')   # closest of all
    _check_upper_hand(track.xy, side, key)
    curves, units = {'fist_distance': distance}, {'fist_distance':
                                                  'hand lengths'}
    measured = []
    for span in spans:
        records = at(curves, units, span.key,
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


def _check_upper_hand(xy: np.ndarray, side: str, key: int) -> None:
    """FmsError when the upper hand is not ``side``'s: the upper hand
    (reaching down from over the shoulder) is the higher wrist at the
    closest approach (frame ``key``; ``xy``: the track's (T, 18, 2)
    ``(x, y)``)."""
    wrists = {s: geo.joint(xy, 'Wrist', s)[key, 1]
              for s in ('left', 'right')}
    other = geo.other_side(side)
    higher = (wrists[other] - wrists[side]) / trunk_length(xy)
    if np.isfinite(higher):
        check_moving_side('shoulder_mobility', side,
                          {side: higher, other: -higher}, 'the upper hand')


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
    rise = mid(xy, 'Ankle')[:, 1] - mid(xy, 'Shoulder')[:, 1]
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
