"""The hurdle step: its curves, repetitions (from the stepping ankle's
height) and the measurements at each repetition's key frame, the highest
stepping ankle.

Curves ((T,) float64, NaN where joints are missing):
``stepping_ankle_height`` (stance ankle y - stepping ankle y, in stance
shank lengths); side view: ``trunk_inclination``; front view:
``leg_alignment`` (hip widths), ``trunk_lateral_lean`` (inclination of
mid-hip -> neck), ``shoulder_tilt`` (|angle of the shoulder line to
horizontal|).
"""
from __future__ import annotations

import numpy as np

from fms import angles as geo
from fms.measurements import CENTRAL, Anchor, Measurement
from fms.movements.common import (FULL_BODY, TRUNK, Measures, at,
                                  check_moving_side, mid, moved, nan_stat,
                                  repetitions, require)
from fms.sequence import Track

#: Least movement of a trial, else the clip is refused (our choice, well
#: below the movements of a real trial): the stepping ankle rises this many
#: stance shank lengths.
MIN_STEP_SHANKS = 0.3


def measure_hurdle_step(track: Track, side: str, view: str,
                        inputs) -> Measures:
    """The hurdle step's :class:`Measures` in ``view``, ``side`` the
    stepping leg's (``inputs`` unused)."""
    xy, other = track.xy, geo.other_side(side)
    step = {j: geo.joint(xy, j, side) for j in ('Hip', 'Knee', 'Ankle')}
    stance = {j: geo.joint(xy, j, other) for j in ('Hip', 'Knee', 'Ankle')}
    require({f'{side} ankle': step['Ankle'], f'{other} ankle':
             stance['Ankle'], f'{other} knee': stance['Knee']},
            'hurdle_step', view, FULL_BODY.format(view=view))
    shank = np.nanmedian(geo.distance(stance['Knee'], stance['Ankle']))
    height = (stance['Ankle'][:, 1] - step['Ankle'][:, 1]) / shank
    rises = {side: nan_stat(np.max, height) or 0.0,
             other: nan_stat(np.max, -height) or 0.0}
    moved('hurdle_step', max(rises.values()), MIN_STEP_SHANKS,
          'no foot ever lifts (no step)')
    check_moving_side('hurdle_step', side, rises, 'the stepping leg')
    spans = repetitions(track, height, True, 'the stepping ankle height')
    curves = {'stepping_ankle_height': height}
    units = {'stepping_ankle_height': 'shank lengths'}
    hip, shoulder = mid(xy, 'Hip'), mid(xy, 'Shoulder')
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
        records = at(curves, units, key, anchors)
        if view == 'side':
            records['trunk_forward_lean'] = Measurement(
                curves['trunk_inclination'][key], units['trunk_inclination'],
                TRUNK)
        records['clearance'] = Measurement(
            height[key], units['stepping_ankle_height'], Anchor('Ankle'))
        measured.append(records)
    return Measures(curves, units, spans, 'highest stepping ankle',
                    measured, lines)
