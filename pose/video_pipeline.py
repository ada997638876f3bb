"""Poses on every frame of a video: detect, track, draw, write.

:func:`process_video` drives the loop.  Frames are decoded ahead in a
background thread (:class:`pose.video_io.FrameReader`) and encoded behind in
another (:class:`pose.video_io.VideoWriter`), so reading and writing overlap
the network.  With ``every = N`` the network runs on every N-th frame and the
frames between carry the last poses, so the output keeps the input's frame
count and timing.  With ``batch = B`` the frames to detect are sent to the
network B at a time (useful on a GPU).

The loop checks a stop event between frames: a signal handler sets it, and
the outputs are then closed properly with every frame processed so far.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import threading
import time
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

import entity
from pose.detector import Detection, PoseDetector
from pose.draw import draw_people
from pose.keypoints import openpose_json
from pose.parts import add_face_and_hands
from pose.tracking import PoseTracker
from pose.video_io import Frame, LineWriter, VideoWriter

_NO_PEOPLE = Detection(np.zeros((0, entity.NUM_JOINTS, 3), np.float32),
                       np.zeros(0, np.float32),
                       np.zeros((0, entity.NUM_JOINTS), np.float32))
_NO_IDS = np.zeros(0, np.int64)


@dataclasses.dataclass
class Summary:
    """What a run did, for the closing report."""
    frames_read: int = 0          # frames delivered by the reader
    frames_processed: int = 0     # frames the network ran on
    frames_failed: int = 0        # frames that failed to decode
    people: collections.Counter = dataclasses.field(
        default_factory=collections.Counter)   # people per processed frame
    detection_seconds: float = 0.0   # in detection (network + decoding)
    network_seconds: float = 0.0     # of which in the network itself
    seconds: float = 0.0          # wall time of the whole loop
    last_time: float = 0.0        # timestamp of the last frame written
    last_detected: Optional[int] = None   # index of the last detected frame
    stopped_by: Optional[str] = None   # signal name, if interrupted
    outputs: List[str] = dataclasses.field(default_factory=list)  # written

    def lines(self) -> List[str]:
        """The summary as printed at the end of a run."""
        processed = max(self.frames_processed, 1)
        counts = self.people
        mean = (sum(n * k for n, k in counts.items()) / processed
                if counts else 0.0)
        lines = [
            f'frames read {self.frames_read}, processed '
            f'{self.frames_processed}, failed to decode '
            f'{self.frames_failed}',
            f'people per processed frame: mean {mean:.2f}, max '
            f'{max(counts, default=0)}',
            f'{self.frames_read / max(self.seconds, 1e-9):.2f} frames/s '
            f'overall; per processed frame {self.detection_seconds / processed:.2f}'
            f' s of detection, of which {self.network_seconds / processed:.2f}'
            f' s in the network',
        ]
        if self.stopped_by:
            lines.append(f'stopped by {self.stopped_by} after frame time '
                         f'{self.last_time:.2f} s; the outputs hold every '
                         f'frame up to there')
        return lines


def people_document(detection: Detection, ids: np.ndarray) -> dict:
    """The people of a detection in OpenPose's keypoint format
    (``pose_keypoints_2d`` and the empty face/hand fields), each with
    ``person_id`` ``[id]`` from the tracker."""
    document = openpose_json(detection.poses, detection.confidences,
                             detection.faces, detection.hands)
    for person, person_id in zip(document['people'], ids):
        person['person_id'] = [int(person_id)]
    return document


def frame_record(frame: Frame, people: dict, carried: bool) -> dict:
    """One keypoint line: the frame, its time, and its people.

    ``carried`` marks frames between those the network ran on (their poses
    are the last ones found); ``decode_failed`` frames have no people.
    """
    record = {'frame': frame.index, 'time': round(frame.time, 6),
              'carried': carried}
    if frame.image is None:
        record['decode_failed'] = True
    record.update(people)
    return record


class Outputs:
    """The annotated video and the keypoint lines, either of them optional,
    and a window to show frames in; ``frame_size`` is (width, height)."""

    def __init__(self, video: Optional[VideoWriter],
                 lines: Optional[LineWriter],
                 show: Optional[Callable[[np.ndarray], bool]],
                 frame_size: Tuple[int, int]):
        self.video, self.lines, self.show = video, lines, show
        width, height = frame_size
        # Until a frame decodes, a failed frame is written as black.
        self.last_image = np.zeros((height, width, 3), np.uint8)
        self.user_quit = False
        self._people = (None, None)     # (detection, its document): carried
                                        # frames reuse the document

    def emit(self, frame: Frame, detection: Detection, ids: np.ndarray,
             carried: bool) -> None:
        if frame.image is not None and (self.video or self.show):
            self.last_image = draw_people(frame.image, detection.poses,
                                          detection.faces, detection.hands)
        if self.video:
            # A frame that failed to decode repeats the last one, so the
            # output keeps the input's frame count and timing.
            self.video.write(self.last_image)
        if self.lines:
            if self._people[0] is not detection:
                self._people = (detection, people_document(detection, ids))
            self.lines.write_line(json.dumps(
                frame_record(frame, self._people[1], carried)))
        if self.show and frame.image is not None:
            self.user_quit = not self.show(self.last_image)


def _detect(detector: PoseDetector, tracker: PoseTracker,
            frames: Sequence[Frame], summary: Summary, parts=(None, None)):
    """Detections and track ids of frames to process, in one batch;
    ``parts`` are the face and hand detectors (or None)."""
    start, network = time.perf_counter(), detector.network_seconds
    detections = [add_face_and_hands(detection, frame.image, *parts)
                  for frame, detection in zip(
                      frames, detector.detect_batch([f.image for f in frames]))]
    summary.detection_seconds += time.perf_counter() - start
    summary.network_seconds += detector.network_seconds - network
    results = []
    for frame, detection in zip(frames, detections):
        elapsed = (frame.index - summary.last_detected
                   if summary.last_detected is not None else 1)
        ids = tracker.update(detection.poses, frame.image.shape[:2],
                             frames_elapsed=elapsed)
        summary.last_detected = frame.index
        summary.people[len(detection.poses)] += 1
        results.append((detection, ids))
    summary.frames_processed += len(frames)
    return results


def process_video(frames, detector: PoseDetector, outputs: Outputs,
                  every: int = 1, batch: int = 1,
                  stop: Optional[threading.Event] = None,
                  progress=None, parts=(None, None)) -> Summary:
    """Run detection over ``frames`` and write every frame to ``outputs``.

    Args:
        frames: iterable of :class:`pose.video_io.Frame` in order.
        detector: the body pose detector.
        outputs: where annotated frames and keypoint lines go.
        every: run the network on every ``every``-th frame (counted from the
            first frame), carrying the last poses in between.
        batch: frames sent to the network together.
        stop: when set, the loop ends after the frames in hand.
        progress: a tqdm-like object (``update(n)``, ``set_postfix``).
        parts: face and hand detectors (:mod:`pose.parts`), or None.

    Returns:
        The :class:`Summary`; ``stopped_by`` is left for the caller.
    """
    summary = Summary()
    tracker = PoseTracker()
    started = time.perf_counter()
    pending: List[Tuple[Frame, bool]] = []   # (frame, detect it?) to write
    last = (_NO_PEOPLE, _NO_IDS)

    def flush():
        nonlocal last
        to_detect = [frame for frame, detect in pending if detect]
        results = iter(_detect(detector, tracker, to_detect, summary, parts)
                       if to_detect else ())
        for frame, detect in pending:
            if detect:
                last = next(results)
            current = last if frame.image is not None else (_NO_PEOPLE,
                                                             _NO_IDS)
            outputs.emit(frame, *current, carried=not detect)
            summary.last_time = frame.time
        if progress is not None:
            progress.update(len(pending))
            progress.set_postfix(people=len(last[0].poses), refresh=False)
        pending.clear()

    first_index = None
    for frame in frames:
        if first_index is None:
            first_index = frame.index
        detect = (frame.image is not None
                  and (frame.index - first_index) % every == 0)
        summary.frames_read += 1
        summary.frames_failed += frame.image is None
        pending.append((frame, detect))
        if sum(d for _, d in pending) >= batch:
            flush()
        if (stop is not None and stop.is_set()) or outputs.user_quit:
            break
    flush()
    summary.seconds = time.perf_counter() - started
    return summary
