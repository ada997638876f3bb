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
    ('{"frame": 0, "time": NaN, "people": []}\n', '"time" is NaN'),
    ('{"frame": 0, "time": 0, "people": [{"person_id": "a"}]}\n',
     'person 1: "person_id" is "a"'),
    ('{"frame": 0, "time": 0, "people": [{"pose_keypoints_2d": ["x"]}]}\n',
     'person 1: "pose_keypoints_2d" value 0 is "x", not a number'),
    ('{"frame": 0, "time": 0, "people": [3]}\n', 'person 1: 3 is not an'),
    ('[' * 100000 + ']' * 100000 + '\n', 'not JSON (nested too deeply)'),
])
def test_reading_a_bad_file_names_the_line(tmp_path, text, message):
    path = tmp_path / 'bad.jsonl'
    path.write_text('\n' + text)
    with pytest.raises(keypoints.KeypointFileError) as error:
        keypoints.read_keypoint_lines(str(path))
    assert message in str(error.value) and 'line 2' in str(error.value)
    assert str(path) in str(error.value) and '\n' not in str(error.value)


# ---------------------------------------------------------------------------
# Reading: bounds of every value (issue cases 12 and 17)
# ---------------------------------------------------------------------------


def line_with(frame=0, time=0.0, people=None, **fields):
    """One keypoint line (JSON text, allowing NaN and big integers) with one
    ordinary person unless ``people`` is given."""
    if people is None:
        people = [{'person_id': [0],
                   'pose_keypoints_2d': [10.0, 20.0, 0.5] * J}]
    record = {'frame': frame, 'time': time, 'carried': False, **fields,
              'version': 1.3, 'people': people}
    return json.dumps(record)


def person_with(field, index, value):
    """A person whose ``field`` list holds ``value`` at ``index``."""
    values = [10.0, 20.0, 0.5] * (J if field == 'pose_keypoints_2d' else 21)
    values[index] = value
    return [{'person_id': [0], field: values}]


def read_lines_of(tmp_path, *lines):
    path = tmp_path / 'k.jsonl'
    path.write_text(''.join(line + '\n' for line in lines))
    return keypoints.read_keypoint_lines(str(path))


BAD_VALUES = [
    # case 12: implausible or non-finite numbers
    (line_with(people=person_with('pose_keypoints_2d', 0, 1e308)),
     '"pose_keypoints_2d" value 0 (x of keypoint 0) is 1e+308; it must be '
     'within +-1e+06 pixels'),
    (line_with(people=person_with('pose_keypoints_2d', 4, -1e7)),
     'value 4 (y of keypoint 1) is -10000000.0'),
    (line_with(people=person_with('pose_keypoints_2d', 3, float('nan'))),
     'value 3 (x of keypoint 1) is NaN'),
    (line_with(people=person_with('pose_keypoints_2d', 0,
                                  float('inf'))), 'is Infinity'),
    (line_with(people=person_with('pose_keypoints_2d', 0, 10 ** 30)),
     'value 0 (x of keypoint 0) is 1000000000000000000000000000000'),
    (line_with(people=person_with('pose_keypoints_2d', 1, 10 ** 400)),
     'value 1 (y of keypoint 0) is 1000000000000000000000000000000000000'),
    (line_with(people=person_with('pose_keypoints_2d', 2, -0.5)),
     'value 2 (confidence of keypoint 0) is -0.5; it must be from 0 to 100'),
    (line_with(people=person_with('pose_keypoints_2d', 5, 1e3)),
     '(confidence of keypoint 1) is 1000.0'),
    (line_with(people=person_with('pose_keypoints_2d', 0, True)),
     'value 0 is true, not a number'),
    (line_with(people=person_with('hand_right_keypoints_2d', 60, 1e308)),
     '"hand_right_keypoints_2d" value 60 (x of keypoint 20)'),
    (line_with(people=person_with('face_keypoints_2d', 7, 'x')),
     '"face_keypoints_2d" value 7 is "x"'),
    (line_with(people=[{'pose_keypoints_2d': 7}]),
     '"pose_keypoints_2d" is 7, not a list'),
    (line_with(people=[{'person_id': [10 ** 30]}]),
     '"person_id" is [1000000000000000000000000000000]; it must be a whole '
     'number from -1 (untracked) to 2147483647'),
    (line_with(people=[{'person_id': -2}]), '"person_id" is -2'),
    (line_with(people=[{'person_id': [True]}]), '"person_id" is [true]'),
    (line_with(frame=10 ** 30), '"frame" is 1000000000000000000000000000000; '
     'it must be a whole number from 0 to 2147483647'),
    (line_with(frame=1e308), '"frame" is 1e+308'),
    (line_with(frame=2.5), '"frame" is 2.5'),
    (line_with(frame='3'), '"frame" is "3"'),
    (line_with(frame=True), '"frame" is true'),
    (line_with(time=float('inf')), '"time" is Infinity; it must be a number '
     'of seconds from 0 to 1e+09'),
    (line_with(time=1e308), '"time" is 1e+308'),
    (line_with(carried='yes'), '"carried" is "yes"; give true or false'),
    (line_with(decode_failed=1), '"decode_failed" is 1'),
    # case 17: negative frames and times
    (line_with(frame=-54), '"frame" is -54'),
    (line_with(time=-1.8), '"time" is -1.8'),
    # a number too long for Python's int conversion is not JSON either
    ('{"frame": ' + '9' * 5000 + ', "time": 0, "people": []}',
     'line 2 is not JSON (Exceeds the limit'),
    ('{"frame": 0, "time": 0, "people": [{"pose_keypoints_2d": '
     + '[' * 100000 + ']' * 100000 + '}]}', 'not JSON (nested too deeply)'),
]


