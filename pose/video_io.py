"""Reading video frames and writing result videos safely, in the background.

* :class:`FrameReader` opens a video file (or a camera), turns its frames
  upright according to the container's rotation metadata, and decodes them
  in a background thread into a bounded queue, so that decoding overlaps
  the network.  Frames that fail to decode are delivered as such (image
  ``None``) and reading goes on.
* :class:`VideoWriter` encodes frames in a background thread into a hidden
  temporary file beside the destination, which only :meth:`~VideoWriter.commit`
  renames into place (:mod:`pose.keypoints` writes keypoint lines the same
  way).
  An interrupted run never leaves a half-written result, and an existing file
  is replaced only once the new one is complete.
* :func:`default_output_path` names the result video beside the input.

How OpenCV 4.14 (its bundled FFmpeg) behaves, as observed, and what this
module does about it:

* **Rotation.**  The FFmpeg backend reads the display matrix of the stream
  (e.g. an MP4 ``tkhd`` matrix, how phones store portrait videos), reports it
  as ``CAP_PROP_ORIENTATION_META`` (0, 90, 180 or 270) and, while
  ``CAP_PROP_ORIENTATION_AUTO`` is on (its default), rotates every decoded
  frame clockwise by that angle and swaps ``CAP_PROP_FRAME_WIDTH``/``HEIGHT``
  accordingly.  The reader switches it on explicitly, reports the applied
  angle as :attr:`VideoInfo.rotation`, and takes width and height from the
  first decoded frame, so they are always those of the frames delivered.
  Other backends (cameras) ignore the setting; their rotation is 0.
* **Damaged frames.**  When the compressed data of a frame is damaged but
  its headers are intact (MJPEG entropy data, MPEG-4 macroblocks),
  ``read()`` returns True with a concealed, partly garbled image: this
  cannot be told from a good frame.  When a frame cannot be decoded at all
  (damaged or missing headers), ``read()`` returns False *for that frame
  only*: it consumes the frame's packet and the next ``read()`` returns the
  next frame.  ``CAP_PROP_POS_FRAMES`` does not count the failed frame (it
  lags by one afterwards), so the reader numbers frames itself, one per
  ``read()``.
* **End of stream.**  Past the last frame ``read()`` returns False at once,
  every time, exactly like a failed frame.  The reader tells them apart by
  reading on: a failed read followed, within :data:`MAX_FAILED_RUN` further
  reads, by a good frame was a damaged frame (delivered with image ``None``);
  a run of failed reads that never ends in a good frame is the end of the
  stream, and those reads are not frames.  When the container states a
  frame count, a failed read at or past it ends the stream at once.  So
  damaged frames at the very end of a file are indistinguishable from a
  truncated file: they are reported by :attr:`FrameReader.missing`, not as
  failed frames.
* **Odd sizes.**  The encoders used here store 4:2:0 chroma, and OpenCV then
  crops an odd width or height to the even size below it (the last column
  or row is dropped; nothing is rescaled, so pixel coordinates are
  unchanged).  :attr:`VideoWriter.output_size` is the size actually written.
* **Codecs.**  This OpenCV build has no software H.264 encoder (``avc1``
  fails to open).  So ``.mp4``, ``.m4v`` and ``.mov`` files are written as
  H.264 (libx264, ``yuv420p``, which web browsers play) through PyAV when
  it is installed (:mod:`pose.video_encode`), and otherwise by OpenCV as
  MPEG-4 Part 2 (``mp4v``), which VLC, ffmpeg/ffplay, QuickTime and most
  desktop players play but most web browsers do not (the writer's
  :attr:`VideoWriter.warning` says so); the other extensions are always
  OpenCV's (:data:`VIDEO_FOURCCS`).
* **Messages.**  FFmpeg prints decoding errors of damaged frames (e.g.
  ``[mjpeg @ 0x...] No JPEG data found in image``) on stderr itself; they are
  harmless and expected with damaged input.
"""
from __future__ import annotations

import dataclasses
import errno
import math
import os
import queue
import threading
from typing import Any, Iterator, List, Optional, Tuple, Union

import cv2
import numpy as np

from common.errors import ToolError
from common.files import (commit_file, input_file_problem,
                          output_problem, remove_quietly, same_file,
                          temporary_path)
from pose.video_encode import open_encoder

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

