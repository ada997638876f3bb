"""The Functional Movement Screen's tests, sides, views and score scale.

Defined once here; every other module of :mod:`fms` imports them.  The seven
tests and the 0-3 scale are those of Cook, Burton and Hoogenboom's FMS
(2006); a total of 14 or less is the commonly used raised-risk cut-off
(Kiesel et al. 2007).
"""
from __future__ import annotations

from typing import Optional, Tuple

from fms import FmsError

#: The seven tests, in the order of the screen.
TESTS: Tuple[str, ...] = (
    'deep_squat', 'hurdle_step', 'inline_lunge', 'shoulder_mobility',
    'aslr', 'trunk_stability_pushup', 'rotary_stability',
)

#: Tests scored per side (left and right); the lower side counts.
BILATERAL_TESTS: Tuple[str, ...] = (
    'hurdle_step', 'inline_lunge', 'shoulder_mobility', 'aslr',
    'rotary_stability',
)

#: Sides of a bilateral test: the side of the moving (stepping, front,
#: raised, top-hand, extending) limb, as the FMS names it.
SIDES: Tuple[str, ...] = ('left', 'right')

#: Camera views: ``front`` films the frontal plane (camera in front of or
#: behind the subject), ``side`` the sagittal plane.
VIEWS: Tuple[str, ...] = ('front', 'side')

#: Scores of one test: 0 = pain, 1 = cannot perform the pattern,
#: 2 = performs it with compensation, 3 = performs it correctly.
SCORES: Tuple[int, ...] = (0, 1, 2, 3)
MAX_SCORE = 3

#: A total (sum of the seven test scores, out of 21) at or below this is
#: read as raised injury risk.
RISK_TOTAL = 14


def check_test(test: str) -> str:
    """``test`` if it is one of :data:`TESTS`, else :class:`FmsError`."""
    if test not in TESTS:
        raise FmsError(f'unknown test {test!r}: use one of '
                       f'{", ".join(TESTS)}')
    return test


def check_side(test: str, side: Optional[str]) -> Optional[str]:
    """The side to record for ``test``: required (left/right) for bilateral
    tests, ``None`` for the others (a side given for them is an error)."""
    if test in BILATERAL_TESTS:
        if side not in SIDES:
            raise FmsError(f'{test} is scored per side: give --side left or '
                           f'--side right')
        return side
    if side not in (None, ''):
        raise FmsError(f'{test} is not scored per side: leave out --side')
    return None


def check_view(view: str) -> str:
    """``view`` if it is one of :data:`VIEWS`, else :class:`FmsError`."""
    if view not in VIEWS:
        raise FmsError(f'unknown view {view!r}: use front or side')
    return view
