"""The in-line lunge: its curves, repetitions (from the hip height) and
the measurements at each repetition's key frame, the lowest hip position.

Curves ((T,) float64, NaN where joints are missing): ``hip_y``; side
view: ``trunk_inclination``, ``back_knee_height`` (front ankle y - back
knee y, in front shank lengths); front view: ``trunk_lateral_lean``,
``knee_alignment`` (|frontal knee deviation| of the front leg, degrees).
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from fms import angles as geo
from fms.measurements import OPPOSITE, Anchor, Measurement, Measurements
from fms.movements.common import (FULL_BODY, MIN_HIP_DROP_TRUNKS, NECK,
                                  TRUNK, Measures, at, check_moving_side,
                                  find_key, mid, moved, nan_stat,
                                  repetitions, require, trunk_length)
from fms.repetitions import Span
from fms.sequence import Track


def measure_inline_lunge(track: Track, side: str, view: str,
                         inputs) -> Measures:
    """The in-line lunge's :class:`Measures` in ``view``, ``side`` the
    front leg's (``inputs`` unused)."""
    xy, back = track.xy, geo.other_side(side)
    hip, shoulder = mid(xy, 'Hip'), mid(xy, 'Shoulder')
    require({'hip': hip, 'shoulder': shoulder}, 'inline_lunge', view,
            FULL_BODY.format(view=view))
    spans = repetitions(track, hip[:, 1], True, 'the hip height')
    key = find_key(hip[:, 1], True, 'the hip height')   # the lowest of all
    moved('inline_lunge', (nan_stat(np.ptp, hip[:, 1]) or 0.0)
          / trunk_length(xy),
          MIN_HIP_DROP_TRUNKS, 'the hip never lowers')
    curves, units = {'hip_y': hip[:, 1]}, {'hip_y': 'px'}
    front = {j: geo.joint(xy, j, side) for j in ('Hip', 'Knee', 'Ankle')}
    _check_front_leg(xy, side, front['Knee'], key)
    if view == 'side':
        back_knee = geo.joint(xy, 'Knee', back)
        require({f'{side} knee': front['Knee'], f'{side} ankle':
                 front['Ankle'], f'{back} knee': back_knee},
                'inline_lunge', view, FULL_BODY.format(view=view))
        shank = np.nanmedian(geo.distance(front['Knee'], front['Ankle']))
        curves['trunk_inclination'] = geo.inclination(hip, shoulder)
        curves['back_knee_height'] = (front['Ankle'][:, 1]
                                      - back_knee[:, 1]) / shank
        units.update(trunk_inclination='deg',
                     back_knee_height='shank lengths')
        measured = [_side_records(curves, units, span) for span in spans]
        lines = {'trunk_inclination': [('limit',
                                        'trunk_inclination_max_deg')],
                 'back_knee_height': [('board',
                                       'back_knee_height_max_shanks')]}
    else:
        require({f'{side} {j.lower()}': p for j, p in front.items()},
                'inline_lunge', view, FULL_BODY.format(view=view))
        curves['trunk_lateral_lean'] = geo.inclination(
            hip, geo.joint(xy, 'Neck'))
        curves['knee_alignment'] = np.abs(geo.frontal_knee_deviation(
            front['Hip'], front['Knee'], front['Ankle'],
            geo.joint(xy, 'Hip', back)))
        units.update(trunk_lateral_lean='deg', knee_alignment='deg')
        measured = [at(curves, units, span.key, {
            'trunk_lateral_lean': TRUNK, 'knee_alignment': Anchor('Knee')})
            for span in spans]
        lines = {'trunk_lateral_lean': [('limit', 'trunk_lateral_max_deg')],
                 'knee_alignment': [('limit', 'knee_alignment_max_deg')]}
    return Measures(curves, units, spans, 'lowest hip position (largest '
                    'hip y)', measured, lines)


def _check_front_leg(xy: np.ndarray, side: str, front_knee: np.ndarray,
                     key: int) -> None:
    """FmsError when the front leg is not ``side``'s: the back knee lowers
    toward the board, so the front knee ((T, 2) ``front_knee``) is the
    higher one at the lowest hip position (frame ``key``)."""
    back = geo.other_side(side)
    knee_gap = (geo.joint(xy, 'Knee', back)[key, 1] - front_knee[key, 1]) \
        / trunk_length(xy)
    if np.isfinite(knee_gap):
        check_moving_side('inline_lunge', side,
                          {side: knee_gap, back: -knee_gap},
                          'the front leg (the higher knee at the bottom)')


def _side_records(curves: Dict[str, np.ndarray], units: Dict[str, str],
                  span: Span) -> Measurements:
    """The side view's records of the repetition ``span``: the curves at
    its key frame, and the trunk inclination's range over its frames."""
    records = at(curves, units, span.key, {
        'trunk_inclination': TRUNK,
        'back_knee_height': Anchor('Knee', OPPOSITE)})
    # FMS: no torso movement during the repetition: the range over the
    # repetition's frames
    records['trunk_inclination_range'] = Measurement(nan_stat(
        np.ptp, curves['trunk_inclination'][span.first:span.last + 1]),
        units['trunk_inclination'], NECK)
    return records
