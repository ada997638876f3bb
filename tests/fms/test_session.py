"""A screening session from its manifest to its reports (fms/session.py and
``fms_analyzer.py session``): the synthetic session's truth end to end,
resuming, the keypoint cache of the videos, bad manifests, a view that
cannot be analysed and a deep squat filmed from the front only."""
import contextlib
import csv
import io
import json
import os
import time

import pytest

import fms_analyzer
from fms import FmsError
from fms.session import (KEYPOINTS_DIR, PART_SUFFIX, SESSION_FILE,
                         SessionRequest, check_session, detect_videos,
                         keypoints_path, run_session)
from tests.cli_checks import listing
from tests.fixtures import fms_session as fs
from tests.fixtures.fms_session import TrialPlan
from tests.fixtures.movements import (deep_squat_sequence,
                                      write_keypoint_file)

ERROR = 'fms_analyzer.py: error: '


def run(argv):
    """``(status, stdout, stderr)`` of ``fms_analyzer.main(argv)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = fms_analyzer.main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def mtimes(folder):
    return {os.path.relpath(os.path.join(root, name), folder):
            os.stat(os.path.join(root, name)).st_mtime_ns
            for root, _, names in os.walk(folder) for name in names}


def errors(stderr):
    return [line[len(ERROR):] for line in stderr.splitlines()
            if line.startswith(ERROR)]


@pytest.fixture(scope='module')
def default_run(tmp_path_factory):
    """The fixture's default two-athlete session, scored once."""
    folder = tmp_path_factory.mktemp('screening')
    truth = fs.write_session(str(folder))
    out = folder / 'out'
    status, stdout, stderr = run(['session', truth.manifest, '--out', out,
                                  '--coach', truth.coach_csv])
    with open(out / 'session.json', encoding='utf-8') as f:
        document = json.load(f)
    return dict(truth=truth, out=out, status=status, stdout=stdout,
                stderr=stderr, document=document)


def test_default_session_exits_zero(default_run):
    assert default_run['status'] == 0, default_run['stderr']
    assert errors(default_run['stderr']) == []
    assert default_run['stdout'].splitlines() == [
        'anna: total 18/21, no raised risk; asymmetries: aslr',
        'ben: total 10/21, raised risk; asymmetries: hurdle step']


def test_default_session_totals_and_risk_are_the_truth(default_run):
    truth, document = default_run['truth'], default_run['document']
    athletes = {a['athlete']: a for a in document['athletes']}
    assert set(athletes) == set(truth.totals)
    for name, total in truth.totals.items():
        assert athletes[name]['total'] == total, name
        assert athletes[name]['total_range'] == [total, total]
        assert athletes[name]['risk'] is truth.risk[name]
        assert athletes[name]['provisional_tests'] == 0
        assert athletes[name]['missing_tests'] == []


def test_default_session_every_side_is_the_truth(default_run):
    truth, document = default_run['truth'], default_run['document']
    found = {(a['athlete'], t['test'], s['side']): s['score']
             for a in document['athletes'] for t in a['tests']
             for s in t['sides']}
    assert found == truth.scores
    athletes = {a['athlete']: a for a in document['athletes']}
    # The retests that count: anna's heels-raised squat, ben's diagonal.
    squat = next(t for t in athletes['anna']['tests']
                 if t['test'] == 'deep_squat')
    assert squat['sides'][0]['variant'] == 'heels raised'
    rotary = next(t for t in athletes['ben']['tests']
                  if t['test'] == 'rotary_stability')
    assert [s['variant'] for s in rotary['sides']] == ['diagonal'] * 2


def test_default_session_coach(default_run):
    document = default_run['document']
    athletes = {a['athlete']: a for a in document['athletes']}
    # Each coach disagrees on one side of 12.
    assert athletes['anna']['coach_total'] == 19       # ASLR right 3
    assert athletes['ben']['coach_total'] == 11        # push-up 3
    for athlete in athletes.values():
        assert athlete['agreement']['trials'] == 12
        assert athlete['agreement']['provisional'] == 0
        assert athlete['agreement']['exact'] == pytest.approx(11 / 12)
    assert document['agreement']['trials'] == 24


