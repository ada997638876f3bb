"""Tests of fms.results: the result document and reading it back."""
import json

import pytest

from fms.analysis import analyze_track
from fms.measurements import Anchor
from fms.results import (RESULT_FORMAT, RESULT_VERSION,
                         document_measurements, result_document)
from fms.scoring import rescore
from tests.fixtures import movements


@pytest.fixture(scope='module')
def document():
    analysis = analyze_track(movements.hurdle_step_sequence(side='left'),
                             'hurdle_step', 'left', 'side', {})
    return json.loads(json.dumps(result_document(analysis, 's1'),
                                 allow_nan=False))


def test_document_fields(document):
    assert document['format'] == RESULT_FORMAT
    assert document['version'] == RESULT_VERSION
    assert (document['subject'], document['test'], document['side']) == (
        's1', 'hurdle_step', 'left')
    assert document['measurements']['clearance'] == pytest.approx(1.13,
                                                                  abs=0.02)
    assert document['measurement_details']['clearance'] == {
        'unit': 'shank lengths', 'anchor': {'joint': 'Ankle',
                                            'place': 'tested'}}
    hidden = next(c for c in document['criteria']
                  if c['name'] == 'leg_alignment')
    assert hidden['value'] is None and hidden['passed'] is None


def test_measurements_read_back(document):
    records = document_measurements(document)
    assert records['clearance'].unit == 'shank lengths'
    assert records['clearance'].anchor == Anchor('Ankle')
    assert rescore(document, {}) == document['score'] == 3
    assert rescore(document, {'clearance_min_shanks': 1.3}) == 1


def test_version_1_documents_without_details_are_read(document):
    old = {k: v for k, v in document.items() if k != 'measurement_details'}
    old['measurements'] = dict(old['measurements'], junk='x')
    records = document_measurements(old)
    assert records['clearance'].unit == '' and records['clearance'].anchor \
        is None
    assert records['junk'].value is None
    assert rescore(old, {'clearance_min_shanks': 1.3}) == 1


def test_repetitions_in_the_document():
    track = movements.repeated([
        movements.hurdle_step_sequence(side='left', hip_flexion_deg=70,
                                       knee_flexion_deg=100),
        movements.hurdle_step_sequence(side='left')])
    analysis = analyze_track(track, 'hurdle_step', 'left', 'side', {})
    document = json.loads(json.dumps(result_document(analysis, 's1'),
                                     allow_nan=False))
    first, second = document['repetitions']
    assert document['repetition'] == 2 and document['score'] == 3
    assert (first['index'], first['first_frame'], first['score']) == (1, 0, 1)
    assert second['first_frame'] == first['last_frame'] + 1
    assert second['last_frame'] == len(track) - 1
    assert document['key_frame']['frame'] == second['key_frame']
    assert second['measurements'] == document['measurements']
    # 0.245 (1 - cos 70) + 0.246 (1 - cos 30) body heights, in shanks
    assert first['measurements']['clearance'] == pytest.approx(0.79,
                                                               abs=0.03)
    assert first['key_frame'] == pytest.approx(30, abs=2)


def test_a_document_without_repetitions_is_judged_on_its_measurements(
        document):
    # written before repetitions were found: the chosen measurements only
    old = {k: v for k, v in document.items()
           if k not in ('repetitions', 'repetition')}
    assert rescore(old, {}) == 3
    assert rescore(old, {'clearance_min_shanks': 1.3}) == 1
    assert len(document['repetitions']) == 1
    assert document['repetition'] == 1
