#!/usr/bin/env python3
"""Functional Movement Screen analysis: scores, agreement, calibration.

Four commands:

``analyze INPUT --test TEST --view front|side [--side left|right]``
    INPUT is a keypoint file of ``video_pose_detector.py --json`` (``.jsonl``
    or ``.json``) or a video (the pose detector runs on it first, with the
    detector options: ``--size``, ``--hands``, ...).  Follows one subject,
    measures the angles the test's criteria need, finds the key frame,
    suggests a 0-3 score with its reasons, and writes
    ``<subject>_<test>[_<side>]_<view>.json``, ``..._angles.png`` and
    ``..._key_frame.png`` into --out.

``session MANIFEST.csv --out DIR [--coach COACH.csv]``
    A whole screening: the manifest (format: :mod:`fms.manifest`) lists
    every filmed trial view (athlete, test, side, view, video or keypoint
    file, what the camera cannot see) and the clearing tests.  Runs the
    detector once per video (cached in DIR/keypoints: a rerun redoes
    nothing finished), scores every test side from its views and retests
    together, and writes DIR/session.json, one HTML report per athlete and
    DIR/index.html.

``agreement --auto RESULTS/ --coach COACH.csv``
    Compares the suggested scores with a coach's: exact agreement and
    quadratic weighted kappa per test and overall, confusion matrices,
    totals and the "total <= 14" risk flag, the disagreements to review.

``calibrate --auto RESULTS/ --coach COACH.csv --out THRESHOLDS.json``
    Searches the criteria thresholds that agree best with the coach, with
    cross-validation by subject, and writes them in the format of
    ``fms/thresholds.json`` (use them with ``analyze --thresholds``), and
    the figures beside them (``THRESHOLDS_calibration.json``).

Results go to stdout; errors, warnings and notes to stderr.  Bad input: one
line and exit status 2; Ctrl-C / SIGTERM: 130 / 143.  The work is done by
the :mod:`fms` library (:mod:`fms.trial` for ``analyze``).

Example::

    python fms_analyzer.py analyze anna_squat.jsonl --test deep_squat \\
        --view side --subject anna --out results
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from common.cli import Console, quiet_start, run_command
from common.errors import EXIT_BAD_INPUT, EXIT_OK

PROG = 'fms_analyzer.py'
if __name__ == '__main__':
    quiet_start(PROG)        # before the slow imports (Chainer)

from fms.protocol import SIDES, TESTS, VIEWS, Key  # noqa: E402

if TYPE_CHECKING:
    from fms.trial import TrialRequest
DEFAULT_RESULTS_DIR = 'fms_results'
AGREEMENT_DIR = 'agreement'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from pose.options import (add_detector_arguments, check_detector_arguments,
                              join_net_resolution)
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f'Run "{PROG} COMMAND --help" for the options of each '
               'command.')
    commands = parser.add_subparsers(dest='command', required=True)
    analyze_parser = commands.add_parser(
        'analyze', help='score one trial from a video or a keypoint file')
    _analyze_arguments(analyze_parser)
    session_parser = commands.add_parser(
        'session', help='score a whole screening session from a manifest')
    _session_arguments(session_parser)
    for command, title in ((analyze_parser, 'when INPUT is a video'),
                           (session_parser, 'for the videos')):
        video = command.add_argument_group(title)
        add_detector_arguments(video)
        video.add_argument('--every', type=int, default=1, metavar='N',
                           help='run the network on every N-th frame')
    for name, text in (('agreement', 'compare suggested scores with a '
                                     'coach\'s'),
                       ('calibrate', 'fit the thresholds to a coach\'s '
                                     'scores')):
        command = commands.add_parser(name, help=text)
        command.add_argument('--auto', required=True, metavar='DIR',
                             help='folder of result files from "analyze"')
        command.add_argument('--coach', required=True, metavar='CSV',
                             help='the coach\'s scores: columns subject, '
                                  'test, side, score')
    commands.choices['agreement'].add_argument(
        '--out', metavar='DIR',
        help='folder for agreement.json, disagreements.csv and '
             f'confusion_matrices.png (default: DIR/{AGREEMENT_DIR})')
    calibrate = commands.choices['calibrate']
    calibrate.add_argument('--out', required=True, metavar='JSON',
                           help='where to write the calibrated thresholds '
                                '(the figures go beside it, '
                                '<name>_calibration.json)')
    calibrate.add_argument('--thresholds', metavar='JSON',
                           help='thresholds to start from (default: the '
                                'packaged fms/thresholds.json)')
    calibrate.add_argument('--folds', type=int, default=5,
                           help='cross-validation folds (default 5)')
    args = parser.parse_args(join_net_resolution(argv))
    command = commands.choices[args.command]
    if args.command in ('analyze', 'session'):
        check_detector_arguments(command, args)
        if args.every < 1:
            command.error('--every must be at least 1')
    return args


def _session_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('manifest', metavar='MANIFEST.csv',
                        help='the session\'s manifest: one row per filmed '
                             'trial view and per clearing test (columns: '
                             'see the README or fms/manifest.py)')
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='output folder: session.json, index.html, '
                             'one page per athlete, trials/, keypoints/')
    parser.add_argument('--coach', metavar='CSV',
                        help='the coach\'s scores (columns subject, test, '
                             'side, score), shown side by side')
    parser.add_argument('--thresholds', metavar='JSON',
                        help='criteria thresholds (default: the packaged '
                             'fms/thresholds.json)')


def _analyze_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('input', help='keypoint file (.jsonl) of '
                                      'video_pose_detector.py, or a video')
    parser.add_argument('--test', required=True, metavar='TEST',
                        help=f'one of {", ".join(TESTS)}')
    parser.add_argument('--view', required=True, metavar='VIEW',
                        help=f'camera view: {" or ".join(VIEWS)} (front: '
                             'camera in front of or behind the subject)')
    parser.add_argument('--side', metavar='SIDE',
                        help=f'{" or ".join(SIDES)}, for the tests scored '
                             'per side: the stepping, front, raised, upper '
                             'or moving limb')
    parser.add_argument('--subject', help='subject name as in the coach\'s '
                                          'CSV (default: the input\'s name)')
    parser.add_argument('--out', default=DEFAULT_RESULTS_DIR, metavar='DIR',
                        help=f'output folder (default {DEFAULT_RESULTS_DIR})')
    parser.add_argument('--person-id', type=int, metavar='ID',
                        help='the tracked person to follow (default: the '
                             'one who moves most through the clip)')
    parser.add_argument('--pain', action='store_true',
                        help='the subject reported pain (score 0)')
    parser.add_argument('--clearing-pain', action='store_true',
                        help='pain in the test\'s clearing test (score 0): '
                             'shoulder clearing for shoulder_mobility, '
                             'press-up for trunk_stability_pushup, '
                             'rock-back for rotary_stability')
    parser.add_argument('--hand-length-cm', type=float, metavar='CM',
                        help='shoulder mobility: the hand length measured '
                             'before the test (distal wrist crease to the '
                             'tip of the longest finger); needs '
                             '--stature-cm')
    parser.add_argument('--stature-cm', type=float, metavar='CM',
                        help='the subject\'s standing height, for the pixel '
                             'scale of --hand-length-cm (the body height in '
                             'pixels is read from the ankles and shoulders)')
    parser.add_argument('--heels-raised', action='store_true',
                        help='deep squat performed with the heels on a board')
    parser.add_argument('--sex', choices=('male', 'female'),
                        help='needed for the trunk stability push-up')
    parser.add_argument('--pattern', choices=('unilateral', 'diagonal'),
                        help='rotary stability pattern (default: from the '
                             'limbs that move)')
    parser.add_argument('--thresholds', metavar='JSON',
                        help='criteria thresholds (default: the packaged '
                             'fms/thresholds.json)')


def trial_request(args: argparse.Namespace) -> TrialRequest:
    """The :class:`fms.trial.TrialRequest` of ``analyze``'s arguments."""
    from fms.trial import TrialRequest
    return TrialRequest(
        input=args.input, test=args.test, view=args.view, side=args.side,
        out_dir=args.out, subject=args.subject, person_id=args.person_id,
        inputs={'pain': args.pain, 'heels_raised': args.heels_raised,
                'sex': args.sex, 'pattern': args.pattern,
                'clearing_pain': args.clearing_pain or None,
                'hand_length_cm': args.hand_length_cm,
                'stature_cm': args.stature_cm},
        thresholds=args.thresholds)


