"""Tests of pose.keypoints: the OpenPose keypoint documents and files."""
import json
import os

import numpy as np
import pytest

import entity
from pose import keypoints
from tests.fixtures.pose_arrays import (numbered_confidences, numbered_poses,
                                        triple)

J = entity.NUM_JOINTS




# ---------------------------------------------------------------------------
# openpose_json
# ---------------------------------------------------------------------------


def test_openpose_layout():
    result = keypoints.openpose_json(numbered_poses(2),
                                     numbered_confidences(2))
    assert result['version'] == 1.3
    assert len(result['people']) == 2
    person = result['people'][0]
    assert set(person) == {
        'person_id', 'pose_keypoints_2d', 'face_keypoints_2d',
        'hand_left_keypoints_2d', 'hand_right_keypoints_2d',
        'pose_keypoints_3d', 'face_keypoints_3d', 'hand_left_keypoints_3d',
        'hand_right_keypoints_3d'}
    assert person['person_id'] == [-1]
    assert len(person['pose_keypoints_2d']) == 18 * 3
    assert all(person[k] == [] for k in person
               if k not in ('person_id', 'pose_keypoints_2d'))


def test_openpose_values_in_joint_order():
    result = keypoints.openpose_json(numbered_poses(2),
                                     numbered_confidences(2))
    second = result['people'][1]['pose_keypoints_2d']
    neck = entity.JOINT_INDEX['Neck']
    assert triple(second, neck) == [111.0, 112.0, 0.2]


def test_openpose_missing_joint_is_all_zero():
    poses = numbered_poses(1)
    poses[0, 4] = (33.0, 44.0, 0)          # not found: coordinates ignored
    result = keypoints.openpose_json(poses, numbered_confidences(1))
    values = result['people'][0]['pose_keypoints_2d']
    assert triple(values, 4) == [0.0, 0.0, 0.0]
    assert triple(values, 5) != [0.0, 0.0, 0.0]


def test_openpose_values_are_rounded_plain_floats():
    poses = numbered_poses(1)
    poses[0, 0, :2] = (12.345678, 0.0004)
    confidences = numbered_confidences(1)
    confidences[0, 0] = 0.123456
    result = keypoints.openpose_json(poses, confidences)
    values = result['people'][0]['pose_keypoints_2d']
    assert triple(values, 0) == [12.346, 0.0, 0.1235]
    assert all(type(v) is float for v in values)
    assert json.loads(json.dumps(result)) == result


def test_openpose_no_people():
    result = keypoints.openpose_json(np.zeros((0, J, 3), np.float32),
                                     np.zeros((0, J), np.float32))
    assert result == {'version': 1.3, 'people': []}


def test_openpose_rejects_mismatched_confidences():
    with pytest.raises(ValueError, match='confidence'):
        keypoints.openpose_json(numbered_poses(2), numbered_confidences(1))


# ---------------------------------------------------------------------------
# openpose_json: face and hands
# ---------------------------------------------------------------------------

F, H = entity.NUM_FACE_KEYPOINTS, entity.NUM_HAND_KEYPOINTS
HAND_FIELDS = {0: 'hand_left_keypoints_2d', 1: 'hand_right_keypoints_2d'}


def numbered_parts(shape, start):
    """(..., 3) float32 keypoints numbered from ``start`` (x = start + 3 i,
    y = x + 1, confidence 0.5): every value is distinct."""
    count = int(np.prod(shape))
    x = start + 3 * np.arange(count, dtype=np.float32)
    return np.stack([x, x + 1, np.full(count, 0.5, np.float32)],
                    axis=1).reshape(shape + (3,))


def with_parts(n=2, faces=True, hands=True):
    """``openpose_json`` of n people with numbered faces and/or hands."""
    return keypoints.openpose_json(
        numbered_poses(n), numbered_confidences(n),
        faces=numbered_parts((n, F), 1000) if faces else None,
        hands=numbered_parts((n, 2, H), 5000) if hands else None)


@pytest.mark.parametrize('field, length', [
    ('face_keypoints_2d', 70 * 3),
    ('hand_left_keypoints_2d', 21 * 3),
    ('hand_right_keypoints_2d', 21 * 3),
])
def test_openpose_part_lengths_and_plain_floats(field, length):
    result = with_parts()
    for person in result['people']:
        assert len(person[field]) == length
        assert all(type(v) is float for v in person[field])
    assert json.loads(json.dumps(result)) == result


