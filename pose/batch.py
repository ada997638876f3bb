"""Many videos with the networks loaded once, resumable.

:func:`run_batch` takes a :class:`BatchRequest` (a folder, glob or list of
videos, an output folder, the options), lists the videos
(:func:`pose.batch_jobs.list_videos`), checks every output before any work
and runs each video through :func:`pose.video_pipeline.run_video`
(:func:`process_job`) with detectors loaded once (:class:`LocalRunner`, or
another :class:`Runner` such as the Ray one).  The output folder's
``batch.jsonl`` (:mod:`pose.batch_manifest`) records each video's outcome
and is the resume state: a rerun skips the videos done with the same file
and options and redoes the rest.

One bad video never stops the batch: it is a failed line with its reason.
SIGINT / SIGTERM stop the video in hand after its frames in hand (it is
recorded as stopped and its outputs deleted) and leave the others for the
next run; a full disk stops the batch after that video's line.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from typing import (Callable, Iterator, List, Optional, Protocol, Sequence,
                    Tuple, Union)

from tqdm import tqdm

from common.cli import StopOnSignal, os_error_message
from common.errors import (EXIT_OK, EXIT_SOME_FAILED, ToolError,
                           signal_exit_status)
from common.files import is_fatal_write_error, remove_quietly
from pose.batch_jobs import (BatchRequest, VideoJob, job_outputs, plan_jobs,
                             prepare_job, remove_shared_temporaries,
                             remove_temporaries)
from pose.batch_manifest import (DONE, FAILED, MANIFEST_NAME, STOPPED,
                                 Manifest, entry, fingerprint)
from pose.options import Detectors, DetectorOptions, load_detectors
from pose.video_pipeline import run_video

__all__ = ['BatchRequest', 'VideoJob', 'VideoOutcome', 'BatchSummary',
           'Runner', 'LocalRunner', 'process_job', 'remove_temporaries',
           'run_batch', 'run_jobs', 'DONE', 'FAILED', 'STOPPED', 'SKIPPED']

#: The summary's name for a video done by an earlier run and not redone.
SKIPPED = 'skipped'


@dataclasses.dataclass
class VideoOutcome:
    """What became of one video.

    Attributes:
        status: :data:`DONE`, :data:`FAILED` or :data:`STOPPED`.
        reason: one line, for a failed or stopped video.
        frames: frames written.
        seconds: wall time spent on the video (model load excluded).
        network_seconds: of which in the network.
        worker: who processed it ('local', or a Ray actor / node).
        attempts: tries it took.
        warnings: notes for the user (a cut-off file...).
        fatal: the failure will meet every further video too (the disk is
            full or read-only): the batch stops.
    """
    name: str
    video: str
    status: str
    reason: str = ''
    frames: int = 0
    seconds: float = 0.0
    network_seconds: float = 0.0
    worker: str = 'local'
    attempts: int = 1
    warnings: Tuple[str, ...] = ()
    fatal: bool = False


def process_job(job: VideoJob, detectors: Detectors, progress=None,
                stop: Optional[threading.Event] = None) -> VideoOutcome:
    """One video through :func:`pose.video_pipeline.run_video` with
    already loaded detectors.

    Args:
        job: the video and its options.
        detectors: the loaded networks.
        progress: a tqdm-like bar for the video's frames, or None.
        stop: when set, the video ends after the frames in hand.

    Returns:
        The outcome; never raises for a bad video: a ToolError or OSError
        (bad file, unreadable, disk full) or an unexpected error of that
        video is a failed outcome whose reason is the error's one line.  A
        video ``stop`` ended is 'stopped' and its outputs are deleted.
    """
    started = time.perf_counter()
    try:
        summary = run_video(job.video, job.options, detectors,
                            progress=False if progress is None else progress,
                            stop=stop)
    except Exception as error:        # one bad video never stops a batch
        return VideoOutcome(job.name, job.video, FAILED,
                            reason=_error_line(error),
                            seconds=time.perf_counter() - started,
                            fatal=_is_fatal(error))
    outcome = VideoOutcome(
        job.name, job.video, DONE, frames=summary.frames_read,
        seconds=time.perf_counter() - started,
        network_seconds=summary.network_seconds,
        warnings=tuple(summary.warnings))
    if summary.stopped_by or (stop is not None and stop.is_set()):
        for path in job_outputs(job):      # the per-frame files are
            remove_quietly(path)           # rewritten when it is redone
        outcome.status = STOPPED
        outcome.reason = (f'stopped after {summary.frames_read} frame(s); '
                          f'the next run redoes it')
    return outcome


def _error_line(error: BaseException) -> str:
    if isinstance(error, ToolError):
        return str(error).splitlines()[0] if str(error) else 'failed'
    if isinstance(error, OSError):
        return os_error_message(error)
    return f'unexpected error {type(error).__name__}: {error}'.splitlines()[0]


def _is_fatal(error: Optional[BaseException]) -> bool:
    """A disk-full / read-only error, itself or as the cause of ours."""
    while error is not None:
        if is_fatal_write_error(error):
            return True
        error = error.__cause__
    return False


class Runner(Protocol):
    """Who processes a batch's videos.  Runners only process the jobs they
    are given and report outcomes; they never write the manifest."""

    def run(self, jobs: Sequence[VideoJob]) -> Iterator[VideoOutcome]:
        """Process ``jobs``, yielding each outcome as it finishes (in any
        order)."""
        ...

    def close(self) -> None:
        """Release the workers."""
        ...


class LocalRunner:
    """Loads the detectors once (on the first job) and processes jobs in
    order in this process.

    Attributes:
        loads: times the detectors were loaded (0 or 1).
        load_seconds: time spent loading them.
    """

    def __init__(self, options: DetectorOptions,
                 make_detectors: Callable[[DetectorOptions], Detectors]
                 = load_detectors, progress: bool = True,
                 stop: Optional[threading.Event] = None):
        """
        Args:
            options: the networks to load.
            make_detectors: loads them (a test may count the loads).
            progress: a bar over each video's frames on a terminal.
            stop: when set, the video in hand stops and no other starts.
        """
        self.options = options
        self.make_detectors = make_detectors
        self.progress, self.stop = progress, stop
        self.detectors: Optional[Detectors] = None
        self.loads, self.load_seconds = 0, 0.0

    def _loaded(self) -> Detectors:
        if self.detectors is None:
            started = time.perf_counter()
            self.detectors = self.make_detectors(self.options)
            self.load_seconds += time.perf_counter() - started
            self.loads += 1
        return self.detectors

    def run(self, jobs: Sequence[VideoJob]) -> Iterator[VideoOutcome]:
        with tqdm(unit='frame', position=1, leave=False,
                  disable=None if self.progress else True) as bar:
            for job in jobs:
                if self.stop is not None and self.stop.is_set():
                    return
                detectors = self._loaded()
                bar.set_description(job.name, refresh=False)
                yield process_job(job, detectors, bar, self.stop)

    def close(self) -> None:
        self.detectors = None


@dataclasses.dataclass
class BatchSummary:
    """What a batch did.

    Attributes:
        manifest: the manifest's path.
        counts: status (done, failed, stopped, skipped, not started) ->
            videos.
        failed: (video, reason) of each failed video.
        frames, seconds, network_seconds: of the videos processed.
        stopped_by: the signal that stopped the batch ('SIGINT'...),
            'stop' when a program's stop event did, None.
        halted: why the batch stopped early after a video (a full disk).
    """
    manifest: str
    counts: dict = dataclasses.field(default_factory=lambda: dict.fromkeys(
        (DONE, SKIPPED, FAILED, STOPPED, NOT_STARTED), 0))
    failed: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    frames: int = 0
    seconds: float = 0.0
    network_seconds: float = 0.0
    stopped_by: Optional[str] = None
    halted: Optional[str] = None

    def add(self, outcome: VideoOutcome) -> None:
        self.counts[outcome.status] += 1
        self.frames += outcome.frames
        self.seconds += outcome.seconds
        self.network_seconds += outcome.network_seconds
        if outcome.status == FAILED:
            self.failed.append((outcome.video, outcome.reason))

    def exit_status(self) -> int:
        """128 + the signal when one stopped the batch (130 for a program's
        stop, as Ctrl-C), else 1 when a video failed or the batch halted,
        else 0 (every video done, or skipped as done)."""
        if self.stopped_by:
            name = (self.stopped_by if self.stopped_by in signal.Signals
                    .__members__ else 'SIGINT')
            return signal_exit_status(signal.Signals[name])
        if self.counts[FAILED] or self.halted:
            return EXIT_SOME_FAILED
        return EXIT_OK

    def lines(self) -> List[str]:
        """One line per status, the halt or stop, the manifest."""
        counts = self.counts
        lines = [f'done: {counts[DONE]} video(s), {self.frames} frame(s) in '
                 f'{self.seconds:.1f} s ({self.network_seconds:.1f} s in '
                 f'the network)',
                 f'skipped (done by an earlier run): {counts[SKIPPED]}',
                 f'failed: {counts[FAILED]}',
                 f'stopped: {counts[STOPPED]}',
                 f'not started: {counts[NOT_STARTED]}']
        if self.stopped_by or self.halted:
            lines.append(f'batch stopped ({self.stopped_by or self.halted});'
                         f' run the same command again to finish it')
        lines.append(f'manifest: {self.manifest}')
        return lines


#: The summary's name for videos a stopped batch left for the next run.
NOT_STARTED = 'not started'


def run_batch(request: BatchRequest,
              runner: Union[Runner, Callable[[threading.Event], Runner],
                            None] = None,
              progress: bool = True,
              stop: Optional[threading.Event] = None) -> BatchSummary:
    """List, check and process the videos of ``request``.

    Args:
        request: the videos, output folder, options and outputs.
        runner: who processes the videos (default: a :class:`LocalRunner`
            in this process, loading the networks once), or a function
            making it from the batch's stop event once the batch is
            checked; closed at the end.
        progress: bars (over videos, and over the current video's frames)
            on a terminal.
        stop: an event a program sets to stop the batch as Ctrl-C does.

    Returns:
        The :class:`BatchSummary` (its ``exit_status()``: 0, 1, 130/143).

    Raises:
        ToolError: nothing matched, two videos with one output name, an
            output that cannot be written or would replace an input, bad
            weights, a manifest that is not ours (before any work).
    """
    jobs = plan_jobs(request)
    stop = threading.Event() if stop is None else stop
    if runner is None:
        runner = LocalRunner(request.options, progress=progress, stop=stop)
    elif not hasattr(runner, 'run'):
        runner = runner(stop)
    return run_jobs(jobs, request.out_dir, runner, progress, stop)


def run_jobs(jobs: Sequence[VideoJob], out_dir: str, runner: Runner,
             progress: bool = True,
             stop: Optional[threading.Event] = None) -> BatchSummary:
    """Process checked ``jobs`` with ``runner``, keeping
    ``<out_dir>/batch.jsonl``: skip the videos done with the same
    fingerprint, redo the others, record each outcome as it comes.
    SIGINT / SIGTERM (or ``stop``) end the batch after the video in hand.
    """
    stop = threading.Event() if stop is None else stop
    summary = BatchSummary(os.path.join(out_dir, MANIFEST_NAME))
    try:
        os.makedirs(out_dir, exist_ok=True)
        manifest = Manifest(summary.manifest)
    except BaseException:
        runner.close()
        raise
    prints = {job.name: fingerprint(job.video, job.options) for job in jobs}
    todo = [job for job in jobs if not manifest.done(job.name,
                                                     prints[job.name])]
    summary.counts[SKIPPED] = len(jobs) - len(todo)
    with StopOnSignal() as signals:
        signals.event = stop          # a signal stops the video in hand
        try:
            _drive(todo, runner, manifest, prints, summary, progress, stop,
                   total=len(jobs))
        finally:
            runner.close()
            manifest.compact()
    if stop.is_set():
        summary.stopped_by = (signals.received.name if signals.received
                              else 'stop')
    return summary


def _drive(todo: List[VideoJob], runner: Runner, manifest: Manifest,
           prints: dict, summary: BatchSummary, progress: bool,
           stop: threading.Event, total: int) -> None:
    """Run ``todo`` and record each outcome; videos that cannot be opened
    at all fail without reaching the runner."""
    jobs = {job.name: job for job in todo}
    remove_shared_temporaries(todo)
    runnable = []
    for job in todo:
        problem = prepare_job(job)
        if problem:
            _record(VideoOutcome(job.name, job.video, FAILED,
                                 reason=problem),
                    job, manifest, prints, summary)
        else:
            runnable.append(job)
    left = {job.name for job in runnable}
    with tqdm(total=total, initial=total - len(runnable), unit='video',
              position=0, disable=None if progress else True) as bar:
        if runnable and not stop.is_set():
            outcomes = runner.run(runnable)
            try:
                # After a stop the runner starts no other video and ends
                # once the videos in hand have stopped: each is recorded.
                for outcome in outcomes:
                    _record(outcome, jobs[outcome.name], manifest, prints,
                            summary)
                    left.discard(outcome.name)
                    bar.update()
                    if outcome.fatal:
                        summary.halted = outcome.reason
                        break
            finally:                   # a generator left early ends now
                getattr(outcomes, 'close', lambda: None)()
    summary.counts[NOT_STARTED] = len(left)


def _record(outcome: VideoOutcome, job: VideoJob, manifest: Manifest,
            prints: dict, summary: BatchSummary) -> None:
    outputs = job_outputs(job) if outcome.status == DONE else []
    manifest.record(entry(outcome, prints[job.name], outputs))
    summary.add(outcome)
