"""Tests of fms.measurements: the records of measured values."""
import math

import pytest

from fms import measurements as m


def test_values_are_finite_or_none():
    assert m.Measurement(math.nan, 'deg').value is None
    assert m.Measurement(math.inf, 'deg').value is None
    assert m.Measurement(3, 'deg').value == 3.0
    assert m.values({'a': m.Measurement(1.5, 'deg'),
                     'b': m.Measurement(None, 'deg')}) == {'a': 1.5,
                                                           'b': None}


def test_anchor_joints_by_place():
    assert m.joint_names(m.Anchor('Knee', m.TESTED), 'left') == ['LKnee']
    assert m.joint_names(m.Anchor('Knee', m.TESTED), None) == ['LKnee',
                                                                'RKnee']
    assert m.joint_names(m.Anchor('Knee', m.OPPOSITE), 'left') == ['RKnee']
    assert m.joint_names(m.Anchor('Hip', m.CENTRAL), 'right') == ['LHip',
                                                                  'RHip']
    assert m.joint_names(m.Anchor('Ankle', 'right'), 'left') == ['RAnkle']
    assert m.joint_names(m.Anchor('Neck'), 'left') == ['Neck']


@pytest.mark.parametrize('joint, place', [('Tail', m.TESTED),
                                          ('Knee', 'middle')])
def test_bad_anchors_are_refused(joint, place):
    with pytest.raises(ValueError):
        m.Anchor(joint, place)


def test_anchor_document_round_trip():
    anchor = m.Anchor('Knee', m.OPPOSITE)
    assert m.anchor_from_document(m.anchor_document(anchor)) == anchor
    assert m.anchor_document(None) is None
    assert m.anchor_from_document(None) is None
    assert m.anchor_from_document({'joint': 'Tail', 'place': 'x'}) is None