def test_openpose_parts_leave_the_rest_unchanged():
    result, body_only = with_parts(), with_parts(faces=False, hands=False)
    for person, plain in zip(result['people'], body_only['people']):
        assert set(person) == set(plain)
        assert person['pose_keypoints_2d'] == plain['pose_keypoints_2d']
        assert all(person[k] == [] for k in person if k.endswith('_3d'))


@pytest.mark.parametrize('p', [0, 1])
def test_openpose_face_values_in_keypoint_order(p):
    values = with_parts()['people'][p]['face_keypoints_2d']
    faces = numbered_parts((2, F), 1000)
    for k in (0, 33, 69):
        assert triple(values, k) == [float(faces[p, k, 0]),
                                     float(faces[p, k, 1]), 0.5]


@pytest.mark.parametrize('p', [0, 1])
@pytest.mark.parametrize('side', [0, 1])
def test_openpose_hands_left_then_right(p, side):
    values = with_parts()['people'][p][HAND_FIELDS[side]]
    hands = numbered_parts((2, 2, H), 5000)
    for k in (0, 10, 20):
        assert triple(values, k) == [float(hands[p, side, k, 0]),
                                     float(hands[p, side, k, 1]), 0.5]


@pytest.mark.parametrize('faces, hands, filled', [
    (True, False, {'face_keypoints_2d'}),
    (False, True, set(HAND_FIELDS.values())),
])
def test_openpose_only_given_parts_are_filled(faces, hands, filled):
    person = with_parts(faces=faces, hands=hands)['people'][0]
    for field in ('face_keypoints_2d', *HAND_FIELDS.values()):
        assert (person[field] != []) == (field in filled)


def test_openpose_part_not_found_is_all_zero():
    """A missing point (confidence 0, stray coordinates) and a person
    without a right hand (all zeros) are written as zeros."""
    faces = numbered_parts((1, F), 1000)
    faces[0, 7, 2] = 0.0
    hands = numbered_parts((1, 2, H), 5000)
    hands[0, 1] = 0.0
    person = keypoints.openpose_json(numbered_poses(1),
                                     numbered_confidences(1),
                                     faces, hands)['people'][0]
    assert triple(person['face_keypoints_2d'], 7) == [0.0, 0.0, 0.0]
    assert triple(person['face_keypoints_2d'], 8) != [0.0, 0.0, 0.0]
    assert person['hand_right_keypoints_2d'] == [0.0] * (21 * 3)
    assert 0.0 not in person['hand_left_keypoints_2d']


def test_openpose_part_values_are_rounded():
    faces = np.zeros((1, F, 3), np.float32)
    faces[0, 0] = (12.345678, 0.0004, 0.123456)
    person = keypoints.openpose_json(numbered_poses(1),
                                     numbered_confidences(1),
                                     faces=faces)['people'][0]
    assert triple(person['face_keypoints_2d'], 0) == [12.346, 0.0, 0.1235]


@pytest.mark.parametrize('faces, hands', [
    (np.zeros((1, F, 3)), None),              # one face for two people
    (None, np.zeros((2, H, 3))),              # hands without the side axis
    (None, np.zeros((2, 2, H, 2))),           # no confidence column
])
def test_openpose_rejects_mismatched_parts(faces, hands):
    with pytest.raises(ValueError, match='keypoints'):
        keypoints.openpose_json(numbered_poses(2), numbered_confidences(2),
                                faces, hands)


def test_openpose_parts_without_people():
    result = keypoints.openpose_json(
        np.zeros((0, J, 3), np.float32), np.zeros((0, J), np.float32),
        np.zeros((0, F, 3), np.float32), np.zeros((0, 2, H, 3), np.float32))
    assert result == {'version': 1.3, 'people': []}


# ---------------------------------------------------------------------------
# Person ids, frame records and the keypoint files
# ---------------------------------------------------------------------------


def test_person_ids_are_written_and_read_back():
    document = keypoints.openpose_json(numbered_poses(2),
                                       numbered_confidences(2),
                                       person_ids=[7, 3])
    assert [keypoints.person_id(p) for p in document['people']] == [7, 3]
    with pytest.raises(ValueError, match='person ids'):
        keypoints.openpose_json(numbered_poses(2), numbered_confidences(2),
                                person_ids=[1])


