"""FMS scoring criteria: their thresholds, their table, and the scores.

Thresholds live in one JSON file (``fms/thresholds.json``): per test, per
threshold key, ``{"value", "unit", "range": [lo, hi], "step",
"description", "source"}``; ``range`` and ``step`` are the grid searched
when calibrating against a rater's scores.

The criteria are one table (:data:`CRITERIA`), one row per criterion: what
is judged, the measurement it compares, the threshold, the comparison, the
views where it is observable, and its role in the score.  The score rules
of each test are small functions (:data:`SCORERS`).  :func:`evaluate` is
pure: measurements and thresholds in, score, criteria and reasons out, so
:func:`rescore` can judge a saved result again with other thresholds.

Roles: ``required`` (all must be met for the top score), ``compensation``
(a failure lowers 3 to 2), ``pattern`` (a failure means the pattern was not
performed: 1), ``grade3`` / ``grade2`` (met for a 3 / for a 2), and the
push-up's ``hand position`` rows.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from fms import FmsError
from fms.protocol import TESTS, VIEWS, check_test, check_view
from fms.results import CriterionResult

#: The packaged thresholds file.
DEFAULT_THRESHOLDS_PATH = os.path.join(os.path.dirname(__file__),
                                       'thresholds.json')

#: Fields of a threshold entry.
ENTRY_FIELDS = ('value', 'unit', 'range', 'step', 'description', 'source')

#: Score when the subject reports pain (FMS: pain gives 0).
PAIN_SCORE = 0

SIDE_ONLY = ('side',)
FRONT_ONLY = ('front',)
BOTH_VIEWS = VIEWS


@dataclasses.dataclass(frozen=True)
class Criterion:
    """One row of the criteria table.

    ``passed`` = ``measurements[measurement] <comparison> thresholds
    [threshold_key]``; ``views`` are the views where the criterion can be
    observed; ``hidden_note`` says why it cannot be in the other view;
    ``view_notes`` add a caveat for a view where it is observable.
    """
    test: str
    name: str
    description: str
    measurement: str
    unit: str
    threshold_key: str
    comparison: str
    views: Tuple[str, ...]
    role: str
    hidden_note: str = ''
    view_notes: Tuple[Tuple[str, str], ...] = ()


_FRONTAL_HIDDEN = ('sideways (frontal-plane) movement is hidden in the side '
                   'view; film from the front to judge it')
_SAGITTAL_HIDDEN = ('forward lean, depth and reach are foreshortened in the '
                    'frontal view; film from the side to judge it')
_BALANCE_NOTE = ('loss of balance is not observable in the keypoints: '
                 'lower the score to 1 if the subject lost balance')

C = Criterion
#: The criteria of every test.
CRITERIA: Tuple[Criterion, ...] = (
    C('deep_squat', 'torso_parallel_tibia',
      'torso parallel with the tibia or toward vertical',
      'torso_tibia_difference', 'deg', 'torso_tibia_max_deg', '<=',
      SIDE_ONLY, 'required', _SAGITTAL_HIDDEN),
    C('deep_squat', 'femur_below_horizontal', 'femur below horizontal',
      'femur_angle', 'deg', 'femur_angle_min_deg', '>=', SIDE_ONLY,
      'required', _SAGITTAL_HIDDEN),
    C('deep_squat', 'dowel_over_feet', 'dowel (wrists) aligned over the feet',
      'dowel_offset', 'tibia lengths', 'dowel_offset_max_tibia', '<=',
      SIDE_ONLY, 'required', _SAGITTAL_HIDDEN),
    C('deep_squat', 'knees_over_feet', 'knees aligned over the feet',
      'knee_medial_offset', 'hip widths', 'knee_medial_max_hip_widths', '<=',
      FRONT_ONLY, 'required', _FRONTAL_HIDDEN),
    C('hurdle_step', 'leg_alignment',
      'stepping hip, knee and ankle stay aligned', 'leg_alignment',
      'hip widths', 'leg_alignment_max_hip_widths', '<=', FRONT_ONLY,
      'compensation', _FRONTAL_HIDDEN),
    C('hurdle_step', 'trunk_lateral_lean', 'no sideways trunk lean',
      'trunk_lateral_lean', 'deg', 'trunk_lateral_max_deg', '<=', FRONT_ONLY,
      'compensation', _FRONTAL_HIDDEN),
    C('hurdle_step', 'dowel_parallel', 'dowel stays parallel with the hurdle',
      'shoulder_tilt', 'deg', 'shoulder_tilt_max_deg', '<=', FRONT_ONLY,
      'compensation', _FRONTAL_HIDDEN),
    C('hurdle_step', 'trunk_forward_lean', 'minimal forward trunk lean',
      'trunk_forward_lean', 'deg', 'trunk_forward_max_deg', '<=', SIDE_ONLY,
      'compensation', _SAGITTAL_HIDDEN),
    C('hurdle_step', 'hurdle_clearance', 'stepping foot clears the hurdle',
      'clearance', 'shank lengths', 'clearance_min_shanks', '>=',
      BOTH_VIEWS, 'pattern'),
    C('inline_lunge', 'trunk_upright', 'dowel and trunk stay vertical',
      'trunk_inclination', 'deg', 'trunk_inclination_max_deg', '<=',
      SIDE_ONLY, 'compensation', _SAGITTAL_HIDDEN),
    C('inline_lunge', 'back_knee_touches', 'back knee touches the board',
      'back_knee_height', 'shank lengths', 'back_knee_height_max_shanks',
      '<=', SIDE_ONLY, 'compensation', _SAGITTAL_HIDDEN),
    C('inline_lunge', 'torso_still', 'no torso movement',
      'trunk_inclination_range', 'deg', 'trunk_range_max_deg', '<=',
      SIDE_ONLY, 'compensation', _SAGITTAL_HIDDEN),
    C('inline_lunge', 'trunk_lateral_lean', 'no sideways trunk lean',
      'trunk_lateral_lean', 'deg', 'trunk_lateral_max_deg', '<=', FRONT_ONLY,
      'compensation', _FRONTAL_HIDDEN),
    C('inline_lunge', 'front_knee_alignment',
      'front hip, knee and ankle stay aligned', 'knee_alignment', 'deg',
      'knee_alignment_max_deg', '<=', FRONT_ONLY, 'compensation',
      _FRONTAL_HIDDEN),
    C('shoulder_mobility', 'within_one_hand',
      'fists within one hand length', 'fist_distance', 'hand lengths',
      'within_one_max_hands', '<=', BOTH_VIEWS, 'grade3',
      view_notes=(('side', 'the side view underestimates the sideways '
                           'offset between the fists'),)),
    C('shoulder_mobility', 'within_one_and_half_hands',
      'fists within one and a half hand lengths', 'fist_distance',
      'hand lengths', 'within_one_and_half_max_hands', '<=', BOTH_VIEWS,
      'grade2',
      view_notes=(('side', 'the side view underestimates the sideways '
                           'offset between the fists'),)),
    C('aslr', 'ankle_past_mid_thigh', 'raised ankle passes mid-thigh',
      'ankle_position', 'fraction', 'mid_thigh_min_fraction', '>=',
      SIDE_ONLY, 'grade3', _SAGITTAL_HIDDEN),
    C('aslr', 'ankle_past_knee', 'raised ankle passes the knee joint line',
      'ankle_position', 'fraction', 'knee_min_fraction', '>=', SIDE_ONLY,
      'grade2', _SAGITTAL_HIDDEN),
    C('trunk_stability_pushup', 'lifts_as_one_unit',
      'body lifts as one unit (no lag at the hips)', 'hip_deviation', 'deg',
      'one_unit_max_deg', '<=', SIDE_ONLY, 'pattern', _SAGITTAL_HIDDEN),
    C('trunk_stability_pushup', 'hands_at_forehead',
      'thumbs at forehead level', 'hand_position', 'shoulder-to-nose lengths',
      'hand_forehead_min', '>=', SIDE_ONLY, 'hand position',
      _SAGITTAL_HIDDEN),
    C('trunk_stability_pushup', 'hands_at_chin', 'thumbs at chin level',
      'hand_position', 'shoulder-to-nose lengths', 'hand_chin_min', '>=',
      SIDE_ONLY, 'hand position', _SAGITTAL_HIDDEN),
    C('trunk_stability_pushup', 'hands_at_clavicle',
      'thumbs at clavicle level', 'hand_position',
      'shoulder-to-nose lengths', 'hand_clavicle_min', '>=', SIDE_ONLY,
      'hand position', _SAGITTAL_HIDDEN),
    C('rotary_stability', 'arm_extended', 'moving arm extends level',
      'arm_angle', 'deg', 'arm_extension_max_deg', '<=', SIDE_ONLY,
      'required', _SAGITTAL_HIDDEN),
    C('rotary_stability', 'leg_extended', 'moving leg extends level',
      'leg_angle', 'deg', 'leg_extension_max_deg', '<=', SIDE_ONLY,
      'required', _SAGITTAL_HIDDEN),
    C('rotary_stability', 'elbow_touches_knee', 'elbow touches the knee',
      'elbow_knee_distance', 'trunk lengths', 'elbow_knee_max_trunk', '<=',
      SIDE_ONLY, 'required', _SAGITTAL_HIDDEN),
    C('rotary_stability', 'trunk_level', 'back stays level over the trial',
      'trunk_angle_range', 'deg', 'trunk_range_max_deg', '<=', SIDE_ONLY,
      'required', _SAGITTAL_HIDDEN),
)
del C

#: Criterion name -> what it looks for, in words (names are unique per test;
#: the same name in two tests means the same thing).
DESCRIPTIONS: Dict[str, str] = {row.name: row.description
                                for row in CRITERIA}

#: For measurements that may be estimated: measurement -> (flag in the
#: measurements that is 1.0 when estimated, note added to the criteria).
ESTIMATE_NOTES: Dict[str, Tuple[str, str]] = {
    'fist_distance': ('hand_length_estimated',
                      'estimated: no hand keypoints, so wrist-to-wrist '
                      'distance in hand lengths estimated from the forearm '
                      '(hand 0.108 H, forearm 0.146 H, Drillis & Contini '
                      '1966); it reads larger than the fists\' distance'),
}

#: Push-up hand positions by sex: (harder criterion for a 3, easier for a 2).
PUSHUP_HAND_POSITIONS: Dict[str, Tuple[str, str]] = {
    'male': ('hands_at_forehead', 'hands_at_chin'),
    'female': ('hands_at_chin', 'hands_at_clavicle'),
}


def criteria_of(test: str) -> Tuple[Criterion, ...]:
    """The rows of :data:`CRITERIA` of ``test``, in table order."""
    check_test(test)
    return tuple(row for row in CRITERIA if row.test == test)


# ---------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------

def _read_json(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as stream:
            document = json.load(stream)
    except OSError as error:
        raise FmsError(f'cannot read thresholds file {path}: {error}')
    except json.JSONDecodeError as error:
        raise FmsError(f'thresholds file {path} is not valid JSON (line '
                       f'{error.lineno}: {error.msg}): fix it or start from '
                       f'{DEFAULT_THRESHOLDS_PATH}')
    if not isinstance(document, dict):
        raise FmsError(f'thresholds file {path} must hold an object '
                       f'{{test: {{key: value}}}}')
    return document


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise FmsError(f'{where} must be a finite number, not {value!r}')
    return float(value)


def _override(entry: dict, given, where: str) -> dict:
    """``entry`` with a user's value (a number or a partial entry)."""
    entry = dict(entry)
    if not isinstance(given, dict):
        given = {'value': given}
    for field, value in given.items():
        if field not in ENTRY_FIELDS:
            raise FmsError(f'{where}: unknown field {field!r}; use '
                           f'{", ".join(ENTRY_FIELDS)}')
        entry[field] = value
    entry['value'] = _number(entry['value'], f'{where} value')
    entry['step'] = _number(entry['step'], f'{where} step')
    low_high = entry['range']
    if not isinstance(low_high, (list, tuple)) or len(low_high) != 2:
        raise FmsError(f'{where} range must be [low, high]')
    entry['range'] = [_number(v, f'{where} range') for v in low_high]
    if entry['step'] <= 0 or entry['range'][0] > entry['range'][1]:
        raise FmsError(f'{where}: step must be > 0 and range low <= high')
    return entry


