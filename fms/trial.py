"""One trial, from a keypoint file to its report: what ``fms_analyzer.py
analyze`` does, as a library.

A :class:`TrialRequest` says what to analyse and where the report goes.
:func:`check_request` checks it (test, side, view, thresholds file and
every output path) before any work; the caller runs the pose detector first
when the input is a video (:func:`keypoints_path` is where its keypoints
go), then :func:`analyze_trial` follows the subject and scores the trial,
and :func:`write_trial_report` writes the report (with the video's key
frame when there is a video).

Example::

    request = TrialRequest('anna_squat.jsonl', 'deep_squat', 'side',
                           out_dir='results')
    thresholds = check_request(request)
    analysis = analyze_trial(request, request.input, thresholds)
    paths = write_trial_report(request, analysis)
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Mapping, Optional

from fms.analysis import analyze_track
from fms.criteria import check_inputs
from fms.outputs import check_outputs
from fms.protocol import check_side, check_test, check_view
from fms.report import report_paths, write_report
from fms.results import Analysis
from fms.sequence import read_keypoint_file, select_subject
from fms.thresholds import ThresholdValues, load_thresholds
from pose.video_io import read_frame

#: File name endings read as keypoint files; anything else is a video.
KEYPOINT_SUFFIXES = ('.jsonl', '.json')
#: Name of the keypoint file the detector writes for a video, after the
#: video's stem.
KEYPOINTS_SUFFIX = '_keypoints.jsonl'


@dataclasses.dataclass(frozen=True)
class TrialRequest:
    """What to analyse and where the report goes.

    Attributes:
        input: a keypoint file (:data:`KEYPOINT_SUFFIXES`) or a video.
        test, view, side: see :mod:`fms.protocol` (side only for the tests
            scored per side).
        out_dir: the report's folder (and the video's keypoint file's).
        subject: the subject's name as in the coach's CSV (None: the
            input's file name stem).
        person_id: the tracked person to follow (None: the one who moves
            most, :func:`fms.sequence.select_subject`).
        inputs: what the camera cannot see: ``pain``, ``clearing_pain``,
            ``heels_raised``, ``sex``, ``pattern``, ``hand_length_cm``,
            ``stature_cm`` (None values are left out).
        thresholds: a thresholds file overriding the packaged one, or None.
        variant: the retest the trial is (:func:`fms.fusion.variant`:
            ``'heels raised'``, ``'diagonal'``), named in the report's file
            names; None for the first trial.
    """
    input: str
    test: str
    view: str
    side: Optional[str] = None
    out_dir: str = '.'
    subject: Optional[str] = None
    person_id: Optional[int] = None
    inputs: Mapping[str, object] = dataclasses.field(default_factory=dict)
    thresholds: Optional[str] = None
    variant: Optional[str] = None


def is_video_file(path: str) -> bool:
    """Whether ``path`` is a video (not a keypoint file)."""
    return not path.lower().endswith(KEYPOINT_SUFFIXES)


def is_video(request: TrialRequest) -> bool:
    """Whether the request's input is a video (not a keypoint file)."""
    return is_video_file(request.input)


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def subject_name(request: TrialRequest) -> str:
    """The subject's name: as given, else the input's file name stem."""
    return request.subject or _stem(request.input)


def trial_stem(subject: str, test: str, side: Optional[str], view: str,
               variant: Optional[str] = None) -> str:
    """File name stem of a trial's report: ``anna_aslr_left_side``,
    ``anna_deep_squat_heels_raised_front``."""
    return '_'.join(part.replace(' ', '_') for part in (
        subject, test, side, variant, view) if part)


def keypoints_path(request: TrialRequest) -> str:
    """The keypoint file to analyse: the input itself, or for a video the
    file the detector writes into the output folder."""
    if not is_video(request):
        return request.input
    return os.path.join(request.out_dir, _stem(request.input)
                        + KEYPOINTS_SUFFIX)


def report_stem(request: TrialRequest) -> str:
    """The report files' name stem (:func:`trial_stem` of the request)."""
    return trial_stem(subject_name(request), request.test,
                      request.side or None, request.view, request.variant)


def output_paths(request: TrialRequest) -> Dict[str, str]:
    """Every file the trial writes: the report's ``json``, ``plot`` and
    ``image`` (:func:`fms.report.report_paths`), and ``keypoints`` for a
    video."""
    paths = report_paths(request.out_dir, report_stem(request))
    if is_video(request):
        paths['keypoints'] = keypoints_path(request)
    return paths


def check_request(request: TrialRequest) -> Optional[ThresholdValues]:
    """Check everything that can be checked before any work: the test,
    side and view, the inputs (:func:`fms.criteria.check_inputs`: e.g. the
    hand length and stature), the thresholds file, and that every output
    can be written without overwriting an input.

    Returns:
        The thresholds of the request's file (test -> key -> value), or
        None for the packaged ones.

    Raises:
        FmsError: what is wrong, in one line.
    """
    check_side(check_test(request.test), request.side)
    check_view(request.view)
    check_inputs(request.test, request.inputs)
    thresholds = (load_thresholds(request.thresholds)
                  if request.thresholds else None)
    check_outputs(output_paths(request).values(), _inputs(request))
    return thresholds


def analyze_trial(request: TrialRequest, keypoints: str,
                  thresholds: Optional[ThresholdValues] = None) -> Analysis:
    """Follow the subject through the keypoint file ``keypoints`` and
    analyse the trial (:func:`fms.analysis.analyze_track`).

    Raises:
        FmsError, pose.keypoints.KeypointFileError: a bad keypoint file,
            joints never found, no criterion observable, a missing input.
    """
    track = select_subject(read_keypoint_file(keypoints), request.person_id,
                           source=keypoints)
    inputs = {k: v for k, v in request.inputs.items() if v is not None}
    return analyze_track(track, request.test, request.side, request.view,
                         inputs, thresholds)


def write_trial_report(request: TrialRequest,
                       analysis: Analysis) -> Dict[str, str]:
    """Write the trial's report (:func:`fms.report.write_report`) with the
    video's key frame behind the skeleton when the input is a video (a
    dark canvas when that frame cannot be read).

    Returns:
        ``{'json', 'plot', 'image'}`` -> the paths written.
    """
    image = None
    if is_video(request):
        image = read_frame(request.input,
                           int(analysis.track.frames[analysis.key_index]))
    return write_report(analysis, subject_name(request), request.out_dir,
                        report_stem(request), image=image,
                        input_paths=_inputs(request))


def _inputs(request: TrialRequest) -> List[str]:
    """The request's input files, which no output may overwrite."""
    return [p for p in (request.input, request.thresholds) if p]
