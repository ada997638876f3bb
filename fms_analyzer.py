#!/usr/bin/env python3
"""Functional Movement Screen analysis: scores, agreement, calibration.

Three commands:

``analyze INPUT --test TEST --view front|side [--side left|right]``
    INPUT is a keypoint file of ``video_pose_detector.py --json`` (``.jsonl``
    or ``.json``) or a video (the detector runs on it first).  Follows one
    subject, measures the angles the test's criteria need, finds the key
    frame, suggests a 0-3 score with its reasons, and writes
    ``<subject>_<test>[_<side>]_<view>.json``, ``..._angles.png`` and
    ``..._key_frame.png`` into --out.

``agreement --auto RESULTS/ --coach COACH.csv``
    Compares the suggested scores with a coach's: exact agreement and
    quadratic weighted kappa per test and overall, confusion matrices,
    totals and the "total <= 14" risk flag, the disagreements to review.

``calibrate --auto RESULTS/ --coach COACH.csv --out THRESHOLDS.json``
    Searches the criteria thresholds that agree best with the coach, with
    cross-validation by subject, and writes them in the format of
    ``fms/thresholds.json`` (use them with ``analyze --thresholds``).

Example::

    python fms_analyzer.py analyze anna_squat.jsonl --test deep_squat \\
        --view side --subject anna --out results
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from fms import FmsError
from fms.protocol import SIDES, TESTS, VIEWS

#: File name endings read as keypoint files; anything else is a video.
KEYPOINT_SUFFIXES = ('.jsonl', '.json')
DEFAULT_RESULTS_DIR = 'fms_results'
DEFAULT_WEIGHTS = 'models/coco_posenet.npz'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Run "fms_analyzer.py COMMAND --help" for the options of '
               'each command.')
    commands = parser.add_subparsers(dest='command', required=True)
    _analyze_arguments(commands.add_parser(
        'analyze', help='score one trial from a video or a keypoint file'))
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
             'confusion_matrices.png (default: DIR/agreement)')
    calibrate = commands.choices['calibrate']
    calibrate.add_argument('--out', required=True, metavar='JSON',
                           help='where to write the calibrated thresholds')
    calibrate.add_argument('--thresholds', metavar='JSON',
                           help='thresholds to start from (default: the '
                                'packaged fms/thresholds.json)')
    calibrate.add_argument('--folds', type=int, default=5,
                           help='cross-validation folds (default 5)')
    return parser.parse_args(argv)


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
                             'one present in most frames)')
    parser.add_argument('--pain', action='store_true',
                        help='the subject reported pain (score 0)')
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
    video = parser.add_argument_group('when INPUT is a video')
    video.add_argument('--weights', default=DEFAULT_WEIGHTS,
                       help=f'body weights (default {DEFAULT_WEIGHTS})')
    video.add_argument('--gpu', type=int, default=-1,
                       help='GPU id (default -1: CPU)')
    video.add_argument('--every', type=int, default=1, metavar='N',
                       help='run the network on every N-th frame')


def trial_stem(subject: str, test: str, side: Optional[str],
               view: str) -> str:
    """File name stem of a trial's report: ``anna_aslr_left_side``."""
    return '_'.join(part for part in (subject, test, side, view) if part)


def keypoints_of(args) -> Optional[str]:
    """The keypoint file to analyse: INPUT itself, or the one written by
    running the detector on the video INPUT (into --out); None when the
    detector failed (it has printed why)."""
    if args.input.lower().endswith(KEYPOINT_SUFFIXES):
        return args.input
    import video_pose_detector
    stem = os.path.splitext(os.path.basename(args.input))[0]
    os.makedirs(args.out, exist_ok=True)
    lines = os.path.join(args.out, f'{stem}_keypoints.jsonl')
    print(f'running the pose detector on {args.input} -> {lines}')
    status = video_pose_detector.main(
        ['--video', args.input, '--weights', args.weights, '--gpu',
         str(args.gpu), '--every', str(args.every), '--no-video', '--json',
         lines])
    return lines if status == 0 else None


