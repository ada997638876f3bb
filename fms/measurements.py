"""One measured value of a trial, as a record: value, unit and anchor.

:func:`fms.analysis.analyze_track` produces a :class:`Measurement` for every
value it measures; the criteria compare the values, the reports print them
with their unit and write them beside their :class:`Anchor` joint.  The
unit and the anchor are stated once, where the value is measured.

An anchor is a joint name without its side prefix (``'Knee'``) or a joint
that has no side (``'Neck'``), and where that joint is taken:

==============  ============================================================
``TESTED``      the tested side's joint (both sides' mean when the test is
                not scored per side)
``OPPOSITE``    the other side's joint (the stance leg, the back knee)
``CENTRAL``     between the left and right joints (trunk measures)
``'left'``,     that side's joint, whatever side is tested
``'right'``
==============  ============================================================

A measurement without an anchor (bookkeeping values such as a hand length
in pixels) is not written on the image.

Example::

    >>> Measurement(12.5, 'deg', Anchor('Knee', TESTED)).value
    12.5
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Mapping, Optional

from common.numbers import finite_or_none
from entity import JOINT_INDEX
from fms.angles import SIDE_PREFIX, other_side
from fms.protocol import SIDES

#: Where an anchor joint is taken (see the module docstring).
TESTED = 'tested'
OPPOSITE = 'opposite'
CENTRAL = 'central'
PLACES = (TESTED, OPPOSITE, CENTRAL) + SIDES


@dataclasses.dataclass(frozen=True)
class Anchor:
    """The joint a measured value belongs to: ``joint`` without its side
    prefix (``'Ankle'``) or a joint without sides (``'Neck'``), and
    ``place``, one of :data:`PLACES`."""
    joint: str
    place: str = TESTED

    def __post_init__(self):
        if self.place not in PLACES:
            raise ValueError(f'anchor place {self.place!r}: use one of '
                             f'{", ".join(PLACES)}')
        if not joint_names(self, 'left'):
            raise ValueError(f'anchor joint {self.joint!r} is not a joint of '
                             f'entity.JOINT_NAMES')


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One measured value: ``value`` (None when the joints it needs were
    not found), its ``unit`` ('deg', 'hand lengths', ...) and its
    ``anchor`` (None: not written on the key frame image)."""
    value: Optional[float]
    unit: str
    anchor: Optional[Anchor] = None

    def __post_init__(self):
        object.__setattr__(self, 'value', finite_or_none(self.value))


#: Measurements by name, as :class:`fms.results.Analysis` holds them.
Measurements = Dict[str, Measurement]


def joint_names(anchor: Anchor, side: Optional[str]) -> List[str]:
    """The :data:`entity.JOINT_NAMES` names an anchor stands for when the
    tested side is ``side`` (None for tests not scored per side): one joint,
    or both sides' joints whose mean is the anchor point."""
    if anchor.joint in JOINT_INDEX:
        return [anchor.joint]
    if anchor.place in SIDES:
        sides = [anchor.place]
    elif anchor.place == CENTRAL or side not in SIDES:
        sides = list(SIDES)
    else:
        sides = [side if anchor.place == TESTED else other_side(side)]
    names = [SIDE_PREFIX[s] + anchor.joint for s in sides]
    return names if all(name in JOINT_INDEX for name in names) else []


def values(measurements: Mapping[str, Measurement]
           ) -> Dict[str, Optional[float]]:
    """name -> value of each measurement (None where not measured)."""
    return {name: m.value for name, m in measurements.items()}


def anchor_document(anchor: Optional[Anchor]) -> Optional[dict]:
    """``{"joint", "place"}`` of an anchor for a JSON document, or None."""
    return None if anchor is None else dataclasses.asdict(anchor)


def anchor_from_document(entry) -> Optional[Anchor]:
    """The :class:`Anchor` of :func:`anchor_document`'s dict, or None for
    None or an entry that is not a valid anchor."""
    if not isinstance(entry, dict):
        return None
    try:
        return Anchor(str(entry.get('joint')), str(entry.get('place')))
    except ValueError:
        return None
