"""The fms_analyzer.py command line: analyze, agreement and calibrate."""
import csv
import json
import os

import cv2
import numpy as np
import pytest

import fms_analyzer
from fms import synthetic
from fms.criteria import DEFAULT_THRESHOLDS_PATH, load_thresholds
from tests.cli_checks import listing


def run(capsys, *argv):
    code = fms_analyzer.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def squat_file(folder, name, femur_deg, seed=0):
    path = folder / f'{name}.jsonl'
    synthetic.write_keypoint_file(synthetic.deep_squat_sequence(
        min_femur_angle_deg=femur_deg, key_frame=45, noise_px=1.0,
        seed=seed), str(path))
    return path


def write_coach(path, rows):
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['subject', 'test', 'side', 'score'])
        writer.writerows(rows)
    return path


def test_analyze_a_keypoint_file(tmp_path, capsys):
    keypoints = squat_file(tmp_path, 'anna_squat', 12.0)
    out = tmp_path / 'results'
    code, stdout, errors = run(capsys, 'analyze', keypoints, '--test',
                               'deep_squat', '--view', 'side', '--subject',
                               'anna', '--out', out)
    assert code == 0 and errors == []
    assert sorted(os.listdir(out)) == [
        'anna_deep_squat_side.json', 'anna_deep_squat_side_angles.png',
        'anna_deep_squat_side_key_frame.png']
    result = json.loads((out / 'anna_deep_squat_side.json').read_text())
    assert result['subject'] == 'anna' and result['score'] == 3
    assert abs(result['key_frame']['frame'] - 45) <= 3
    assert result['measurements']['femur_angle'] == pytest.approx(12, abs=2)
    assert 'suggested score 3' in stdout
    assert cv2.imread(str(out / 'anna_deep_squat_side_angles.png')) is not None


def test_heels_raised_and_pain_are_inputs(tmp_path, capsys):
    keypoints = squat_file(tmp_path, 'ben', 12.0)
    scores = {}
    for flag in ('--heels-raised', '--pain'):
        out = tmp_path / flag.strip('-')
        assert run(capsys, 'analyze', keypoints, '--test', 'deep_squat',
                   '--view', 'side', '--out', out, flag)[0] == 0
        scores[flag] = json.loads((out / 'ben_deep_squat_side.json')
                                  .read_text())['score']
    assert scores == {'--heels-raised': 2, '--pain': 0}


@pytest.mark.parametrize('argv, fragment', [
    (['--test', 'squat', '--view', 'side'], "unknown test 'squat'"),
    (['--test', 'aslr', '--view', 'side'], 'give --side left'),
    (['--test', 'deep_squat', '--view', 'top'], "unknown view 'top'"),
    (['--test', 'aslr', '--side', 'left', '--view', 'front'], 'side view'),
])
def test_bad_requests_are_one_line_and_write_nothing(tmp_path, capsys, argv,
                                                     fragment):
    keypoints = squat_file(tmp_path, 'cara', 5.0)
    code, stdout, errors = run(capsys, 'analyze', keypoints, *argv, '--out',
                               tmp_path / 'out')
    assert code == 2 and len(errors) == 1, errors
    assert errors[0].startswith('error: ') and fragment in errors[0]
    assert not (tmp_path / 'out').exists()


def test_a_broken_keypoint_file_is_refused(tmp_path, capsys):
    broken = tmp_path / 'broken.jsonl'
    broken.write_text('{"frame": 0, "time": 0, "people": []}\nnot json\n')
    before = listing(tmp_path)
    code, _, errors = run(capsys, 'analyze', broken, '--test', 'deep_squat',
                          '--view', 'side', '--out', tmp_path)
    assert code == 2 and len(errors) == 1 and 'line 2' in errors[0]
    assert listing(tmp_path) == before


def test_a_video_runs_the_detector_first(tmp_path, capsys,
                                         synthesized_weights):
    from tests.video_clips import make_clip
    clip = make_clip(tmp_path / 'dee.avi', frames=4, size=(64, 48))
    out = tmp_path / 'out'
    code, stdout, errors = run(
        capsys, 'analyze', clip, '--test', 'deep_squat', '--view', 'side',
        '--weights', synthesized_weights('posenet'), '--out', out)
    lines = (out / 'dee_keypoints.jsonl').read_text().splitlines()
    assert [json.loads(line)['frame'] for line in lines] == [0, 1, 2, 3]
    assert 'running the pose detector' in stdout
    # Random weights find no sensible person: either a result, or one line
    # saying what could not be measured.
    assert code == 0 or (code == 2 and len(errors) == 1
                         and errors[0].startswith('error: ')), errors


