"""The video command line: outputs, selection, damaged input, interrupts.

Every run uses the slim networks (conftest's ``slim_weights``): files,
frame selection, errors and signals do not depend on the network's width.
"""
import errno
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import video_pose_detector
from tests.cli_checks import listing
from pose.keypoints import KeypointLinesWriter
from pose.options import video_options
from tests.video_clips import (JPEG_SOI, count_frames, damage_mjpeg_frame,
                               full_disk_writer, make_clip)

ROOT = Path(__file__).resolve().parents[1]
SIZE = '64'            # a small network input keeps the CPU fast
FPS = 10.0


@pytest.fixture
def weights(slim_weights):
    return slim_weights('posenet')


def run(capsys, weights, *args):
    code = video_pose_detector.main(['--weights', weights, '--size', SIZE,
                                     *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def read_lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_video_and_keypoint_lines(tmp_path, capsys, weights):
    clip = make_clip(tmp_path / 'clip.avi', frames=12, size=(64, 48), fps=FPS)
    out, lines = tmp_path / 'out.mp4', tmp_path / 'out.jsonl'
    code, stdout, errors = run(capsys, weights, '--video', clip, '--out', out,
                               '--json', lines)
    assert code == 0 and errors == []
    count, shape, fps = count_frames(str(out))
    assert (count, shape, fps) == (12, (48, 64, 3), pytest.approx(FPS))
    records = read_lines(lines)
    assert [r['frame'] for r in records] == list(range(12))
    assert records[3]['time'] == pytest.approx(0.3)
    assert not any(r['carried'] for r in records)
    assert all(r['version'] == 1.3 and isinstance(r['people'], list)
               for r in records)
    assert 'frames read 12, processed 12, failed to decode 0' in stdout
    assert sorted(os.listdir(tmp_path)) == ['clip.avi', 'out.jsonl',
                                            'out.mp4']


def test_every_carries_poses_and_keeps_the_frame_count(tmp_path, capsys,
                                                        weights):
    clip = make_clip(tmp_path / 'clip.avi', frames=10, fps=FPS)
    lines = tmp_path / 'k.jsonl'
    code, stdout, _ = run(capsys, weights, '--video', clip, '--json', lines,
                          '--every', 3)
    assert code == 0
    assert [r['carried'] for r in read_lines(lines)] == [
        i % 3 != 0 for i in range(10)]
    assert 'processed 4' in stdout
    assert count_frames(str(tmp_path / 'clip_pose.mp4'))[0] == 10


def test_start_and_end_select_seconds(tmp_path, capsys, weights):
    clip = make_clip(tmp_path / 'clip.avi', frames=30, fps=FPS)
    lines = tmp_path / 'k.jsonl'
    code, _, _ = run(capsys, weights, '--video', clip, '--json', lines,
                     '--no-video', '--start', 0.5, '--end', 1.5)
    assert code == 0
    assert [r['frame'] for r in read_lines(lines)] == list(range(5, 15))
    assert not (tmp_path / 'clip_pose.mp4').exists()


def test_portrait_clip_keeps_its_size(tmp_path, capsys, weights):
    clip = make_clip(tmp_path / 'portrait.mp4', frames=5, size=(48, 80),
                     fps=25.0)
    code, _, _ = run(capsys, weights, '--video', clip)
    assert code == 0
    count, shape, fps = count_frames(str(tmp_path / 'portrait_pose.mp4'))
    assert (count, shape[:2]) == (5, (80, 48)) and fps == pytest.approx(25.0)


def test_a_damaged_frame_is_counted_and_skipped(tmp_path, capsys, weights):
    clip = make_clip(tmp_path / 'clip.avi', frames=12, fps=FPS)
    damage_mjpeg_frame(clip, 5, 'headers')
    lines = tmp_path / 'k.jsonl'
    code, stdout, _ = run(capsys, weights, '--video', clip, '--json', lines)
    assert code == 0 and 'failed to decode 1' in stdout
    records = read_lines(lines)
    assert len(records) == 12 and records[5].get('decode_failed') is True
    assert records[5]['people'] == []
    assert count_frames(str(tmp_path / 'clip_pose.mp4'))[0] == 12


@pytest.mark.parametrize('content, words', [
    (None, 'no such file'), (b'', 'empty'), (b'not a video', 'video')])
def test_unusable_input_is_one_line_and_exit_2(tmp_path, capsys, weights,
                                               content, words):
    clip = tmp_path / 'clip.mp4'
    if content is not None:
        clip.write_bytes(content)
    before = sorted(os.listdir(tmp_path))
    code, _, errors = run(capsys, weights, '--video', clip, '--json',
                          tmp_path / 'k.jsonl')
    assert code == 2 and len(errors) == 1
    assert words in errors[0].lower()
    assert sorted(os.listdir(tmp_path)) == before


def test_output_never_replaces_the_input(tmp_path, capsys, weights):
    clip = make_clip(tmp_path / 'clip.mp4', frames=3, fps=FPS)
    before = Path(clip).read_bytes()
    code, _, errors = run(capsys, weights, '--video', clip, '--out', clip)
    assert code == 2 and 'input' in errors[0]
    assert Path(clip).read_bytes() == before


def test_weights_of_another_network_leave_nothing(tmp_path, capsys,
                                                  slim_weights):
    clip = make_clip(tmp_path / 'clip.avi', frames=3, fps=FPS)
    code, _, errors = run(capsys, slim_weights('handnet'), '--video',
                          clip, '--json', tmp_path / 'k.jsonl')
    assert code == 2 and len(errors) == 1
    assert sorted(os.listdir(tmp_path)) == ['clip.avi']


def test_no_video_needs_json(capsys):
    with pytest.raises(SystemExit) as exit_info:
        video_pose_detector.parse_args(['--video', 'a.mp4', '--no-video'])
    assert exit_info.value.code == 2
    assert '--json' in capsys.readouterr().err


def partial_lines(folder):
    """Lines written so far to the keypoint file's temporary name."""
    parts = list(Path(folder).glob('.k.jsonl.*'))
    return len(parts[0].read_text().splitlines()) if parts else 0


@pytest.mark.parametrize('signal_number', [signal.SIGINT, signal.SIGTERM])
def test_interrupt_closes_both_outputs(tmp_path, weights, slim_command,
                                       signal_number):
    """A signal to the command's own process in the middle: both files are
    complete up to where it stopped (the video plays, every line parses) and
    the summary says so."""
    clip = make_clip(tmp_path / 'clip.avi', frames=400, fps=FPS)
    command = slim_command('video_pose_detector.py', '--video', clip,
                           '--weights', weights, '--size', SIZE,
                           '--out', tmp_path / 'out.mp4',
                           '--json', tmp_path / 'k.jsonl')
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while partial_lines(tmp_path) < 5 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal_number)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal_number, stderr
    assert f'stopped by {signal.Signals(signal_number).name}' in stdout
    records = read_lines(tmp_path / 'k.jsonl')
    assert 5 <= len(records) < 400
    assert [r['frame'] for r in records] == list(range(len(records)))
    assert count_frames(str(tmp_path / 'out.mp4'))[0] == len(records)
    assert sorted(os.listdir(tmp_path)) == ['clip.avi', 'k.jsonl', 'out.mp4']


def test_face_and_hands_on_video(tmp_path, capsys, weights, slim_weights):
    clip = make_clip(tmp_path / 'clip.avi', frames=3, size=(160, 120),
                     fps=FPS)
    lines = tmp_path / 'k.jsonl'
    code, _, _ = run(capsys, weights, '--video', clip, '--json', lines,
                     '--face', '--hands', '--face-weights',
                     slim_weights('facenet'), '--hand-weights',
                     slim_weights('handnet'))
    assert code == 0
    records = read_lines(lines)
    assert any(record['people'] for record in records), (
        'the slim weights find people in dark frames')
    for record in records:
        for person in record['people']:
            assert len(person['face_keypoints_2d']) == 210
            assert len(person['hand_right_keypoints_2d']) == 63


# ---------------------------------------------------------------------------
# Nothing lost: outputs checked before any frame, and read back before they
# replace anything
# ---------------------------------------------------------------------------


def refused(capsys, weights, folder, *args):
    """Run the command, which must refuse: exit 2, nothing on stdout, one
    error line (returned), and ``folder`` exactly as it was."""
    before = listing(folder)
    code, stdout, errors = run(capsys, weights, *args)
    assert code == 2 and stdout == '', (stdout, errors)
    assert len(errors) == 1, errors
    assert errors[0].startswith('video_pose_detector.py: error: ')
    assert listing(folder) == before
    return errors[0]


@pytest.fixture
def no_frame_read(monkeypatch):
    """Fail the test if the video is opened (the outputs are checked
    first)."""
    def opened(*args, **kwargs):
        raise AssertionError('the video was opened before the outputs '
                             'were checked')
    monkeypatch.setattr('pose.video_pipeline.FrameReader', opened)


def test_a_full_disk_keeps_the_earlier_video(tmp_path, capsys, weights,
                                             monkeypatch):
    """Case 1: OpenCV ignores its write errors; the cut-off video is not
    committed, "wrote" is not printed, and the good earlier file stays."""
    clip = make_clip(tmp_path / 'clip.avi', frames=8, fps=FPS)
    out, lines = tmp_path / 'out.avi', tmp_path / 'k.jsonl'
    out.write_bytes(b'a good earlier video')
    monkeypatch.setattr('cv2.VideoWriter', full_disk_writer(3))
    message = refused(capsys, weights, tmp_path, '--video', clip, '--out',
                      out, '--json', lines)
    assert f'{out}: the video written reads back with 3 of the 8 frames' \
        in message


def test_a_file_size_limit_while_writing_is_one_line(tmp_path, weights,
                                                     slim_command):
    """Case 1 for real: writes beyond a file size limit (RLIMIT_FSIZE)
    fail, and OpenCV says nothing; the command does."""
    resource = pytest.importorskip('resource')
    clip = make_clip(tmp_path / 'clip.avi', frames=40, size=(160, 120),
                     fps=FPS)
    out = tmp_path / 'out.avi'
    out.write_bytes(b'a good earlier video')
    before = listing(tmp_path)
    limit = 20_000                 # bytes: about 8 frames of this video

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        slim_command('video_pose_detector.py', '--video', clip, '--weights',
                     weights, '--size', SIZE, '--out', out),
        cwd=ROOT, capture_output=True, text=True,
        preexec_fn=limit_file_size)
    assert result.returncode == 2, result.stderr
    ours = [line for line in result.stderr.splitlines()
            if line.startswith('video_pose_detector.py:')]
    assert len(ours) == 1 and str(out) in ours[0], result.stderr
    assert 'reads back with' in ours[0] or 'cannot be opened' in ours[0]
    assert 'wrote' not in result.stdout
    assert listing(tmp_path) == before


