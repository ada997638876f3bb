"""A screening session from its manifest to its reports: what
``fms_analyzer.py session`` does, as a library.

1. :func:`check_session` reads and checks everything before any work: the
   manifest (:mod:`fms.manifest`; every bad row is one line), the coach's
   CSV, the thresholds file, and every output path.
2. :func:`detect_videos` runs the pose detector once per video into the
   session's keypoint cache, ``DIR/keypoints/<video>-<tag>.jsonl`` (the tag
   comes from the video's path, size and modification time, so a changed
   video is detected again).  A run writes ``....part.jsonl`` and renames
   it when the video is done: an interrupted run leaves no file that looks
   finished, and a rerun detects only the videos not done.
3. :func:`analyze_views` analyses every trial view into
   ``DIR/trials/<athlete>/`` (:mod:`fms.trial`'s report: result JSON,
   angle plot, key frame); a view whose report files are all newer than
   its keypoints, the manifest and the thresholds file is read back, not
   redone.
4. :func:`write_session` writes ``DIR/session.json``
   (:func:`fms.screening.session_document`) and the HTML pages
   (:mod:`fms.html_report`): one per athlete and ``index.html``.

A video the detector cannot read, or a view that cannot be analysed, is
one line naming the manifest row; the other views and athletes are still
scored (that test is then missing or provisional) and the command exits
with status 2.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Callable, Dict, List, Optional, Tuple

from common.errors import EXIT_BAD_INPUT, EXIT_OK, ToolError
from fms import FmsError
from fms.coach_scores import load_coach_csv
from fms.html_report import write_html_reports
from fms.manifest import Manifest, TrialRow, read_manifest
from fms.outputs import check_outputs, json_bytes, write_outputs
from fms.protocol import CLEARING_TESTS, Key
from fms.report import report_paths
from fms.result_files import read_result
from fms.screening import ViewResult, page_name, session_document
from fms.thresholds import ThresholdValues, load_thresholds
from fms.trial import (TrialRequest, analyze_trial, check_request,
                       is_video_file, report_stem, write_trial_report)

KEYPOINTS_DIR = 'keypoints'
TRIALS_DIR = 'trials'
SESSION_FILE = 'session.json'
#: Suffix of a keypoint file being written (renamed when done).
PART_SUFFIX = '.part.jsonl'
#: Hex digits of the cache tag.
TAG_LENGTH = 10

#: ``detect(video, keypoints_out) -> exit status``: runs the pose detector
#: on ``video``, writing its keypoint lines to ``keypoints_out``; 0 when the
#: whole video was done, 130/143 when a stop signal ended it.
Detect = Callable[[str, str], int]
#: ``note(line)``: a progress or problem line for the user.
Note = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class SessionRequest:
    """What to score and where: the manifest, the output folder, the
    coach's CSV (or None) and a thresholds file (or None: the packaged)."""
    manifest: str
    out_dir: str
    coach: Optional[str] = None
    thresholds: Optional[str] = None


@dataclasses.dataclass
class Session:
    """A checked session: the manifest, the coach's scores (None without
    a CSV), the thresholds (None: the packaged), each view's request."""
    request: SessionRequest
    manifest: Manifest
    coach: Optional[Dict[Key, int]]
    thresholds: Optional[ThresholdValues]
    views: List[Tuple[TrialRow, TrialRequest]]


def keypoints_path(out_dir: str, video: str) -> str:
    """The cached keypoint file of ``video``:
    ``DIR/keypoints/<stem>-<tag>.jsonl``."""
    status = os.stat(video)
    identity = f'{os.path.realpath(video)}|{status.st_size}|' \
               f'{status.st_mtime_ns}'
    tag = hashlib.sha1(identity.encode('utf-8')).hexdigest()[:TAG_LENGTH]
    stem = os.path.splitext(os.path.basename(video))[0]
    return os.path.join(out_dir, KEYPOINTS_DIR, f'{stem}-{tag}.jsonl')


def _clearing_pain(manifest: Manifest) -> Dict[Tuple[str, str], bool]:
    """``{(athlete, test): True}`` for the tests whose clearing test hurt."""
    return {(row.athlete, CLEARING_TESTS[row.clearing]): True
            for row in manifest.clearing if row.pain}


def view_request(row: TrialRow, request: SessionRequest,
                 clearing_pain: bool) -> TrialRequest:
    """The :class:`fms.trial.TrialRequest` of one manifest row: its report
    in ``DIR/trials/<athlete>/``, named with the retest it is."""
    inputs = dict(row.inputs)
    if clearing_pain:
        inputs['clearing_pain'] = True
    return TrialRequest(
        input=row.file, test=row.test, view=row.view, side=row.side,
        out_dir=os.path.join(request.out_dir, TRIALS_DIR,
                             row.athlete.replace(' ', '_')),
        subject=row.athlete, person_id=row.person_id, inputs=inputs,
        thresholds=request.thresholds, variant=row.variant)


def check_session(request: SessionRequest) -> Session:
    """Read and check everything before any work.

    Raises:
        fms.manifest.ManifestError: the manifest's problems, one line each.
        FmsError: a bad coach CSV or thresholds file, an output that cannot
            be written or would overwrite an input.
    """
    manifest = read_manifest(request.manifest)
    coach = load_coach_csv(request.coach) if request.coach else None
    thresholds = (load_thresholds(request.thresholds)
                  if request.thresholds else None)
    pain = _clearing_pain(manifest)
    views = [(row, view_request(row, request,
                                pain.get((row.athlete, row.test), False)))
             for row in manifest.trials]
    inputs = [request.manifest, request.coach, request.thresholds] + [
        row.file for row in manifest.trials]
    inputs = [path for path in inputs if path]
    session_files = [os.path.join(request.out_dir, SESSION_FILE)] + [
        os.path.join(request.out_dir, name) for name in _page_names(manifest)]
    check_outputs(session_files, inputs)
    for row, view in views:
        try:
            check_request(view)
        except FmsError as e:
            raise FmsError(f'{request.manifest}, row {row.row}: {e}') \
                from None
    return Session(request, manifest, coach, thresholds, views)


