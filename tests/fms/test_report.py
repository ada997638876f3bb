"""Tests of fms.report: the three report files of a trial."""
import json
import os

import cv2
import pytest

from fms import FmsError, report
from tests.fms.analyses import HEIGHT, KEY, WIDTH, synthetic_analysis


def test_write_report_writes_three_files(analysis, photo, tmp_path):
    out = tmp_path / 'new' / 'folder'
    paths = report.write_report(analysis, 'anna', str(out), 'anna_squat',
                                image=photo)
    assert paths == {'json': str(out / 'anna_squat.json'),
                     'plot': str(out / 'anna_squat_angles.png'),
                     'image': str(out / 'anna_squat_key_frame.png')}
    assert sorted(os.listdir(out)) == sorted(
        os.path.basename(p) for p in paths.values())
    with open(paths['json'], encoding='utf-8') as f:
        document = json.load(f)
    assert document['subject'] == 'anna' and document['score'] == 2
    assert document['key_frame']['index'] == KEY
    assert document['key_frame']['frame'] == KEY + 100
    assert document['criteria'][2]['passed'] is None
    assert document['measurements']['knee_valgus'] is None
    assert document['measurement_details']['knee_flexion'] == {
        'unit': 'deg', 'anchor': {'joint': 'Knee', 'place': 'tested'}}
    assert cv2.imread(paths['image']).shape == photo.shape
    assert cv2.imread(paths['plot']) is not None


def test_write_report_canvas_of_frame_size(analysis, tmp_path):
    paths = report.write_report(analysis, 'anna', str(tmp_path), 'a',
                                frame_size=(WIDTH, HEIGHT))
    assert cv2.imread(paths['image']).shape == (HEIGHT, WIDTH, 3)


def test_output_folder_that_is_a_file_leaves_nothing(analysis, tmp_path):
    blocker = tmp_path / 'out'
    blocker.write_text('x')
    with pytest.raises(FmsError, match='is a file, not a folder'):
        report.write_report(analysis, 'anna', str(blocker), 'anna')
    assert sorted(os.listdir(tmp_path)) == ['out']
    assert blocker.read_text() == 'x'


def test_an_output_that_is_a_folder_is_refused_before_writing(analysis,
                                                              tmp_path):
    os.mkdir(tmp_path / 'anna_angles.png')
    with pytest.raises(FmsError, match=r'anna_angles\.png: is a folder'):
        report.write_report(analysis, 'anna', str(tmp_path), 'anna')
    assert os.listdir(tmp_path) == ['anna_angles.png']


def test_input_keypoint_file_is_never_overwritten(tmp_path):
    source = tmp_path / 'anna.json'
    source.write_text('{"frame": 0}\n')
    analysis = synthetic_analysis(source=str(source))
    with pytest.raises(FmsError, match='overwrite the input'):
        report.write_report(analysis, 'anna', str(tmp_path), 'anna')
    assert source.read_text() == '{"frame": 0}\n'
    assert os.listdir(tmp_path) == ['anna.json']


def test_bad_stem_is_refused(analysis, tmp_path):
    with pytest.raises(FmsError, match='without folders'):
        report.write_report(analysis, 'anna', str(tmp_path), 'a/b')