def detect(args: argparse.Namespace, video: str, keypoints: str,
           console: Console, detectors=None) -> int:
    """Run the pose detector on ``video``, writing the keypoint lines to
    ``keypoints``; returns the exit status (130/143 when a stop signal
    ended it)."""
    from pose.api import run_video
    from pose.options import video_options
    summary = run_video(video, video_options(
        args, every=args.every, keypoints_out=keypoints), detectors)
    for warning in summary.warnings:
        console.warning(warning)
    for line in summary.lines():
        console.note(line)
    if summary.stopped_by:
        console.error(f'stopped by {summary.stopped_by} during the pose '
                      f'detection; the keypoints so far are in {keypoints}')
    return summary.exit_status()


def analyze(args: argparse.Namespace, console: Console) -> int:
    from fms.labels import analysis_summary
    from fms.trial import (analyze_trial, check_request, is_video,
                           keypoints_path, subject_name, write_trial_report)
    request = trial_request(args)
    thresholds = check_request(request)        # before a long video run
    keypoints = keypoints_path(request)
    if is_video(request):
        from pose.options import report_runtime
        console.note(f'running the pose detector on {args.input} -> '
                     f'{keypoints}')
        os.makedirs(os.path.dirname(os.path.abspath(keypoints)),
                    exist_ok=True)
        report_runtime(console, args.gpu, args.verbose)
        status = detect(args, args.input, keypoints, console)
        if status != EXIT_OK:
            return status
        print(f'wrote {keypoints}')
    analysis = analyze_trial(request, keypoints, thresholds)
    paths = write_trial_report(request, analysis)
    for line in analysis_summary(analysis, subject_name(request)):
        print(line)
    for path in paths.values():
        print(f'wrote {path}')
    return EXIT_OK


