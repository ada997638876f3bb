"""Tests of fms.calibration_output: the printed calibration and its files."""
import json
import os

import pytest

from fms import FmsError, calibration, calibration_output
from tests.fms.toy_calibration import (DEFAULT, DEFAULTS, HIDDEN, SPACE,
                                       XS, rescore, squat_trials)

DETAILS = {
    'deep_squat': {
        'x_min': {'value': DEFAULT, 'unit': 'deg', 'range': [0.0, 20.0],
                  'step': 1.0, 'description': 'x at least this',
                  'source': 'our choice'},
        'unused': {'value': 5.0, 'unit': 'deg', 'range': [0.0, 20.0],
                   'step': 1.0, 'description': 'not used', 'source': 'ours'}},
    'aslr': {
        'x_min': {'value': 7.0, 'unit': 'deg', 'range': [0.0, 20.0],
                  'step': 1.0, 'description': 'x', 'source': 'packaged'}},
}


@pytest.fixture(scope='module')
def result():
    documents, coach = squat_trials(XS, HIDDEN)
    return calibration.calibrate(documents, coach, rescore, SPACE, DEFAULTS)


def test_write_calibration_writes_thresholds_and_figures(result, tmp_path):
    path = tmp_path / 'calibrated.json'
    written = calibration_output.write_calibration(result, str(path),
                                                   DETAILS)
    figures_path = tmp_path / 'calibrated_calibration.json'
    assert written == [str(path), str(figures_path)]
    entries = json.loads(path.read_text())
    squat = entries['deep_squat']['x_min']
    assert squat['value'] == HIDDEN
    assert squat['source'] == 'calibrated to coach scores on 20 trials'
    assert set(squat) == {'value', 'unit', 'range', 'step', 'description',
                          'source'}
    assert entries['deep_squat']['unused']['source'] \
        == 'calibrated to coach scores on 20 trials'
    assert entries['aslr'] == DETAILS['aslr']
    assert DETAILS['deep_squat']['x_min']['value'] == DEFAULT  # not changed
    figures = json.loads(figures_path.read_text())
    assert figures == calibration_output.calibration_document(result)
    assert figures['format'] == 'fms-calibration'
    assert figures['generalises'] is True


def test_write_calibration_refuses_to_overwrite_an_input(result, tmp_path):
    packaged = tmp_path / 'thresholds.json'
    packaged.write_text(json.dumps(DETAILS))
    before = packaged.read_text()
    with pytest.raises(FmsError, match='overwrite the input'):
        calibration_output.write_calibration(
            result, str(packaged), DETAILS,
            inputs=[str(tmp_path / 'coach.csv'), str(packaged)])
    assert packaged.read_text() == before
    figures_input = tmp_path / 'out_calibration.json'
    figures_input.write_text('{}')
    with pytest.raises(FmsError, match='out_calibration.json would '
                                       'overwrite the input'):
        calibration_output.check_calibration_outputs(
            str(tmp_path / 'out.json'), [str(figures_input)])
    missing = {'deep_squat': {'unused': DETAILS['deep_squat']['unused']}}
    with pytest.raises(FmsError, match="'x_min' is not in the packaged"):
        calibration_output.write_calibration(
            result, str(tmp_path / 'out.json'), missing)
    assert sorted(os.listdir(tmp_path)) == ['out_calibration.json',
                                            'thresholds.json']


def test_calibration_path():
    assert calibration_output.calibration_path('a/t.json') == \
        'a/t_calibration.json'


def test_report_and_document(result):
    text = calibration_output.format_calibration(result)
    assert 'deep_squat.x_min: 10 -> 12' in text
    assert 'deep_squat.unused: unchanged' in text
    assert result.judgement in text
    document = calibration_output.calibration_document(result)
    json.dumps(document, allow_nan=False)
    assert document['thresholds']['deep_squat']['x_min'] == HIDDEN
    assert document['cross_validated']['overall']['n'] == 20