#: Frame rate assumed when the container or camera reports none (0, NaN) or
#: an implausible one (above :data:`MAX_PLAUSIBLE_FPS`, e.g. a time base
#: reported as a rate); :attr:`VideoInfo.fps_known` is then False.  30 fps is
#: what most webcams and phones deliver.
FALLBACK_FPS = 30.0

#: Frame rates above this are taken to be bogus container values.
MAX_PLAUSIBLE_FPS = 1000.0

#: A run of this many consecutive failed reads from a file (or stream) that
#: does not end in a good frame is the end of the stream (see the module
#: docstring).  Reads past the end fail at once, so probing costs nothing;
#: a longer run of undecodable frames in the middle of a file ends reading.
MAX_FAILED_RUN = 16

#: The same for a camera, where a failed read usually means it was unplugged
#: and each read may wait for the driver's timeout.
MAX_FAILED_RUN_CAMERA = 2

#: Frame times that are within this many frames of a frame's time count as
#: that frame's time, so that ``start=0.3`` at 10 fps is frame 3 although
#: ``0.3 * 10 == 3.0000000000000004``.
FRAME_TIME_TOLERANCE = 1e-6

#: How often (seconds) blocked queue operations wake up to check whether the
#: other side has stopped.
POLL_SECONDS = 0.05

#: How long :meth:`FrameReader.close` waits for the decoding thread to stop.
#: A thread still blocked in a camera read after this releases the capture
#: itself when the read returns.
CLOSE_TIMEOUT_SECONDS = 2.0

#: Extensions (lower case) of the files a folder of videos is searched for:
#: the containers FFmpeg (OpenCV's reader) opens that cameras and phones
#: write (MPEG-4/QuickTime, AVI, Matroska/WebM, MPEG program and transport
#: streams, Windows Media, Flash, 3GPP, AVCHD's .mts).
VIDEO_EXTENSIONS = frozenset((
    '.mp4', '.m4v', '.mov', '.avi', '.mkv', '.webm', '.mpg', '.mpeg', '.wmv',
    '.flv', '.3gp', '.ts', '.mts'))

#: Codec (FourCC) OpenCV uses for each output extension (lower case), the
#: MP4 and QuickTime ones only without PyAV (see the module docstring).
#: OpenCV picks the container from the file extension; these are the codecs
#: this OpenCV build can encode in it.  ``mp4v`` is MPEG-4 Part 2 (no H.264 encoder is
#: bundled), ``MJPG`` stores every frame as a JPEG (large files, but each
#: frame is independent), ``XVID`` is MPEG-4 Part 2 again, ``VP80`` is VP8
#: (OpenCV prints a harmless "tag ... is not supported" line for it).
VIDEO_FOURCCS = {
    '.mp4': 'mp4v',
    '.m4v': 'mp4v',
    '.mov': 'mp4v',
    '.avi': 'MJPG',
    '.mkv': 'XVID',
    '.webm': 'VP80',
}


