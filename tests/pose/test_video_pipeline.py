"""The frame loop with a stand-in detector: ids, carrying, batching;
outputs that cannot be written whole."""
import errno
import json
import os
import sys

import cv2
import numpy as np
import pytest

from tests.fixtures import ground_truth_maps
from tests.video_clips import full_disk_writer, make_clip
from pose import options as options_module
from pose.detection import Detection
from pose.keypoint_table import KeypointTableWriter, read_keypoint_table
from pose.keypoints import (KeypointFramesWriter, KeypointLinesWriter,
                            read_keypoint_lines)
from pose.options import Detectors, VideoOptions
from pose.smoothing import PoseSmoother
from pose.video_io import Frame, VideoError, VideoWriter
from pose.video_pipeline import (Outputs, Summary, _commit_all,
                                 process_video, run_video)

SIZE = (200, 120)        # (width, height) of the frames


class WalkingPeople:
    """Detects two people walking towards and past each other: A from the
    left, B from the right, listed in a different order every frame."""

    def __init__(self):
        self.batches = []
        self.body = self       # the detectors' body network: its timing
        self.network_seconds = 0.0

    @staticmethod
    def person(name, index):
        if name == 'A':
            return ground_truth_maps.standing_person(80, 30 + 4 * index, 10)
        return ground_truth_maps.standing_person(76, 170 - 4 * index, 14)

    @classmethod
    def poses(cls, index):
        a, b = cls.person('A', index), cls.person('B', index)
        return np.stack([a, b] if index % 2 else [b, a]).astype(np.float32)

    def predict(self, images):
        self.batches.append(len(images))
        detections = []
        for image in images:
            poses = self.poses(int(image[0, 0, 0]))
            detections.append(Detection(poses, np.ones(2, np.float32),
                                        np.ones((2, 18), np.float32)))
        return detections

    def stream(self, batches):
        for payload, images in batches:
            yield payload, self.predict(images) if images else []


def frames(count, failed=()):
    """Frames whose first pixel holds their index (read by the stand-in)."""
    for index in range(count):
        image = None
        if index not in failed:
            image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
            image[0, 0, 0] = index
        yield Frame(index, index / 10, image)


def run(tmp_path, detector, **options):
    path = tmp_path / 'k.jsonl'
    lines = KeypointLinesWriter(str(path))
    summary = process_video(frames(options.pop('count', 30),
                                   options.pop('failed', ())),
                            detector, Outputs(None, lines, None, SIZE),
                            **options)
    lines.commit()
    return summary, read_keypoint_lines(str(path))


def identities(record):
    """{person_id: 'A' or 'B'}: who each person of a line is, by where A and
    B are known to be in that frame."""
    neck_x = {name: WalkingPeople.person(name, record['frame'])[1, 0]
              for name in 'AB'}
    return {person['person_id'][0]: min(
        neck_x, key=lambda name: abs(neck_x[name]
                                     - person['pose_keypoints_2d'][3]))
        for person in record['people']}


def assert_one_id_each(records):
    assert {tuple(sorted(identities(r).items()))
            for r in records if r['people']} == {((0, 'B'), (1, 'A'))}


def test_each_person_keeps_one_id(tmp_path):
    """Frame 0 lists B first, so B is 0; they cross after frame 17."""
    _, records = run(tmp_path, WalkingPeople(), count=30)
    assert_one_id_each(records)


def test_every_and_batch_give_the_same_lines(tmp_path):
    single = WalkingPeople()
    _, one = run(tmp_path, single, every=2)
    batched = WalkingPeople()
    _, many = run(tmp_path, batched, every=2, batch=4)
    assert one == many
    assert single.batches == [1] * 15 and batched.batches == [4, 4, 4, 3]
    assert [r['carried'] for r in one] == [i % 2 == 1 for i in range(30)]


def test_failed_frames_have_no_people_and_the_run_goes_on(tmp_path):
    summary, records = run(tmp_path, WalkingPeople(), count=8, failed=(0, 4))
    assert summary.frames_read == 8 and summary.frames_failed == 2
    assert summary.frames_processed == 6
    assert records[0]['decode_failed'] and records[0]['people'] == []
    assert records[4]['people'] == [] and len(records[5]['people']) == 2


def test_stop_event_ends_the_loop(tmp_path):
    import threading
    stop = threading.Event()
    stop.set()
    summary, records = run(tmp_path, WalkingPeople(), stop=stop)
    assert summary.frames_read == len(records) == 1


def test_summary_lines():
    summary = Summary(frames_read=10, frames_processed=5, frames_failed=1,
                      seconds=2.0, detection_seconds=1.5, network_seconds=1.0,
                      last_time=0.9,
                      stopped_by='SIGINT')
    summary.people.update({1: 4, 2: 1})
    text = '\n'.join(summary.lines())
    assert 'frames read 10, processed 5, failed to decode 1' in text
    assert 'mean 1.20, max 2' in text
    assert '5.00 frames/s' in text and 'stopped by SIGINT' in text
    assert '0.30 s of detection, of which 0.20 s in the network' in text


@pytest.mark.parametrize('every', [1, 3])
def test_tracker_sees_real_frame_gaps(tmp_path, every):
    """Ids hold when the network skips frames (the tracker predicts over
    the gap)."""
    _, records = run(tmp_path, WalkingPeople(), every=every, count=30)
    assert_one_id_each(records)