def test_default_session_pages(default_run):
    out = default_run['out']
    assert (out / 'index.html').is_file()
    for name in ('anna', 'ben'):
        page = out / f'{name}.html'
        assert page.is_file()
        assert name in page.read_text(encoding='utf-8')
    assert 'anna.html' in (out / 'index.html').read_text(encoding='utf-8')
    # One report (result, plot, key frame) per manifest trial row.
    with open(default_run['truth'].manifest, encoding='utf-8') as f:
        rows = [r for r in csv.DictReader(f) if r['view']]
    results = [p for p in (out / 'trials').rglob('*.json')]
    assert len(results) == len(rows)


def test_rerun_resumes_without_redoing_trials(default_run):
    out, truth = default_run['out'], default_run['truth']
    before = mtimes(out / 'trials')
    start = time.monotonic()
    status, stdout, _ = run(['session', truth.manifest, '--out', out,
                             '--coach', truth.coach_csv])
    elapsed = time.monotonic() - start
    assert status == 0
    assert mtimes(out / 'trials') == before
    assert elapsed < 3.0          # the first run takes ~12 s
    assert stdout == default_run['stdout']
    with open(out / 'session.json', encoding='utf-8') as f:
        assert json.load(f) == default_run['document']


def test_a_newer_keypoint_file_redoes_only_its_view(default_run):
    out, truth = default_run['out'], default_run['truth']
    view = next(v for v in truth.views if v.athlete == 'ben'
                and v.test == 'aslr' and v.side == 'left')
    later = time.time_ns() + 10 ** 9
    os.utime(view.path, ns=(later, later))
    before = mtimes(out / 'trials')
    status, _, _ = run(['session', truth.manifest, '--out', out,
                        '--coach', truth.coach_csv])
    assert status == 0
    after = mtimes(out / 'trials')
    changed = sorted(p for p in after if after[p] != before[p])
    assert changed == [os.path.join('ben', 'ben_aslr_left_side' + end)
                       for end in ('.json', '_angles.png',
                                   '_key_frame.png')]


# --- the keypoint cache of the videos ----------------------------------


@pytest.fixture
def video_session(tmp_path):
    """A manifest of two "videos" (dummy files: detect_videos only stats
    them) and its checked session in ``tmp_path/out``."""
    for name in ('a.mp4', 'b.mp4'):
        (tmp_path / name).write_bytes(b'not really a video ' + name.encode())
    manifest = tmp_path / 'session.csv'
    manifest.write_text(
        'athlete,test,side,view,file\n'
        'anna,deep_squat,,side,a.mp4\n'
        'anna,deep_squat,,front,b.mp4\n'
        'ben,deep_squat,,side,a.mp4\n', encoding='utf-8')
    request = SessionRequest(str(manifest), str(tmp_path / 'out'))

    def session():
        return check_session(request)
    return session, tmp_path


class FakeDetector:
    """``make_detect`` of detect_videos: writes a line to the part file;
    returns ``statuses[video name]`` (default 0) or raises it."""

    def __init__(self, statuses=None):
        self.statuses = statuses or {}
        self.made = 0
        self.calls = []

    def __call__(self):
        self.made += 1
        return self.detect

    def detect(self, video, keypoints):
        name = os.path.basename(video)
        self.calls.append((name, keypoints))
        assert keypoints.endswith(PART_SUFFIX)
        with open(keypoints, 'w', encoding='utf-8') as f:
            f.write('{"frame": 0}\n')
        status = self.statuses.get(name, 0)
        if isinstance(status, Exception):
            raise status
        return status