def threshold_details(path: Optional[str] = None
                      ) -> Dict[str, Dict[str, dict]]:
    """Every threshold entry: test -> key -> ``{"value", "unit", "range",
    "step", "description", "source"}``.

    The packaged file gives all of them; a user file at ``path`` overrides a
    subset, each as a number (the value) or a partial entry.

    Raises:
        FmsError: unreadable file or bad JSON, unknown test or key,
            non-numeric value, bad range or step.
    """
    packaged = _read_json(DEFAULT_THRESHOLDS_PATH)
    details = {test: {key: _override(entry, {}, f'{test}.{key}')
                      for key, entry in packaged[test].items()}
               for test in TESTS}
    if path is None:
        return details
    for test, entries in _read_json(path).items():
        if test not in details:
            raise FmsError(f'{path}: unknown test {test!r}; use one of '
                           f'{", ".join(TESTS)}')
        if not isinstance(entries, dict):
            raise FmsError(f'{path}: {test} must map threshold keys to values')
        for key, given in entries.items():
            if key not in details[test]:
                raise FmsError(f'{path}: unknown threshold {test}.{key}; '
                               f'{test} has {", ".join(details[test])}')
            details[test][key] = _override(details[test][key], given,
                                           f'{path}: {test}.{key}')
    return details