def make_results(tmp_path, capsys, depths):
    """Analyse one squat per subject; returns the results folder."""
    out = tmp_path / 'results'
    for i, (subject, femur_deg) in enumerate(depths.items()):
        keypoints = squat_file(tmp_path, subject, femur_deg, seed=i)
        assert run(capsys, 'analyze', keypoints, '--test', 'deep_squat',
                   '--view', 'side', '--out', out)[0] == 0
    return out


def test_agreement_prints_and_saves(tmp_path, capsys):
    results = make_results(tmp_path, capsys,
                           {'s1': 10.0, 's2': -25.0, 's3': 8.0})
    coach = write_coach(tmp_path / 'coach.csv', [
        ['s1', 'deep_squat', '', 3], ['s2', 'deep_squat', '', 1],
        ['s3', 'deep_squat', '', 2], ['s4', 'deep_squat', '', 2]])
    code, stdout, errors = run(capsys, 'agreement', '--auto', results,
                               '--coach', coach)
    assert code == 0 and errors == []
    assert 's4' in stdout                       # scored by the coach only
    saved = json.loads((results / 'agreement' / 'agreement.json')
                       .read_text())
    assert saved['overall']['n'] == 3
    assert saved['overall']['exact'] == pytest.approx(2 / 3)
    assert (results / 'agreement' / 'confusion_matrices.png').exists()
    disagreements = (results / 'agreement' / 'disagreements.csv').read_text()
    assert 's3' in disagreements and 's1' not in disagreements


def test_agreement_with_a_bad_csv_is_one_line(tmp_path, capsys):
    results = make_results(tmp_path, capsys, {'s1': 10.0})
    coach = write_coach(tmp_path / 'coach.csv', [['s1', 'deep_squat', '', 4]])
    code, _, errors = run(capsys, 'agreement', '--auto', results, '--coach',
                          coach)
    assert code == 2 and len(errors) == 1 and 'coach.csv' in errors[0]


def test_calibrate_moves_a_threshold_the_coach_disagrees_with(tmp_path,
                                                              capsys):
    """The coach passes squats only when the femur is at least 6 degrees
    below horizontal (the default limit is 0): calibration finds a limit
    between the passing and failing depths, and it is used afterwards."""
    depths = {f's{i}': d for i, d in enumerate(
        [2.0, 3.0, 4.0, 9.0, 10.0, 12.0, 1.0, 14.0, 3.5, 11.0])}
    results = make_results(tmp_path, capsys, depths)
    coach = write_coach(tmp_path / 'coach.csv', [
        [s, 'deep_squat', '', 3 if d >= 6 else 1] for s, d in depths.items()])
    out = tmp_path / 'calibrated.json'
    code, stdout, errors = run(capsys, 'calibrate', '--auto', results,
                               '--coach', coach, '--out', out)
    assert code == 0 and errors == [], errors
    fitted = load_thresholds(str(out))['deep_squat']
    key = 'femur_angle_min_deg'
    assert key in fitted, fitted
    assert 4.0 < fitted[key] <= 9.0
    assert load_thresholds(DEFAULT_THRESHOLDS_PATH)['deep_squat'][key] == 0
    assert 'cross' in stdout.lower()
    rescored = tmp_path / 'rescored'
    assert run(capsys, 'analyze', tmp_path / 's0.jsonl', '--test',
               'deep_squat', '--view', 'side', '--thresholds', out, '--out',
               rescored)[0] == 0
    assert json.loads((rescored / 's0_deep_squat_side.json').read_text()
                      )['score'] == 1


def test_calibrate_refuses_to_overwrite_an_input(tmp_path, capsys):
    results = make_results(tmp_path, capsys, {'s1': 10.0, 's2': -5.0})
    coach = write_coach(tmp_path / 'coach.csv', [
        ['s1', 'deep_squat', '', 3], ['s2', 'deep_squat', '', 1]])
    before = coach.read_bytes()
    code, _, errors = run(capsys, 'calibrate', '--auto', results, '--coach',
                          coach, '--out', coach)
    assert code == 2 and 'input' in errors[-1]
    assert coach.read_bytes() == before
