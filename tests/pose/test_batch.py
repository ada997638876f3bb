"""Batches of videos: listing, outputs, manifest, resume, bad videos, stops.

The slim networks at a small input size and clips of a few frames: what is
tested is the plumbing, not the poses.
"""
import json
import os
import signal
import threading
from pathlib import Path

import pytest

from common.errors import EXIT_OK, EXIT_SOME_FAILED
from pose.batch import (DONE, FAILED, SKIPPED, STOPPED, BatchRequest,
                        LocalRunner, VideoOutcome, process_job, run_batch,
                        run_jobs)
from pose.batch_jobs import BatchError, list_videos, plan_jobs
from pose.batch_manifest import (FORMAT, MANIFEST_NAME, ManifestError,
                                 read_manifest)
from pose.options import VideoOptions, load_detectors
from pose.video_pipeline import run_video
from tests.fixtures.detectors import before_each_batch
from tests.video_clips import count_frames, make_clip

SIZE = 64             # a small network input keeps the CPU fast
FRAMES = 3


@pytest.fixture
def options(slim_weights):
    return VideoOptions(weights=slim_weights('posenet'), size=SIZE)


def touch(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'x')
    return str(path)


def clips(folder, names, frames=FRAMES):
    for name in names:
        (Path(folder) / name).parent.mkdir(parents=True, exist_ok=True)
    return [make_clip(Path(folder) / name, frames=frames) for name in names]


class Counting:
    """``make_detectors`` counting the loads and network calls; calls
    ``on_predict(calls)`` before each call."""

    def __init__(self, on_predict=None):
        self.loads = self.calls = 0
        self.on_predict = on_predict

    def __call__(self, options):
        self.loads += 1
        detectors = load_detectors(options)

        def count(images):
            self.calls += 1
            if self.on_predict:
                self.on_predict(self.calls)
        before_each_batch(detectors, count)
        return detectors


def batch(videos, out, options, make=None, stop=None, **outputs):
    stop = stop or threading.Event()
    make = make or Counting()
    runner = LocalRunner(options, make, progress=False, stop=stop)
    request = BatchRequest(str(videos), str(out), options, **outputs)
    return run_batch(request, runner, progress=False, stop=stop), make


def manifest_lines(out):
    lines = (Path(out) / MANIFEST_NAME).read_text().splitlines()
    assert json.loads(lines[0])['format'] == FORMAT
    return [json.loads(line) for line in lines[1:]]


# -- listing -----------------------------------------------------------------

def test_a_folder_is_searched_recursively_by_extension(tmp_path):
    videos = tmp_path / 'videos'
    for name in ('b.mp4', 'a.MOV', 'sub/c.mkv', 'notes.txt', '.hidden.mp4',
                 'out/a_pose.mp4', 'out/keep.avi'):
        touch(videos / name)
    found = list_videos(str(videos), exclude=str(videos / 'out'))
    assert [name for _, name in found] == ['a', 'b', 'out/keep', 'sub/c']
    assert found[3][0] == os.path.join(str(videos), 'sub', 'c.mkv')


def test_a_glob_and_a_list_name_videos_by_stem(tmp_path):
    for name in ('x/one.avi', 'x/y/two.avi', 'x/three.mp4'):
        touch(tmp_path / name)
    found = list_videos(str(tmp_path / 'x' / '**' / '*.avi'))
    assert [name for _, name in found] == ['one', 'two']
    listing = tmp_path / 'x' / 'videos.txt'
    listing.write_text('# season\n\none.avi\n  y/two.avi  \nmissing.mp4\n')
    found = list_videos(str(listing))
    assert found == [(str(tmp_path / 'x' / 'one.avi'), 'one'),
                     (str(tmp_path / 'x' / 'y/two.avi'), 'two'),
                     (str(tmp_path / 'x' / 'missing.mp4'), 'missing')]


@pytest.mark.parametrize('names', [('a/x.mp4', 'b/x.avi'),
                                   ('a/x.mp4', 'b/X.mp4')])