def test_keypoint_array_decodes_what_openpose_json_encodes():
    poses, confidences = numbered_poses(1), numbered_confidences(1)
    poses[0, 4, 2] = entity.JOINT_MISSING
    person = keypoints.openpose_json(poses, confidences)['people'][0]
    xy, found = keypoints.keypoint_array(person[keypoints.POSE_FIELD], J)
    assert np.isnan(xy[4]).all() and found[4] == 0
    keep = np.arange(J) != 4
    np.testing.assert_allclose(xy[keep], poses[0, keep, :2], atol=1e-3)
    np.testing.assert_allclose(found[keep], confidences[0, keep], atol=1e-4)


def frames(count=3):
    document = keypoints.openpose_json(numbered_poses(1),
                                       numbered_confidences(1), person_ids=[0])
    return [keypoints.frame_record(i, i / 30, document, carried=i == 1)
            for i in range(count)]


def test_frame_record_fields():
    first, carried = frames(2)
    assert list(first)[:4] == ['frame', 'time', 'carried', 'version']
    assert (first['frame'], first['time'], first['carried']) == (0, 0.0, False)
    assert carried['carried'] is True and len(carried['people']) == 1
    failed = keypoints.frame_record(5, 1 / 6, None)
    assert failed['decode_failed'] is True and failed['people'] == []
    assert failed['time'] == round(1 / 6, 6)


def test_keypoint_lines_round_trip(tmp_path):
    path = str(tmp_path / 'clip.jsonl')
    keypoints.write_keypoint_lines(path, frames())
    assert keypoints.read_keypoint_lines(path) == frames()
    assert os.listdir(tmp_path) == ['clip.jsonl']


def test_writer_commit(tmp_path):
    path = tmp_path / 'out.jsonl'
    path.write_text('old\n')
    with keypoints.KeypointLinesWriter(str(path)) as lines:
        for record in frames():
            lines.write_frame(record)
        assert len(open(lines.temp_path).read().splitlines()) == 3
        assert path.read_text() == 'old\n'
        lines.commit()
    assert keypoints.read_keypoint_lines(str(path)) == frames()
    assert os.listdir(tmp_path) == ['out.jsonl'] and lines.lines == 3


@pytest.mark.parametrize('stop', ['abort', 'exception', 'no commit'])
def test_writer_that_is_not_committed_leaves_nothing(tmp_path, stop):
    lines = keypoints.KeypointLinesWriter(str(tmp_path / 'out.jsonl'))
    lines.write_frame(frames(1)[0])
    if stop == 'abort':
        lines.abort()
    elif stop == 'exception':
        with pytest.raises(KeyError), lines:
            raise KeyError('user error')
    else:
        with lines:
            pass
    assert os.listdir(tmp_path) == []
    with pytest.raises(keypoints.KeypointFileError, match='after'):
        lines.write_frame(frames(1)[0])


def test_writer_needs_an_existing_folder(tmp_path):
    with pytest.raises(keypoints.KeypointFileError, match='does not exist'):
        keypoints.KeypointLinesWriter(str(tmp_path / 'no' / 'out.jsonl'))


@pytest.mark.parametrize('text, message', [
    ('{"frame": 0, "time": 0.0\n', 'not JSON'),
    ('[1, 2]\n', 'no "people"'),
    ('{"people": []}\n', 'no "frame" and "time"'),
    ('{"frame": 0, "time": NaN, "people": []}\n', 'no "frame" and "time"'),
    ('{"frame": 0, "time": 0, "people": [{"person_id": "a"}]}\n',
     'a person is not'),
    ('{"frame": 0, "time": 0, "people": [{"pose_keypoints_2d": ["x"]}]}\n',
     'a person is not'),
    ('[' * 100000 + ']' * 100000 + '\n', 'not JSON'),
])
def test_reading_a_bad_file_names_the_line(tmp_path, text, message):
    path = tmp_path / 'bad.jsonl'
    path.write_text('\n' + text)
    with pytest.raises(keypoints.KeypointFileError) as error:
        keypoints.read_keypoint_lines(str(path))
    assert message in str(error.value) and 'line 2' in str(error.value)


def test_reading_a_missing_or_empty_file(tmp_path):
    path = tmp_path / 'none.jsonl'
    with pytest.raises(keypoints.KeypointFileError, match='no such file'):
        keypoints.read_keypoint_lines(str(path))
    path.write_bytes(b'')
    with pytest.raises(keypoints.KeypointFileError, match='empty'):
        keypoints.read_keypoint_lines(str(path))
    path.write_bytes(b'\xff\xfe not text')
    with pytest.raises(keypoints.KeypointFileError, match='cannot read'):
        keypoints.read_keypoint_lines(str(path))