def test_a_full_disk_on_the_keypoint_lines_is_one_line(
        tmp_path, capsys, weights, monkeypatch):
    """Case 11: no traceback, the file named, nothing half-written."""
    clip = make_clip(tmp_path / 'clip.avi', frames=8, fps=FPS)
    lines = tmp_path / 'k.jsonl'
    lines.write_text('earlier lines\n')
    written = []

    def write_frame(self, record):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(record)

    monkeypatch.setattr(KeypointLinesWriter, 'write_frame', write_frame)
    message = refused(capsys, weights, tmp_path, '--video', clip, '--json',
                      lines)
    assert f'{lines}: cannot write the file (No space left on device)' \
        in message


def test_json_may_not_be_the_weights_nor_the_video(tmp_path, capsys,
                                                   weights, no_frame_read):
    """Case 4."""
    clip = make_clip(tmp_path / 'clip.avi', frames=3, fps=FPS)
    weights_before = Path(weights).read_bytes()
    message = refused(capsys, weights, tmp_path, '--video', clip,
                      '--no-video', '--json', weights)
    assert 'would overwrite the input' in message
    assert Path(weights).read_bytes() == weights_before
    same = tmp_path / 'same.mp4'
    message = refused(capsys, weights, tmp_path, '--video', clip, '--out',
                      same, '--json', same)
    assert 'two outputs' in message