def session(args: argparse.Namespace, console: Console) -> int:
    from fms.manifest import ManifestError
    from fms.screening import session_lines
    from fms.session import SessionRequest, run_session
    from pose.options import detector_options, load_detectors, report_runtime

    def make_detect():
        report_runtime(console, args.gpu, args.verbose)
        detectors = load_detectors(detector_options(args))
        return lambda video, keypoints: detect(args, video, keypoints,
                                               console, detectors)

    request = SessionRequest(args.manifest, args.out, args.coach,
                             args.thresholds)
    try:
        status, document, problems = run_session(request, make_detect,
                                                 console.note)
    except ManifestError as e:
        for problem in e.problems:
            console.error(problem)
        console.note('nothing written: correct the manifest and run again')
        return EXIT_BAD_INPUT
    for problem in problems:
        console.error(problem)
    for line in session_lines(document) if document else ():
        print(line)
    return status


def load_trials(args: argparse.Namespace, console: Console
                ) -> Tuple[Dict[Key, int], Dict[Key, Optional[int]],
                           Dict[Key, List[dict]]]:
    """``(coach scores, automatic scores (None: provisional), each trial's
    result documents)``, with a note for the files of --auto that are not
    results."""
    from fms.coach_scores import load_coach_csv
    from fms.result_files import load_auto_results
    coach = load_coach_csv(args.coach)
    skipped: List[str] = []
    auto, documents = load_auto_results(args.auto, skipped)
    if skipped:
        console.note(f'skipped {len(skipped)} file(s) in {args.auto} that '
                     f'are not results: '
                     f'{", ".join(map(os.path.basename, skipped))}')
    return coach, auto, documents


def agreement(args: argparse.Namespace, console: Console) -> int:
    from fms.agreement import agreement_report
    from fms.agreement_files import check_agreement_outputs, write_agreement
    from fms.agreement_text import format_report
    out = args.out or os.path.join(args.auto, AGREEMENT_DIR)
    check_agreement_outputs(out, [args.coach])
    coach, auto, _ = load_trials(args, console)
    report = agreement_report(auto, coach)
    print(format_report(report), end='')
    for path in write_agreement(report, out):
        print(f'wrote {path}')
    return EXIT_OK


def calibrate(args: argparse.Namespace, console: Console) -> int:
    from fms import calibration, calibration_output, fusion, thresholds
    inputs = [args.coach, thresholds.DEFAULT_THRESHOLDS_PATH]
    if os.path.isdir(args.auto):
        inputs += [os.path.join(args.auto, name)
                   for name in os.listdir(args.auto)]
    if args.thresholds:
        inputs.append(args.thresholds)
    calibration_output.check_calibration_outputs(args.out, inputs)
    details = thresholds.threshold_details(args.thresholds)
    coach, _, documents = load_trials(args, console)
    complete = {key: group for key, group in documents.items()
                if fusion.is_complete(group)}
    left_out = sum(1 for key in documents
                   if key in coach and key not in complete)
    if left_out:
        console.note(f'{left_out} trial(s) scored by the coach left out: '
                     f'provisional (a criterion observed in no view); '
                     f'add the missing view to use them')
    result = calibration.calibrate(complete, coach, fusion.rescore_trial,
                                   thresholds.search_space(details),
                                   thresholds.threshold_values(details),
                                   folds=args.folds, left_out=left_out)
    print(calibration_output.format_calibration(result), end='')
    for path in calibration_output.write_calibration(result, args.out,
                                                     details, inputs):
        print(f'wrote {path}')
    return EXIT_OK


COMMANDS = {'analyze': analyze, 'session': session,
            'agreement': agreement, 'calibrate': calibrate}


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return run_command(PROG, lambda: COMMANDS[args.command](
        args, Console(PROG)))


if __name__ == '__main__':
    sys.exit(main())
