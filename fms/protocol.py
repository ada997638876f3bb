"""The Functional Movement Screen's tests, sides, views and score scale.

Defined once here; every other module of :mod:`fms` imports them.  The seven
tests and the 0-3 scale are those of Cook, Burton and Hoogenboom's FMS
(2006); a total of 14 or less is the commonly used raised-risk cut-off
(Kiesel et al. 2007).
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Tuple

from fms import FmsError

#: The seven tests, in the order of the screen.
TESTS: Tuple[str, ...] = (
    'deep_squat', 'hurdle_step', 'inline_lunge', 'shoulder_mobility',
    'aslr', 'trunk_stability_pushup', 'rotary_stability',
)

#: The tests' names in words, as the FMS manual titles them.
TEST_TITLES: Dict[str, str] = {
    'deep_squat': 'Deep squat', 'hurdle_step': 'Hurdle step',
    'inline_lunge': 'In-line lunge', 'shoulder_mobility': 'Shoulder mobility',
    'aslr': 'Active straight-leg raise',
    'trunk_stability_pushup': 'Trunk stability push-up',
    'rotary_stability': 'Rotary stability',
}

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

#: The three clearing tests (FMS Level 1 manual, 2015), pain only, no
#: score of their own: clearing test -> the test that pain in it scores 0.
CLEARING_TESTS: Dict[str, str] = {
    'shoulder_clearing': 'shoulder_mobility',
    'spinal_extension': 'trunk_stability_pushup',
    'spinal_flexion': 'rotary_stability',
}
#: The clearing tests in words.
CLEARING_DESCRIPTIONS: Dict[str, str] = {
    'shoulder_clearing': 'shoulder clearing test',
    'spinal_extension': 'spinal extension (press-up) clearing test',
    'spinal_flexion': 'spinal flexion (rock-back) clearing test',
}

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


def is_bilateral(test: str) -> bool:
    """Whether ``test`` is scored per side (one of :data:`BILATERAL_TESTS`)."""
    return test in BILATERAL_TESTS


def side_is_valid(test: str, side: Optional[str]) -> bool:
    """The side rule of a trial: left or right for a bilateral test, no side
    (None or '') for the others."""
    if is_bilateral(test):
        return side in SIDES
    return side in (None, '')


def side_problem(test: str, side: Optional[str]) -> Optional[str]:
    """Why ``side`` is not a side of a trial of ``test`` (one phrase), or
    None when it is (:func:`side_is_valid`)."""
    if side_is_valid(test, side):
        return None
    if is_bilateral(test):
        got = f'got {side!r}' if side else 'it is empty'
        return f'{test} is scored per side: give left or right ({got})'
    return (f'{test} is not scored per side: leave the side empty (got '
            f'{side!r})')


def trial_sides(test: str) -> Tuple[Optional[str], ...]:
    """The sides of one screen of ``test``: :data:`SIDES` for a bilateral
    test, ``(None,)`` for the others."""
    return SIDES if is_bilateral(test) else (None,)


def counted_score(test: str, by_side: Mapping[Optional[str], int]
                  ) -> Optional[int]:
    """The score that counts for ``test`` from its trial scores by side: the
    lower side's for a bilateral test (None unless both sides are scored),
    the single score (side None) for the others."""
    sides = trial_sides(test)
    if not all(side in by_side for side in sides):
        return None
    return min(by_side[side] for side in sides)


def check_side(test: str, side: Optional[str]) -> Optional[str]:
    """The side to record for ``test``: required (left/right) for bilateral
    tests, ``None`` for the others (a side given for them is an error)."""
    if side_is_valid(test, side):
        return side if is_bilateral(test) else None
    if is_bilateral(test):
        raise FmsError(f'{test} is scored per side: give --side left or '
                       f'--side right')
    raise FmsError(f'{test} is not scored per side: leave out --side')


def check_view(view: str) -> str:
    """``view`` if it is one of :data:`VIEWS`, else :class:`FmsError`."""
    if view not in VIEWS:
        raise FmsError(f'unknown view {view!r}: use front or side')
    return view


#: A trial: ``(subject, test, side)``, side None for the tests not scored
#: per side.  Scores of trials are dicts ``{Key: score 0-3}``.
Key = Tuple[str, str, Optional[str]]


def trial_name(key: Key) -> str:
    """``'S1 hurdle_step (left)'`` or ``'S1 deep_squat'``."""
    subject, test, side = key
    return f'{subject} {test}' + (f' ({side})' if side else '')


def trial_order(key: Key) -> tuple:
    """Sort key of trials: by subject, then in screen order, then side."""
    subject, test, side = key
    order = TESTS.index(test) if test in TESTS else len(TESTS)
    return subject, order, side or ''