@pytest.mark.parametrize('where', ['folder', 'missing folder'])
def test_json_in_a_bad_place_is_refused_before_any_frame(
        tmp_path, capsys, weights, no_frame_read, where):
    """Cases 10 and 15: a folder, or a file in a missing folder, is refused
    before the video is opened, and no hidden video is left behind."""
    clip = make_clip(tmp_path / 'clip.avi', frames=3, fps=FPS)
    target = tmp_path / 'k.jsonl'
    if where == 'folder':
        target.mkdir()
    else:
        target = tmp_path / 'missing' / 'k.jsonl'
    message = refused(capsys, weights, tmp_path, '--video', clip, '--json',
                      target)
    assert ('is a folder' if where == 'folder' else 'does not exist') \
        in message


def test_a_start_after_the_end_of_a_cut_off_file(tmp_path, capsys, weights):
    """Case 18: the message says what the file holds, not the container's
    length; and --end inf runs to the end."""
    clip = make_clip(tmp_path / 'cut.avi', frames=41, fps=FPS)
    data = Path(clip).read_bytes()
    thirtieth = [i for i in range(len(data))
                 if data.startswith(JPEG_SOI, i)][30]
    Path(clip).write_bytes(data[:thirtieth])
    lines = tmp_path / 'k.jsonl'
    message = refused(capsys, weights, tmp_path, '--video', clip,
                      '--no-video', '--json', lines, '--start', 3.5)
    assert 'it holds 30 frame(s) (3 s at 10 fps)' in message
    assert 'announces 41 frames (4.1 s)' in message
    code, _, _ = run(capsys, weights, '--video', clip, '--no-video',
                     '--json', lines, '--start', 2.5, '--end', 'inf')
    assert code == 0
    assert [r['frame'] for r in read_lines(lines)] == list(range(25, 30))


