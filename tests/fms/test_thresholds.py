"""Tests of fms.thresholds: the thresholds file, overrides, the grid."""
import json

import pytest

from fms import FmsError, thresholds
from fms.protocol import TESTS


def test_packaged_file_has_every_test():
    values = thresholds.load_thresholds()
    assert set(values) == set(TESTS)
    details = thresholds.threshold_details()
    for test in TESTS:
        for entry in details[test].values():
            assert set(entry) == set(thresholds.ENTRY_FIELDS)
            low, high = entry['range']
            assert low <= entry['value'] <= high, entry


def test_user_file_overrides_a_subset(tmp_path):
    path = tmp_path / 't.json'
    path.write_text(json.dumps({'aslr': {'mid_thigh_min_fraction': 0.6}}))
    values = thresholds.load_thresholds(str(path))
    assert values['aslr']['mid_thigh_min_fraction'] == 0.6
    assert values['aslr']['knee_min_fraction'] == 0.0
    details = thresholds.threshold_details(str(path))
    assert details['aslr']['mid_thigh_min_fraction']['unit'] == 'fraction'


@pytest.mark.parametrize('content, message', [
    ('{"squat": {}}', 'unknown test'),
    ('{"aslr": {"nope": 1}}', 'unknown threshold aslr.nope'),
    ('{"aslr": {"knee_min_fraction": "high"}}', 'finite number'),
    ('{"aslr": {"knee_min_fraction": {"range": [1, 0]}}}', 'range low'),
    ('{"aslr": ', 'not valid JSON'),
    ('[1]', 'must hold an object'),
])
def test_thresholds_file_errors(tmp_path, content, message):
    path = tmp_path / 't.json'
    path.write_text(content)
    with pytest.raises(FmsError, match=message):
        thresholds.load_thresholds(str(path))


def test_unreadable_thresholds_file(tmp_path):
    path = tmp_path / 't.json'
    path.write_bytes(b'\xff\xfe\x00')
    with pytest.raises(FmsError, match='cannot read thresholds file'):
        thresholds.load_thresholds(str(path))


def test_search_space_covers_the_range():
    space = thresholds.search_space(thresholds.threshold_details())
    grid = space['shoulder_mobility']['within_one_max_hands']
    assert grid[0] == pytest.approx(0.6) and grid[-1] == pytest.approx(1.4)
    assert len(grid) == 9


def test_test_thresholds_overrides():
    squat = thresholds.test_thresholds('deep_squat',
                                       {'femur_angle_min_deg': 5})
    assert squat['femur_angle_min_deg'] == 5.0
    assert squat['torso_tibia_max_deg'] == 10.0
    nested = thresholds.test_thresholds(
        'deep_squat', {'deep_squat': {'femur_angle_min_deg': 2}})
    assert nested['femur_angle_min_deg'] == 2.0
    with pytest.raises(FmsError, match='unknown thresholds for aslr: x'):
        thresholds.test_thresholds('aslr', {'x': 1})