def load_thresholds(path: Optional[str] = None) -> Dict[str, Dict[str, float]]:
    """Threshold values: test -> key -> float (see
    :func:`threshold_details` for ``path`` and the errors)."""
    return threshold_values(threshold_details(path))


def threshold_values(details: Mapping[str, Mapping[str, dict]]
                     ) -> Dict[str, Dict[str, float]]:
    """test -> key -> value of :func:`threshold_details`' entries."""
    return {test: {key: float(entry['value'])
                   for key, entry in entries.items()}
            for test, entries in details.items()}


def search_space(details: Mapping[str, Mapping[str, dict]]
                 ) -> Dict[str, Dict[str, List[float]]]:
    """The calibration grid: test -> key -> values from ``range[0]`` to
    ``range[1]`` (both included) by ``step``."""
    return {test: {key: [round(float(v), 10) for v in np.arange(
        entry['range'][0], entry['range'][1] + entry['step'] / 2,
        entry['step'])] for key, entry in entries.items()}
        for test, entries in details.items()}


# ---------------------------------------------------------------------------
# Judging criteria
# ---------------------------------------------------------------------------

def _measured(value) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def judge(row: Criterion, view: str, measurements: Mapping,
          thresholds: Mapping[str, float]) -> CriterionResult:
    """The :class:`CriterionResult` of one row in ``view``; an unobservable
    criterion gets no value and ``passed`` None, never a guess."""
    if row.threshold_key not in thresholds:
        raise FmsError(f'no threshold {row.threshold_key!r} for {row.test}: '
                       f'check the thresholds file')
    threshold = float(thresholds[row.threshold_key])
    observable = view in row.views
    value = _measured(measurements.get(row.measurement)) if observable \
        else None
    notes = [dict(row.view_notes).get(view, '')] if observable else [
        f'not observable in the {view} view: {row.hidden_note}']
    if observable and row.measurement in ESTIMATE_NOTES:
        flag, note = ESTIMATE_NOTES[row.measurement]
        if measurements.get(flag):
            notes.append(note)
    passed = None
    if value is not None:
        passed = (value <= threshold if row.comparison == '<='
                  else value >= threshold)
    elif observable:
        notes.append('not measured: the joints it needs were not found')
    return CriterionResult(
        name=row.name, description=row.description,
        measurement=row.measurement, value=value, unit=row.unit,
        threshold_key=row.threshold_key, threshold=threshold,
        comparison=row.comparison, observable=observable, passed=passed,
        note='; '.join(n for n in notes if n))