@pytest.mark.parametrize('text, message', BAD_VALUES)
def test_implausible_values_are_refused_naming_file_line_and_field(
        tmp_path, text, message):
    with pytest.raises(keypoints.KeypointFileError) as error:
        read_lines_of(tmp_path, line_with(), text)
    text = str(error.value)
    assert message in text
    assert text.startswith(f'{tmp_path / "k.jsonl"}, line 2')
    assert '\n' not in text and len(text) < 400


def test_values_at_the_bounds_are_read(tmp_path):
    bound, top = keypoints.MAX_ABS_COORDINATE, keypoints.MAX_CONFIDENCE
    pose = [-bound, bound, top, 0, 0, 0] * (J // 2)
    first = line_with(frame=0, time=0, people=[
        {'person_id': -1, 'pose_keypoints_2d': pose}])
    last = line_with(frame=keypoints.MAX_FRAME_INDEX,
                     time=keypoints.MAX_TIME, people=[
                         {'person_id': [keypoints.MAX_PERSON_ID],
                          'pose_keypoints_2d': None}])
    whole_float = '{"frame": 3.0, "time": 0.1, "people": []}'
    assert len(read_lines_of(tmp_path, first, whole_float, last)) == 3


@pytest.mark.parametrize('frames, times, line, message', [
    ([0, 1, 1], [0, 0.1, 0.2], 3,
     'frame 1 does not come after frame 1 of line 2'),
    ([0, 2, 1], [0, 0.2, 0.1], 3,
     'frame 1 does not come after frame 2 of line 2'),
    ([5, 6, 7, 0], [0.5, 0.6, 0.7, 0], 4, 'frame 0 does not come after'),
    ([0, 1, 2], [0, 0.2, 0.2], 3,
     'time 0.2 s of frame 2 does not come after time 0.2 s of frame 1'),
    ([0, 1, 2], [0, 0.2, 0.1], 3, 'time 0.1 s of frame 2 does not come'),
])
def test_frames_out_of_order_or_repeated_are_an_error(tmp_path, frames,
                                                      times, line, message):
    """Case 17: lines are not sorted but refused, naming the line."""
    with pytest.raises(keypoints.KeypointFileError) as error:
        read_lines_of(tmp_path, *(line_with(frame=f, time=t)
                                  for f, t in zip(frames, times)))
    assert f'k.jsonl, line {line}: {message}' in str(error.value)
    assert '\n' not in str(error.value)


def test_blank_lines_do_not_break_the_order(tmp_path):
    records = read_lines_of(tmp_path, line_with(frame=0), '',
                            line_with(frame=4, time=0.4), '  ')
    assert [r['frame'] for r in records] == [0, 4]


def test_video_output_with_faces_hands_and_large_values_reads_back(tmp_path):
    """What the video command writes (frame_record of openpose_json, with
    face and hand keypoints, tracked ids, confidences above 1 and keypoints
    beyond the frame) passes the checks unchanged."""
    poses = numbered_poses(2)
    poses[1, 3, :2] = (-40.5, 9999.25)
    confidences = numbered_confidences(2) * 100 + 0.5     # up to 36.5
    records = []
    for index in range(4):
        document = keypoints.openpose_json(
            poses, confidences, faces=numbered_parts((2, F), 1000),
            hands=numbered_parts((2, 2, H), 5000), person_ids=[index, 7])
        records.append(keypoints.frame_record(
            index, index / 29.97, None if index == 2 else document,
            carried=index == 3))
    path = str(tmp_path / 'video.jsonl')
    keypoints.write_keypoint_lines(path, records)
    assert keypoints.read_keypoint_lines(path) == records


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


# ---------------------------------------------------------------------------
# Keypoint frames (OpenPose's per-frame files of a video)
# ---------------------------------------------------------------------------

def test_frame_file_names_are_openpose_s():
    assert keypoints.frame_file_name('clip', 42) == \
        'clip_000000000042_keypoints.json'


def test_keypoint_frames_appear_whole_at_commit(tmp_path):
    folder = tmp_path / 'out' / 'clip_json'
    document = keypoints.openpose_json(numbered_poses(2),
                                       numbered_confidences(2),
                                       person_ids=[3, 5])
    with keypoints.KeypointFramesWriter(str(folder), 'clip') as writer:
        writer.write_frame(0, document)
        writer.write_frame(1, None)                  # failed to decode
        assert not folder.exists()
        assert len(os.listdir(tmp_path / 'out')) == 1     # hidden, beside
        writer.commit()
    assert sorted(os.listdir(folder)) == [
        'clip_000000000000_keypoints.json',
        'clip_000000000001_keypoints.json']
    first = json.loads((folder / 'clip_000000000000_keypoints.json')
                       .read_text())
    assert first == document and first['version'] == 1.3
    assert set(first['people'][0]) >= {'person_id', 'pose_keypoints_2d',
                                       'face_keypoints_2d',
                                       'hand_left_keypoints_2d',
                                       'pose_keypoints_3d'}
    assert json.loads((folder / 'clip_000000000001_keypoints.json')
                      .read_text())['people'] == []
    assert os.listdir(tmp_path / 'out') == ['clip_json']


def test_keypoint_frames_keep_other_files_of_the_folder(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    with keypoints.KeypointFramesWriter(str(tmp_path), 'cam') as writer:
        writer.write_frame(7, None)
        writer.commit()
    assert sorted(os.listdir(tmp_path)) == ['cam_000000000007_keypoints.json',
                                            'notes.txt']


def test_a_new_keypoint_folder_is_the_temporary_one_renamed(tmp_path):
    folder = tmp_path / 'clip_json'
    with keypoints.KeypointFramesWriter(str(folder), 'clip') as writer:
        for index in range(3):
            writer.write_frame(index, None)
        temporary = os.stat(writer.temp_path).st_ino
        writer.commit()
    assert os.stat(folder).st_ino == temporary      # one rename, whole
    assert len(os.listdir(folder)) == 3
    assert os.listdir(tmp_path) == ['clip_json']    # no temporary left


def test_keypoint_frames_go_into_an_existing_folder_one_by_one(tmp_path):
    folder = tmp_path / 'json'
    folder.mkdir()
    (folder / 'notes.txt').write_text('mine')
    (folder / 'cam_000000000007_keypoints.json').write_text('old')
    existing = os.stat(folder).st_ino
    with keypoints.KeypointFramesWriter(str(folder), 'cam') as writer:
        writer.write_frame(7, None)
        writer.write_frame(8, None)
        writer.commit()
    assert os.stat(folder).st_ino == existing
    assert sorted(os.listdir(folder)) == ['cam_000000000007_keypoints.json',
                                          'cam_000000000008_keypoints.json',
                                          'notes.txt']
    assert (folder / 'notes.txt').read_text() == 'mine'
    assert json.loads((folder / 'cam_000000000007_keypoints.json')
                      .read_text())['people'] == []
    assert os.listdir(tmp_path) == ['json']         # no temporary left


def test_a_keypoint_folder_made_before_the_rename_keeps_its_files(
        tmp_path, monkeypatch):
    folder = tmp_path / 'json'
    rename = os.rename

    def made_meanwhile(source, destination):
        folder.mkdir()
        (folder / 'notes.txt').write_text('mine')
        rename(source, destination)
    monkeypatch.setattr(keypoints.os, 'rename', made_meanwhile)
    with keypoints.KeypointFramesWriter(str(folder), 'cam') as writer:
        writer.write_frame(0, None)
        writer.commit()
    assert sorted(os.listdir(folder)) == ['cam_000000000000_keypoints.json',
                                          'notes.txt']
    assert os.listdir(tmp_path) == ['json']


def test_aborted_keypoint_frames_leave_nothing(tmp_path):
    folder = tmp_path / 'new' / 'deeper'
    with keypoints.KeypointFramesWriter(str(folder), 'clip') as writer:
        writer.write_frame(0, None)
    assert os.listdir(tmp_path) == []
    with pytest.raises(keypoints.KeypointFileError, match='aborted'):
        writer.commit()
