"""Poses on every frame of a video: detect, track, draw, write.

:func:`run_video` is the whole job (open the video and the outputs, load
the detectors, run the loop, commit or delete the outputs); the video
command, the FMS analysis and the benchmarks call it.
:func:`process_video` drives the frame loop itself.  Frames are decoded ahead in a
background thread (:class:`pose.video_io.FrameReader`) and encoded behind in
another (:class:`pose.video_io.VideoWriter`), so reading and writing overlap
the network.  With ``every = N`` the network runs on every N-th frame and the
frames between carry the last poses, so the output keeps the input's frame
count and timing.  With ``batch = B`` the frames to detect are sent to the
network B at a time (useful on a GPU), and each batch is decoded, tracked,
drawn and written while the network runs on the next one.

The loop checks a stop event between frames: a signal handler sets it, and
the outputs are then closed properly with every frame processed so far.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import signal
import sys
import threading
import time
from typing import (Any, Callable, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np
from tqdm import tqdm

from common.cli import StopOnSignal
from common.errors import EXIT_OK, signal_exit_status
from common.files import output_dir_problem, outputs_problem, same_file
from pose.detection import Detection
from pose.draw import draw_people
from pose.keypoint_table import KeypointTableWriter
from pose.keypoints import (KeypointFramesWriter, KeypointLinesWriter,
                            frame_record, openpose_json)
from pose.options import Detectors, VideoOptions, load_detectors
from pose.smoothing import PoseSmoother
from pose.tracking import PoseTracker
from pose.video_io import Frame, FrameReader, VideoError, VideoWriter

_NO_PEOPLE = Detection.empty()
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
    warnings: List[str] = dataclasses.field(default_factory=list)

    def exit_status(self) -> int:
        """0, or 128 + the signal that stopped the run (130 / 143)."""
        if not self.stopped_by:
            return EXIT_OK
        return signal_exit_status(signal.Signals[self.stopped_by])

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


class Outputs:
    """Where a run's frames go: the annotated video, the keypoint lines,
    the OpenPose keypoint frames, the keypoint table (each optional), and a
    window to show frames in; ``frame_size`` is (width, height).  With a
    ``smoother`` the people's joints, faces and hands are smoothed over time
    before they are drawn and written."""

    def __init__(self, video: Optional[VideoWriter],
                 lines: Optional[KeypointLinesWriter],
                 show: Optional[Callable[[np.ndarray], bool]],
                 frame_size: Tuple[int, int],
                 frames: Optional[KeypointFramesWriter] = None,
                 table: Optional[KeypointTableWriter] = None,
                 smoother: Optional[PoseSmoother] = None):
        self.video, self.lines, self.show = video, lines, show
        self.frames, self.table, self.smoother = frames, table, smoother
        width, height = frame_size
        # Until a frame decodes, a failed frame is written as black.
        self.last_image = np.zeros((height, width, 3), np.uint8)
        self.user_quit = False
        self._people = (None, None)     # (detection, its document): carried
                                        # frames reuse the document
        self._smoothed = (None, None)   # (detection, smoothed detection)

    def writers(self) -> list:
        """The open writers (each has ``path``, ``commit`` and ``abort``)."""
        return [w for w in (self.video, self.lines, self.frames, self.table)
                if w]

    def emit(self, frame: Frame, detection: Detection, ids: np.ndarray,
             carried: bool) -> None:
        detection = self._smooth(frame, detection, ids)
        if frame.image is not None and (self.video or self.show):
            self.last_image = draw_people(frame.image, detection.poses,
                                          detection.faces, detection.hands)
        if self.video:
            # A frame that failed to decode repeats the last one, so the
            # output keeps the input's frame count and timing.
            self.video.write(self.last_image)
        if self.lines or self.frames:
            self._write_documents(frame, detection, ids, carried)
        if self.table and frame.image is not None:
            with _naming(self.table.path):
                self.table.write_frame(frame.index, frame.time, carried,
                                       detection.poses,
                                       detection.confidences, ids)
        if self.show and frame.image is not None:
            self.user_quit = not self.show(self.last_image)

    def _smooth(self, frame: Frame, detection: Detection,
                ids: np.ndarray) -> Detection:
        """``detection`` with its joints smoothed (the same smoothed one
        for the carried frames that repeat it)."""
        if self.smoother is None or frame.image is None:
            return detection
        if self._smoothed[0] is not detection:
            self._smoothed = (detection, self.smoother.smooth(
                detection, ids, frame.time))
        return self._smoothed[1]

    def _write_documents(self, frame: Frame, detection: Detection,
                         ids: np.ndarray, carried: bool) -> None:
        """The frame's keypoint line and keypoint file."""
        if self._people[0] is not detection:
            self._people = (detection, openpose_json(
                detection.poses, detection.confidences, detection.faces,
                detection.hands, person_ids=ids))
        document = self._people[1] if frame.image is not None else None
        if self.lines:
            with _naming(self.lines.path):
                self.lines.write_frame(frame_record(frame.index, frame.time,
                                                    document, carried))
        if self.frames:
            with _naming(self.frames.path):
                self.frames.write_frame(frame.index, document)