def test_two_videos_with_one_name_are_refused(tmp_path, names):
    for name in names:
        touch(tmp_path / name)
    with pytest.raises(BatchError) as error:
        list_videos(str(tmp_path / '*' / '*.mp4'
                        if names[1].endswith('.mp4') else tmp_path / '*/*'))
    message = str(error.value)
    assert all(str(tmp_path / name) in message for name in names)
    assert '\n' not in message


def test_nothing_matched_is_one_line(tmp_path):
    touch(tmp_path / 'notes.txt')
    for source in (tmp_path, tmp_path / '*.mp4', tmp_path / 'none'):
        with pytest.raises(BatchError) as error:
            list_videos(str(source))
        assert str(source) in str(error.value)


def test_an_output_may_not_be_an_input_or_the_manifest(tmp_path, options):
    touch(tmp_path / 'v' / 'batch.mp4')
    request = BatchRequest(str(tmp_path / 'v'), str(tmp_path / 'out'),
                           options, video=False)
    with pytest.raises(BatchError, match='written twice'):
        plan_jobs(request)
    clip = touch(tmp_path / 'w' / 'a_pose.mp4')
    touch(tmp_path / 'w' / 'a.mp4')
    (tmp_path / 'w' / 'list.txt').write_text('a.mp4\na_pose.mp4\n')
    request = BatchRequest(str(tmp_path / 'w' / 'list.txt'),
                           str(tmp_path / 'w'), options)
    with pytest.raises(BatchError, match='overwrite the input ' + clip):
        plan_jobs(request)
    assert not (tmp_path / 'out').exists()


# -- running -----------------------------------------------------------------

def test_outputs_equal_a_single_run_and_the_network_loads_once(
        tmp_path, options):
    videos = tmp_path / 'videos'
    clips(videos, ['a.avi', 'sub/b.avi'])
    summary, make = batch(videos, tmp_path / 'out', options, csv=False)
    assert summary.exit_status() == EXIT_OK
    assert summary.counts[DONE] == 2 and make.loads == 1
    assert make.calls == 2 * FRAMES
    out = tmp_path / 'out'
    single = tmp_path / 'single.jsonl'
    run_video(str(videos / 'sub' / 'b.avi'), VideoOptions(
        weights=options.weights, size=SIZE, keypoints_out=str(single)),
        progress=False)
    assert (out / 'sub' / 'b.jsonl').read_text() == single.read_text()
    assert count_frames(str(out / 'sub' / 'b_pose.mp4'))[0] == FRAMES
    lines = manifest_lines(out)
    assert [(line['name'], line['status'], line['frames']) for line in lines
            ] == [('a', DONE, FRAMES), ('sub/b', DONE, FRAMES)]
    assert lines[1]['outputs'] == [str(out / 'sub' / 'b_pose.mp4'),
                                   str(out / 'sub' / 'b.jsonl')]
    stamp = lines[0]['fingerprint']
    assert stamp['video'] == str(videos / 'a.avi')
    assert stamp['size'] == os.path.getsize(videos / 'a.avi')
    assert stamp['options']['size'] == SIZE


def test_a_rerun_skips_done_videos_and_redoes_changed_and_failed(
        tmp_path, options):
    videos = tmp_path / 'videos'
    clips(videos, ['a.avi', 'b.avi'])
    touch(videos / 'c.avi')                 # not a video: fails
    out = tmp_path / 'out'
    summary, _ = batch(videos, out, options, video=False)
    assert summary.counts[FAILED] == 1
    assert summary.exit_status() == EXIT_SOME_FAILED
    summary, make = batch(videos, out, options, video=False)
    assert (summary.counts[SKIPPED], summary.counts[FAILED]) == (2, 1)
    assert make.calls == 0                  # only the failed one tried
    make_clip(videos / 'b.avi', frames=FRAMES + 1)   # changed
    make_clip(videos / 'c.avi', frames=FRAMES)       # repaired
    summary, make = batch(videos, out, options, video=False)
    assert (summary.counts[SKIPPED], summary.counts[DONE]) == (1, 2)
    assert make.calls == 2 * FRAMES + 1
    assert summary.exit_status() == EXIT_OK
    lines = manifest_lines(out)
    assert sorted(line['name'] for line in lines) == ['a', 'b', 'c']
    assert {line['status'] for line in lines} == {DONE}
    summary, make = batch(videos, out, options, video=False)
    assert summary.counts[SKIPPED] == 3
    assert make.loads == 0 and make.calls == 0      # nothing reprocessed
    summary, _ = batch(videos, out, options)          # the video asked for
    assert summary.counts[DONE] == 3