@pytest.mark.parametrize('args, words', [
    (['--start', 'nan'], '--start must be a number'),
    (['--start', '2', '--end', '1'], '--end must come after --start'),
    (['--end', 'nan'], '--end must come after --start'),
])
def test_bad_times_are_refused_by_the_parser(capsys, args, words):
    with pytest.raises(SystemExit) as exit_info:
        video_pose_detector.parse_args(['--video', 'a.mp4', *args])
    assert exit_info.value.code == 2
    assert words in capsys.readouterr().err


# -- OpenPose's outputs and options ------------------------------------------

def test_write_json_and_csv_default_beside_the_input(tmp_path, capsys,
                                                     weights):
    clip = make_clip(tmp_path / 'clip.avi', frames=4, size=(64, 48), fps=FPS)
    code, stdout, errors = run(capsys, weights, '--video', clip, '--no-video',
                               '--write-json', '--csv', '--smooth')
    assert code == 0 and errors == []
    assert sorted(os.listdir(tmp_path)) == ['clip.avi', 'clip.csv',
                                            'clip_json']
    assert sorted(os.listdir(tmp_path / 'clip_json')) == [
        f'clip_{i:012d}_keypoints.json' for i in range(4)]
    assert f'wrote {tmp_path / "clip.csv"}' in stdout
    header = (tmp_path / 'clip.csv').read_text().splitlines()[0]
    assert header.startswith('frame,time,carried,person_id,Nose_x,')


