"""Tests of fms.criteria: the table, its roles, and that the table, the
thresholds file and the analysis agree with each other."""
import pytest

from fms import FmsError, criteria
from fms.analysis import MEASURES, analyze_track
from fms.measurements import Measurement
from fms.protocol import MAX_SCORE, TESTS, VIEWS
from fms.thresholds import threshold_details
from tests.fixtures import movements


def test_the_table_is_well_formed():
    """Every row has a known test, role, comparison and views, names are
    unique per test, ``role_by`` is set exactly for the rows whose role
    depends on an input, and every score rule's limit is below the top
    score."""
    names = set()
    for row in criteria.CRITERIA:
        assert row.test in TESTS and row.role in criteria.ROLES, row
        assert row.comparison in ('<=', '>=') and set(row.views) <= set(VIEWS)
        assert (row.test, row.name) not in names, row
        names.add((row.test, row.name))
        assert bool(row.role_by) == (row.role == criteria.BY_INPUT), row
        assert all(role in criteria.ROLES and role != criteria.BY_INPUT
                   for _, _, role in row.role_by), row
    for test, rule in criteria.SCORE_RULES.items():
        assert test in TESTS, test
        assert rule.limit is None or rule.limit.score < MAX_SCORE, rule
    for test in TESTS:
        assert criteria.criteria_of(test)
    assert set(criteria.SCORE_RULES) <= set(TESTS)


def test_roles_by_input():
    rows = {r.name: r for r in criteria.criteria_of('trunk_stability_pushup')}
    chin = rows['hands_at_chin']
    assert criteria.role_of(chin, {'sex': 'male'}) == criteria.GRADE2
    assert criteria.role_of(chin, {'sex': 'female'}) == criteria.GRADE3
    assert criteria.role_of(rows['lifts_as_one_unit'], {}) == \
        criteria.PATTERN
    with pytest.raises(FmsError, match='--sex male or --sex female'):
        criteria.role_of(chin, {})


def test_judge_takes_value_and_unit_from_the_record():
    row = criteria.criteria_of('deep_squat')[1]        # femur below
    measured = {'femur_angle': Measurement(4.0, 'deg')}
    result = criteria.judge(row, 'side', measured,
                            {'femur_angle_min_deg': 0.0})
    assert (result.value, result.unit, result.passed) == (4.0, 'deg', True)
    hidden = criteria.judge(row, 'front', measured,
                            {'femur_angle_min_deg': 0.0})
    assert hidden.passed is None and hidden.value is None
    missing = criteria.judge(row, 'side', {}, {'femur_angle_min_deg': 0.0})
    assert missing.passed is None and 'not measured' in missing.note
    with pytest.raises(FmsError, match='no threshold'):
        criteria.judge(row, 'side', measured, {})


def test_derived_input():
    limit = criteria.SCORE_RULES['rotary_stability'].limit
    same = {'same_side_leg': Measurement(1.0, 'flag')}
    assert criteria.derived_input(limit, same, {}) == 'unilateral'
    assert criteria.derived_input(limit, same, {'pattern': 'diagonal'}) \
        == 'diagonal'
    assert criteria.derived_input(limit, {}, {}) is None


@pytest.fixture(scope='module')
def examples():
    """The analysis of every example trial (every test and view)."""
    return [analyze_track(movements.example_track(test, side, view), test,
                          side, view, inputs)
            for test, side, view, inputs in movements.EXAMPLE_TRIALS]


def test_the_examples_cover_every_test_and_observable_view():
    covered = {(test, view) for test, _, view, _ in movements.EXAMPLE_TRIALS}
    observable = {(row.test, view) for row in criteria.CRITERIA
                  for view in row.views}
    assert covered == observable
    assert set(MEASURES) == set(TESTS)


def test_every_criterion_measurement_is_produced_where_observable(examples):
    produced = {(a.test, a.view, name) for a in examples
                for name, m in a.measurements.items() if m.value is not None}
    for row in criteria.CRITERIA:
        for view in row.views:
            assert (row.test, view, row.measurement) in produced, (row, view)


def test_thresholds_and_criteria_name_each_other():
    """Every threshold of the file is some row's, and every row's threshold
    is in the file: no orphan thresholds, no missing ones."""
    details = threshold_details()
    used = {(row.test, row.threshold_key) for row in criteria.CRITERIA}
    in_file = {(test, key) for test in details for key in details[test]}
    assert used == in_file


def test_threshold_units_are_the_measurement_units(examples):
    details = threshold_details()
    units = {(a.test, name): m.unit for a in examples
             for name, m in a.measurements.items()}
    for row in criteria.CRITERIA:
        assert details[row.test][row.threshold_key]['unit'] == \
            units[row.test, row.measurement], row


def test_curve_threshold_lines_use_the_tests_thresholds(examples):
    details = threshold_details()
    for analysis in examples:
        for lines in analysis.curve_thresholds.values():
            for _, value in lines:
                assert value in [e['value'] for e
                                 in details[analysis.test].values()]


def test_views_are_known():
    assert all(set(row.views) <= set(VIEWS) for row in criteria.CRITERIA)