def test_a_bad_video_in_the_middle_fails_alone(tmp_path, options):
    videos = tmp_path / 'videos'
    clips(videos, ['a.avi', 'c.avi'])
    (videos / 'b.avi').write_bytes(b'not a video at all')
    summary, _ = batch(videos, tmp_path / 'out', options, video=False)
    assert (summary.counts[DONE], summary.counts[FAILED]) == (2, 1)
    assert summary.exit_status() == EXIT_SOME_FAILED
    [(video, reason)] = summary.failed
    assert video == str(videos / 'b.avi') and video in reason
    line = {line['name']: line for line in manifest_lines(tmp_path / 'out')}
    assert line['b']['status'] == FAILED and line['b']['reason'] == reason
    assert line['b']['outputs'] == []
    assert (tmp_path / 'out' / 'c.jsonl').exists()
    assert not (tmp_path / 'out' / 'b.jsonl').exists()


def test_a_listed_video_that_does_not_exist_fails_alone(tmp_path, options):
    clips(tmp_path, ['a.avi'])
    (tmp_path / 'list.txt').write_text('gone.avi\na.avi\n')
    summary, make = batch(tmp_path / 'list.txt', tmp_path / 'out', options,
                          video=False)
    assert (summary.counts[DONE], summary.counts[FAILED]) == (1, 1)
    assert 'gone.avi: no such file' in summary.failed[0][1]


def test_a_stop_ends_the_video_in_hand_and_a_rerun_finishes(
        tmp_path, options):
    videos, out = tmp_path / 'videos', tmp_path / 'out'
    clips(videos, ['a.avi', 'b.avi', 'c.avi'])
    stop = threading.Event()

    def stop_in_second_video(calls):
        if calls == FRAMES + 1:
            stop.set()
    summary, _ = batch(videos, out, options, Counting(stop_in_second_video),
                       stop=stop)
    assert [summary.counts[s] for s in (DONE, STOPPED, 'not started')
            ] == [1, 1, 1]
    assert summary.exit_status() == 130
    assert [(line['name'], line['status']) for line in manifest_lines(out)
            ] == [('a', DONE), ('b', STOPPED)]
    assert sorted(os.listdir(out)) == ['a.jsonl', 'a_pose.mp4', MANIFEST_NAME]
    summary, make = batch(videos, out, options)
    assert (summary.counts[SKIPPED], summary.counts[DONE]) == (1, 2)
    assert make.calls == 2 * FRAMES
    assert [(line['name'], line['status']) for line in manifest_lines(out)
            ] == [('a', DONE), ('b', DONE), ('c', DONE)]


def test_a_torn_last_line_is_ignored_and_temporaries_removed(
        tmp_path, options):
    videos, out = tmp_path / 'videos', tmp_path / 'out'
    clips(videos, ['a.avi', 'b.avi'])
    batch(videos, out, options, video=False)
    manifest = out / MANIFEST_NAME
    lines = manifest.read_text().splitlines()
    manifest.write_text('\n'.join(lines[:2]) + '\n' + lines[2][:30])
    leftover = out / '.b.jsonl.0123abcd.part.jsonl'
    leftover.write_text('{"frame": 0')
    other = out / '.b.jsonl.notours'
    other.write_text('keep')
    assert list(read_manifest(str(manifest))) == ['a']
    summary, _ = batch(videos, out, options, video=False)
    assert (summary.counts[SKIPPED], summary.counts[DONE]) == (1, 1)
    assert not leftover.exists() and other.exists()
    assert len(manifest.read_text().splitlines()) == 3


