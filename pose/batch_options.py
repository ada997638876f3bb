"""The command-line arguments of a batch of videos (``--videos``).

:func:`add_batch_arguments` adds ``--out-dir``, ``--ray`` and
``--ray-workers`` to the video command; :func:`check_batch_arguments`
refuses the single-video options a batch names for itself;
:func:`batch_request` and :func:`batch_runner` turn the parsed arguments
into what :func:`pose.batch.run_batch` takes.
"""
from __future__ import annotations

import argparse
import threading
from typing import Callable, Optional

from pose.batch_jobs import (BatchRequest, CSV_EXTENSION, JSON_FOLDER,
                             KEYPOINTS_EXTENSION, VIDEO_SUFFIX)
from pose.options import VideoOptions

#: Where a batch writes each video's outputs, for the messages.
OUTPUTS_HELP = (f'<name>{VIDEO_SUFFIX}, <name>{KEYPOINTS_EXTENSION}, '
                f'<name>{CSV_EXTENSION} and {JSON_FOLDER}/ in --out-dir')
#: Single-video options a batch refuses: (attribute, flag).
SINGLE_VIDEO_OPTIONS = (('out', '--out'), ('json', '--json'),
                        ('show', '--show'))
#: Options that take an optional path for one video and none in a batch:
#: (attribute, flag).
BATCH_FLAG_OPTIONS = (('write_json', '--write-json'), ('csv', '--csv'))


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """``--out-dir``, ``--ray ADDRESS``, ``--ray-workers N``."""
    parser.add_argument('--out-dir', metavar='DIR',
                        help=f'with --videos: the output folder '
                             f'({OUTPUTS_HELP}; batch.jsonl records each '
                             f'video, and a rerun skips the videos done)')
    parser.add_argument('--ray', metavar='ADDRESS',
                        help="with --videos: process the videos on a Ray "
                             "cluster: 'local' (start one here), 'auto' (the "
                             "running one) or HOST:6379 / ray://HOST:10001")
    parser.add_argument('--ray-workers', type=int, metavar='N',
                        help='with --ray: workers (default: one per GPU, or '
                             'per CPU machine)')


def check_batch_arguments(parser: argparse.ArgumentParser,
                          args: argparse.Namespace) -> None:
    """argparse's error (exit 2) for options that do not go with
    ``--videos``, or a missing ``--out-dir``."""
    if not args.out_dir:
        parser.error('--videos needs --out-dir: the folder for every '
                     'video\'s outputs')
    for attribute, flag in SINGLE_VIDEO_OPTIONS:
        if getattr(args, attribute, None):
            parser.error(f'{flag} is for one video; with --videos the '
                         f'outputs go to --out-dir ({OUTPUTS_HELP})')
    for attribute, flag in BATCH_FLAG_OPTIONS:
        if isinstance(getattr(args, attribute, None), str):
            parser.error(f'{flag} takes no value with --videos; the batch '
                         f'writes it into --out-dir ({OUTPUTS_HELP})')
    if args.ray_workers is not None and args.ray_workers < 1:
        parser.error('--ray-workers must be at least 1')


def check_single_video_arguments(parser: argparse.ArgumentParser,
                                 args: argparse.Namespace) -> None:
    """argparse's error for batch options without ``--videos``."""
    for value, flag in ((args.out_dir, '--out-dir'), (args.ray, '--ray'),
                        (args.ray_workers, '--ray-workers')):
        if value is not None:
            parser.error(f'{flag} goes with --videos')


def batch_request(args: argparse.Namespace,
                  options: VideoOptions) -> BatchRequest:
    """The :class:`pose.batch_jobs.BatchRequest` of parsed arguments."""
    return BatchRequest(args.videos, args.out_dir, options,
                        video=not args.no_video,
                        json=getattr(args, 'write_json', None) is not None,
                        csv=getattr(args, 'csv', None) is not None)


def batch_runner(args: argparse.Namespace, options: VideoOptions
                 ) -> Optional[Callable]:
    """None (this process runs the videos), or with ``--ray`` a function
    making the Ray runner (from the batch's stop event) once the batch is
    checked."""
    if not args.ray:
        return None

    def make(stop: threading.Event):
        from pose.ray_batch import ray_runner    # Ray only when asked for
        return ray_runner(args.ray, options, args.ray_workers, stop=stop)
    return make