def analyze(args) -> int:
    from fms import report
    from fms.analysis import analyze_track
    from fms.criteria import load_thresholds
    from fms.sequence import read_keypoint_file, select_subject
    from fms.protocol import check_side, check_test, check_view
    check_side(check_test(args.test), args.side)     # before a long video run
    check_view(args.view)
    thresholds = load_thresholds(args.thresholds) if args.thresholds else None
    path = keypoints_of(args)
    if path is None:
        return 2
    track = select_subject(read_keypoint_file(path), args.person_id,
                           source=path)
    inputs = {'pain': args.pain, 'heels_raised': args.heels_raised,
              'sex': args.sex, 'pattern': args.pattern}
    analysis = analyze_track(track, args.test, args.side, args.view,
                             {k: v for k, v in inputs.items()
                              if v is not None}, thresholds)
    subject = args.subject or os.path.splitext(
        os.path.basename(args.input))[0]
    is_video = path != args.input
    image = (report.read_video_frame(args.input,
                                     int(track.frames[analysis.key_index]))
             if is_video else None)
    paths = report.write_report(
        analysis, subject, args.out,
        trial_stem(subject, analysis.test, analysis.side, analysis.view),
        image=image, input_paths=[args.input])
    print_analysis(analysis, subject)
    for path in paths.values():
        print(f'wrote {path}')
    return 0


def print_analysis(analysis, subject: str) -> None:
    from fms.report import criterion_line
    side = f' ({analysis.side})' if analysis.side else ''
    key = analysis.key_index
    print(f'{subject}: {analysis.test}{side}, {analysis.view} view: '
          f'suggested score {analysis.score}')
    print(f'key frame {int(analysis.track.frames[key])} at '
          f'{analysis.track.times[key]:.2f} s ({analysis.key_reason})')
    for criterion in analysis.criteria:
        print(f'  {criterion_line(criterion)}')
    for reason in analysis.reasons:
        print(f'  - {reason}')


def load_trials(args):
    """``(coach scores, automatic scores, result documents)`` with a note
    for the files of --auto that are not results."""
    from fms.agreement import load_auto_results, load_coach_csv
    coach = load_coach_csv(args.coach)
    skipped: List[str] = []
    auto, documents = load_auto_results(args.auto, skipped)
    if skipped:
        print(f'note: skipped {len(skipped)} file(s) in {args.auto} that '
              f'are not results: {", ".join(map(os.path.basename, skipped))}')
    return coach, auto, documents


def agreement(args) -> int:
    from fms.agreement import agreement_report, format_report, write_agreement
    coach, auto, _ = load_trials(args)
    report = agreement_report(auto, coach)
    print(format_report(report))
    for path in write_agreement(report, args.out or os.path.join(
            args.auto, 'agreement')):
        print(f'wrote {path}')
    return 0


def calibrate(args) -> int:
    from fms import calibration, criteria
    coach, _, documents = load_trials(args)
    details = criteria.threshold_details(args.thresholds)
    result = calibration.calibrate(documents, coach, criteria.rescore,
                                   criteria.search_space(details),
                                   criteria.threshold_values(details),
                                   folds=args.folds)
    print(calibration.format_calibration(result))
    inputs = [args.coach, criteria.DEFAULT_THRESHOLDS_PATH,
              *(os.path.join(args.auto, name)
                for name in os.listdir(args.auto))]
    if args.thresholds:
        inputs.append(args.thresholds)
    calibration.write_thresholds(result, args.out, details, inputs)
    print(f'wrote {args.out}')
    return 0


COMMANDS = {'analyze': analyze, 'agreement': agreement,
            'calibrate': calibrate}


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from models.convert import WeightsError
    from pose.detector import DeviceError
    from pose.video_io import VideoError
    try:
        return COMMANDS[args.command](args)
    except (FmsError, WeightsError, DeviceError, VideoError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