def _page_names(manifest: Manifest) -> List[str]:
    return ['index.html'] + [page_name(a) for a in manifest.athletes()]


def detect_videos(session: Session, make_detect: Callable[[], Detect],
                  note: Note) -> Tuple[int, Dict[str, str]]:
    """Run the detector once on each video of the manifest not yet in the
    cache (module docstring, step 2); ``make_detect()`` loads the networks
    and is called only when a video needs them (its errors, e.g. missing
    weights, end the session).

    Returns:
        ``(status, failed)``: 0, or the exit status of a stop signal
        (nothing more is run); video -> why it failed (a bad video: the
        others are still run).
    """
    failed: Dict[str, str] = {}
    out_dir = session.request.out_dir
    videos = list(dict.fromkeys(row.file for row, _ in session.views
                                if is_video_file(row.file)))
    pending = [v for v in videos
               if not os.path.isfile(keypoints_path(out_dir, v))]
    if len(pending) < len(videos):
        note(f'{len(videos) - len(pending)} of {len(videos)} videos already '
             f'detected (keypoints cached in '
             f'{os.path.join(out_dir, KEYPOINTS_DIR)})')
    detect = make_detect() if pending else None
    for number, video in enumerate(pending, 1):
        final = keypoints_path(out_dir, video)
        note(f'video {number}/{len(pending)}: {video}: running the pose '
             f'detector')
        part = final[:-len('.jsonl')] + PART_SUFFIX
        os.makedirs(os.path.dirname(final), exist_ok=True)
        try:
            status = detect(video, part)
        except ToolError as e:
            failed[video] = str(e)
            continue
        if status != EXIT_OK:
            return status, failed
        os.replace(part, final)
    return EXIT_OK, failed


def _report_files(view: TrialRequest) -> Dict[str, str]:
    return report_paths(view.out_dir, report_stem(view))


def _up_to_date(view: TrialRequest, keypoints: str,
                session: Session) -> bool:
    """Whether the view's report files all exist and are newer than its
    keypoints, the manifest and the thresholds file."""
    sources = [keypoints, session.request.manifest, session.request.thresholds]
    try:
        newest = max(os.stat(p).st_mtime_ns for p in sources if p)
        return all(os.stat(p).st_mtime_ns >= newest
                   for p in _report_files(view).values())
    except OSError:
        return False


def _keypoints_of(row: TrialRow, out_dir: str) -> str:
    return keypoints_path(out_dir, row.file) if is_video_file(row.file) \
        else row.file


def analyze_views(session: Session, note: Note,
                  failed_videos: Dict[str, str]
                  ) -> Tuple[List[ViewResult], Dict[int, str]]:
    """Analyse every trial view (module docstring, step 3).

    Returns:
        ``(views, failed)``: the analysed views; manifest row -> why its
        view could not be analysed (its video failed, or the analysis
        refused it: e.g. no movement, the wrong side).
    """
    results, failed = [], {}
    out_dir = session.request.out_dir
    for row, view in session.views:
        if row.file in failed_videos:
            failed[row.row] = failed_videos[row.file]
            continue
        keypoints = _keypoints_of(row, out_dir)
        paths = _report_files(view)
        try:
            if not _up_to_date(view, keypoints, session):
                analysis = analyze_trial(view, keypoints, session.thresholds)
                paths = write_trial_report(view, analysis)
            document = read_result(paths['json'])
        except ToolError as e:
            failed[row.row] = str(e)
            continue
        relative = {k: os.path.relpath(p, out_dir) for k, p in paths.items()}
        results.append(ViewResult(row, document, relative['json'],
                                  relative['plot'], relative['image'],
                                  row.file))
    return results, failed


def write_session(session: Session, views: List[ViewResult],
                  failed: Dict[int, str]) -> Tuple[dict, List[str]]:
    """Write ``DIR/session.json`` and the HTML pages (module docstring,
    step 4); returns the session document and the paths written."""
    document = session_document(session.manifest, views, session.coach,
                                failed)
    out_dir = session.request.out_dir
    path = os.path.join(out_dir, SESSION_FILE)
    written = write_outputs({path: json_bytes(document)})
    return document, written + write_html_reports(document, out_dir)


def run_session(request: SessionRequest, make_detect: Callable[[], Detect],
                note: Note) -> Tuple[int, Optional[dict], List[str]]:
    """The whole session (module docstring); ``make_detect`` as
    :func:`detect_videos`'.

    Returns:
        ``(status, document, problems)``: 0, 2 when a video or view failed
        (``problems``, one line each naming the manifest row; the rest is
        still scored and written), or the status of a stop signal (then
        nothing after the detection is written and ``document`` is None).
    """
    session = check_session(request)
    status, failed_videos = detect_videos(session, make_detect, note)
    if status != EXIT_OK:
        return status, None, []
    views, failed = analyze_views(session, note, failed_videos)
    document, written = write_session(session, views, failed)
    for path in written:
        note(f'wrote {path}')
    problems = [f'{request.manifest}, row {row}: {why}'
                for row, why in sorted(failed.items())]
    return (EXIT_BAD_INPUT if problems else EXIT_OK), document, problems