@contextlib.contextmanager
def _naming(path: str) -> Iterator[None]:
    """Turns an OSError in its block into the one line naming ``path``."""
    try:
        yield
    except OSError as error:
        raise _write_error(path, error) from error


class _Stopwatch:
    """Seconds spent waiting on the iterators it wraps."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, iterable) -> Iterator:
        iterator = iter(iterable)
        while True:
            start = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self.seconds += time.perf_counter() - start
            yield item


def _batches(frames, every: int, batch: int, summary: Summary,
             stopped: Callable[[], bool]
             ) -> Iterator[Tuple[List[Tuple[Frame, bool]], List[np.ndarray]]]:
    """The frames in runs that end with ``batch`` frames to detect (the
    last run: with what is left), each as ``(entries, images)``:
    ``(frame, detect it?)`` in order, and the images to detect.  Counts the
    frames read and failed in ``summary``; ends after the frames in hand
    once ``stopped()``."""
    entries: List[Tuple[Frame, bool]] = []
    images: List[np.ndarray] = []
    first_index = None
    for frame in frames:
        if first_index is None:
            first_index = frame.index
        detect = (frame.image is not None
                  and (frame.index - first_index) % every == 0)
        summary.frames_read += 1
        summary.frames_failed += frame.image is None
        entries.append((frame, detect))
        if detect:
            images.append(frame.image)
        if len(images) >= batch:
            yield entries, images
            entries, images = [], []
        if stopped():
            break
    if entries:
        yield entries, images


def _track(tracker: PoseTracker, frames: Sequence[Frame],
           detections: Sequence[Detection], summary: Summary
           ) -> List[Tuple[Detection, np.ndarray]]:
    """Detections of the frames processed, with their track ids."""
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


def process_video(frames, detectors: Detectors, outputs: Outputs,
                  every: int = 1, batch: int = 1,
                  stop: Optional[threading.Event] = None,
                  progress=None, summary: Optional[Summary] = None
                  ) -> Summary:
    """Run detection over ``frames`` and write every frame to ``outputs``.

    The frames to detect go to the network ``batch`` at a time through
    :meth:`pose.options.Detectors.stream`, which runs the network on the
    next batch while this one is decoded, tracked, drawn and written.

    Args:
        frames: iterable of :class:`pose.video_io.Frame` in order.
        detectors: the body detector with the face and hand ones, if any
            (anything with ``stream(batches)``, as
            :meth:`pose.options.Detectors.stream`, and
            ``body.network_seconds``).
        outputs: where annotated frames and keypoint lines go.
        every: run the network on every ``every``-th frame (counted from the
            first frame), carrying the last poses in between.
        batch: frames sent to the network together.
        stop: when set, the loop ends after the frames in hand (at most the
            batch in the network).
        progress: a tqdm-like object (``update(n)``, ``set_postfix``).
        summary: the summary to fill in (a new one when None).

    Returns:
        The :class:`Summary`; ``stopped_by`` is left for the caller.
    """
    summary = Summary() if summary is None else summary
    tracker = PoseTracker()
    started = time.perf_counter()
    network = detectors.body.network_seconds
    last = (_NO_PEOPLE, _NO_IDS)
    reading, detecting = _Stopwatch(), _Stopwatch()

    def stopped() -> bool:
        return (stop is not None and stop.is_set()) or outputs.user_quit

    runs = reading.wrap(_batches(frames, every, batch, summary, stopped))
    for entries, detections in detecting.wrap(detectors.stream(runs)):
        detected = [frame for frame, detect in entries if detect]
        results = iter(_track(tracker, detected, detections, summary))
        for frame, detect in entries:
            if detect:
                last = next(results)
            current = last if frame.image is not None else (_NO_PEOPLE,
                                                             _NO_IDS)
            outputs.emit(frame, *current, carried=not detect)
            summary.last_time = frame.time
        if progress is not None:
            progress.update(len(entries))
            progress.set_postfix(people=len(last[0].poses), refresh=False)
    summary.detection_seconds += detecting.seconds - reading.seconds
    summary.network_seconds += detectors.body.network_seconds - network
    summary.seconds = time.perf_counter() - started
    return summary


# ---------------------------------------------------------------------------
# The whole job
# ---------------------------------------------------------------------------

#: The key that closes the ``show`` window, and its title.
QUIT_KEY = ord('q')
WINDOW = 'pose'


def run_video(source: Union[str, int], options: VideoOptions,
              detectors: Optional[Detectors] = None,
              progress: Union[bool, Any] = True,
              stop: Optional[threading.Event] = None) -> Summary:
    """Detect and track people on every frame of a video file or camera.

    Checks the outputs (never the input video or a weights file, not one
    file for both, folder writable) and opens the video (checking it)
    before any network is loaded, loads the detectors unless given, writes
    the annotated video and/or the keypoint lines under hidden temporary
    names, and renames them into place when the loop ends: after the last
    frame, or after the frames in hand when SIGINT/SIGTERM arrives (then
    ``stopped_by`` names the signal, and the outputs hold every frame up to
    there).  The video is read back first and must hold every frame
    written.  On any error (a full disk included) both outputs are deleted
    and an existing file of the same name is left as it was (the one case
    left: the video's final rename failing after the keypoint lines were
    renamed into place).

    Args:
        source: a video file, or an int camera index.
        options: what to run and write (:class:`pose.options.VideoOptions`).
        detectors: already loaded detectors (a batch reuses them), or None
            to load those ``options`` name.
        progress: show a progress bar on a terminal (True), none (False),
            or a tqdm-like object to use (``reset(total)``, ``update(n)``,
            ``set_postfix``), e.g. a batch's bar over each video's frames.
        stop: an event owned by the caller (a batch): when set, the loop
            ends after the frames in hand; the caller then handles SIGINT
            and SIGTERM itself (``stopped_by`` stays None).

    Returns:
        The run's :class:`Summary`: counts, timings, ``outputs`` written,
        ``warnings`` for the user, ``stopped_by``.

    Raises:
        ToolError: bad options, an unreadable video, bad weights or
            device, an output that would replace the input or cannot be
            created.
    """
    options.check()
    _check_outputs(source, options)
    with FrameReader(source, start=options.start, end=options.end) as reader:
        if detectors is None:
            detectors = load_detectors(options)
        summary = Summary()
        outputs = _open_outputs(reader, options, summary)
        _run_loop(reader, detectors, outputs, options, summary, progress,
                  stop)
        if reader.missing and not summary.stopped_by:
            summary.warnings.append(
                f'the video ended {reader.missing} frame(s) before the length '
                f'its container announces (a cut-off file?)')
    summary.outputs = [w.path for w in outputs.writers()]
    return summary


def _check_outputs(source: Union[str, int], options: VideoOptions) -> None:
    """VideoError when an output is the input video or a weights file,
    two outputs are one file, or an output cannot be created: an existing
    folder, a missing or unwritable folder; or the keypoint frames' folder
    is a file, an input or another output (before any work)."""
    paths = [p for p in (options.video_out, options.keypoints_out,
                         options.csv_out) if p]
    inputs = [source] if isinstance(source, str) else []
    inputs += [options.weights, options.face_weights, options.hand_weights]
    problem = outputs_problem(paths, inputs)
    if not problem and options.json_dir:
        problem = output_dir_problem(options.json_dir, inputs)
        if not problem and any(same_file(options.json_dir, p) for p in paths):
            problem = (f'{options.json_dir} is given for two outputs of '
                       f'this run; give each output its own name')
    if problem:
        raise VideoError(problem)


def _write_error(path: str, error: OSError) -> VideoError:
    """The one line for an output that could not be written."""
    reason = error.strerror or str(error)
    return VideoError(f'{path}: cannot write the file ({reason}); check the '
                      f'free space and the folder; it was not saved')


def _open_outputs(reader: FrameReader, options: VideoOptions,
                  summary: Summary) -> Outputs:
    """The writers (temporary files) and the window of a run; a warning
    in ``summary`` when the video's codec is one browsers do not play."""
    info = reader.info
    size = (info.width, info.height)
    opened: list = []
    try:
        if options.video_out:
            opened.append(VideoWriter(options.video_out, info.fps, size))
            if opened[-1].warning:
                summary.warnings.append(opened[-1].warning)
        lines = _opened(opened, KeypointLinesWriter, options.keypoints_out)
        frames = _opened(opened, KeypointFramesWriter, options.json_dir,
                         frames_name(reader.source))
        table = _opened(opened, KeypointTableWriter, options.csv_out)
    except BaseException:
        for writer in opened:
            writer.abort()
        raise
    video = opened[0] if options.video_out else None
    smoother = PoseSmoother() if options.smooth else None
    return Outputs(video, lines, _window(options.show, summary), size,
                   frames=frames, table=table, smoother=smoother)


