"""Tests of fms.criteria: thresholds file, criteria table, scores."""
import json

import pytest

from fms import FmsError
from fms import criteria
from fms.protocol import TESTS


def squat_side(femur=5.0, lean=0.0, dowel=0.1):
    return {'femur_angle': femur, 'torso_tibia_difference': lean,
            'dowel_offset': dowel}


def thresholds(test):
    return criteria.load_thresholds()[test]


def test_every_test_has_criteria_with_thresholds():
    values = criteria.load_thresholds()
    assert set(values) == set(TESTS)
    for test in TESTS:
        rows = criteria.criteria_of(test)
        assert rows
        for row in rows:
            assert row.threshold_key in values[test]
            assert row.comparison in ('<=', '>=')


def test_user_file_overrides_a_subset(tmp_path):
    path = tmp_path / 't.json'
    path.write_text(json.dumps({'aslr': {'mid_thigh_min_fraction': 0.6}}))
    values = criteria.load_thresholds(str(path))
    assert values['aslr']['mid_thigh_min_fraction'] == 0.6
    assert values['aslr']['knee_min_fraction'] == 0.0
    details = criteria.threshold_details(str(path))
    assert details['aslr']['mid_thigh_min_fraction']['unit'] == 'fraction'


@pytest.mark.parametrize('content, message', [
    ('{"squat": {}}', 'unknown test'),
    ('{"aslr": {"nope": 1}}', 'unknown threshold aslr.nope'),
    ('{"aslr": {"knee_min_fraction": "high"}}', 'finite number'),
    ('{"aslr": ', 'not valid JSON'),
])
def test_thresholds_file_errors(tmp_path, content, message):
    path = tmp_path / 't.json'
    path.write_text(content)
    with pytest.raises(FmsError, match=message):
        criteria.load_thresholds(str(path))


def test_search_space_covers_the_range():
    space = criteria.search_space(criteria.threshold_details())
    grid = space['shoulder_mobility']['within_one_max_hands']
    assert grid[0] == pytest.approx(0.6) and grid[-1] == pytest.approx(1.4)
    assert len(grid) == 9


def test_deep_squat_scores():
    t = thresholds('deep_squat')
    assert criteria.evaluate('deep_squat', 'side', squat_side(), t, {})[0] \
        == 3
    assert criteria.evaluate('deep_squat', 'side', squat_side(), t,
                             {'heels_raised': True})[0] == 2
    score, results, reasons = criteria.evaluate(
        'deep_squat', 'side', squat_side(femur=-10.0), t, {})
    assert score == 1
    assert any('heels raised' in r for r in reasons)
    femur = next(r for r in results if r.name == 'femur_below_horizontal')
    assert femur.passed is False and femur.value == -10.0


def test_front_view_never_judges_depth():
    score, results, reasons = criteria.evaluate(
        'deep_squat', 'front', {'knee_medial_offset': 0.05,
                                **squat_side(femur=-30.0)},
        thresholds('deep_squat'), {})
    femur = next(r for r in results if r.name == 'femur_below_horizontal')
    assert femur.observable is False and femur.passed is None
    assert femur.value is None and 'foreshortened' in femur.note
    assert score == 3
    assert any(r.startswith('not judged: femur below horizontal')
               for r in reasons)


def test_pain_gives_zero():
    score, _, reasons = criteria.evaluate(
        'deep_squat', 'side', squat_side(), thresholds('deep_squat'),
        {'pain': True})
    assert score == 0 and 'pain' in reasons[0]


def test_no_observable_criterion_is_an_error():
    with pytest.raises(FmsError, match='film it from the side'):
        criteria.evaluate('aslr', 'front', {'ankle_position': 0.7},
                          thresholds('aslr'), {})


@pytest.mark.parametrize('position, score', [(0.7, 3), (0.2, 2), (-0.3, 1)])
def test_aslr_ladder(position, score):
    assert criteria.evaluate('aslr', 'side', {'ankle_position': position},
                             thresholds('aslr'), {})[0] == score


@pytest.mark.parametrize('sex, hand, score', [
    ('male', 1.0, 3), ('male', 0.15, 2), ('female', 0.15, 3),
    ('female', -0.35, 2), ('male', -0.35, 1)])
def test_pushup_hand_positions(sex, hand, score):
    measured = {'hip_deviation': 3.0, 'hand_position': hand}
    assert criteria.evaluate('trunk_stability_pushup', 'side', measured,
                             thresholds('trunk_stability_pushup'),
                             {'sex': sex})[0] == score


def test_pushup_needs_sex():
    with pytest.raises(FmsError, match='--sex'):
        criteria.evaluate('trunk_stability_pushup', 'side',
                          {'hip_deviation': 3.0, 'hand_position': 1.0},
                          thresholds('trunk_stability_pushup'), {})


def test_hurdle_clearance_failure_gives_one():
    measured = {'clearance': 0.6, 'trunk_forward_lean': 2.0}
    assert criteria.evaluate('hurdle_step', 'side', measured,
                             thresholds('hurdle_step'), {})[0] == 1
    measured = {'clearance': 1.2, 'trunk_forward_lean': 20.0}
    assert criteria.evaluate('hurdle_step', 'side', measured,
                             thresholds('hurdle_step'), {})[0] == 2


def test_unknown_test():
    with pytest.raises(FmsError, match='unknown test'):
        criteria.evaluate('plank', 'side', {}, {}, {})


def test_rescore_agrees_with_evaluate():
    document = {'test': 'deep_squat', 'view': 'side',
                'measurements': squat_side(femur=-4.0),
                'thresholds': thresholds('deep_squat'), 'inputs': {}}
    for femur_min in (-10.0, -5.0, 0.0, 5.0):
        t = dict(thresholds('deep_squat'), femur_angle_min_deg=femur_min)
        expected = criteria.evaluate('deep_squat', 'side',
                                     document['measurements'], t, {})[0]
        assert criteria.rescore(document,
                                {'femur_angle_min_deg': femur_min}) \
            == expected
    assert criteria.rescore(document, {'femur_angle_min_deg': -5.0}) == 3
    assert criteria.rescore(document, {'femur_angle_min_deg': 0.0}) == 1