def test_write_json_into_a_folder_keeps_its_files(tmp_path, capsys,
                                                  weights):
    clip = make_clip(tmp_path / 'clip.avi', frames=2, size=(64, 48), fps=FPS)
    folder = tmp_path / 'keypoints'
    folder.mkdir()
    (folder / 'mine.txt').write_text('kept')
    code, _, _ = run(capsys, weights, '--video', clip, '--no-video',
                     '--write-json', folder, '--csv', tmp_path / 't.csv')
    assert code == 0
    assert sorted(os.listdir(folder)) == [
        'clip_000000000000_keypoints.json',
        'clip_000000000001_keypoints.json', 'mine.txt']


def test_a_failed_run_writes_no_keypoint_folder(tmp_path, capsys, weights,
                                                monkeypatch):
    clip = make_clip(tmp_path / 'clip.avi', frames=3, size=(64, 48), fps=FPS)

    def broken(*args, **kwargs):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr('pose.keypoint_table.KeypointTableWriter.write_frame',
                        broken)
    code, _, errors = run(capsys, weights, '--video', clip, '--no-video',
                          '--write-json', '--csv')
    assert code == 2 and len(errors) == 1 and 'clip.csv' in errors[0]
    assert os.listdir(tmp_path) == ['clip.avi']


@pytest.mark.parametrize('args, expected', [
    ([], (368, None, None)),
    (['--net-resolution', '656x368'], (368, 656, None)),
    (['--net-resolution=-1x256', '--size', '256'], (256, None, None)),
    (['--number-people-max', '2'], (368, None, 2)),
])
def test_detector_options_as_openpose_names_them(args, expected):
    parsed = video_pose_detector.parse_args(['--video', 'a.mp4', *args])
    options = video_options(parsed)
    assert (options.size, options.net_width,
            options.number_people_max) == expected


@pytest.mark.parametrize('value', ['-1x256', '=-1x256'])
def test_net_resolution_with_a_negative_width_needs_no_equals_sign(value):
    words = (['--net-resolution' + value] if value.startswith('=')
             else ['--net-resolution', value])
    options = video_options(video_pose_detector.parse_args(
        ['--video', 'a.mp4', *words]))
    assert (options.size, options.net_width) == (256, None)


@pytest.mark.parametrize('args, words', [
    (['--net-resolution', '656x368', '--size', '256'], 'differ'),
    (['--net-resolution', '-1x250'], 'multiples of 8'),
    (['--net-resolution', '650x368'], 'multiples of 8'),
    (['--net-resolution', 'wide'], 'WxH'),
    (['--number-people-max', '0'], 'at least 1'),
])
def test_bad_detector_options_are_refused_by_the_parser(capsys, args,
                                                        words):
    with pytest.raises(SystemExit) as exit_info:
        video_pose_detector.parse_args(['--video', 'a.mp4', *args])
    assert exit_info.value.code == 2
    assert words in capsys.readouterr().err


# -- many videos (--videos) ----------------------------------------------------