class FullDiskLines(KeypointLinesWriter):
    """Keypoint lines on a disk that fills up after ``room`` lines."""

    def __init__(self, path, room):
        super().__init__(path)
        self.room = room

    def write_frame(self, record):
        if self.lines >= self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write_frame(record)


def test_a_full_disk_on_the_keypoint_lines_names_the_file(tmp_path):
    path = tmp_path / 'k.jsonl'
    lines = FullDiskLines(str(path), room=3)
    with pytest.raises(VideoError) as error:
        process_video(frames(10), WalkingPeople(),
                      Outputs(None, lines, None, SIZE))
    assert str(error.value).startswith(
        f'{path}: cannot write the file (No space left on device)')
    lines.abort()
    assert os.listdir(tmp_path) == []


def test_nothing_is_published_when_the_video_does_not_read_back(
        tmp_path, monkeypatch):
    """Both outputs are checked before either is renamed into place: a
    video cut off by a full disk keeps the keypoint lines from being
    published too, and the earlier files of those names stay."""
    video_path, lines_path = tmp_path / 'out.avi', tmp_path / 'k.jsonl'
    video_path.write_bytes(b'old video')
    lines_path.write_bytes(b'old lines\n')
    monkeypatch.setattr(cv2, 'VideoWriter', full_disk_writer(2))
    video = VideoWriter(str(video_path), 10, SIZE)
    lines = KeypointLinesWriter(str(lines_path))
    process_video(frames(6), WalkingPeople(),
                  Outputs(video, lines, None, SIZE))
    with pytest.raises(VideoError, match='reads back with 2 of the 6'):
        _commit_all([video, lines])
    assert video_path.read_bytes() == b'old video'
    assert lines_path.read_bytes() == b'old lines\n'
    assert sorted(os.listdir(tmp_path)) == ['k.jsonl', 'out.avi']


# ---------------------------------------------------------------------------
# Keypoint frames, the keypoint table, smoothing
# ---------------------------------------------------------------------------

def test_frames_and_table_hold_every_frame_and_person(tmp_path):
    folder, table_path = tmp_path / 'clip_json', tmp_path / 'clip.csv'
    lines = KeypointLinesWriter(str(tmp_path / 'k.jsonl'))
    outputs = Outputs(None, lines, None, SIZE,
                      frames=KeypointFramesWriter(str(folder), 'clip'),
                      table=KeypointTableWriter(str(table_path)))
    process_video(frames(6, failed=(4,)), WalkingPeople(), outputs, every=2)
    _commit_all(outputs.writers())
    records = read_keypoint_lines(str(tmp_path / 'k.jsonl'))
    files = sorted(os.listdir(folder))
    assert files == [f'clip_{i:012d}_keypoints.json' for i in range(6)]
    for record, name in zip(records, files):
        document = json.loads((folder / name).read_text())
        assert document['people'] == record['people']
    table = read_keypoint_table(str(table_path))
    assert table.frames.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 5, 5]
    assert table.carried.tolist() == [False, False, True, True] * 2 + [
        True, True]
    first = records[0]['people'][0]
    row = table.person_ids.tolist().index(first['person_id'][0])
    np.testing.assert_allclose(table.xy[row, 1],
                               first['pose_keypoints_2d'][3:5])


def test_smoothing_changes_the_written_joints_not_the_people(tmp_path):
    _, plain = run(tmp_path, WalkingPeople(), count=10)
    path = tmp_path / 'smooth.jsonl'
    lines = KeypointLinesWriter(str(path))
    process_video(frames(10), WalkingPeople(),
                  Outputs(None, lines, None, SIZE, smoother=PoseSmoother()))
    lines.commit()
    smooth = read_keypoint_lines(str(path))
    assert [identities(r) for r in smooth] == [identities(r) for r in plain]
    raw = {p['person_id'][0]: p['pose_keypoints_2d']
           for p in plain[-1]['people']}
    for person in smooth[-1]['people']:
        moving = person['pose_keypoints_2d']
        assert moving != raw[person['person_id'][0]]
        assert moving[2::3] == raw[person['person_id'][0]][2::3]


def test_without_pyav_the_run_warns_about_mp4v(tmp_path, monkeypatch,
                                               slim_weights):
    monkeypatch.setitem(sys.modules, 'av', None)
    clip = make_clip(tmp_path / 'clip.avi', frames=2, size=(64, 48))
    options = VideoOptions(weights=slim_weights('posenet'), size=64,
                           video_out=str(tmp_path / 'out.mp4'))
    summary = run_video(clip, options, progress=False)
    assert any('mp4v' in w and 'pip install av' in w
               for w in summary.warnings)


def test_the_most_people_are_kept_before_faces_and_hands(monkeypatch):
    seen = []
    monkeypatch.setattr(options_module, 'add_face_and_hands',
                        lambda detection, img, face, hands:
                        seen.append(len(detection)) or detection)
    detection = Detection(WalkingPeople.poses(0), np.float32([0.2, 0.9]),
                          np.ones((2, 18), np.float32))
    body = type('Body', (), {'predict': lambda self, images: [detection]})()
    [kept] = Detectors(body, number_people_max=1).predict([None])
    assert seen == [1] and kept.scores.tolist() == [np.float32(0.9)]
