"""The video command line: outputs, selection, damaged input, interrupts.

Every run uses the slim networks (conftest's ``slim_weights``): files,
frame selection, errors and signals do not depend on the network's width.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import video_pose_detector
from tests.video_clips import count_frames, damage_mjpeg_frame, make_clip

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
