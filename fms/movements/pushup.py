"""The trunk stability push-up: its curves, repetitions (from the shoulder
rise) and the measurements of each repetition: the hip deviation over its
lift, the hand position lying before it, the shoulder rise at its key
frame (the highest shoulder).

Curves ((T,) float64, NaN where joints are missing): ``shoulder_rise``
(pixels above the lowest shoulder position of the whole clip),
``hip_deviation`` = flexion(shoulder, hip, ankle), ``hand_position``
(wrists along the body: shoulder 0, nose 1; of mid points).
"""
from __future__ import annotations

from typing import List, Mapping, Optional, Tuple

import numpy as np

from fms import angles as geo
from fms.measurements import CENTRAL, Anchor, Measurement, Measurements
from fms.movements.common import (FULL_BODY, TRUNK, Measures, mid, moved,
                                  nan_stat, repetitions, require,
                                  trunk_length)
from fms.repetitions import Span
from fms.sequence import Track

#: Push-up phases, as fractions of the largest shoulder rise: the lift
#: (judged for one-unit movement) and before it (hands measured lying).
LIFT_FRACTION = 0.5
PRE_LIFT_FRACTION = 0.1
#: Least movement of a trial, else the clip is refused (our choice, well
#: below the movements of a real trial): the shoulders rise this many trunk
#: lengths.
MIN_SHOULDER_RISE_TRUNKS = 0.1
#: Head cues for the push-up's hand position when the nose is not found:
#: (name, joints) in order of preference, with the ratio of the
#: shoulder-to-nose height to the shoulder-to-cue height along the body
#: (nose 0.09 H, eyes 0.11 H, ears 0.10 H above the neck: our
#: approximation of Drillis & Contini 1966, as in tests/fixtures).
HEAD_CUES = (('nose', ('Nose',), 1.0), ('eyes', ('Eye',), 0.09 / 0.11),
             ('ears', ('Ear',), 0.09 / 0.10))


def measure_pushup(track: Track, side: Optional[str], view: str,
                   inputs) -> Measures:
    """The trunk stability push-up's :class:`Measures` in ``view``
    (``side`` and ``inputs`` unused: the sex is read when judging)."""
    xy = track.xy
    shoulder, hip, ankle = mid(xy, 'Shoulder'), mid(xy, 'Hip'), \
        mid(xy, 'Ankle')
    wrist = mid(xy, 'Wrist')
    require({'shoulder': shoulder, 'hip': hip, 'ankle': ankle,
             'wrist': wrist}, 'trunk_stability_pushup', view,
            FULL_BODY.format(view=view))
    rise = np.nanmax(shoulder[:, 1]) - shoulder[:, 1]
    spans = repetitions(track, rise, True, 'the shoulder height')
    moved('trunk_stability_pushup', (nan_stat(np.max, rise) or 0.0)
          / trunk_length(xy), MIN_SHOULDER_RISE_TRUNKS,
          'the body never lifts')
    nose, scale, notes = _head_cue(xy)
    deviation = geo.flexion(shoulder, hip, ankle)
    hand = _hand_position(wrist, shoulder, ankle, nose, scale)
    units = {'shoulder_rise': 'px', 'hip_deviation': 'deg',
             'hand_position': 'shoulder-to-nose lengths'}
    curves = {'shoulder_rise': rise, 'hip_deviation': deviation,
              'hand_position': hand}
    measured = [_repetition_records(curves, units, span) for span in spans]
    return Measures(curves, units, spans, 'highest shoulder during the '
                    'lift',
                    measured,
                    {'hip_deviation': [('limit', 'one_unit_max_deg')],
                     'hand_position': [('forehead', 'hand_forehead_min'),
                                       ('chin', 'hand_chin_min'),
                                       ('clavicle', 'hand_clavicle_min')]},
                    notes)


def _hand_position(wrist: np.ndarray, shoulder: np.ndarray,
                   ankle: np.ndarray, nose: np.ndarray,
                   scale: float) -> np.ndarray:
    """(T,) the wrists' position along the body axis (ankle -> shoulder):
    shoulder 0, nose 1 (the head point ``nose`` converted by ``scale``,
    :func:`_head_cue`); points (T, 2) mid ``(x, y)``."""
    axis = shoulder - ankle
    axis = axis / np.hypot(axis[:, 0], axis[:, 1])[:, None]
    with np.errstate(invalid='ignore', divide='ignore'):
        return ((wrist - shoulder) * axis).sum(axis=1) \
            / (((nose - shoulder) * axis).sum(axis=1) * scale)


def _repetition_records(curves: Mapping[str, np.ndarray],
                        units: Mapping[str, str],
                        span: Span) -> Measurements:
    """The records of the repetition ``span``: the largest hip deviation
    over its lift, the hand position lying before it, the shoulder rise at
    its key frame."""
    rise, deviation = curves['shoulder_rise'], curves['hip_deviation']
    hand = curves['hand_position']
    lying = rise < PRE_LIFT_FRACTION * np.nanmax(rise)
    index = np.arange(len(rise))
    inside = _span_mask(span, len(rise))
    top = rise[span.key]
    # the lift of this repetition; the hands measured lying before it
    # (in its span, else anywhere before its key frame)
    lift = inside & (rise >= LIFT_FRACTION * top)
    before = lying & (index < span.key)
    if (before & inside).any():
        before &= inside
    return {
        'hip_deviation': Measurement(nan_stat(np.max, deviation[lift]),
                                     units['hip_deviation'], TRUNK),
        'hand_position': Measurement(nan_stat(np.median, hand[before]),
                                     units['hand_position'],
                                     Anchor('Wrist', CENTRAL)),
        'shoulder_rise_px': Measurement(top, 'px')}


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
            point = mid(xy, joints[0])
        if np.isfinite(point).all(axis=-1).any():
            notes = [] if name == 'nose' else [
                f'head position from the {name} (nose not found), '
                f'converted to nose height']
            return point, scale, notes
    return np.full((len(xy), 2), np.nan), 1.0, [
        'hand position not judged: no nose, eyes or ears found']


def _span_mask(span: Span, frames: int) -> np.ndarray:
    """(frames,) bool: the frames of ``span``."""
    t = np.arange(frames)
    return (t >= span.first) & (t <= span.last)
