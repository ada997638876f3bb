"""The fms_analyzer.py command line: analyze, agreement and calibrate."""
import csv
import json
import os

import cv2
import pytest

import fms_analyzer
from fms.thresholds import DEFAULT_THRESHOLDS_PATH, load_thresholds
from tests.cli_checks import listing
from tests.fixtures import movements

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ERROR = 'fms_analyzer.py: error: '
NOTE = 'fms_analyzer.py: note: '


def run(capsys, *argv):
    code = fms_analyzer.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def errors_of(lines):
    return [line for line in lines if line.startswith(ERROR)]


def squat_file(folder, name, femur_deg, seed=0):
    path = folder / f'{name}.jsonl'
    movements.write_keypoint_file(movements.deep_squat_sequence(
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
    # the side view cannot see the knees over the feet: 1 or 3, not 3
    assert result['subject'] == 'anna' and result['score'] is None
    assert result['possible'] == [1, 3]
    assert result['to_film'] == ['film the front view for: knees aligned '
                                 'over the feet']
    assert abs(result['key_frame']['frame'] - 45) <= 3
    assert result['measurements']['femur_angle'] == pytest.approx(12, abs=2)
    assert stdout.splitlines()[0] == ('anna: deep_squat, side view: '
                                      'provisional: 1 or 3')
    assert f'wrote {out / "anna_deep_squat_side.json"}' in stdout
    assert cv2.imread(str(out / 'anna_deep_squat_side_angles.png')) \
        is not None


def test_heels_raised_and_pain_are_inputs(tmp_path, capsys):
    keypoints = squat_file(tmp_path, 'ben', 12.0)
    scores = {}
    for flag in ('--heels-raised', '--pain'):
        out = tmp_path / flag.strip('-')
        assert run(capsys, 'analyze', keypoints, '--test', 'deep_squat',
                   '--view', 'side', '--out', out, flag)[0] == 0
        scores[flag] = json.loads((out / 'ben_deep_squat_side.json')
                                  .read_text())['possible']
    assert scores == {'--heels-raised': [1, 2], '--pain': [0]}


@pytest.mark.parametrize('argv, fragment', [
    (['--test', 'squat', '--view', 'side'], "unknown test 'squat'"),
    (['--test', 'aslr', '--view', 'side'], 'give --side left'),
    (['--test', 'deep_squat', '--view', 'top'], "unknown view 'top'"),
    (['--test', 'aslr', '--side', 'left', '--view', 'front'], 'side view'),
    (['--test', 'shoulder_mobility', '--side', 'left', '--view', 'front',
      '--hand-length-cm', '-18', '--stature-cm', '175'],
     '--hand-length-cm must be a positive number'),
    (['--test', 'shoulder_mobility', '--side', 'left', '--view', 'front',
      '--hand-length-cm', '18', '--stature-cm', '0'],
     '--stature-cm must be a positive number'),
    (['--test', 'shoulder_mobility', '--side', 'left', '--view', 'front',
      '--stature-cm', '175'], 'go together'),
    (['--test', 'deep_squat', '--view', 'side', '--hand-length-cm', '18',
      '--stature-cm', '175'], 'apply only to shoulder_mobility'),
])
def test_bad_requests_are_one_line_and_write_nothing(tmp_path, capsys, argv,
                                                     fragment):
    keypoints = squat_file(tmp_path, 'cara', 5.0)
    code, stdout, errors = run(capsys, 'analyze', keypoints, *argv, '--out',
                               tmp_path / 'out')
    assert code == 2 and len(errors) == 1, errors
    assert errors[0].startswith(ERROR) and fragment in errors[0]
    assert stdout == '' and not (tmp_path / 'out').exists()


def test_a_broken_keypoint_file_is_refused(tmp_path, capsys):
    broken = tmp_path / 'broken.jsonl'
    broken.write_text('{"frame": 0, "time": 0, "people": []}\nnot json\n')
    before = listing(tmp_path)
    code, _, errors = run(capsys, 'analyze', broken, '--test', 'deep_squat',
                          '--view', 'side', '--out', tmp_path)
    assert code == 2 and len(errors) == 1 and 'line 2' in errors[0]
    assert errors[0].startswith(ERROR)
    assert listing(tmp_path) == before


def test_an_output_folder_that_is_a_file_is_refused_first(tmp_path, capsys):
    keypoints = squat_file(tmp_path, 'dan', 5.0)
    blocker = tmp_path / 'out'
    blocker.write_text('x')
    before = listing(tmp_path)
    code, stdout, errors = run(capsys, 'analyze', keypoints, '--test',
                               'deep_squat', '--view', 'side', '--out',
                               blocker)
    assert code == 2 and errors == [
        f'{ERROR}{blocker / "dan_deep_squat_side.json"}: {blocker} is a '
        f'file, not a folder; choose another output path']
    assert stdout == '' and listing(tmp_path) == before


def test_a_video_runs_the_detector_first(tmp_path, capsys, slim_weights):
    """Plumbing: the slim synthesized network at the smallest useful size."""
    from tests.video_clips import make_clip
    clip = make_clip(tmp_path / 'dee.avi', frames=3, size=(64, 48))
    out = tmp_path / 'out'
    code, stdout, errors = run(
        capsys, 'analyze', clip, '--test', 'deep_squat', '--view', 'side',
        '--weights', slim_weights('posenet'), '--size', 64,
        '--out', out)
    lines = (out / 'dee_keypoints.jsonl').read_text().splitlines()
    assert [json.loads(line)['frame'] for line in lines] == [0, 1, 2]
    assert errors[0] == (f'{NOTE}running the pose detector on {clip} -> '
                         f'{out / "dee_keypoints.jsonl"}')
    assert f'wrote {out / "dee_keypoints.jsonl"}' in stdout
    # Random weights find no sensible person: either a result, or one line
    # saying what could not be measured.
    assert code == 0 or (code == 2 and len(errors_of(errors)) == 1), errors


class FakeRun:
    """Stands in for pose.api.run_video: records the options, returns a
    summary (stopped by ``signal`` when given), writes nothing."""

    def __init__(self, signal=None):
        self.signal, self.calls = signal, []

    def __call__(self, source, options, *rest, **named):
        from pose.video_pipeline import Summary
        self.calls.append((source, options))
        return Summary(stopped_by=self.signal)


@pytest.mark.parametrize('signal, status', [('SIGINT', 130),
                                            ('SIGTERM', 143)])
def test_a_stop_signal_during_detection_gives_its_status(
        tmp_path, capsys, monkeypatch, signal, status):
    import pose.api
    fake = FakeRun(signal)
    monkeypatch.setattr(pose.api, 'run_video', fake)
    code, stdout, errors = run(capsys, 'analyze', tmp_path / 'clip.mp4',
                               '--test', 'deep_squat', '--view', 'side',
                               '--out', tmp_path / 'out')
    assert code == status and stdout == ''
    assert len(errors_of(errors)) == 1 and signal in errors_of(errors)[0]


def test_detector_options_reach_the_detector(tmp_path, capsys, monkeypatch):
    import pose.api
    fake = FakeRun()
    monkeypatch.setattr(pose.api, 'run_video', fake)
    code, _, errors = run(capsys, 'analyze', tmp_path / 'clip.mp4',
                          '--test', 'deep_squat', '--view', 'side',
                          '--out', tmp_path / 'out', '--hands', '--size',
                          64, '--precise', '--every', 2)
    [(source, options)] = fake.calls
    assert source == str(tmp_path / 'clip.mp4')
    assert (options.hands, options.size, options.precise, options.every) \
        == (True, 64, True, 2)
    assert options.keypoints_out == str(tmp_path / 'out' /
                                        'clip_keypoints.jsonl')
    assert options.video_out is None
    # the fake wrote no keypoints: one line saying so
    assert code == 2 and len(errors_of(errors)) == 1


@pytest.mark.parametrize('command', ['analyze', 'session'])
def test_net_resolution_with_a_negative_width_needs_no_equals_sign(command):
    first = (['clip.mp4', '--test', 'deep_squat', '--view', 'side']
             if command == 'analyze' else ['manifest.csv', '--out', 'out'])
    args = fms_analyzer.parse_args([command, *first, '--net-resolution',
                                    '-1x256'])
    assert (args.net_resolution, args.size) == ((None, 256), 256)


def test_a_bad_size_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        fms_analyzer.main(['analyze', 'clip.mp4', '--test', 'deep_squat',
                           '--view', 'side', '--size', '60'])
    assert stop.value.code == 2
    assert '--size must be a positive multiple' in capsys.readouterr().err


def make_results(tmp_path, capsys, depths, front=True):
    """Analyse one squat per subject, filmed from the side and (``front``)
    from the front, knees over the feet; returns the results folder."""
    out = tmp_path / 'results'
    for i, (subject, femur_deg) in enumerate(depths.items()):
        keypoints = squat_file(tmp_path, subject, femur_deg, seed=i)
        assert run(capsys, 'analyze', keypoints, '--test', 'deep_squat',
                   '--view', 'side', '--out', out)[0] == 0
        if front:
            path = tmp_path / f'{subject}_front.jsonl'
            movements.write_keypoint_file(movements.deep_squat_sequence(
                view='front', min_femur_angle_deg=femur_deg, key_frame=45,
                knee_medial_hip_widths=0.1, noise_px=1.0, seed=i), str(path))
            assert run(capsys, 'analyze', path, '--test', 'deep_squat',
                       '--view', 'front', '--subject', subject, '--out',
                       out)[0] == 0
    return out


def test_agreement_counts_provisional_trials_apart(tmp_path, capsys):
    # side views only: the knees over the feet were never seen, so a
    # passing squat is 1 or 3 and not compared; a failing one is a 1
    results = make_results(tmp_path, capsys, {'s1': 10.0, 's2': -25.0},
                           front=False)
    coach = write_coach(tmp_path / 'coach.csv', [
        ['s1', 'deep_squat', '', 3], ['s2', 'deep_squat', '', 1]])
    code, stdout, _ = run(capsys, 'agreement', '--auto', results, '--coach',
                          coach)
    assert code == 0
    saved = json.loads((results / 'agreement' / 'agreement.json')
                       .read_text())
    assert saved['overall']['n'] == 1
    assert saved['counts']['provisional'] == 1
    assert saved['provisional'] == [{'subject': 's1', 'test': 'deep_squat',
                                     'side': None}]
    assert '1 provisional trial not compared' in stdout


def test_calibrate_leaves_provisional_trials_out(tmp_path, capsys):
    results = make_results(tmp_path, capsys, {'s1': 10.0, 's2': 3.0},
                           front=False)
    coach = write_coach(tmp_path / 'coach.csv', [
        ['s1', 'deep_squat', '', 3], ['s2', 'deep_squat', '', 1]])
    code, _, errors = run(capsys, 'calibrate', '--auto', results, '--coach',
                          coach, '--out', tmp_path / 'fit.json')
    assert code == 2
    assert errors[0] == (f'{NOTE}2 trial(s) scored by the coach left out: '
                         f'provisional (a criterion observed in no view); '
                         f'add the missing view to use them')


def test_agreement_prints_and_saves(tmp_path, capsys):
    results = make_results(tmp_path, capsys,
                           {'s1': 10.0, 's2': -25.0, 's3': 8.0})
    (results / 'notes.json').write_text('{"not": "a result"}')
    coach = write_coach(tmp_path / 'coach.csv', [
        ['s1', 'deep_squat', '', 3], ['s2', 'deep_squat', '', 1],
        ['s3', 'deep_squat', '', 2], ['s4', 'deep_squat', '', 2]])
    code, stdout, errors = run(capsys, 'agreement', '--auto', results,
                               '--coach', coach)
    assert code == 0
    assert errors == [f'{NOTE}skipped 1 file(s) in {results} that are not '
                      f'results: notes.json']
    assert 's4' in stdout                       # scored by the coach only
    saved = json.loads((results / 'agreement' / 'agreement.json')
                       .read_text())
    assert saved['overall']['n'] == 3
    assert saved['overall']['exact'] == pytest.approx(2 / 3)
    assert (results / 'agreement' / 'confusion_matrices.png').exists()
    disagreements = (results / 'agreement' / 'disagreements.csv').read_text()
    assert 's3' in disagreements and 's1' not in disagreements
    assert f'wrote {results / "agreement" / "agreement.json"}' in stdout


def test_agreement_with_a_bad_csv_is_one_line(tmp_path, capsys):
    results = make_results(tmp_path, capsys, {'s1': 10.0})
    coach = write_coach(tmp_path / 'coach.csv', [['s1', 'deep_squat', '', 4]])
    code, _, errors = run(capsys, 'agreement', '--auto', results, '--coach',
                          coach)
    assert code == 2 and len(errors) == 1 and 'coach.csv' in errors[0]


def test_agreement_output_that_is_a_folder_is_one_line(tmp_path, capsys):
    results = make_results(tmp_path, capsys, {'s1': 10.0})
    coach = write_coach(tmp_path / 'coach.csv', [['s1', 'deep_squat', '', 3]])
    out = tmp_path / 'D'
    (out / 'agreement.json').mkdir(parents=True)
    code, stdout, errors = run(capsys, 'agreement', '--auto', results,
                               '--coach', coach, '--out', out)
    assert code == 2 and stdout == ''
    assert errors == [f'{ERROR}{out / "agreement.json"}: is a folder; give '
                      f'a file name for this output']
    assert os.listdir(out) == ['agreement.json']


def test_calibrate_moves_a_threshold_the_coach_disagrees_with(tmp_path,
                                                              capsys):
    """The coach passes squats only when the femur is at least 6 degrees
    below horizontal (the default limit is 0): calibration on five subjects
    (the fewest a threshold is fitted on) finds a limit between the passing
    and failing depths, and it is used afterwards."""
    depths = {'s0': 2.0, 's1': 3.0, 's2': 4.0, 's3': 9.0, 's4': 10.0}
    results = make_results(tmp_path, capsys, depths)
    coach = write_coach(tmp_path / 'coach.csv', [
        [s, 'deep_squat', '', 3 if d >= 6 else 1] for s, d in depths.items()])
    out = tmp_path / 'calibrated.json'
    code, stdout, errors = run(capsys, 'calibrate', '--auto', results,
                               '--coach', coach, '--out', out, '--folds', 2)
    assert code == 0 and errors == [], errors
    fitted = load_thresholds(str(out))['deep_squat']
    key = 'femur_angle_min_deg'
    assert 4.0 < fitted[key] <= 9.0
    assert load_thresholds(DEFAULT_THRESHOLDS_PATH)['deep_squat'][key] == 0
    assert 'cross' in stdout.lower()
    figures = json.loads((tmp_path / 'calibrated_calibration.json')
                         .read_text())
    assert figures['format'] == 'fms-calibration'
    assert figures['n_trials'] == 5 and len(figures['folds']) == 2
    assert stdout.endswith(f'wrote {out}\nwrote '
                           f'{tmp_path / "calibrated_calibration.json"}\n')
    rescored = tmp_path / 'rescored'
    assert run(capsys, 'analyze', tmp_path / 's0.jsonl', '--test',
               'deep_squat', '--view', 'side', '--thresholds', out, '--out',
               rescored)[0] == 0
    assert json.loads((rescored / 's0_deep_squat_side.json').read_text()
                      )['possible'] == [1]


@pytest.fixture
def two_results(tmp_path):
    """A coach's CSV and an empty results folder: the outputs are checked
    before the results are read, so a refusal names the output."""
    results = tmp_path / 'results'
    results.mkdir()
    coach = write_coach(tmp_path / 'coach.csv', [
        ['s1', 'deep_squat', '', 3], ['s2', 'deep_squat', '', 1]])
    return results, coach


def test_calibrate_refuses_to_overwrite_an_input(tmp_path, capsys,
                                                 two_results):
    results, coach = two_results
    before = listing(tmp_path)
    code, stdout, errors = run(capsys, 'calibrate', '--auto', results,
                               '--coach', coach, '--out', coach)
    assert code == 2 and stdout == '' and len(errors) == 1
    assert 'overwrite the input' in errors[0]
    assert listing(tmp_path) == before


def test_calibrate_checks_its_outputs_before_work(tmp_path, capsys,
                                                  two_results):
    results, coach = two_results
    (tmp_path / 'cal_calibration.json').mkdir()
    code, stdout, errors = run(capsys, 'calibrate', '--auto', results,
                               '--coach', coach, '--out',
                               tmp_path / 'cal.json')
    assert code == 2 and stdout == ''
    assert errors == [f'{ERROR}{tmp_path / "cal_calibration.json"}: is a '
                      f'folder; give a file name for this output']
    assert not (tmp_path / 'cal.json').exists()


def test_the_command_imports_only_the_library():
    """A thin command: it imports packages, never another script."""
    import ast
    tree = ast.parse(open(fms_analyzer.__file__, encoding='utf-8').read())
    imported = {alias.name.split('.')[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split('.')[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    root = os.path.dirname(os.path.abspath(fms_analyzer.__file__))
    scripts = {name[:-3] for name in os.listdir(root) if name.endswith('.py')
               and "__name__ == '__main__'" in open(
                   os.path.join(root, name), encoding='utf-8').read()}
    assert {'fms_analyzer', 'video_pose_detector'} <= scripts
    assert not imported & scripts, imported & scripts


def test_the_readme_example_inputs_are_what_the_maker_writes(tmp_path):
    # the committed example session (data/fms_session) is the generator's
    # output, byte for byte; tests/fms/test_session.py runs a session on it
    from tests.fixtures import fms_example, fms_session
    fms_session.write_session(str(tmp_path))
    committed = os.path.join(ROOT, fms_example.DATA_DIR)

    def relative(folder):
        return {os.path.relpath(path, folder): digest
                for path, digest in listing(folder).items()}
    assert relative(str(tmp_path)) == relative(committed)


def _set_first_x(record, value):
    record['people'][0]['pose_keypoints_2d'][0] = value


#: Changes to line 11 (or the lines) of a good squat file, and what the one
#: error line must say (issue cases 12 and 17).
BAD_FILE_CHANGES = {
    'coordinate 1e308': (lambda lines: _change(lines, 10, _set_first_x,
                                               1e308),
                         'line 11, person 1: "pose_keypoints_2d" value 0 '
                         '(x of keypoint 0) is 1e+308'),
    'frame 10^30': (lambda lines: _change(lines, 10, dict.__setitem__,
                                          'frame', 10 ** 30),
                    'line 11: "frame" is 1000000000000000000000000000000'),
    'nested too deeply': (lambda lines: lines[:10] + [
        '{"frame": 10, "time": 0.4, "people": ' + '[' * 50000
        + ']' * 50000 + '}\n'] + lines[11:], 'line 11 is not JSON'),
    'negative frame': (lambda lines: _change(lines, 0, dict.__setitem__,
                                             'frame', -54),
                       'line 1: "frame" is -54'),
    'duplicate line': (lambda lines: lines[:11] + lines[10:],
                       'line 12: frame 10 does not come after frame 10 of '
                       'line 11'),
    'lines moved': (lambda lines: lines[:10] + lines[20:] + lines[10:20],
                    'line 81: frame 10 does not come after frame 89 of '
                    'line 80'),
}


def _change(lines, index, setter, *args):
    """``lines`` with line ``index`` parsed, changed by ``setter(record,
    *args)`` and written back."""
    record = json.loads(lines[index])
    setter(record, *args)
    return lines[:index] + [json.dumps(record) + '\n'] + lines[index + 1:]


@pytest.mark.parametrize('change', list(BAD_FILE_CHANGES))
def test_implausible_or_disordered_files_are_one_error_line(tmp_path, capsys,
                                                            change):
    """Cases 12 and 17: 1e308 coordinates or frame 10^30 gave an
    OverflowError drawing the key frame, deep nesting a RecursionError,
    shuffled or negative frames a wrong key frame without a word."""
    good = squat_file(tmp_path, 'eve', 12.0)
    mutate, message = BAD_FILE_CHANGES[change]
    bad = tmp_path / 'bad.jsonl'
    bad.write_text(''.join(mutate(good.read_text().splitlines(True))))
    before = listing(tmp_path)
    code, stdout, errors = run(capsys, 'analyze', bad, '--test',
                               'deep_squat', '--view', 'side', '--out',
                               tmp_path / 'out')
    assert code == 2 and stdout == '' and len(errors) == 1, errors
    assert errors[0].startswith(f'{ERROR}{bad}, line ')
    assert message in errors[0]
    assert listing(tmp_path) == before and not (tmp_path / 'out').exists()


def test_clearing_pain_and_hand_length_options(tmp_path, capsys):
    # (e) --clearing-pain gives 0 where the test has a clearing test
    keypoints = tmp_path / 'dan.jsonl'
    movements.write_keypoint_file(movements.shoulder_mobility_sequence(
        fist_distance_hands=0.5), str(keypoints))
    out = tmp_path / 'pain'
    assert run(capsys, 'analyze', keypoints, '--test', 'shoulder_mobility',
               '--side', 'right', '--view', 'front', '--out', out,
               '--clearing-pain')[0] == 0
    document = json.loads((out / 'dan_shoulder_mobility_right_front.json')
                          .read_text())
    assert document['score'] == 0
    assert 'shoulder clearing test' in document['reasons'][0]
    # (b) --hand-length-cm with --stature-cm sets the hand length
    out = tmp_path / 'hand'
    code, stdout, _ = run(capsys, 'analyze', keypoints, '--test',
                          'shoulder_mobility', '--side', 'right', '--view',
                          'front', '--out', out, '--hand-length-cm', '18.36',
                          '--stature-cm', '170')
    assert code == 0 and 'hand length 18.36 cm as given' in stdout
    document = json.loads((out / 'dan_shoulder_mobility_right_front.json')
                          .read_text())
    assert document['score'] == 3
    assert document['inputs']['hand_length_cm'] == 18.36


def test_clearing_pain_is_refused_for_other_tests_before_work(tmp_path,
                                                              capsys):
    # (e) one line, nothing written
    keypoints = squat_file(tmp_path, 'eve', 5.0)
    code, stdout, errors = run(capsys, 'analyze', keypoints, '--test',
                               'deep_squat', '--view', 'side', '--out',
                               tmp_path / 'out', '--clearing-pain')
    assert code == 2 and len(errors) == 1, errors
    assert 'deep_squat has no clearing test' in errors[0]
    assert stdout == '' and not (tmp_path / 'out').exists()


def test_a_wrong_side_is_one_error_naming_the_detected_side(tmp_path,
                                                           capsys):
    # (c) a right leg raise analysed as --side left
    keypoints = tmp_path / 'fay.jsonl'
    movements.write_keypoint_file(movements.leg_raise_sequence(
        side='right'), str(keypoints))
    code, _, errors = run(capsys, 'analyze', keypoints, '--test', 'aslr',
                          '--side', 'left', '--view', 'side', '--out',
                          tmp_path / 'out')
    assert code == 2 and len(errors) == 1, errors
    assert 'run with --side right' in errors[0]


def test_analyze_scores_the_best_repetition(tmp_path, capsys):
    # the deepest squat leans forward, the next one is clean: FMS scores
    # the best repetition, 3
    path = tmp_path / 'cleo.jsonl'
    movements.write_keypoint_file(movements.repeated([
        movements.deep_squat_sequence(min_femur_angle_deg=10.0,
                                      trunk_excess_deg=20.0),
        movements.deep_squat_sequence(min_femur_angle_deg=5.0)],
        noise_px=1.0), str(path))
    out = tmp_path / 'results'
    code, stdout, errors = run(capsys, 'analyze', path, '--test',
                               'deep_squat', '--view', 'side', '--out', out)
    assert code == 0 and errors == []
    result = json.loads((out / 'cleo_deep_squat_side.json').read_text())
    # from the side the knees are not seen: the clean repetition is 1 or 3
    assert result['possible'] == [1, 3] and result['repetition'] == 2
    assert [r['possible'] for r in result['repetitions']] == [[1], [1, 3]]
    second = result['repetitions'][1]
    assert result['key_frame']['frame'] == second['key_frame']
    line = (f'repetition 2 of 2 (frames {second["first_frame"]}-'
            f'{second["last_frame"]}), the best; others: repetition 1 '
            f'scored 1')
    assert line in result['reasons'] and f'  - {line}' in stdout
    assert cv2.imread(str(out / 'cleo_deep_squat_side_angles.png')) \
        is not None
