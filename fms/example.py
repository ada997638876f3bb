"""The README's example report, made from a synthetic deep squat.

``python -m fms.example [OUT_DIR]`` writes a keypoint file of a synthetic
side-view deep squat (2 px keypoint noise, a 5-frame gap) whose femur passes
horizontal but whose trunk leans 18 degrees further than the tibia, then runs
``fms_analyzer.py analyze`` on it.  The committed copy lives in
``data/fms_example/`` (``make fms-example`` makes it again).
"""
from __future__ import annotations

import os
import sys

import fms_analyzer
from fms import synthetic

DEFAULT_OUT_DIR = os.path.join('data', 'fms_example')
KEYPOINT_FILE = 'example_squat.jsonl'


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = argv[0] if argv else DEFAULT_OUT_DIR
    os.makedirs(out, exist_ok=True)
    track = synthetic.deep_squat_sequence(
        frames=90, min_femur_angle_deg=8.0, key_frame=45,
        trunk_excess_deg=18.0, noise_px=2.0, gaps=((20, 25),), seed=1)
    keypoints = os.path.join(out, KEYPOINT_FILE)
    synthetic.write_keypoint_file(track, keypoints)
    return fms_analyzer.main(['analyze', keypoints, '--test', 'deep_squat',
                              '--view', 'side', '--subject', 'example',
                              '--out', out])


if __name__ == '__main__':
    sys.exit(main())
