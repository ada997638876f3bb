"""The active straight leg raise (ASLR): its curves, repetitions (from the
leg raise angle) and the measurements at each repetition's key frame, the
largest leg raise angle.

Curves ((T,) float64, NaN where joints are missing): ``leg_raise`` (angle
between raised hip->ankle and down hip->ankle), ``ankle_position`` (raised
ankle projected onto the down leg: knee 0, hip 1).
"""
from __future__ import annotations

import numpy as np

from fms import angles as geo
from fms.measurements import Anchor
from fms.movements.common import (Measures, at, check_moving_side,
                                  farthest_travel, moved, repetitions,
                                  require)
from fms.sequence import Track

#: Least movement of a trial, else the clip is refused (our choice, well
#: below the movements of a real trial): the raised ankle travels this many
#: shank lengths.
MIN_LEG_TRAVEL_SHANKS = 0.3


def measure_aslr(track: Track, side: str, view: str, inputs) -> Measures:
    """The ASLR's :class:`Measures`, ``side`` the raised leg's (``inputs``
    unused)."""
    xy, down = track.xy, geo.other_side(side)
    raised = {j: geo.joint(xy, j, side) for j in ('Hip', 'Ankle')}
    lying = {j: geo.joint(xy, j, down) for j in ('Hip', 'Knee', 'Ankle')}
    require({f'{side} hip': raised['Hip'], f'{side} ankle': raised['Ankle'],
             **{f'{down} {j.lower()}': p for j, p in lying.items()}},
            'aslr', view, 'film the whole body lying, from the side')
    leg_raise = geo.segment_angle(raised['Hip'], raised['Ankle'],
                                  lying['Hip'], lying['Ankle'])
    position = geo.projection_fraction(raised['Ankle'], lying['Knee'],
                                       lying['Hip'])
    curves = {'leg_raise': leg_raise, 'ankle_position': position}
    units = {'leg_raise': 'deg', 'ankle_position': 'fraction'}
    shank = np.nanmedian(geo.distance(lying['Knee'], lying['Ankle']))
    travel = {side: farthest_travel(raised['Ankle'], shank),
              down: farthest_travel(lying['Ankle'], shank)}
    moved('aslr', max(travel.values()), MIN_LEG_TRAVEL_SHANKS,
          'the leg never rises')
    check_moving_side('aslr', side, travel, 'the raised leg')
    spans = repetitions(track, leg_raise, True, 'the leg raise angle')
    return Measures(curves, units, spans, 'largest leg raise angle',
                    [at(curves, units, span.key, {
                        'ankle_position': Anchor('Ankle'),
                        'leg_raise': Anchor('Hip')}) for span in spans],
                    {'ankle_position': [
                        ('mid-thigh', 'mid_thigh_min_fraction'),
                        ('knee', 'knee_min_fraction')]})
