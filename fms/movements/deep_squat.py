"""The deep squat: its curves, repetitions (from the hip height) and the
measurements at each repetition's key frame, the lowest hip position.

Curves ((T,) float64, NaN where joints are missing; "mid" points are the
mean of the left and right joints found: in a side view both sides
project onto about the same place):

* side view: ``knee_flexion`` = flexion(hip, knee, ankle), ``hip_flexion``
  = flexion(shoulder, hip, knee), ``trunk_inclination`` = inclination(hip,
  shoulder), ``tibia_inclination`` = inclination(ankle, knee),
  ``torso_tibia_difference`` = trunk - tibia inclination, ``femur_angle``
  = angle_below_horizontal(hip, knee), ``dowel_offset`` = horizontal
  offset of the wrists from the ankle in tibia lengths (all of mid
  points);
* front view: ``knee_medial_offset_left`` / ``_right`` and their maximum
  ``knee_medial_offset`` (hip widths);
* both: ``hip_y``.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from fms import angles as geo
from fms.measurements import CENTRAL, Anchor, Measurements
from fms.movements.common import (FULL_BODY, MIN_HIP_DROP_TRUNKS, NECK,
                                  TRUNK, Lines, Measures, at, mid, moved,
                                  nan_stat, repetitions, require,
                                  trunk_length)
from fms.repetitions import Span
from fms.sequence import Track


def measure_deep_squat(track: Track, side: Optional[str], view: str,
                       inputs) -> Measures:
    """The deep squat's :class:`Measures` in ``view`` (``side`` and
    ``inputs`` unused: the test is not bilateral)."""
    xy = track.xy
    hip = mid(xy, 'Hip')
    require({'hip': hip}, 'deep_squat', view, FULL_BODY.format(view=view))
    spans = repetitions(track, hip[:, 1], True, 'the hip height')
    moved('deep_squat', (nan_stat(np.ptp, hip[:, 1]) or 0.0)
          / trunk_length(xy), MIN_HIP_DROP_TRUNKS, 'the hip never lowers')
    curves = {'hip_y': hip[:, 1]}
    units = {'hip_y': 'px'}
    if view == 'side':
        measured, lines = _side_view(xy, hip, view, spans, curves, units)
    else:
        measured, lines = _front_view(xy, view, spans, curves, units)
    return Measures(curves, units, spans, 'lowest hip position (largest '
                    'hip y)', measured, lines)


def _side_view(xy: np.ndarray, hip: np.ndarray, view: str,
               spans: List[Span], curves: Dict[str, np.ndarray],
               units: Dict[str, str]) -> Tuple[List[Measurements], Lines]:
    """Adds the side view's curves and units to ``curves`` and ``units``
    (``xy``: the track's (T, 18, 2) ``(x, y)``, ``hip``: (T, 2) mid hip);
    returns the records of each repetition and the threshold lines."""
    knee, ankle = mid(xy, 'Knee'), mid(xy, 'Ankle')
    shoulder, wrist = mid(xy, 'Shoulder'), mid(xy, 'Wrist')
    require({'hip': hip, 'knee': knee, 'ankle': ankle,
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
    measured = [at(curves, units, span.key, anchors) for span in spans]
    lines = {'femur_angle': [('femur horizontal', 'femur_angle_min_deg')],
             'torso_tibia_difference': [('limit', 'torso_tibia_max_deg')],
             'dowel_offset': [('limit', 'dowel_offset_max_tibia')]}
    return measured, lines


def _front_view(xy: np.ndarray, view: str, spans: List[Span],
                curves: Dict[str, np.ndarray],
                units: Dict[str, str]) -> Tuple[List[Measurements], Lines]:
    """Adds the front view's curves (each knee's medial offset and the
    worse of the two) and units to ``curves`` and ``units``; returns the
    records of each repetition and the threshold lines."""
    offsets = {}
    for side_name in ('left', 'right'):
        other = geo.other_side(side_name)
        points = {f'{side_name} {j.lower()}': geo.joint(xy, j, side_name)
                  for j in ('Hip', 'Knee', 'Ankle')}
        require(points, 'deep_squat', view, FULL_BODY.format(view=view))
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
        measured.append(at(curves, units, key, anchors))
    lines = {'knee_medial_offset': [('limit',
                                     'knee_medial_max_hip_widths')]}
    return measured, lines