def test_interrupted_detection_resumes(video_session):
    session, folder = video_session
    a, b = (str(folder / n) for n in ('a.mp4', 'b.mp4'))
    out = str(folder / 'out')
    notes = []
    first = FakeDetector({'b.mp4': 130})
    assert detect_videos(session(), first, notes.append) == (130, {})
    # Each video once (a.mp4 is in two rows), b.mp4 interrupted.
    assert [name for name, _ in first.calls] == ['a.mp4', 'b.mp4']
    assert os.path.isfile(keypoints_path(out, a))
    assert not os.path.exists(keypoints_path(out, b))
    part = first.calls[1][1]
    assert os.path.isfile(part)
    assert os.path.dirname(part) == os.path.join(out, KEYPOINTS_DIR)
    # The part file is never taken as finished: b.mp4 is detected again,
    # a.mp4 is not.
    second = FakeDetector()
    notes.clear()
    assert detect_videos(session(), second, notes.append) == (0, {})
    assert second.made == 1
    assert [name for name, _ in second.calls] == ['b.mp4']
    assert os.path.isfile(keypoints_path(out, b))
    assert not os.path.exists(part)
    assert any('1 of 2 videos already detected' in n for n in notes)
    # Everything cached: the networks are not even loaded.
    third = FakeDetector()
    notes.clear()
    assert detect_videos(session(), third, notes.append) == (0, {})
    assert third.made == 0 and third.calls == []
    assert any('2 of 2 videos already detected' in n for n in notes)


def test_a_changed_video_is_detected_again(video_session):
    session, folder = video_session
    out = str(folder / 'out')
    detector = FakeDetector()
    detect_videos(session(), detector, lambda line: None)
    old = keypoints_path(out, str(folder / 'a.mp4'))
    with open(folder / 'a.mp4', 'ab') as f:
        f.write(b' edited')
    assert keypoints_path(out, str(folder / 'a.mp4')) != old
    again = FakeDetector()
    assert detect_videos(session(), again, lambda line: None) == (0, {})
    assert [name for name, _ in again.calls] == ['a.mp4']


def test_a_video_the_detector_cannot_read_does_not_stop_the_others(
        video_session):
    session, folder = video_session
    out = str(folder / 'out')
    detector = FakeDetector({'a.mp4': FmsError('a.mp4: cannot read')})
    status, failed = detect_videos(session(), detector, lambda line: None)
    assert status == 0
    assert list(failed) == [str(folder / 'a.mp4')]
    assert 'cannot read' in failed[str(folder / 'a.mp4')]
    assert not os.path.exists(keypoints_path(out, str(folder / 'a.mp4')))
    assert os.path.isfile(keypoints_path(out, str(folder / 'b.mp4')))


def test_a_stopped_detection_writes_no_session(video_session):
    session, folder = video_session
    request = session().request
    status, document, problems = run_session(
        request, FakeDetector({'b.mp4': 143}), lambda line: None)
    assert (status, document, problems) == (143, None, [])
    out = folder / 'out'
    assert not (out / SESSION_FILE).exists()
    assert not (out / 'trials').exists()
    assert not (out / 'index.html').exists()


# --- small sessions through the command -----------------------------------


def write_trial(folder, name, trial, view, frames=None):
    """Write ``trial`` filmed from ``view`` as ``folder/name``; only its
    first ``frames`` lines when given."""
    path = folder / name
    write_keypoint_file(fs.trial_track(trial, view), str(path))
    if frames is not None:
        lines = path.read_text(encoding='utf-8').splitlines(True)
        path.write_text(''.join(lines[:frames]), encoding='utf-8')
    return name


