"""FMS scoring criteria: the table of criteria and the score rules' data.

The criteria are one table (:data:`CRITERIA`), one row per criterion: what
is judged, the measurement it compares (its value and unit come from the
analysis' :class:`fms.measurements.Measurement` records), the threshold key
(:mod:`fms.thresholds`), the comparison, the views where it is observable,
and its role in the score.  :func:`judge` judges one row.  The score rules
(:mod:`fms.scoring`) read the roles, so a new criterion is a new row:

================  ==========================================================
``pattern``       not met: the pattern was not performed (1)
``required``      all must be met for more than 1
``compensation``  not met: a compensation (3 becomes 2)
``grade3``        met: 3 (a ladder test: the best grade met is the score,
``grade2``        met: 2  none met gives 1)
``shown``         judged and listed, no effect on the score
``by input``      the role depends on an input the camera cannot see
                  (``role_by``: the push-up's hand positions by sex)
================  ==========================================================

What a test's score needs beyond its rows (an input that limits the top
score, notes on what the keypoints cannot see) is in :data:`SCORE_RULES`.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, Mapping, Optional, Tuple

from fms import FmsError
from fms.measurements import Measurement
from fms.protocol import (CLEARING_DESCRIPTIONS, CLEARING_TESTS, VIEWS,
                          check_test)
from fms.results import CriterionResult

#: Roles of a criterion (see the module docstring).
PATTERN = 'pattern'
REQUIRED = 'required'
COMPENSATION = 'compensation'
GRADE3 = 'grade3'
GRADE2 = 'grade2'
SHOWN = 'shown'
BY_INPUT = 'by input'
ROLES = (PATTERN, REQUIRED, COMPENSATION, GRADE3, GRADE2, SHOWN, BY_INPUT)
#: The score a ladder role gives when its criterion is met.
GRADES: Dict[str, int] = {GRADE3: 3, GRADE2: 2}

SIDE_ONLY = ('side',)
FRONT_ONLY = ('front',)
BOTH_VIEWS = VIEWS


@dataclasses.dataclass(frozen=True)
class Criterion:
    """One row of the criteria table.

    ``passed`` = ``measurements[measurement].value <comparison> thresholds
    [threshold_key]``; ``views`` are the views where the criterion can be
    observed; ``hidden_note`` says why it cannot be in the other view;
    ``view_notes`` add a caveat for a view where it is observable.
    ``role`` is one of :data:`ROLES`; with :data:`BY_INPUT`, ``role_by``
    lists ``(input, value, role)``: the role when ``inputs[input] ==
    value``.
    """
    test: str
    name: str
    description: str
    measurement: str
    threshold_key: str
    comparison: str
    views: Tuple[str, ...]
    role: str
    hidden_note: str = ''
    view_notes: Tuple[Tuple[str, str], ...] = ()
    role_by: Tuple[Tuple[str, str, str], ...] = ()


_FRONTAL_HIDDEN = ('sideways (frontal-plane) movement is hidden in the side '
                   'view; film from the front to judge it')
_SAGITTAL_HIDDEN = ('forward lean, depth and reach are foreshortened in the '
                    'frontal view; film from the side to judge it')
_BALANCE_NOTE = ('loss of balance is not observable in the keypoints: '
                 'lower the score to 1 if the subject lost balance')
_FISTS_SIDE_NOTE = (('side', 'the side view underestimates the sideways '
                             'offset between the fists'),)

C = Criterion
#: The criteria of every test.
CRITERIA: Tuple[Criterion, ...] = (
    C('deep_squat', 'torso_parallel_tibia',
      'torso parallel with the tibia or toward vertical',
      'torso_tibia_difference', 'torso_tibia_max_deg', '<=', SIDE_ONLY,
      REQUIRED, _SAGITTAL_HIDDEN),
    C('deep_squat', 'femur_below_horizontal', 'femur below horizontal',
      'femur_angle', 'femur_angle_min_deg', '>=', SIDE_ONLY, REQUIRED,
      _SAGITTAL_HIDDEN),
    C('deep_squat', 'dowel_over_feet', 'dowel (wrists) aligned over the feet',
      'dowel_offset', 'dowel_offset_max_tibia', '<=', SIDE_ONLY, REQUIRED,
      _SAGITTAL_HIDDEN),
    C('deep_squat', 'knees_over_feet', 'knees aligned over the feet',
      'knee_medial_offset', 'knee_medial_max_hip_widths', '<=', FRONT_ONLY,
      REQUIRED, _FRONTAL_HIDDEN),
    C('hurdle_step', 'leg_alignment',
      'stepping hip, knee and ankle stay aligned', 'leg_alignment',
      'leg_alignment_max_hip_widths', '<=', FRONT_ONLY, COMPENSATION,
      _FRONTAL_HIDDEN),
    C('hurdle_step', 'trunk_lateral_lean', 'no sideways trunk lean',
      'trunk_lateral_lean', 'trunk_lateral_max_deg', '<=', FRONT_ONLY,
      COMPENSATION, _FRONTAL_HIDDEN),
    C('hurdle_step', 'dowel_parallel', 'dowel stays parallel with the hurdle',
      'shoulder_tilt', 'shoulder_tilt_max_deg', '<=', FRONT_ONLY,
      COMPENSATION, _FRONTAL_HIDDEN),
    C('hurdle_step', 'trunk_forward_lean', 'minimal forward trunk lean',
      'trunk_forward_lean', 'trunk_forward_max_deg', '<=', SIDE_ONLY,
      COMPENSATION, _SAGITTAL_HIDDEN),
    C('hurdle_step', 'hurdle_clearance', 'stepping foot clears the hurdle',
      'clearance', 'clearance_min_shanks', '>=', BOTH_VIEWS, PATTERN),
    C('inline_lunge', 'trunk_upright', 'dowel and trunk stay vertical',
      'trunk_inclination', 'trunk_inclination_max_deg', '<=', SIDE_ONLY,
      COMPENSATION, _SAGITTAL_HIDDEN),
    C('inline_lunge', 'back_knee_touches', 'back knee touches the board',
      'back_knee_height', 'back_knee_height_max_shanks', '<=', SIDE_ONLY,
      COMPENSATION, _SAGITTAL_HIDDEN),
    C('inline_lunge', 'torso_still', 'no torso movement',
      'trunk_inclination_range', 'trunk_range_max_deg', '<=', SIDE_ONLY,
      COMPENSATION, _SAGITTAL_HIDDEN),
    C('inline_lunge', 'trunk_lateral_lean', 'no sideways trunk lean',
      'trunk_lateral_lean', 'trunk_lateral_max_deg', '<=', FRONT_ONLY,
      COMPENSATION, _FRONTAL_HIDDEN),
    C('inline_lunge', 'front_knee_alignment',
      'front hip, knee and ankle stay aligned', 'knee_alignment',
      'knee_alignment_max_deg', '<=', FRONT_ONLY, COMPENSATION,
      _FRONTAL_HIDDEN),
    C('shoulder_mobility', 'within_one_hand',
      'fists within one hand length', 'fist_distance',
      'within_one_max_hands', '<=', BOTH_VIEWS, GRADE3,
      view_notes=_FISTS_SIDE_NOTE),
    C('shoulder_mobility', 'within_one_and_half_hands',
      'fists within one and a half hand lengths', 'fist_distance',
      'within_one_and_half_max_hands', '<=', BOTH_VIEWS, GRADE2,
      view_notes=_FISTS_SIDE_NOTE),
    C('aslr', 'ankle_past_mid_thigh', 'raised ankle passes mid-thigh',
      'ankle_position', 'mid_thigh_min_fraction', '>=', SIDE_ONLY, GRADE3,
      _SAGITTAL_HIDDEN),
    C('aslr', 'ankle_past_knee', 'raised ankle passes the knee joint line',
      'ankle_position', 'knee_min_fraction', '>=', SIDE_ONLY, GRADE2,
      _SAGITTAL_HIDDEN),
    C('trunk_stability_pushup', 'lifts_as_one_unit',
      'body lifts as one unit (no lag at the hips)', 'hip_deviation',
      'one_unit_max_deg', '<=', SIDE_ONLY, PATTERN, _SAGITTAL_HIDDEN),
    # FMS hand positions: men thumbs at the forehead for a 3, at the chin
    # for a 2; women at the chin for a 3, at the clavicle for a 2.
    C('trunk_stability_pushup', 'hands_at_forehead',
      'thumbs at forehead level', 'hand_position', 'hand_forehead_min', '>=',
      SIDE_ONLY, BY_INPUT, _SAGITTAL_HIDDEN,
      role_by=(('sex', 'male', GRADE3), ('sex', 'female', SHOWN))),
    C('trunk_stability_pushup', 'hands_at_chin', 'thumbs at chin level',
      'hand_position', 'hand_chin_min', '>=', SIDE_ONLY, BY_INPUT,
      _SAGITTAL_HIDDEN,
      role_by=(('sex', 'male', GRADE2), ('sex', 'female', GRADE3))),
    C('trunk_stability_pushup', 'hands_at_clavicle',
      'thumbs at clavicle level', 'hand_position', 'hand_clavicle_min', '>=',
      SIDE_ONLY, BY_INPUT, _SAGITTAL_HIDDEN,
      role_by=(('sex', 'male', SHOWN), ('sex', 'female', GRADE2))),
    C('rotary_stability', 'arm_extended', 'moving arm extends level',
      'arm_angle', 'arm_extension_max_deg', '<=', SIDE_ONLY, REQUIRED,
      _SAGITTAL_HIDDEN),
    C('rotary_stability', 'leg_extended', 'moving leg extends level',
      'leg_angle', 'leg_extension_max_deg', '<=', SIDE_ONLY, REQUIRED,
      _SAGITTAL_HIDDEN),
    C('rotary_stability', 'elbow_touches_knee', 'elbow touches the knee',
      'elbow_knee_distance', 'elbow_knee_max_trunk', '<=', SIDE_ONLY,
      REQUIRED, _SAGITTAL_HIDDEN),
    C('rotary_stability', 'trunk_level', 'back stays level over the trial',
      'trunk_angle_range', 'trunk_range_max_deg', '<=', SIDE_ONLY, REQUIRED,
      _SAGITTAL_HIDDEN),
)
del C

#: The tests that have a clearing test: test -> the clearing test (in
#: words) whose pain (input ``clearing_pain``) gives 0.
CLEARED_BY: Dict[str, str] = {
    test: CLEARING_DESCRIPTIONS[clearing]
    for clearing, test in CLEARING_TESTS.items()}


def check_clearing(test: str, inputs: Mapping) -> None:
    """FmsError (one line) when ``inputs`` report clearing-test pain for a
    test without a clearing test."""
    if inputs.get('clearing_pain') and test not in CLEARED_BY:
        raise FmsError(f'{test} has no clearing test: clearing-test pain '
                       f'applies only to {", ".join(CLEARED_BY)}')


#: The inputs of the hand length's pixel scale (shoulder mobility), each
#: with the command option that gives it.
HAND_SCALE_INPUTS: Dict[str, str] = {
    'hand_length_cm': '--hand-length-cm',
    'stature_cm': '--stature-cm',
}
#: The one test the hand length and stature are for.
HAND_SCALE_TEST = 'shoulder_mobility'


def check_hand_scale(test: str, inputs: Mapping) -> None:
    """FmsError (one line, naming the option) unless ``inputs``'
    ``hand_length_cm`` and ``stature_cm`` (None: not given) are both
    absent, or both given, finite and positive, for shoulder mobility."""
    given = {key: inputs.get(key) for key in HAND_SCALE_INPUTS
             if inputs.get(key) is not None}
    if not given:
        return
    options = ' and '.join(HAND_SCALE_INPUTS.values())
    if test != HAND_SCALE_TEST:
        raise FmsError(f'{test}: {options} apply only to {HAND_SCALE_TEST}')
    for key, value in given.items():
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        if number is None or not math.isfinite(number) or number <= 0:
            raise FmsError(f'{HAND_SCALE_INPUTS[key]} must be a positive '
                           f'number of centimetres, not {value!r}')
    if len(given) < len(HAND_SCALE_INPUTS):
        raise FmsError(f'{options} go together: give both (the stature '
                       f'sets the pixel scale of the hand length)')


def check_inputs(test: str, inputs: Mapping) -> None:
    """FmsError (one line) for inputs that do not fit ``test``, checked
    before any work: clearing-test pain (:func:`check_clearing`), the hand
    length and stature (:func:`check_hand_scale`)."""
    check_clearing(test, inputs)
    check_hand_scale(test, inputs)


#: How to give each input a ``role_by`` row may need: what it is, and the
#: option that gives it.
INPUT_HELP: Dict[str, Tuple[str, str]] = {
    'sex': ("the subject's sex", 'give --sex male or --sex female'),
}

#: For measurements that may be estimated: measurement -> (measurement
#: that is 1.0 when estimated, note added to the criteria).
ESTIMATE_NOTES: Dict[str, Tuple[str, str]] = {
    'fist_distance': ('fist_distance_estimated',
                      'estimated: no hand keypoints, so the wrists\' '
                      'distance less an estimated fist reach (see '
                      'fms.movements.shoulder_mobility.FIST_REACH_HANDS)'),
}


@dataclasses.dataclass(frozen=True)
class InputFromMeasurement:
    """An input read from a measurement when not given: ``at_least`` when
    the measurement is >= ``cut``, else ``below``."""
    measurement: str
    cut: float
    at_least: str
    below: str


@dataclasses.dataclass(frozen=True)
class TopLimit:
    """An input that limits the top score: when ``inputs[input] ==
    value``, the score is at most ``score`` (``reason`` says so).

    ``needed``: a top score needs the input known (``help`` says how to
    give it); ``derived``: how to read it from the measurements when not
    given; ``retest_note``: added when a pattern or required criterion
    failed and the input does not have ``value``.
    """
    input: str
    value: object
    score: int
    reason: str
    needed: bool = False
    help: str = ''
    derived: Optional[InputFromMeasurement] = None
    retest_note: str = ''


@dataclasses.dataclass(frozen=True)
class ScoreRule:
    """What a test's score needs beyond its criteria rows: reasons always
    added (what the keypoints cannot see), and a :class:`TopLimit`."""
    notes: Tuple[str, ...] = ()
    limit: Optional[TopLimit] = None


#: Score rules of the tests that need more than their rows.
SCORE_RULES: Dict[str, ScoreRule] = {
    'deep_squat': ScoreRule(limit=TopLimit(
        'heels_raised', True, 2,
        'all observed criteria met, with heels raised: 2',
        retest_note='a retest with heels raised on a board could earn 2')),
    'hurdle_step': ScoreRule(notes=(_BALANCE_NOTE + ' or touched the hurdle',
                                    )),
    'inline_lunge': ScoreRule(notes=(_BALANCE_NOTE,)),
    'rotary_stability': ScoreRule(limit=TopLimit(
        'pattern', 'diagonal', 2, 'correct diagonal repetition: 2',
        needed=True, help='give pattern unilateral or diagonal',
        derived=InputFromMeasurement('same_side_leg', 0.5, 'unilateral',
                                     'diagonal'),
        retest_note='retest the diagonal pattern: a correct diagonal '
                    'repetition could earn 2')),
}


def criteria_of(test: str) -> Tuple[Criterion, ...]:
    """The rows of :data:`CRITERIA` of ``test``, in table order."""
    check_test(test)
    return tuple(row for row in CRITERIA if row.test == test)


def role_of(row: Criterion, inputs: Mapping) -> str:
    """The role of ``row`` given the ``inputs`` (see :data:`ROLES`).

    Raises:
        FmsError: a :data:`BY_INPUT` row whose input is missing or has a
            value the row does not know.
    """
    if row.role != BY_INPUT:
        return row.role
    for name, value, role in row.role_by:
        if inputs.get(name) == value:
            return role
    names = sorted({name for name, _, _ in row.role_by})
    what, how = zip(*(INPUT_HELP.get(n, (n, f'give {n}')) for n in names))
    raise FmsError(f'{row.test} needs {" and ".join(what)} for '
                   f'"{row.description}": {"; ".join(how)}')


def derived_input(limit: TopLimit, measurements: Mapping[str, Measurement],
                  inputs: Mapping) -> Optional[object]:
    """The limit's input: as given, else read from the measurements
    (:attr:`TopLimit.derived`), else None."""
    if inputs.get(limit.input) is not None:
        return inputs[limit.input]
    rule = limit.derived
    measured = measurements.get(rule.measurement) if rule else None
    if measured is None or measured.value is None:
        return None
    return rule.at_least if measured.value >= rule.cut else rule.below


def judge(row: Criterion, view: str, measurements: Mapping[str, Measurement],
          thresholds: Mapping[str, float]) -> CriterionResult:
    """The :class:`CriterionResult` of one row in ``view``; an unobservable
    criterion gets no value and ``passed`` None, never a guess.  The value
    and unit are those of the measurement record (unit '' without one)."""
    if row.threshold_key not in thresholds:
        raise FmsError(f'no threshold {row.threshold_key!r} for {row.test}: '
                       f'check the thresholds file')
    threshold = float(thresholds[row.threshold_key])
    observable = view in row.views
    measured = measurements.get(row.measurement)
    value = measured.value if observable and measured is not None else None
    notes = [dict(row.view_notes).get(view, '')] if observable else [
        f'not observable in the {view} view: {row.hidden_note}']
    if observable and row.measurement in ESTIMATE_NOTES:
        flag, note = ESTIMATE_NOTES[row.measurement]
        if getattr(measurements.get(flag), 'value', None):
            notes.append(note)
    passed = None
    if value is not None:
        passed = (value <= threshold if row.comparison == '<='
                  else value >= threshold)
    elif observable:
        notes.append('not measured: the joints it needs were not found')
    return CriterionResult(
        name=row.name, description=row.description,
        measurement=row.measurement, value=value,
        unit=measured.unit if measured is not None else '',
        threshold_key=row.threshold_key, threshold=threshold,
        comparison=row.comparison, observable=observable, passed=passed,
        note='; '.join(n for n in notes if n),
        view=view if passed is not None else None)
