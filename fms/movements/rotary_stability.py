"""Rotary stability: its curves, repetitions (from the reach) and the
measurements of each repetition: the arm and leg angles at its key frame
(the largest reach), the elbow-to-knee touch after it and the trunk's
stability over the repetition.  The moving leg is trial-wide.

Curves ((T,) float64, NaN where joints are missing): ``reach`` (moving
wrist to moving ankle, trunk lengths), ``arm_angle``, ``leg_angle``
(|angle to horizontal| of shoulder->wrist and hip->ankle),
``elbow_knee_distance`` (trunk lengths), ``trunk_angle``
(angle_below_horizontal(hip, shoulder), of mid points).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from fms import angles as geo
from fms.measurements import OPPOSITE, TESTED, Anchor, Measurement
from fms.movements.common import (FULL_BODY, TRUNK, Measures, at,
                                  check_moving_side, farthest_travel, mid,
                                  moved, nan_stat, repetitions, require,
                                  trunk_length)
from fms.sequence import Track

#: Least movement of a trial, else the clip is refused (our choice, well
#: below the movements of a real trial): the moving wrist travels this many
#: trunk lengths.
MIN_REACH_TRUNKS = 0.3


def measure_rotary_stability(track: Track, side: str, view: str,
                             inputs: Mapping) -> Measures:
    """Rotary stability's :class:`Measures`, ``side`` the moving arm's;
    ``inputs['pattern']`` (when given) says which leg moves
    (:func:`_moving_leg`)."""
    xy = track.xy
    trunk_px = trunk_length(xy)
    travel = {arm_side: farthest_travel(geo.joint(xy, 'Wrist', arm_side),
                                        trunk_px)
              for arm_side in ('left', 'right')}
    moved('rotary_stability', max(travel.values()), MIN_REACH_TRUNKS,
          'no arm ever reaches')
    check_moving_side('rotary_stability', side, travel, 'the moving arm')
    leg = _moving_leg(xy, side, inputs)
    arm = {j: geo.joint(xy, j, side) for j in ('Shoulder', 'Elbow', 'Wrist')}
    limb = {j: geo.joint(xy, j, leg) for j in ('Hip', 'Knee', 'Ankle')}
    hip, shoulder = mid(xy, 'Hip'), mid(xy, 'Shoulder')
    require({**{f'{side} {j.lower()}': p for j, p in arm.items()},
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
    spans = repetitions(track, curves['reach'], True, 'the reach')
    units = {name: 'deg' for name in curves}
    units.update(reach='trunk lengths', elbow_knee_distance='trunk lengths')
    measured = []
    for span in spans:
        key, end = span.key, span.last + 1
        records = at(curves, units, key, {
            'arm_angle': Anchor('Shoulder'),
            'leg_angle': Anchor('Hip', TESTED if leg == side else OPPOSITE)})
        # the touch after the reach, and the trunk's stability, within the
        # repetition
        records.update(
            elbow_knee_distance=Measurement(
                nan_stat(np.min, curves['elbow_knee_distance'][key:end]),
                units['elbow_knee_distance'], Anchor('Elbow')),
            trunk_angle_range=Measurement(
                nan_stat(np.ptp, curves['trunk_angle'][span.first:end]),
                units['trunk_angle'], TRUNK),
            same_side_leg=Measurement(1.0 if leg == side else 0.0, 'flag'))
        measured.append(records)
    return Measures(curves, units, spans, 'largest reach (moving wrist to '
                    'moving ankle)', measured,
                    {'arm_angle': [('limit', 'arm_extension_max_deg')],
                     'leg_angle': [('limit', 'leg_extension_max_deg')],
                     'elbow_knee_distance': [('touch',
                                              'elbow_knee_max_trunk')]})


def _moving_leg(xy: np.ndarray, side: str, inputs: Mapping) -> str:
    """The side of the moving leg: from ``inputs['pattern']`` when given,
    else the ankle farthest from its median position at some frame."""
    pattern = inputs.get('pattern')
    if pattern in ('unilateral', 'diagonal'):
        return side if pattern == 'unilateral' else geo.other_side(side)
    motion = {leg: farthest_travel(geo.joint(xy, 'Ankle', leg), 1.0)
              for leg in ('left', 'right')}
    return max(motion, key=motion.get)
