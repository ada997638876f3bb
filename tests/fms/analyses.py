"""A hand-built trial analysis for the report tests: a standing subject who
squats once, with known keypoints, curves, measurements and criteria."""
import numpy as np

import entity
from fms.measurements import CENTRAL, Anchor, Measurement
from fms.results import Analysis, CriterionResult
from fms.sequence import Track

FRAMES = 60
FPS = 30.0
KEY = 30
WIDTH, HEIGHT = 640, 480

#: A standing subject facing the camera, (x, y) pixels per joint name.
STANDING = {
    'Nose': (320, 100), 'Neck': (320, 140),
    'RShoulder': (290, 140), 'RElbow': (280, 190), 'RWrist': (275, 235),
    'LShoulder': (350, 140), 'LElbow': (360, 190), 'LWrist': (365, 235),
    'RHip': (300, 250), 'RKnee': (300, 330), 'RAnkle': (300, 410),
    'LHip': (340, 250), 'LKnee': (340, 330), 'LAnkle': (340, 410),
    'REye': (312, 92), 'LEye': (328, 92), 'REar': (304, 96),
    'LEar': (336, 96),
}
#: Joints that stay put while the subject squats.
FEET = ('RAnkle', 'LAnkle')
SQUAT_DEPTH_PX = 60.0


def joint(name):
    return entity.JOINT_INDEX[name]


def standing_xy():
    """(18, 2) float64 keypoints of :data:`STANDING`."""
    return np.array([STANDING[n] for n in entity.JOINT_NAMES], np.float64)


def synthetic_track(source=''):
    """A squat: everything but the ankles goes down and up once; the left
    ankle is missing in frames 20-24; a right hand beside the right wrist."""
    times = np.arange(FRAMES) / FPS
    depth = SQUAT_DEPTH_PX * np.sin(np.pi * np.arange(FRAMES) / (FRAMES - 1))
    xy = np.repeat(standing_xy()[None], FRAMES, axis=0)
    moving = [i for i, n in enumerate(entity.JOINT_NAMES) if n not in FEET]
    xy[:, moving, 1] += depth[:, None]
    xy[20:25, joint('LAnkle')] = np.nan
    hands = np.full((FRAMES, 2, entity.NUM_HAND_KEYPOINTS, 2), np.nan)
    fan = np.stack([np.linspace(-12, 12, entity.NUM_HAND_KEYPOINTS),
                    np.linspace(5, 30, entity.NUM_HAND_KEYPOINTS)], axis=1)
    hands[:, entity.RIGHT_HAND] = xy[:, joint('RWrist')][:, None, :] + fan
    confidence = np.where(np.isfinite(xy).all(axis=2), 0.9, 0.0)
    return Track(times=times, frames=np.arange(FRAMES, dtype=np.int64) + 100,
                 xy=xy, confidence=confidence, hands=hands, person_id=3,
                 source=source)


def synthetic_analysis(key=KEY, source=''):
    """The :class:`Analysis` of :func:`synthetic_track`: score 2, one
    criterion passed, one failed, one not observable."""
    track = synthetic_track(source)
    knee = 180.0 - 100.0 * np.sin(np.pi * np.arange(FRAMES) / (FRAMES - 1))
    knee[40:45] = np.nan
    trunk = np.linspace(5.0, 35.0, FRAMES)
    criteria = [
        CriterionResult('femur_below_horizontal', 'thigh below horizontal',
                        'knee_flexion', 95.0, 'deg', 'femur_deg', 90.0, '>=',
                        True, True),
        CriterionResult('trunk_parallel_tibia', 'trunk upright',
                        'trunk_inclination', 30.0, 'deg', 'trunk_deg', 20.0,
                        '<=', True, False),
        CriterionResult('knee_valgus', 'knees over feet', 'knee_valgus',
                        None, 'fraction', 'valgus', 0.1, '<=', False, None,
                        note='needs the front view'),
    ]
    return Analysis(
        test='deep_squat', side=None, view='side', track=track,
        curves={'knee_flexion': knee, 'trunk_inclination': trunk},
        curve_units={'knee_flexion': 'deg', 'trunk_inclination': 'deg'},
        curve_thresholds={'knee_flexion': [('femur horizontal', 90.0)]},
        key_index=key, key_reason='lowest hip position',
        measurements={
            'knee_flexion': Measurement(95.0, 'deg', Anchor('Knee')),
            'trunk_inclination': Measurement(30.0, 'deg',
                                             Anchor('Hip', CENTRAL)),
            'knee_valgus': Measurement(None, 'fraction', Anchor('Knee'))},
        criteria=criteria, score=2,
        reasons=['trunk leans forward more than 20 deg'],
        inputs={'pain': False}, thresholds={'femur_deg': 90.0,
                                            'trunk_deg': 20.0,
                                            'valgus': 0.1})
