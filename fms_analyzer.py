#!/usr/bin/env python3
"""Functional Movement Screen analysis: scores, agreement, calibration.

Three commands:

``analyze INPUT --test TEST --view front|side [--side left|right]``
    INPUT is a keypoint file of ``video_pose_detector.py --json`` (``.jsonl``
    or ``.json``) or a video (the pose detector runs on it first, with the
    detector options: ``--size``, ``--hands``, ...).  Follows one subject,
    measures the angles the test's criteria need, finds the key frame,
    suggests a 0-3 score with its reasons, and writes
    ``<subject>_<test>[_<side>]_<view>.json``, ``..._angles.png`` and
    ``..._key_frame.png`` into --out.

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
from common.errors import EXIT_OK

PROG = 'fms_analyzer.py'
if __name__ == '__main__':
    quiet_start(PROG)        # before the slow imports (Chainer)

from fms.protocol import SIDES, TESTS, VIEWS, Key  # noqa: E402

if TYPE_CHECKING:
    from fms.trial import TrialRequest
DEFAULT_RESULTS_DIR = 'fms_results'
AGREEMENT_DIR = 'agreement'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from pose.options import add_detector_arguments, check_detector_arguments
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f'Run "{PROG} COMMAND --help" for the options of each '
               'command.')
    commands = parser.add_subparsers(dest='command', required=True)
    analyze_parser = commands.add_parser(
        'analyze', help='score one trial from a video or a keypoint file')
    _analyze_arguments(analyze_parser)
    video = analyze_parser.add_argument_group('when INPUT is a video')
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
    args = parser.parse_args(argv)
    if args.command == 'analyze':
        check_detector_arguments(analyze_parser, args)
        if args.every < 1:
            analyze_parser.error('--every must be at least 1')
    return args


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


def detect(args: argparse.Namespace, keypoints: str,
           console: Console) -> int:
    """Run the pose detector on the video ``args.input``, writing the
    keypoint lines to ``keypoints``; returns the exit status (130/143 when
    a stop signal ended it)."""
    from pose.api import run_video
    from pose.options import report_runtime, video_options
    console.note(f'running the pose detector on {args.input} -> {keypoints}')
    os.makedirs(os.path.dirname(os.path.abspath(keypoints)), exist_ok=True)
    report_runtime(console, args.gpu, args.verbose)
    summary = run_video(args.input, video_options(
        args, every=args.every, keypoints_out=keypoints))
    for warning in summary.warnings:
        console.warning(warning)
    for line in summary.lines():
        console.note(line)
    if summary.stopped_by:
        console.error(f'stopped by {summary.stopped_by} during the pose '
                      f'detection; the keypoints so far are in {keypoints}')
        return summary.exit_status()
    print(f'wrote {keypoints}')
    return EXIT_OK


def analyze(args: argparse.Namespace, console: Console) -> int:
    from fms.labels import analysis_summary
    from fms.trial import (analyze_trial, check_request, is_video,
                           keypoints_path, subject_name, write_trial_report)
    request = trial_request(args)
    thresholds = check_request(request)        # before a long video run
    keypoints = keypoints_path(request)
    if is_video(request):
        status = detect(args, keypoints, console)
        if status != EXIT_OK:
            return status
    analysis = analyze_trial(request, keypoints, thresholds)
    paths = write_trial_report(request, analysis)
    for line in analysis_summary(analysis, subject_name(request)):
        print(line)
    for path in paths.values():
        print(f'wrote {path}')
    return EXIT_OK


def load_trials(args: argparse.Namespace, console: Console
                ) -> Tuple[Dict[Key, int], Dict[Key, int], Dict[Key, dict]]:
    """``(coach scores, automatic scores, result documents)``, with a note
    for the files of --auto that are not results."""
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
    from fms import calibration, calibration_output, scoring, thresholds
    inputs = [args.coach, thresholds.DEFAULT_THRESHOLDS_PATH]
    if os.path.isdir(args.auto):
        inputs += [os.path.join(args.auto, name)
                   for name in os.listdir(args.auto)]
    if args.thresholds:
        inputs.append(args.thresholds)
    calibration_output.check_calibration_outputs(args.out, inputs)
    details = thresholds.threshold_details(args.thresholds)
    coach, _, documents = load_trials(args, console)
    result = calibration.calibrate(documents, coach, scoring.rescore,
                                   thresholds.search_space(details),
                                   thresholds.threshold_values(details),
                                   folds=args.folds)
    print(calibration_output.format_calibration(result), end='')
    for path in calibration_output.write_calibration(result, args.out,
                                                     details, inputs):
        print(f'wrote {path}')
    return EXIT_OK


COMMANDS = {'analyze': analyze, 'agreement': agreement,
            'calibrate': calibrate}


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return run_command(PROG, lambda: COMMANDS[args.command](
        args, Console(PROG)))


if __name__ == '__main__':
    sys.exit(main())