@pytest.mark.parametrize('made', [False, True], ids=['no_out', 'empty_out'])
def test_bad_manifest_rows_write_nothing(tmp_path, made):
    write_trial(tmp_path, 'squat.jsonl', TrialPlan('deep_squat', None,
                                                   'correct'), 'side')
    manifest = tmp_path / 'session.csv'
    manifest.write_text(
        'athlete,test,side,view,file\n'
        'anna,deep_squat,,side,squat.jsonl\n'
        'anna,hurdle_step,,side,squat.jsonl\n'
        'anna,deep_squat,,sideways,squat.jsonl\n'
        'anna,aslr,left,side,missing.jsonl\n', encoding='utf-8')
    out = tmp_path / 'out'
    if made:
        out.mkdir()
    before = listing(tmp_path)
    status, stdout, stderr = run(['session', manifest, '--out', out])
    assert status == 2
    assert stdout == ''
    lines = errors(stderr)
    assert len(lines) == 3, stderr
    for line, row, column in zip(lines, (3, 4, 5),
                                 ('side', 'view', 'file')):
        assert line.startswith(f'{manifest}, row {row}, column {column}: '), \
            line
    assert 'missing.jsonl' in lines[2]
    assert out.exists() == made
    assert listing(tmp_path) == before


def test_a_view_that_cannot_be_analysed(tmp_path):
    trial = TrialPlan('deep_squat', None, 'correct')
    write_trial(tmp_path, 'side.jsonl', trial, 'side')
    write_trial(tmp_path, 'front.jsonl', trial, 'front', frames=1)
    manifest = tmp_path / 'session.csv'
    manifest.write_text(
        'athlete,test,side,view,file\n'
        'anna,deep_squat,,side,side.jsonl\n'
        'anna,deep_squat,,front,front.jsonl\n', encoding='utf-8')
    out = tmp_path / 'out'
    status, _, stderr = run(['session', manifest, '--out', out])
    assert status == 2
    lines = errors(stderr)
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f'{manifest}, row 3: ')
    with open(out / 'session.json', encoding='utf-8') as f:
        athlete, = json.load(f)['athletes']
    squat = next(t for t in athlete['tests'] if t['test'] == 'deep_squat')
    assert squat['score'] is None
    assert squat['possible'] == [1, 3]
    assert [v['view'] for v in squat['sides'][0]['views']] == ['side']
    assert athlete['total'] is None
    row_notes = [n for n in athlete['notes'] if n.startswith('row ')]
    assert len(row_notes) == 1
    assert row_notes[0].startswith('row 3 (deep_squat, front view) not '
                                   'scored: ')
    # The note gives the same reason as the error line.
    assert row_notes[0].split('not scored: ', 1)[1] == \
        lines[0].split('row 3: ', 1)[1]
    assert (out / 'anna.html').is_file() and (out / 'index.html').is_file()


def test_a_front_only_quarter_squat_is_provisional(tmp_path):
    # The generator's femur angle is positive with the hip below the knee:
    # -40 is a quarter squat, far from deep enough for a 3.
    write_keypoint_file(deep_squat_sequence(
        frames=50, key_frame=25, view='front', min_femur_angle_deg=-40.0),
        str(tmp_path / 'front.jsonl'))
    manifest = tmp_path / 'session.csv'
    manifest.write_text('athlete,test,side,view,file\n'
                        'anna,deep_squat,,front,front.jsonl\n',
                        encoding='utf-8')
    out = tmp_path / 'out'
    status, stdout, stderr = run(['session', manifest, '--out', out])
    assert status == 0, stderr
    with open(out / 'session.json', encoding='utf-8') as f:
        athlete, = json.load(f)['athletes']
    squat = next(t for t in athlete['tests'] if t['test'] == 'deep_squat')
    assert squat['score'] is None and squat['possible'] == [1, 3]
    side, = squat['sides']
    assert side['to_film'] and all('side view' in line
                                   for line in side['to_film'])
    assert athlete['total'] is None
    assert athlete['total_range'] == [1, 21]
    assert athlete['provisional_tests'] == 1
    assert athlete['risk'] is None
    assert stdout.splitlines() == [
        'anna: total 1-21/21 (provisional), risk undecided; 1 provisional; '
        'not filmed: hurdle step, inline lunge, shoulder mobility, aslr, '
        'trunk stability pushup, rotary stability']
    page = (out / 'anna.html').read_text(encoding='utf-8')
    assert 'film the side view' in page