class VideoError(ToolError):
    """A video cannot be read or written; the message says what to do."""


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What is known about an opened video.

    Attributes:
        width, height: size in pixels of the frames as delivered, i.e. after
            the rotation metadata was applied (taken from the first frame).
        fps: frames per second, > 0; :data:`FALLBACK_FPS` when the source
            reports none (``fps_known`` is then False).
        frame_count: number of frames stated by the container, 0 when unknown
            (cameras, streams, some containers).  For containers without a
            stored count FFmpeg estimates it from the duration, and it can be
            off by a frame.
        rotation: clockwise rotation (0, 90, 180, 270 degrees) that was
            applied to the frames from the container's metadata.
        fps_known: False when ``fps`` is :data:`FALLBACK_FPS`.
    """
    width: int
    height: int
    fps: float
    frame_count: int
    rotation: int
    fps_known: bool = True

    @property
    def duration(self) -> float:
        """Length in seconds from ``frame_count`` (0 when unknown)."""
        return self.frame_count / self.fps


@dataclasses.dataclass
class Frame:
    """One frame of the source.

    Attributes:
        index: 0-based index of the frame in the source (not in the
            selection: the first frame after ``start`` has index
            ``FrameReader.first_index``).
        time: ``index / fps`` in seconds (for variable-frame-rate videos an
            approximation of the frame's timestamp).
        image: (H, W, 3) uint8 BGR, upright; ``None`` if the frame could not
            be decoded.
    """
    index: int
    time: float
    image: Optional[np.ndarray]


class _End:
    """Queue item: the frames are exhausted."""


@dataclasses.dataclass
class _Failure:
    """Queue item: the decoding thread raised ``error``."""
    error: BaseException


class FrameReader:
    """Frames of a video file or camera, decoded in a background thread.

    Use it as a context manager, and iterate over it once::

        with FrameReader('clip.mp4', start=2.0, end=5.0) as reader:
            for frame in reader:          # Frame(index, time, image)
                if frame.image is None:   # failed to decode: reader.failed
                    ...

    The file is opened, checked and positioned at ``start`` by the
    constructor, which also decodes the first frame (for
    :attr:`info`'s size); the decoding thread starts right away, so frames
    are being decoded while the caller sets up.

    Selecting frames: the first frame is the first whose time
    (``index / fps``) is at or after ``start``, and frames stop before the
    first whose time is at or after ``end`` (exclusive).  The reader gets
    there by decoding and discarding (``grab()``) every frame before
    ``start`` rather than seeking: OpenCV's seeking (``CAP_PROP_POS_FRAMES``
    / ``POS_MSEC``) derives frame numbers from timestamps and is not frame
    accurate for every file, while discarding is exact and counts damaged
    frames like reading does.  The cost is decoding the skipped part
    (without colour conversion), in the constructor.

    Frames that fail to decode are delivered with ``image=None`` and their
    own index (so the caller can keep the output's frame count and timing),
    counted in :attr:`failed`, and reading goes on; see the module docstring
    for how this is told apart from the end of the stream.

    Attributes:
        info: the :class:`VideoInfo`.
        read: frames delivered so far, including failed ones.
        failed: delivered frames that failed to decode (``image is None``).
        missing: after the iteration has run to its end: frames that the
            container's frame count announced within the selection but that
            never came (a truncated file, or undecodable last frames); 0
            when the count is unknown.
        first_index: index of the first selected frame.
        stop_index: index of the first frame after the selection (``None``
            without ``end``).
        expected_frames: frames the selection should deliver according to
            the frame count; 0 when unknown.
    """

    def __init__(self, source: Union[str, int], start: float = 0.0,
                 end: Optional[float] = None, queue_size: int = 8, *,
                 start_frame: Optional[int] = None):
        """Open ``source`` and position it at ``start``.

        Args:
            source: a video file path (or an FFmpeg URL such as
                ``rtsp://...``), or an int camera index.
            start: seconds from the beginning; frames before are skipped.
            end: seconds; frames at or after it are not read (``None`` or
                infinity: to the end).
            queue_size: decoded frames buffered ahead of the consumer (>= 1).
            start_frame: the index of the first frame, instead of
                ``start`` (frames numbered as this reader numbers them).

        Raises:
            VideoError: the file is missing, empty, not a video, has no
                decodable frame; the camera cannot be opened; ``start`` or
                ``end`` is invalid or beyond the video.
        """
        if queue_size < 1:
            raise ValueError(
                f'queue_size must be at least 1, not {queue_size}')
        end = None if end == math.inf else end
        _check_times(start, end)
        self.source = source
        self._start_frame = start_frame
        self.read = 0
        self.failed = 0
        self.missing = 0
        self._queue: 'queue.Queue[Any]' = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._release_lock = threading.Lock()
        self._released = False
        self._thread: Optional[threading.Thread] = None
        self._iterated = False
        self._closed = False
        self._capture = _open_capture(source)
        try:
            self._open(start, end)
        except BaseException:
            self._release_capture()
            raise

    # -- opening ------------------------------------------------------------

    def _open(self, start: float, end: Optional[float]) -> None:
        """Read the properties, skip to ``start``, decode the first frame,
        start the thread."""
        capture = self._capture
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        fps, fps_known = _usable_fps(capture.get(cv2.CAP_PROP_FPS))
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        frame_count = int(count) if math.isfinite(count) and count > 0 else 0
        self._frame_count = frame_count
        self._fps = fps
        self._max_failed_run = (MAX_FAILED_RUN_CAMERA if _is_camera(
            self.source) else MAX_FAILED_RUN)
        self.first_index = (_index_at(start, fps) if self._start_frame is None
                            else self._start_frame)
        start = self.first_index / fps
        self.stop_index = None if end is None else _index_at(end, fps)
        if self.stop_index is not None and self.stop_index <= self.first_index:
            raise VideoError(
                f'{self._name}: no frame lies between {start:g} s and '
                f'{end:g} s at {fps:g} fps; widen the time range')
        if frame_count and self.first_index >= frame_count:
            raise self._start_beyond_end(start)
        self._skip_to_first(start)
        self._frames = self._decode()
        self._prefix: List[Frame] = []
        first_image = self._first_image(start)
        self.info = VideoInfo(
            width=first_image.shape[1], height=first_image.shape[0], fps=fps,
            frame_count=frame_count, rotation=_applied_rotation(capture),
            fps_known=fps_known)
        last = frame_count if self.stop_index is None else (
            min(frame_count, self.stop_index) if frame_count else 0)
        self.expected_frames = max(0, last - self.first_index)
        self._thread = threading.Thread(
            target=self._run, name=f'FrameReader({self._name})', daemon=True)
        self._thread.start()

    @property
    def _name(self) -> str:
        """The source as named in messages."""
        return (f'camera {self.source}' if _is_camera(self.source)
                else str(self.source))

    def _start_beyond_end(self, start: float,
                          held: Optional[int] = None) -> VideoError:
        """The error for a start at or after the end of the video.

        Args:
            held: the frames the file was found to hold (up to its last
                decodable frame) when reading stopped before the start;
                None when the container's frame count alone says so.
        """
        fps, count = self._fps, self._frame_count
        if held is not None and count and held < count:
            return VideoError(
                f'{self._name}: start time {start:g} s is after the last '
                f'frame the file holds: it holds {held} frame(s) '
                f'({held / fps:.3g} s at {fps:g} fps), although its '
                f'container announces {count} frames ({count / fps:.3g} '
                f's): the file is probably cut off; choose a start before '
                f'{held / fps:.3g} s')
        if held is not None and not count:
            count = held
        length = (f' ({count / fps:.3g} s, {count} frames at {fps:g} fps)'
                  if count else '')
        return VideoError(f'{self._name}: start time {start:g} s is at or '
                          f'after the end of the video{length}; choose an '
                          'earlier start')

    def _skip_to_first(self, start: float) -> None:
        """Decode and discard the frames before ``first_index``;
        :attr:`_held` counts the frames up to the last one decoded."""
        run = 0
        self._held = 0
        for index in range(self.first_index):
            if self._stop.is_set():
                return
            if self._capture.grab():
                run = 0
                self._held = index + 1
                continue
            if (self._frame_count and index >= self._frame_count) or (
                    run >= self._max_failed_run):
                raise self._start_beyond_end(start, self._held)
            run += 1

    def _first_image(self, start: float) -> np.ndarray:
        """Pull frames up to the first decoded one into ``_prefix``."""
        for frame in self._frames:
            self._prefix.append(frame)
            if frame.image is not None:
                return frame.image
        if self.first_index > 0:
            raise self._start_beyond_end(start, self._held)
        raise VideoError(
            f'{self._name}: the video has no frame that can be decoded '
            '(empty, truncated or damaged); check that it plays, or '
            're-encode it, e.g. ffmpeg -i in.mp4 out.mp4')

    # -- decoding (generator, run by __init__ then by the thread) -----------

    def _decode(self) -> Iterator[Frame]:
        """Frames from ``first_index``; see the class and module docstrings.

        Failed reads are held back until a later read succeeds (they were
        damaged frames) or the run of failures shows the stream has ended
        (they were not frames).
        """
        index = self.first_index
        failed_run: List[int] = []   # selected indices of failed reads
        run = 0                      # consecutive failed reads
        while not self._stop.is_set():
            selected = self.stop_index is None or index < self.stop_index
            if not selected and not failed_run:
                return
            ok, image = self._capture.read()
            if ok and image is not None:
                for failed in failed_run:
                    yield self._frame(failed, None)
                failed_run, run = [], 0
                if not selected:
                    return
                yield self._frame(index, image)
            else:
                past_count = self._frame_count and index >= self._frame_count
                if past_count or run >= self._max_failed_run:
                    return
                run += 1
                if selected:
                    failed_run.append(index)
            index += 1

    def _frame(self, index: int, image: Optional[np.ndarray]) -> Frame:
        return Frame(index=index, time=index / self._fps, image=image)

    def _run(self) -> None:
        """Thread body: move decoded frames into the queue."""
        try:
            for frame in self._frames:
                if not self._put(frame):
                    return
            self._put(_End())
        except BaseException as error:   # re-raised in the consumer
            self._put(_Failure(error))
        finally:
            self._release_capture()

    def _put(self, item: Any) -> bool:
        """Queue ``item``, waiting while full; False once stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                pass
        return False

    # -- consuming ----------------------------------------------------------

    def __iter__(self) -> Iterator[Frame]:
        """The selected frames in order (a reader can be iterated once)."""
        if self._iterated:
            raise RuntimeError('a FrameReader can be iterated only once')
        self._iterated = True
        return self._iterate()

    def _iterate(self) -> Iterator[Frame]:
        prefix, self._prefix = self._prefix, []
        for frame in prefix:
            if self._closed:
                return
            yield self._deliver(frame)
        while not self._closed:
            item = self._get()
            if isinstance(item, _End):
                if self._frame_count:
                    self.missing = max(0, self.expected_frames - self.read)
                return
            if isinstance(item, _Failure):
                raise item.error
            yield self._deliver(item)

    def _deliver(self, frame: Frame) -> Frame:
        self.read += 1
        self.failed += frame.image is None
        return frame

    def _get(self) -> Any:
        """Next queue item, waiting; an end marker once closed."""
        while not self._closed:
            try:
                return self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return _Failure(VideoError(
                        f'{self._name}: the decoding thread stopped '
                        'unexpectedly'))
        return _End()

    # -- closing ------------------------------------------------------------

    def close(self) -> None:
        """Stop the decoding thread and release the video.

        Safe to call at any time, from any state, more than once; returns
        within about :data:`CLOSE_TIMEOUT_SECONDS` even if the thread is
        blocked in a camera read (the thread then releases the capture when
        the read returns).
        """
        self._closed = True
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            _drain(self._queue)
            thread.join(CLOSE_TIMEOUT_SECONDS)
        if thread is None or not thread.is_alive():
            self._release_capture()
        _drain(self._queue)

    def _release_capture(self) -> None:
        with self._release_lock:
            if not self._released:
                self._released = True
                self._capture.release()

    def __enter__(self) -> 'FrameReader':
        return self

    def __exit__(self, *exc_info) -> bool:
        self.close()
        return False


def _check_times(start: float, end: Optional[float]) -> None:
    """Raise VideoError for a start or end the reader cannot use."""
    if not (math.isfinite(start) and start >= 0):
        raise VideoError(f'start time {start} s is invalid; give the number '
                         'of seconds from the beginning (0 or more)')
    if end is not None:
        if not math.isfinite(end) or end <= start:
            raise VideoError(f'end time {end} s must be a number of seconds '
                             f'after the start time ({start:g} s)')


def _index_at(seconds: float, fps: float) -> int:
    """Index of the first frame at or after ``seconds``."""
    return max(0, math.ceil(seconds * fps - FRAME_TIME_TOLERANCE))


def _usable_fps(reported: float) -> Tuple[float, bool]:
    """``(fps, known)``: ``reported`` if plausible, else the fallback."""
    if math.isfinite(reported) and 0 < reported <= MAX_PLAUSIBLE_FPS:
        return float(reported), True
    return FALLBACK_FPS, False


def _applied_rotation(capture) -> int:
    """Clockwise rotation the backend applies to frames (0 if it does not)."""
    if not capture.get(cv2.CAP_PROP_ORIENTATION_AUTO):
        return 0
    meta = capture.get(cv2.CAP_PROP_ORIENTATION_META)
    if not math.isfinite(meta):
        return 0
    return int(round(meta / 90.0)) % 4 * 90


def _is_camera(source: Union[str, int]) -> bool:
    return isinstance(source, int) and not isinstance(source, bool)


def _new_capture(source: Union[str, int]):
    """A ``cv2.VideoCapture``: FFmpeg for files and URLs, any for cameras.

    (Kept separate so that tests can substitute a fake capture.)
    """
    if _is_camera(source):
        return cv2.VideoCapture(source)
    return cv2.VideoCapture(source, cv2.CAP_FFMPEG)


def _open_capture(source: Union[str, int]):
    """An opened capture for ``source``, or VideoError saying why not."""
    if not _is_camera(source):
        if not isinstance(source, str):
            raise TypeError(f'source must be a path or a camera index, '
                            f'not {type(source).__name__}')
        if '://' not in source:
            _check_video_file(source)
    capture = _new_capture(source)
    if capture.isOpened():
        return capture
    capture.release()
    if _is_camera(source):
        raise VideoError(
            f'camera {source} cannot be opened; check that it is connected '
            'and not used by another program, or try another index')
    if '://' in source:
        raise VideoError(f'{source}: cannot open the stream; check the '
                         'address and that it is reachable')
    raise VideoError(
        f'{source}: not a video OpenCV can read (not a video file, an '
        'unsupported format, or damaged, e.g. an MP4 whose download was '
        'interrupted lacks its index); check that it plays, or re-encode '
        'it, e.g. ffmpeg -i in.mov out.mp4')


def _check_video_file(path: str) -> None:
    """Raise VideoError if ``path`` is not a readable, non-empty file."""
    problem = input_file_problem(path, 'video')
    if problem:
        raise VideoError(problem)


def _drain(q: 'queue.Queue[Any]') -> None:
    """Remove everything currently in ``q``."""
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return


def read_frame(path: str, index: int) -> Optional[np.ndarray]:
    """Frame ``index`` of a video file, numbered as :class:`FrameReader`
    numbers frames (one per frame read, damaged ones included, so the
    number matches the keypoint files), upright like the reader's frames.

    Returns:
        (H, W, 3) uint8 BGR, or None when the file cannot be read or has no
        such decodable frame.
    """
    if index < 0:
        return None
    try:
        with FrameReader(path, start_frame=index, queue_size=1) as reader:
            frame = next(iter(reader), None)
    except VideoError:
        return None
    if frame is None or frame.index != index:
        return None
    return frame.image


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _even_below(pixels: int) -> int:
    """The size OpenCV's 4:2:0 encoders write for ``pixels`` (observed:
    odd sizes lose their last row or column; a single pixel stays)."""
    return pixels - pixels % 2 if pixels > 1 else pixels


def _free_bytes(folder: str) -> Optional[int]:
    """Bytes the current user can still write on ``folder``'s file system
    (root may use the blocks reserved for it), or None when unknown."""
    if not hasattr(os, 'statvfs'):
        return None
    try:
        stat = os.statvfs(folder)
    except OSError:
        return None
    root = hasattr(os, 'geteuid') and os.geteuid() == 0
    return (stat.f_bfree if root else stat.f_bavail) * stat.f_frsize


def _frames_in(path: str, most: int) -> Optional[int]:
    """Frames that OpenCV reads back from the video file ``path``, counting
    at most ``most + 1``; None when it cannot open the file at all."""
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            return None
        count = 0
        while count <= most and capture.grab():
            count += 1
        return count
    finally:
        capture.release()


class VideoWriter:
    """An output video written atomically, encoded in a background thread.

    Frames go to a hidden temporary file in the destination's folder with
    the same extension (OpenCV picks the container from it), e.g.
    ``.clip_pose.mp4.1a2b3c4d.part.mp4``; :meth:`commit` renames it to
    ``path``, replacing any file there only then, and :meth:`abort` deletes
    it.  The codec follows the extension: H.264 for ``.mp4``, ``.m4v`` and
    ``.mov`` with PyAV (:mod:`pose.video_encode`), else
    :data:`VIDEO_FOURCCS`.

    OpenCV reports no write error (``cv2.VideoWriter.write`` returns
    nothing, and a full disk or a file size limit leaves a file that is cut
    off or cannot be opened), so the writer checks for itself: after every
    frame the encoding thread checks the free space of the folder, and a
    full disk fails the next :meth:`write` at once; and before the rename
    the file is opened again and must read back with every frame written
    (:meth:`finish`), else it is deleted, ``path`` is left as it was and
    the error says why.

    As a context manager, leaving the block **without** having called
    :meth:`commit` aborts (whether by an exception, ``return`` or ``break``):
    a result is published only by an explicit ``commit()``::

        with VideoWriter('out.mp4', info.fps, (info.width, info.height)) as w:
            for img in images:
                w.write(img)
            w.commit()

    Attributes:
        path: the destination.
        temp_path: the temporary file being written.
        fps: frames per second of the output.
        size: ``(width, height)`` that frames given to :meth:`write` must
            have.
        output_size: ``(width, height)`` of the written video: ``size``
            rounded down to even numbers (see the module docstring).
        fourcc: the codec's FourCC (``avc1`` for H.264).
        warning: a line for the user about the codec (an MP4 that browsers
            will not play), or None.
        written: frames accepted by :meth:`write` (after :meth:`commit`, the
            number of frames in the file, as read back).
    """

    def __init__(self, path: str, fps: float, size: Tuple[int, int],
                 queue_size: int = 8):
        """Open the temporary file and start the encoding thread.

        Args:
            path: destination; its extension (one of :data:`VIDEO_FOURCCS`)
                selects container and codec.
            fps: frame rate, > 0.
            size: ``(width, height)`` of the frames, in pixels.
            queue_size: frames buffered for the encoder (>= 1); ``write``
                blocks while the buffer is full.

        Raises:
            VideoError: unsupported extension, invalid fps or size, missing
                or read-only folder, or OpenCV cannot open the writer.
        """
        if queue_size < 1:
            raise ValueError(
                f'queue_size must be at least 1, not {queue_size}')
        extension = os.path.splitext(path)[1].lower()
        if extension not in VIDEO_FOURCCS:
            raise VideoError(
                f'{path}: cannot write "{extension or "(no extension)"}" '
                f'videos; use one of {" ".join(VIDEO_FOURCCS)}')
        if not (math.isfinite(fps) and fps > 0):
            raise VideoError(f'{path}: invalid frame rate {fps}; it must be '
                             'a positive number of frames per second')
        width, height = (int(v) for v in size)
        if width < 1 or height < 1:
            raise VideoError(f'{path}: invalid frame size {width}x{height}')
        problem = output_problem(path)
        if problem:
            raise VideoError(problem)
        self.path = path
        self.fps = float(fps)
        self.size = (width, height)
        self.output_size = (_even_below(width), _even_below(height))
        self.written = 0
        self.temp_path = temporary_path(path)
        self._writer, self.fourcc, self.warning = self._open_encoder(
            extension, fps)
        self._queue: 'queue.Queue[Any]' = queue.Queue(maxsize=queue_size)
        self._discard = threading.Event()
        self._error: Optional[BaseException] = None
        self._folder = os.path.dirname(self.temp_path)
        self._state = 'open'   # 'open', 'finished', 'committed', 'aborted'
        self._thread = threading.Thread(
            target=self._run, name=f'VideoWriter({path})', daemon=True)
        self._thread.start()

    def _open_encoder(self, extension: str, fps: float):
        """``(encoder, fourcc, warning)`` writing :attr:`temp_path`
        (:func:`pose.video_encode.open_encoder`), or VideoError."""
        width, height = self.size
        fourcc = VIDEO_FOURCCS[extension]
        cannot = (f'{self.path}: cannot write a {width}x{height} video at '
                  f'{fps:g} fps with codec {{}}; try another extension '
                  f'({" ".join(VIDEO_FOURCCS)}) or a larger size')
        try:
            writer, fourcc, warning = open_encoder(
                self.temp_path, extension, self.fps, self.size, fourcc)
        except Exception as error:     # PyAV/FFmpeg could not open it
            remove_quietly(self.temp_path)
            raise VideoError(cannot.format(fourcc) + f' ({error})'
                             ) from error
        if not writer.isOpened():
            writer.release()
            remove_quietly(self.temp_path)
            raise VideoError(cannot.format(fourcc))
        return writer, fourcc, warning

    def _run(self) -> None:
        """Thread body: encode queued frames until the ``None`` marker."""
        while True:
            img = self._queue.get()
            if img is None:
                return
            if self._discard.is_set() or self._error is not None:
                continue
            try:
                self._writer.write(img)
                if _free_bytes(self._folder) == 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC),
                                  self._folder)
            except BaseException as error:   # re-raised by write/commit
                self._error = error

    def write(self, img: np.ndarray) -> None:
        """Queue one frame for encoding (a copy is taken: the caller may
        reuse ``img``); blocks while the queue is full.

        Raises:
            ValueError: ``img`` is not (height, width, 3) uint8 with the
                writer's size (OpenCV would silently drop such a frame).
            VideoError: the writer was committed or aborted, or encoding
                failed.
        """
        self._check_open('write')
        self._raise_encoding_error()
        width, height = self.size
        if (not isinstance(img, np.ndarray) or img.dtype != np.uint8
                or img.shape != (height, width, 3)):
            got = (f'{img.dtype} {img.shape}' if isinstance(img, np.ndarray)
                   else type(img).__name__)
            raise ValueError(f'{self.path}: frames must be uint8 arrays of '
                             f'shape {(height, width, 3)}, not {got}')
        frame = np.array(img, copy=True, order='C')
        while True:
            try:
                self._queue.put(frame, timeout=POLL_SECONDS)
                break
            except queue.Full:
                self._raise_encoding_error()
        self.written += 1

    def finish(self) -> None:
        """Finish encoding, close the temporary file and check it: it must
        open again and read back with every frame written.  Then only the
        rename is left (:meth:`commit`), so a run with several outputs can
        check them all before publishing any.  A second call does nothing.

        Raises:
            VideoError: the writer was committed or aborted, no frame was
                written, encoding failed, or the file does not read back
                whole (a full disk, a file size limit...); the temporary
                file is then deleted and ``path`` left as it was.
        """
        if self._state == 'finished':
            return
        self._check_open('finish')
        self._finish_thread()
        try:
            self._release_encoder()
            self._raise_encoding_error()
            if self.written == 0:
                raise VideoError(f'{self.path}: no frames were written, so '
                                 'the video was not created')
            self._check_read_back()
        except BaseException:
            self._state = 'aborted'
            remove_quietly(self.temp_path)
            raise
        self._state = 'finished'

    def _check_read_back(self) -> None:
        """VideoError unless the temporary file reads back with
        :attr:`written` frames."""
        frames = _frames_in(self.temp_path, self.written)
        if frames == self.written:
            return
        found = ('cannot be opened again' if frames is None else
                 f'reads back with {frames} of the {self.written} frames '
                 f'written')
        free = _free_bytes(self._folder)
        cause = ('the disk is full' if free == 0 else
                 'the disk was full, a file size limit, or the file was '
                 'changed while it was written')
        raise VideoError(f'{self.path}: the video written {found} '
                         f'({cause}); it was not saved, and any earlier '
                         f'file of that name is unchanged')

    def commit(self) -> str:
        """Finish encoding (:meth:`finish`) and move the video to
        :attr:`path`.

        Waits for the queued frames, closes the file, checks that it reads
        back whole, flushes it to disk and renames it over ``path``.  A
        second call does nothing.

        Returns:
            ``path``.

        Raises:
            VideoError: the writer was aborted, no frame was written,
                encoding failed, or the file did not read back whole (the
                temporary file is then deleted and ``path`` left as it was).
            OSError: the flush to disk or the rename failed (likewise).
        """
        if self._state == 'committed':
            return self.path
        if self._state != 'finished':
            self._check_open('commit')
        self.finish()
        try:
            commit_file(self.temp_path, self.path)
        except BaseException:
            self._state = 'aborted'
            remove_quietly(self.temp_path)
            raise
        self._state = 'committed'
        return self.path

    def abort(self) -> None:
        """Stop encoding and delete the temporary file; ``path`` is left as
        it was.  Does nothing after :meth:`commit` or a previous abort."""
        if self._state == 'finished':
            self._state = 'aborted'
            remove_quietly(self.temp_path)
            return
        if self._state != 'open':
            return
        self._state = 'aborted'
        self._discard.set()
        self._finish_thread()
        try:
            self._release_encoder()
        except Exception:              # the file is deleted anyway
            pass
        remove_quietly(self.temp_path)

    def _release_encoder(self) -> None:
        """Close the encoder; an error closing it (PyAV flushes the last
        frames then) is kept as the encoding error."""
        try:
            self._writer.release()
        except Exception as error:
            if self._error is None:
                self._error = error

    def _finish_thread(self) -> None:
        """Let the thread work through the queue, then end it."""
        self._queue.put(None)     # the thread never stops taking items
        self._thread.join()

    def _check_open(self, action: str) -> None:
        if self._state != 'open':
            raise VideoError(f'{self.path}: {action}() after the writer was '
                             f'{self._state}')

    def _raise_encoding_error(self) -> None:
        error = self._error
        if error is None:
            return
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise VideoError(f'{self.path}: the disk is full (no space left '
                             f'in {self._folder}); free some space or write '
                             f'elsewhere; the video was not saved'
                             ) from error
        reason = (error.strerror if isinstance(error, OSError)
                  and error.strerror else error)
        raise VideoError(f'{self.path}: encoding failed: {reason}; the '
                         f'video was not saved') from error

    def __enter__(self) -> 'VideoWriter':
        return self

    def __exit__(self, *exc_info) -> bool:
        self.abort()              # no-op after commit()
        return False


# ---------------------------------------------------------------------------
# Naming
# ---------------------------------------------------------------------------


def default_output_path(video_path: str, suffix: str = '_pose',
                        extension: str = '.mp4') -> str:
    """The result file beside the input: ``<stem><suffix><extension>``.

    E.g. ``videos/clip.mov`` -> ``videos/clip_pose.mp4``.

    Raises:
        VideoError: the result would be the input file itself (e.g. an empty
            suffix and the same extension).
    """
    stem = os.path.splitext(video_path)[0]
    out = stem + suffix + extension
    if same_file(out, video_path):
        raise VideoError(
            f'{video_path}: the default output name {out} is the input '
            'itself; give another output name')
    return out
