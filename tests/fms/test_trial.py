"""Tests of fms.trial: one trial from its keypoint file to its report."""
import json
import os

import cv2
import pytest

from fms import FmsError, trial
from tests.fixtures import movements
from tests.video_clips import make_clip


@pytest.fixture
def keypoints(tmp_path):
    path = tmp_path / 'anna_lunge.jsonl'
    movements.write_keypoint_file(
        movements.inline_lunge_sequence(side='left'), str(path))
    return str(path)


def request(path, out, **fields):
    fields = {'test': 'inline_lunge', 'view': 'side', 'side': 'left',
              **fields}
    return trial.TrialRequest(path, out_dir=str(out), **fields)


def test_a_keypoint_file_is_analysed_and_reported(keypoints, tmp_path):
    out = tmp_path / 'out'
    req = request(keypoints, out, subject='anna')
    assert not trial.is_video(req) and trial.keypoints_path(req) == keypoints
    thresholds = trial.check_request(req)
    assert thresholds is None
    analysis = trial.analyze_trial(req, keypoints, thresholds)
    # a clean lunge from the side: 2 or 3 until the front is filmed
    assert analysis.score is None and analysis.possible == (2, 3)
    assert analysis.side == 'left'
    paths = trial.write_trial_report(req, analysis)
    assert paths['json'] == str(out / 'anna_inline_lunge_left_side.json')
    document = json.loads(open(paths['json']).read())
    assert document['subject'] == 'anna' and document['source'] == keypoints


def test_outputs_of_a_video(tmp_path):
    req = trial.TrialRequest(str(tmp_path / 'clip.mp4'), 'deep_squat',
                             'side', out_dir=str(tmp_path / 'out'))
    assert trial.is_video(req)
    paths = trial.output_paths(req)
    assert paths['keypoints'] == str(tmp_path / 'out' /
                                     'clip_keypoints.jsonl')
    assert paths['json'] == str(tmp_path / 'out' / 'clip_deep_squat_side'
                                '.json')


@pytest.mark.parametrize('fields, message', [
    ({'test': 'plank'}, 'unknown test'),
    ({'side': None}, 'give --side left'),
    ({'view': 'top'}, 'unknown view'),
    ({'thresholds': 'absent.json'}, 'cannot read thresholds file'),
    ({'inputs': {'hand_length_cm': 18.0, 'stature_cm': 175.0}},
     'apply only to shoulder_mobility'),
    ({'test': 'shoulder_mobility', 'view': 'front',
      'inputs': {'hand_length_cm': -1.0, 'stature_cm': 175.0}},
     '--hand-length-cm must be a positive number'),
    ({'test': 'shoulder_mobility', 'view': 'front',
      'inputs': {'hand_length_cm': None, 'stature_cm': 175.0}},
     'go together'),
])
def test_bad_requests_fail_before_any_work(keypoints, tmp_path, fields,
                                           message):
    with pytest.raises(FmsError, match=message):
        trial.check_request(request(keypoints, tmp_path / 'out', **fields))
    assert not (tmp_path / 'out').exists()


def test_an_output_over_the_input_is_refused(tmp_path):
    path = tmp_path / 'anna_inline_lunge_left_side.json'
    movements.write_keypoint_file(
        movements.inline_lunge_sequence(side='left'), str(path))
    with pytest.raises(FmsError, match='overwrite the input'):
        trial.check_request(request(str(path), tmp_path, subject='anna'))


def test_inputs_the_camera_cannot_see_are_passed_on(keypoints, tmp_path):
    req = request(keypoints, tmp_path, inputs={'pain': True, 'sex': None})
    analysis = trial.analyze_trial(req, keypoints)
    assert analysis.score == 0 and analysis.possible == (0,)
    assert analysis.inputs == {'pain': True}
    assert os.listdir(tmp_path) == ['anna_lunge.jsonl']


def test_the_key_frame_of_a_video_is_drawn_on_its_frame(tmp_path):
    clip = make_clip(tmp_path / 'lunge.avi', frames=20, size=(96, 64))
    keypoints = str(tmp_path / 'lunge_keypoints.jsonl')
    movements.write_keypoint_file(movements.inline_lunge_sequence(
        frames=20, key_frame=10, side='left'), keypoints)
    req = request(clip, tmp_path / 'out')
    analysis = trial.analyze_trial(req, keypoints)
    paths = trial.write_trial_report(req, analysis)
    assert cv2.imread(paths['image']).shape == (64, 96, 3)