Scorer = Callable[[Dict[str, Optional[bool]], Mapping, Mapping],
                  Tuple[int, List[str]]]


def _failed(passed: Mapping[str, Optional[bool]]) -> List[str]:
    """What the failed criteria look for, in words (for the reasons)."""
    return [DESCRIPTIONS[name] for name, ok in passed.items() if ok is False]


def _score_deep_squat(passed, measurements, inputs):
    failed, heels = _failed(passed), bool(inputs.get('heels_raised'))
    if not failed:
        if heels:
            return 2, ['all observed criteria met, with heels raised: 2']
        return 3, ['all observed criteria met without heels raised: 3']
    reasons = [f'not met: {"; ".join(failed)}: 1']
    if not heels:
        reasons.append('a retest with heels raised on a board could earn 2')
    return 1, reasons


def _score_hurdle_step(passed, measurements, inputs):
    failed = _failed(passed)
    notes = [_BALANCE_NOTE + ' or touched the hurdle']
    if passed.get('hurdle_clearance') is False:
        return 1, ['the stepping foot did not clear the hurdle height: 1'] \
            + notes
    if failed:
        return 2, [f'compensation, not met: {"; ".join(failed)}: 2'] + notes
    return 3, ['all observed criteria met: 3'] + notes


def _score_inline_lunge(passed, measurements, inputs):
    failed = _failed(passed)
    if failed:
        return 2, [f'compensation, not met: {"; ".join(failed)}: 2',
                   _BALANCE_NOTE]
    return 3, ['all observed criteria met: 3', _BALANCE_NOTE]


