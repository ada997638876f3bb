"""The keypoint table (CSV): columns, missing joints, atomic writing,
reading back."""
import csv
import os

import numpy as np
import pytest

import entity
from pose.keypoint_table import (KeypointTableWriter, header,
                                 read_keypoint_table)
from pose.keypoints import KeypointFileError


def people(count, seed=0):
    """``(poses, confidences)`` of ``count`` people, joint 2 of the first
    missing."""
    rng = np.random.default_rng(seed)
    poses = np.ones((count, entity.NUM_JOINTS, 3), np.float32)
    poses[:, :, :2] = rng.uniform(0, 300, (count, entity.NUM_JOINTS, 2))
    confidences = rng.uniform(0.1, 1, (count, entity.NUM_JOINTS)).astype(
        np.float32)
    if count:
        poses[0, 2] = (0, 0, 0)
        confidences[0, 2] = 0
    return poses, confidences


def test_header_names_every_joint_in_order():
    columns = header()
    assert columns[:4] == ['frame', 'time', 'carried', 'person_id']
    assert columns[4:7] == ['Nose_x', 'Nose_y', 'Nose_c']
    assert columns[4::3] == [f'{n}_x' for n in entity.JOINT_NAMES]
    assert len(columns) == 4 + 3 * entity.NUM_JOINTS


def test_rows_round_trip(tmp_path):
    path = tmp_path / 'k.csv'
    first, second = people(2), people(1, seed=1)
    with KeypointTableWriter(str(path)) as writer:
        writer.write_frame(0, 0.0, False, *first, ids=[4, 7])
        writer.write_frame(1, 0.1, True, *people(0))        # nobody: no row
        writer.write_frame(2, 0.2, True, *second, ids=[7])
        writer.commit()
    assert writer.rows == 3 and os.listdir(tmp_path) == ['k.csv']
    table = read_keypoint_table(str(path))
    assert table.frames.tolist() == [0, 0, 2]
    assert table.times.tolist() == pytest.approx([0, 0, 0.2])
    assert table.carried.tolist() == [False, False, True]
    assert table.person_ids.tolist() == [4, 7, 7]
    poses = np.concatenate([first[0], second[0]])
    confidences = np.concatenate([first[1], second[1]])
    found = poses[:, :, 2] > 0
    np.testing.assert_allclose(table.xy[found], poses[:, :, :2][found],
                               atol=1e-3)
    np.testing.assert_allclose(table.confidences, confidences, atol=1e-4)
    assert np.isnan(table.xy[0, 2]).all() and table.confidences[0, 2] == 0


def test_a_missing_joint_is_empty_x_y_and_zero_confidence(tmp_path):
    path = tmp_path / 'k.csv'
    with KeypointTableWriter(str(path)) as writer:
        writer.write_frame(3, 0.3, False, *people(1))
        writer.commit()
    rows = list(csv.DictReader(open(path, newline='')))
    assert len(rows) == 1 and rows[0]['person_id'] == '-1'
    assert (rows[0]['RShoulder_x'], rows[0]['RShoulder_y'],
            rows[0]['RShoulder_c']) == ('', '', '0')
    assert rows[0]['Nose_x'] != ''


def test_an_aborted_table_leaves_nothing(tmp_path):
    existing = tmp_path / 'k.csv'
    existing.write_text('old')
    with KeypointTableWriter(str(existing)) as writer:
        writer.write_frame(0, 0.0, False, *people(1))
    assert os.listdir(tmp_path) == ['k.csv'] and existing.read_text() == 'old'
    with pytest.raises(KeypointFileError, match='aborted'):
        writer.commit()


@pytest.mark.parametrize('text, message', [
    ('a,b\n', 'line 1 is not the keypoint table'),
    (','.join(header()) + '\n1,2,0\n', 'line 2: 3 columns'),
    (','.join(header()) + '\n' + ','.join(['x'] * len(header())) + '\n',
     'line 2'),
])
def test_a_bad_table_is_one_line(tmp_path, text, message):
    path = tmp_path / 'bad.csv'
    path.write_text(text)
    with pytest.raises(KeypointFileError, match=message):
        read_keypoint_table(str(path))


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(KeypointFileError, match='does not exist'):
        KeypointTableWriter(str(tmp_path / 'no' / 'k.csv'))