@pytest.mark.parametrize('content', ['name,status\n', '{"a": 1}\n',
                                     '{"format": "pose-batch-manifest", '
                                     '"version": 1}\nnot json\n{}\n'])
def test_a_manifest_not_ours_is_refused_untouched(tmp_path, options,
                                                  content):
    clips(tmp_path / 'videos', ['a.avi'])
    manifest = tmp_path / 'out' / MANIFEST_NAME
    manifest.parent.mkdir()
    manifest.write_text(content)
    with pytest.raises(ManifestError) as error:
        batch(tmp_path / 'videos', tmp_path / 'out', options)
    assert str(manifest) in str(error.value)
    assert manifest.read_text() == content
    assert os.listdir(manifest.parent) == [MANIFEST_NAME]


class FakeRunner:
    """Yields the given outcomes for the jobs it gets, in order."""

    def __init__(self, statuses):
        self.statuses, self.given, self.closed = statuses, [], False

    def run(self, jobs):
        for job, (status, fatal) in zip(jobs, self.statuses):
            self.given.append(job.name)
            yield VideoOutcome(job.name, job.video, status, fatal=fatal,
                               reason='disk full' if fatal else '')

    def close(self):
        self.closed = True


def test_a_full_disk_halts_the_batch(tmp_path, options):
    clips(tmp_path / 'videos', ['a.avi', 'b.avi', 'c.avi'])
    request = BatchRequest(str(tmp_path / 'videos'), str(tmp_path / 'out'),
                           options)
    runner = FakeRunner([(DONE, False), (FAILED, True), (DONE, False)])
    summary = run_jobs(plan_jobs(request), request.out_dir, runner,
                       progress=False)
    assert runner.given == ['a', 'b'] and runner.closed
    assert summary.halted == 'disk full'
    assert summary.counts['not started'] == 1
    assert summary.exit_status() == EXIT_SOME_FAILED


def test_process_job_reports_a_bad_video_without_raising(tmp_path, options):
    request = BatchRequest(str(tmp_path / 'v'), str(tmp_path), options)
    (tmp_path / 'v').mkdir()
    from pose.batch_jobs import make_job
    job = make_job(str(tmp_path / 'v' / 'none.avi'), 'none', request)
    outcome = process_job(job, detectors=None)
    assert outcome.status == FAILED and 'none.avi' in outcome.reason


def test_sigterm_stops_the_video_in_hand_with_status_143(tmp_path, options):
    videos, out = tmp_path / 'videos', tmp_path / 'out'
    clips(videos, ['a.avi', 'b.avi'])

    def terminate(calls):
        if calls == 2:
            os.kill(os.getpid(), signal.SIGTERM)
    before = signal.getsignal(signal.SIGTERM)
    summary, make = batch(videos, out, options, Counting(terminate))
    assert signal.getsignal(signal.SIGTERM) is before
    assert summary.stopped_by == 'SIGTERM' and summary.exit_status() == 143
    assert [summary.counts[s] for s in (DONE, STOPPED, 'not started')
            ] == [0, 1, 1]
    assert make.calls == 2
    assert sorted(os.listdir(out)) == [MANIFEST_NAME]


def test_per_frame_files_and_tables_mirror_the_folders(tmp_path, options):
    videos, out = tmp_path / 'videos', tmp_path / 'out'
    clips(videos, ['a.avi', 'sub/a.avi'])
    summary, _ = batch(videos, out, options, video=False, json=True,
                       csv=True)
    assert summary.counts[DONE] == 2
    for folder in (out / 'json', out / 'json' / 'sub'):
        assert sorted(p.name for p in folder.glob('*.json')) == [
            f'a_{i:012d}_keypoints.json' for i in range(FRAMES)]
    assert (out / 'a.csv').exists() and (out / 'sub' / 'a.csv').exists()
    assert manifest_lines(out)[1]['outputs'] == [
        str(out / 'sub' / 'a.jsonl'), str(out / 'sub' / 'a.csv')]