def _score_ladder(passed, three: str, two: str, what: str):
    if passed.get(three):
        return 3, [f'{DESCRIPTIONS[three]}: 3']
    if passed.get(two):
        return 2, [f'{DESCRIPTIONS[two]}: 2']
    return 1, [f'{what}: neither {DESCRIPTIONS[three]} nor '
               f'{DESCRIPTIONS[two]}: 1']


def _score_shoulder_mobility(passed, measurements, inputs):
    return _score_ladder(passed, 'within_one_hand',
                         'within_one_and_half_hands', 'fists')


def _score_aslr(passed, measurements, inputs):
    return _score_ladder(passed, 'ankle_past_mid_thigh', 'ankle_past_knee',
                         'raised ankle')


def _score_pushup(passed, measurements, inputs):
    sex = inputs.get('sex')
    if sex not in PUSHUP_HAND_POSITIONS:
        raise FmsError('trunk_stability_pushup needs the subject\'s sex for '
                       'the hand position: give --sex male or --sex female')
    harder, easier = PUSHUP_HAND_POSITIONS[sex]
    if passed.get('lifts_as_one_unit') is False:
        return 1, ['the body did not lift as one unit: 1']
    if passed.get(harder):
        return 3, [f'lifts as one unit with {harder} ({sex}): 3']
    if passed.get(easier):
        return 2, [f'lifts as one unit with {easier} ({sex}): 2']
    return 1, [f'hands lower than {easier} ({sex}), the easier FMS '
               f'position: 1']