def batch_clips(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    return [make_clip(folder / name, frames=3, size=(64, 48), fps=FPS)
            for name in names]


def test_videos_of_a_folder_go_to_the_out_dir_and_resume(tmp_path, capsys,
                                                        weights):
    videos, out = tmp_path / 'videos', tmp_path / 'out'
    batch_clips(videos, ['a.avi', 'c.avi'])
    (videos / 'b.avi').write_bytes(b'not a video')
    code, printed, err = run(capsys, weights, '--videos', videos,
                             '--out-dir', out, '--csv', '--write-json')
    assert code == 1                     # some failed
    assert 'done: 2 video(s)' in printed and 'failed: 1' in printed
    assert f'manifest: {out}/batch.jsonl' in printed
    [line] = [line for line in err if 'failed:' in line]
    assert line.startswith(f'{video_pose_detector.PROG}: error: '
                           f'{videos / "b.avi"} failed: ')
    assert sorted(os.listdir(out)) == ['a.csv', 'a.jsonl', 'a_pose.mp4',
                                       'batch.jsonl', 'c.csv', 'c.jsonl',
                                       'c_pose.mp4', 'json']
    assert len(read_lines(out / 'a.jsonl')) == 3
    (videos / 'b.avi').unlink()
    code, printed, _ = run(capsys, weights, '--videos', videos, '--out-dir',
                           out, '--csv', '--write-json')
    assert code == 0
    assert 'skipped (done by an earlier run): 2' in printed
    assert len(read_lines(out / 'batch.jsonl')) == 1 + 3   # header + videos


@pytest.mark.parametrize('args, words', [
    (['--videos', 'v'], '--videos needs --out-dir'),
    (['--videos', 'v', '--out-dir', 'o', '--out', 'x.mp4'],
     '--out is for one video'),
    (['--videos', 'v', '--out-dir', 'o', '--json', 'x.jsonl'],
     '--json is for one video'),
    (['--videos', 'v', '--out-dir', 'o', '--csv', 'x.csv'],
     '--csv takes no value with --videos'),
    (['--videos', 'v', '--out-dir', 'o', '--write-json', 'j'],
     '--write-json takes no value with --videos'),
    (['--videos', 'v', '--out-dir', 'o', '--ray-workers', '0'],
     '--ray-workers must be at least 1'),
    (['--video', 'a.mp4', '--out-dir', 'o'], '--out-dir goes with --videos'),
    (['--video', 'a.mp4', '--videos', 'v'], 'not allowed with argument'),
])
def test_batch_options_are_checked_by_the_parser(capsys, args, words):
    with pytest.raises(SystemExit) as exit_info:
        video_pose_detector.parse_args(args)
    assert exit_info.value.code == 2
    assert words in capsys.readouterr().err


def test_a_batch_that_cannot_start_is_one_line(tmp_path, capsys, weights):
    batch_clips(tmp_path / 'x', ['clip.avi'])
    batch_clips(tmp_path / 'y', ['clip.avi'])
    out = tmp_path / 'out'
    code, printed, err = run(capsys, weights, '--videos',
                             tmp_path / '*' / '*.avi', '--out-dir', out)
    assert code == 2 and printed == '' and len(err) == 1
    assert str(tmp_path / 'x' / 'clip.avi') in err[0]
    assert str(tmp_path / 'y' / 'clip.avi') in err[0]
    assert not out.exists()
    out.mkdir()
    (out / 'batch.jsonl').write_text('my own notes\n')
    code, _, err = run(capsys, weights, '--videos', tmp_path / 'x',
                       '--out-dir', out)
    assert code == 2 and 'not a batch manifest' in err[-1]
    assert (out / 'batch.jsonl').read_text() == 'my own notes\n'
    assert os.listdir(out) == ['batch.jsonl']


def test_ray_gets_the_options_and_the_batch_stop_event(tmp_path, capsys,
                                                       weights, monkeypatch):
    """``--ray ADDRESS --ray-workers N``: the runner is made once the batch
    is checked, with the batch's own stop event (Ctrl-C reaches the
    workers); here an in-process runner stands in for the cluster."""
    from pose import batch, ray_batch
    made = []

    def fake_ray_runner(address, options, workers=None, stop=None):
        made.append((address, options.size, workers, stop))
        return batch.LocalRunner(options, progress=False, stop=stop)
    monkeypatch.setattr(ray_batch, 'ray_runner', fake_ray_runner)
    videos, out = tmp_path / 'videos', tmp_path / 'out'
    batch_clips(videos, ['a.avi', 'b.avi'])
    code, printed, _ = run(capsys, weights, '--videos', videos, '--out-dir',
                           out, '--no-video', '--ray', 'auto',
                           '--ray-workers', '3')
    assert code == 0 and 'done: 2 video(s)' in printed
    [(address, size, workers, stop)] = made
    assert (address, size, workers) == ('auto', int(SIZE), 3)
    assert stop is not None and not stop.is_set()
    assert sorted(os.listdir(out)) == ['a.jsonl', 'b.jsonl', 'batch.jsonl']