def _opened(opened: list, writer, path: Optional[str], *args):
    """``writer(path, *args)`` added to ``opened``, or None without a
    path."""
    if not path:
        return None
    opened.append(writer(path, *args))
    return opened[-1]


def frames_name(source: Union[str, int]) -> str:
    """The prefix of the keypoint frames' file names: the video's file
    stem, or ``camera<N>``."""
    if isinstance(source, int):
        return f'camera{source}'
    return os.path.splitext(os.path.basename(str(source)))[0]


def _window(show: bool, summary: Summary
            ) -> Optional[Callable[[np.ndarray], bool]]:
    """A function showing a frame (False when the user quits), or None."""
    if not show:
        return None
    if sys.platform.startswith('linux') and not (
            os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        summary.warnings.append('no display; the window is not shown')
        return None
    import cv2

    def show_frame(img: np.ndarray) -> bool:
        cv2.imshow(WINDOW, img)
        return cv2.waitKey(1) & 0xFF != QUIT_KEY
    return show_frame


def _commit_all(writers) -> None:
    """Commit every writer, checking first what can be checked (the video
    reads back whole: :meth:`VideoWriter.finish`) and committing the
    keypoint files (whose last writes may still fail) before the video
    (only its rename is left), so that a failure leaves no output renamed
    into place where possible; if one fails, delete the others' files
    too."""
    writers = sorted(writers, key=lambda w: isinstance(w, VideoWriter))
    try:
        for writer in writers:
            if isinstance(writer, VideoWriter):
                writer.finish()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    for done, writer in enumerate(writers):
        try:
            writer.commit()
        except BaseException as error:
            for other in writers[done + 1:]:
                other.abort()
            if isinstance(error, OSError):
                raise _write_error(writer.path, error) from error
            raise


def _run_loop(reader: FrameReader, detectors: Detectors, outputs: Outputs,
              options: VideoOptions, summary: Summary,
              progress: Union[bool, Any],
              stop: Optional[threading.Event] = None) -> None:
    """The frame loop; commits the outputs on success or a stop signal,
    deletes them on any error.  Without ``stop``, SIGINT and SIGTERM stop
    the loop (:class:`StopOnSignal`); with it, the caller handles them."""
    writers = outputs.writers()
    total = reader.expected_frames or None
    try:
        with contextlib.ExitStack() as stack:
            signals = (stack.enter_context(StopOnSignal()) if stop is None
                       else None)
            if isinstance(progress, bool):
                bar = stack.enter_context(tqdm(
                    total=total, unit='frame',
                    disable=None if progress else True))
            else:
                bar = progress
                bar.reset(total=total)
            process_video(reader, detectors, outputs, every=options.every,
                          batch=options.batch,
                          stop=stop if signals is None else signals.event,
                          progress=bar, summary=summary)
            if signals is not None and signals.received:
                summary.stopped_by = signals.received.name
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    _commit_all(writers)
    if outputs.show:
        import cv2
        cv2.destroyAllWindows()