def rotary_pattern(measurements: Mapping, inputs: Mapping) -> Optional[str]:
    """'unilateral' or 'diagonal': ``inputs['pattern']`` when given, else
    from the measurement ``same_side_leg`` (1.0 when the moving leg is on
    the moving arm's side); None when neither is known."""
    if inputs.get('pattern') in ('unilateral', 'diagonal'):
        return inputs['pattern']
    same = _measured(measurements.get('same_side_leg'))
    if same is None:
        return None
    return 'unilateral' if same >= 0.5 else 'diagonal'


def _score_rotary_stability(passed, measurements, inputs):
    pattern = rotary_pattern(measurements, inputs)
    failed = _failed(passed)
    if failed:
        return 1, [f'{pattern or "the"} repetition not performed correctly '
                   f'(not met: {"; ".join(failed)}): 1']
    if pattern is None:
        raise FmsError('rotary_stability: the pattern (which leg moved) is '
                       'unknown: give pattern unilateral or diagonal')
    if pattern == 'unilateral':
        return 3, ['correct unilateral (same-side) repetition: 3']
    return 2, ['correct diagonal repetition: 2']


#: Score rule of each test: (passed by criterion name, measurements,
#: inputs) -> (score, reasons).
SCORERS: Dict[str, Scorer] = {
    'deep_squat': _score_deep_squat,
    'hurdle_step': _score_hurdle_step,
    'inline_lunge': _score_inline_lunge,
    'shoulder_mobility': _score_shoulder_mobility,
    'aslr': _score_aslr,
    'trunk_stability_pushup': _score_pushup,
    'rotary_stability': _score_rotary_stability,
}


def evaluate(test: str, view: str,
             measurements: Mapping[str, Optional[float]],
             thresholds: Mapping[str, float], inputs: Mapping
             ) -> Tuple[int, List[CriterionResult], List[str]]:
    """Judge every criterion of ``test`` in ``view`` and suggest a score.

    Args:
        test, view: one of :data:`fms.protocol.TESTS` / ``VIEWS``.
        measurements: measurement name -> value (None or NaN: not measured).
        thresholds: the test's threshold key -> value.
        inputs: what the camera cannot see: ``pain`` (True gives 0),
            ``heels_raised``, ``sex``, ``pattern``.

    Returns:
        ``(score, criteria, reasons)``: the score is the one the observed
        criteria support; reasons say why and list the criteria not judged
        and the view that would judge them.

    Raises:
        FmsError: no criterion of the test can be judged in this view, a
            threshold is missing, or a needed input is missing.
    """
    check_test(test)
    check_view(view)
    results = [judge(row, view, measurements, thresholds)
               for row in criteria_of(test)]
    not_judged = [f'not judged: {r.description} ({r.note})'
                  for r in results if r.passed is None]
    if inputs.get('pain'):
        return PAIN_SCORE, results, ['pain reported: 0 whatever the '
                                     'movement'] + not_judged
    if all(r.passed is None for r in results):
        other = [v for v in VIEWS if v != view]
        raise FmsError(f'no criterion of {test} can be judged in the {view} '
                       f'view: film it from the {other[0]} view with the '
                       f'whole body in frame')
    passed = {r.name: r.passed for r in results}
    score, reasons = SCORERS[test](passed, measurements, inputs)
    return score, results, reasons + not_judged


def rescore(document: dict, thresholds: Mapping[str, float]) -> int:
    """The score of a saved result document (:func:`fms.results.
    result_document`) judged again with ``thresholds`` (a subset of the
    test's keys; the document's own values fill the rest)."""
    merged = dict(document.get('thresholds') or {})
    merged.update(thresholds)
    score, _, _ = evaluate(document['test'], document['view'],
                           document.get('measurements') or {}, merged,
                           document.get('inputs') or {})
    return score
