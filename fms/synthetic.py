"""Synthetic keypoint sequences with known kinematics.

A stick figure with realistic segment lengths is posed from joint angles in
3-D (x forward, y up from the floor, z toward the subject's left, in body
heights) and projected orthographically onto the image of a side camera
(image x = forward) or a front camera (image x = the subject's left; a
camera behind the subject mirrors it).  Image coordinates are ``(x, y)``
pixels with y down.  Tests use the sequences to check that the analysis
recovers known angles, key frames and scores; the README shows one.

Every generator returns a :class:`fms.sequence.Track` of (T, 18, 2)
``(x, y)`` float64 keypoints with optional Gaussian pixel noise (seeded) and
gaps (frame ranges where every joint is missing).
"""
from __future__ import annotations

import json
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from entity import JOINT_INDEX, NUM_HAND_KEYPOINTS, NUM_JOINTS
from fms import FmsError
from fms.sequence import HAND_FIELDS, PERSON_ID_FIELD, POSE_FIELD, Track

# ---------------------------------------------------------------------------
# Body and image
# ---------------------------------------------------------------------------

#: Standing height of the figure in pixels (a subject filling most of a
#: 720-pixel-high frame).
BODY_HEIGHT_PX = 600.0
#: Image position of the origin: x of the figure's reference point, y of
#: the floor (pixels).
IMAGE_CENTRE_X = 400.0
FLOOR_Y = 700.0
#: Confidence written for every found joint.
SYNTHETIC_CONFIDENCE = 0.9

# Segment lengths and heights as fractions of body height H, from Drillis &
# Contini (1966) as tabulated by Winter, "Biomechanics and Motor Control of
# Human Movement" (2009), fig. 4.1.
THIGH = 0.245            # hip joint to knee joint (0.530 H - 0.285 H)
SHANK = 0.246            # knee joint to ankle joint (0.285 H - 0.039 H)
ANKLE_HEIGHT = 0.039     # ankle joint above the floor
TRUNK = 0.288            # hip joint to shoulder joint (0.818 H - 0.530 H)
UPPER_ARM = 0.186
FOREARM = 0.146
HAND = 0.108             # wrist to middle fingertip
SHOULDER_WIDTH = 0.259
HIP_WIDTH = 0.191
# Head points relative to the neck along the trunk ("up") and the facing
# direction ("face"), and sideways (z), in H: our approximation of the
# heights of nose (~0.91 H), eyes (0.936 H) and ears over the acromion.
NOSE_UP, NOSE_FACE = 0.09, 0.04
EYE_UP, EYE_FACE, EYE_SIDE = 0.11, 0.03, 0.03
EAR_UP, EAR_FACE, EAR_SIDE = 0.10, -0.04, 0.07
#: Height of the body's joint centres above the floor when lying (H).
LYING_HEIGHT = 0.06

SIDE_Z = {'R': -1.0, 'L': 1.0}      # sign of z of each side's joints
SIDE_LETTER = {'right': 'R', 'left': 'L'}
Pose = Dict[str, np.ndarray]        # joint name -> (T, 3) x, y, z in H


def bell(frames: int, key_frame: int) -> np.ndarray:
    """(frames,) float64 cosine-shaped profile: 0 at the first and last
    frames, 1 at ``key_frame``, with zero slope there (a smooth descent and
    ascent)."""
    if not 0 < key_frame < frames - 1:
        raise FmsError(f'key frame {key_frame} must lie inside 1..'
                       f'{frames - 2}')
    t = np.arange(frames, dtype=np.float64)
    down = 0.5 * (1 - np.cos(np.pi * t / key_frame))
    up = 0.5 * (1 - np.cos(np.pi * (frames - 1 - t)
                           / (frames - 1 - key_frame)))
    return np.where(t <= key_frame, down, up)


def _point(x, y, z, frames: int) -> np.ndarray:
    """(frames, 3) from scalars or (frames,) arrays."""
    return np.stack(np.broadcast_arrays(
        *(np.asarray(v, np.float64) for v in (x, y, z)),
        np.zeros(frames)), axis=-1)[:, :3]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def head(neck: np.ndarray, up: np.ndarray, face: np.ndarray) -> Pose:
    """Nose, eyes and ears from the (T, 3) neck and the unit directions
    ``up`` (along the trunk, toward the head) and ``face`` (where the face
    points)."""
    side = np.array([0.0, 0.0, 1.0])
    nose = neck + NOSE_UP * up + NOSE_FACE * face
    pose = {'Nose': nose}
    for letter in 'RL':
        z = SIDE_Z[letter] * side
        pose[letter + 'Eye'] = neck + EYE_UP * up + EYE_FACE * face \
            + EYE_SIDE * z
        pose[letter + 'Ear'] = neck + EAR_UP * up + EAR_FACE * face \
            + EAR_SIDE * z
    return pose


def project(pose: Pose, view: str, mirror: bool = False) -> np.ndarray:
    """(T, 18, 2) ``(x, y)`` image pixels of a 3-D pose: side view x =
    forward, front view x = the subject's left (``mirror``: camera behind,
    x = the subject's right); y = floor minus height."""
    missing = [name for name in JOINT_INDEX if name not in pose]
    if missing:
        raise FmsError(f'synthetic pose lacks {", ".join(missing)}')
    axis = {'side': 0, 'front': 2}[view]
    frames = len(next(iter(pose.values())))
    xy = np.empty((frames, NUM_JOINTS, 2))
    for name, index in JOINT_INDEX.items():
        across = pose[name][:, axis] * (-1.0 if mirror else 1.0)
        xy[:, index, 0] = IMAGE_CENTRE_X + BODY_HEIGHT_PX * across
        xy[:, index, 1] = FLOOR_Y - BODY_HEIGHT_PX * pose[name][:, 1]
    return xy


def make_track(xy: np.ndarray, fps: float = 30.0, noise_px: float = 0.0,
               gaps: Iterable[Tuple[int, int]] = (), seed: int = 0,
               hands: Optional[np.ndarray] = None) -> Track:
    """A :class:`Track` of (T, 18, 2) ``xy`` (and optional (T, 2, 21, 2)
    ``hands``) with Gaussian noise of ``noise_px`` pixels (seeded) and
    every joint missing in each ``(start, stop)`` frame range of ``gaps``
    (stop excluded)."""
    rng = np.random.default_rng(seed)
    xy = xy + rng.normal(0.0, noise_px, xy.shape) if noise_px else xy.copy()
    if hands is not None and noise_px:
        hands = hands + rng.normal(0.0, noise_px, hands.shape)
    for start, stop in gaps:
        xy[start:stop] = np.nan
        if hands is not None:
            hands[start:stop] = np.nan
    frames = len(xy)
    confidence = np.where(np.isfinite(xy).all(axis=-1),
                          SYNTHETIC_CONFIDENCE, 0.0)
    return Track(times=np.arange(frames) / float(fps),
                 frames=np.arange(frames, dtype=np.int64), xy=xy,
                 confidence=confidence, hands=hands, person_id=0, source='')


def write_keypoint_file(track: Track, path: str) -> None:
    """Write ``track`` as a keypoint file (JSON lines, the format of
    ``video_pose_detector.py --json``): one line per row, the subject as
    the only person with ``person_id`` ``[track.person_id]``; a frame where
    every joint is missing has no people; missing joints are 0, 0, 0."""
    with open(path, 'w', encoding='utf-8') as stream:
        for row in range(len(track)):
            record = {'frame': int(track.frames[row]),
                      'time': round(float(track.times[row]), 6),
                      'carried': False, 'version': 1.3,
                      'people': _people(track, row)}
            stream.write(json.dumps(record) + '\n')


def _flat(points: np.ndarray, confidence: np.ndarray) -> list:
    found = np.isfinite(points).all(axis=-1) & (confidence > 0)
    values = np.where(found[:, None], np.column_stack(
        [np.nan_to_num(points), confidence]), 0.0)
    return [round(float(v), 3) for v in values.ravel()]


def _people(track: Track, row: int) -> list:
    if not np.isfinite(track.xy[row]).any():
        return []
    person = {PERSON_ID_FIELD: [int(track.person_id)],
              POSE_FIELD: _flat(track.xy[row], track.confidence[row]),
              'face_keypoints_2d': []}
    for hand, field in enumerate(HAND_FIELDS):
        person[field] = [] if track.hands is None else _flat(
            track.hands[row, hand],
            np.full(NUM_HAND_KEYPOINTS, SYNTHETIC_CONFIDENCE))
    return [person]


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------

def _direction(angle_deg, frames: int, base: Tuple[float, float] = (0, 1),
               ) -> np.ndarray:
    """(T, 3) unit vector in the x-y plane at ``angle_deg`` from ``base``
    (x, y), turning toward +x (forward) for positive angles."""
    a = np.radians(np.broadcast_to(np.asarray(angle_deg, float), (frames,)))
    bx, by = base
    return _point(bx * np.cos(a) + by * np.sin(a),
                  by * np.cos(a) - bx * np.sin(a), 0.0, frames)


def _sided(centre: np.ndarray, half_width: float, letter: str) -> np.ndarray:
    """``centre`` moved sideways to the ``letter`` ('R'/'L') side."""
    return centre + np.array([0.0, 0.0, SIDE_Z[letter] * half_width])


def _blend(start: Pose, end: Pose, s: np.ndarray) -> Pose:
    """Joint-wise linear blend of two poses with (T,) weights ``s``."""
    return {name: start[name] + (end[name] - start[name]) * s[:, None]
            for name in start}


def _static(pose: Dict[str, Tuple[float, float, float]],
            frames: int) -> Pose:
    return {name: _point(*xyz, frames) for name, xyz in pose.items()}


def _finish(pose: Pose, view: str, fps: float, noise_px: float,
            gaps, seed: int, mirror: bool = False, hands=None) -> Track:
    if view not in ('side', 'front'):
        raise FmsError(f'unknown view {view!r}: use front or side')
    return make_track(project(pose, view, mirror), fps, noise_px, gaps,
                      seed, hands)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

def deep_squat_sequence(frames: int = 90, fps: float = 30.0,
                        min_femur_angle_deg: float = 10.0,
                        key_frame: int = 45, view: str = 'side',
                        noise_px: float = 0.0, gaps=(), seed: int = 0,
                        tibia_lean_deg: float = 35.0,
                        trunk_excess_deg: float = 0.0,
                        dowel_offset_tibia: float = 0.0,
                        knee_medial_hip_widths: float = 0.0) -> Track:
    """A deep squat, feet shoulder width apart, dowel overhead.

    The femur angle (positive = hip below knee) goes from -90 (standing)
    to ``min_femur_angle_deg`` at ``key_frame`` and back, on a cosine
    profile (:func:`bell`); the tibia leans forward to ``tibia_lean_deg``
    and the trunk to ``tibia_lean_deg + trunk_excess_deg`` on the same
    profile, so the hip is lowest at ``key_frame``.  The straight arms put
    the wrists ``dowel_offset_tibia`` tibia lengths in front of the ankles;
    the knees move ``knee_medial_hip_widths`` hip widths toward the midline
    at the bottom (frontal view).
    """
    s = bell(frames, key_frame)
    femur = np.radians(-90.0 + (min_femur_angle_deg + 90.0) * s)
    tibia, trunk = tibia_lean_deg * s, (tibia_lean_deg + trunk_excess_deg) * s
    ankle = _point(0.0, ANKLE_HEIGHT, 0.0, frames)
    knee = ankle + SHANK * _direction(tibia, frames)
    hip = knee + THIGH * _point(-np.cos(femur), -np.sin(femur), 0.0, frames)
    shoulder = hip + TRUNK * _direction(trunk, frames)
    arm = UPPER_ARM + FOREARM
    reach = np.clip((dowel_offset_tibia * SHANK - shoulder[:, 0]) / arm,
                    -1.0, 1.0)
    arm_dir = _point(reach, np.sqrt(1 - reach ** 2), 0.0, frames)
    pose: Pose = {}
    for letter in 'RL':
        shift = -SIDE_Z[letter] * knee_medial_hip_widths * HIP_WIDTH * s
        pose[letter + 'Ankle'] = _sided(ankle, SHOULDER_WIDTH / 2, letter)
        pose[letter + 'Knee'] = _sided(knee, SHOULDER_WIDTH / 2, letter) \
            + _point(0.0, 0.0, shift, frames)
        pose[letter + 'Hip'] = _sided(hip, HIP_WIDTH / 2, letter)
        pose[letter + 'Shoulder'] = _sided(shoulder, SHOULDER_WIDTH / 2,
                                           letter)
        pose[letter + 'Elbow'] = pose[letter + 'Shoulder'] \
            + UPPER_ARM * arm_dir
        pose[letter + 'Wrist'] = pose[letter + 'Shoulder'] + arm * arm_dir
    up = _direction(trunk, frames)
    pose['Neck'] = shoulder
    pose.update(head(shoulder, up, _direction(trunk + 90.0, frames)))
    return _finish(pose, view, fps, noise_px, gaps, seed)


def leg_raise_sequence(frames: int = 90, fps: float = 30.0,
                       max_angle_deg: float = 80.0, key_frame: int = 45,
                       side: str = 'right', view: str = 'side',
                       noise_px: float = 0.0, gaps=(), seed: int = 0
                       ) -> Track:
    """An active straight-leg raise: lying on the back (head toward -x,
    feet toward +x), the ``side`` leg rises straight about the hip to
    ``max_angle_deg`` from the floor at ``key_frame`` (cosine profile) and
    back; the other leg stays down.  With thigh and shank of nearly equal
    length, the raised ankle projects onto the down leg at the fraction
    ``1 - (THIGH + SHANK) / THIGH * cos(angle)`` from knee to hip."""
    letter = SIDE_LETTER[side]
    angle = max_angle_deg * bell(frames, key_frame)
    hip = _point(0.0, LYING_HEIGHT, 0.0, frames)
    raised = _direction(angle, frames, base=(1, 0))
    flat = _point(1.0, 0.0, 0.0, frames)
    shoulder = hip - TRUNK * flat
    pose: Pose = {'Neck': shoulder}
    for side_letter in 'RL':
        leg = raised if side_letter == letter else flat
        pose[side_letter + 'Hip'] = _sided(hip, HIP_WIDTH / 2, side_letter)
        pose[side_letter + 'Knee'] = pose[side_letter + 'Hip'] + THIGH * leg
        pose[side_letter + 'Ankle'] = pose[side_letter + 'Hip'] \
            + (THIGH + SHANK) * leg
        pose[side_letter + 'Shoulder'] = _sided(shoulder, SHOULDER_WIDTH / 2,
                                                side_letter)
        pose[side_letter + 'Elbow'] = pose[side_letter + 'Shoulder'] \
            + UPPER_ARM * flat
        pose[side_letter + 'Wrist'] = pose[side_letter + 'Elbow'] \
            + FOREARM * flat
    pose.update(head(shoulder, -flat, _point(0.0, 1.0, 0.0, frames)))
    return _finish(pose, view, fps, noise_px, gaps, seed)


def _standing_upper(hip: np.ndarray, trunk_deg, frames: int,
                    pose: Pose) -> None:
    """Add shoulders, neck, head and arms hanging down to ``pose`` for a
    trunk leaning ``trunk_deg`` forward from the (T, 3) hip midpoint."""
    shoulder = hip + TRUNK * _direction(trunk_deg, frames)
    down = _point(0.0, -1.0, 0.0, frames)
    for letter in 'RL':
        top = _sided(shoulder, SHOULDER_WIDTH / 2, letter)
        pose[letter + 'Shoulder'] = top
        pose[letter + 'Elbow'] = top + UPPER_ARM * down
        pose[letter + 'Wrist'] = top + (UPPER_ARM + FOREARM) * down
    pose['Neck'] = shoulder
    pose.update(head(shoulder, _direction(trunk_deg, frames),
                     _direction(np.asarray(trunk_deg) + 90.0, frames)))


def hurdle_step_sequence(frames: int = 60, fps: float = 30.0,
                         side: str = 'right', hip_flexion_deg: float = 90.0,
                         knee_flexion_deg: float = 120.0,
                         key_frame: int = 30, view: str = 'side',
                         noise_px: float = 0.0, gaps=(), seed: int = 0
                         ) -> Track:
    """A hurdle step: standing upright, the ``side`` leg flexes at the hip
    to ``hip_flexion_deg`` and at the knee to ``knee_flexion_deg`` at
    ``key_frame`` (cosine profile) and returns; the stepping ankle then
    rises ``THIGH (1 - cos hip) + SHANK (1 - cos(knee - hip))`` body heights
    (1.13 shank lengths with the defaults)."""
    s = bell(frames, key_frame)
    hip_angle, knee_angle = hip_flexion_deg * s, knee_flexion_deg * s
    hip = _point(0.0, ANKLE_HEIGHT + SHANK + THIGH, 0.0, frames)
    down = _point(0.0, -1.0, 0.0, frames)
    pose: Pose = {}
    for letter in 'RL':
        top = _sided(hip, HIP_WIDTH / 2, letter)
        if letter == SIDE_LETTER[side]:
            thigh = _direction(180.0 - hip_angle, frames)
            shank = _direction(180.0 - hip_angle + knee_angle, frames)
        else:
            thigh = shank = down
        pose[letter + 'Hip'] = top
        pose[letter + 'Knee'] = top + THIGH * thigh
        pose[letter + 'Ankle'] = pose[letter + 'Knee'] + SHANK * shank
    _standing_upper(hip, 0.0, frames, pose)
    return _finish(pose, view, fps, noise_px, gaps, seed)


def _lunge_pose(front: str, hip_height: float, knee_gap: float,
                trunk_deg: float) -> Dict[str, Tuple[float, float, float]]:
    """Joint positions (H) of an in-line lunge, ``front`` leg forward
    (+x), feet on one line (z = 0), back heel raised."""
    back = 'L' if front == 'R' else 'R'
    hip_x, front_ankle = -0.03, (0.20, ANKLE_HEIGHT)
    back_ankle = (-0.30, ANKLE_HEIGHT + 0.03)
    back_knee = (hip_x, hip_height - THIGH) if knee_gap is None else \
        (hip_x, ANKLE_HEIGHT + knee_gap)
    hip = (hip_x, hip_height)
    front_knee = _knee(hip, front_ankle)
    pose = {}
    for letter, knee, ankle in ((front, front_knee, front_ankle),
                                (back, back_knee, back_ankle)):
        z = SIDE_Z[letter] * HIP_WIDTH / 2
        along = (hip[1] - knee[1]) / (hip[1] - ankle[1])
        pose[letter + 'Hip'] = (hip_x, hip_height, z)
        pose[letter + 'Knee'] = (knee[0], knee[1], z * (1 - along))
        pose[letter + 'Ankle'] = (ankle[0], ankle[1], 0.0)
    lean = np.radians(trunk_deg)
    shoulder = (hip_x + TRUNK * np.sin(lean), hip_height
                + TRUNK * np.cos(lean))
    for letter in 'RL':
        z = SIDE_Z[letter] * SHOULDER_WIDTH / 2
        pose[letter + 'Shoulder'] = (shoulder[0], shoulder[1], z)
        pose[letter + 'Elbow'] = (shoulder[0] - 0.08, shoulder[1] - 0.1, z)
        pose[letter + 'Wrist'] = (shoulder[0] - 0.1, shoulder[1]
                                  - (0.25 if letter == front else -0.1), z)
    pose['Neck'] = (shoulder[0], shoulder[1], 0.0)
    return pose


def _knee(hip: Tuple[float, float],
          ankle: Tuple[float, float]) -> Tuple[float, float]:
    """The knee (x, y) in H joining ``hip`` and ``ankle`` with the thigh and
    shank lengths, bent forward (+x)."""
    hx, hy = hip
    dx, dy = ankle[0] - hx, ankle[1] - hy
    d = np.hypot(dx, dy)
    along = (THIGH ** 2 - SHANK ** 2 + d ** 2) / (2 * d)
    across = np.sqrt(max(THIGH ** 2 - along ** 2, 0.0))
    ux, uy = dx / d, dy / d
    # of the two perpendiculars, the one pointing forward
    px, py = (-uy, ux) if -uy > 0 else (uy, -ux)
    return hx + along * ux + across * px, hy + along * uy + across * py


def inline_lunge_sequence(frames: int = 60, fps: float = 30.0,
                          side: str = 'right', knee_gap: float = 0.01,
                          trunk_lean_deg: float = 3.0, key_frame: int = 30,
                          view: str = 'side', noise_px: float = 0.0,
                          gaps=(), seed: int = 0) -> Track:
    """An in-line lunge, ``side`` leg in front: from the split stance the
    hip lowers until the back knee is ``knee_gap`` body heights above the
    front ankle's height at ``key_frame`` and rises again; the trunk leans
    ``trunk_lean_deg`` forward at the bottom (joint positions blended
    between the two poses on a cosine profile)."""
    front = SIDE_LETTER[side]
    top = _static(_lunge_pose(front, 0.45, None, 0.0), frames)
    bottom = _static(_lunge_pose(front, ANKLE_HEIGHT + knee_gap + THIGH,
                                 knee_gap, trunk_lean_deg), frames)
    pose = _blend(top, bottom, bell(frames, key_frame))
    neck = pose['Neck']
    hip = (pose['RHip'] + pose['LHip']) / 2
    pose.update(head(neck, _unit(neck - hip),
                     _unit(np.cross(_unit(neck - hip), [0.0, 0.0, 1.0]))))
    return _finish(pose, view, fps, noise_px, gaps, seed)


#: Hand keypoint template, in hand lengths along the hand (from the wrist
#: toward the fingertips) and across it: each finger's four points spread
#: from the knuckle (0.45) to its tip (relative finger lengths: our
#: approximation; the middle fingertip, keypoint 12, is at exactly 1).
FINGER_TIPS = (0.55, 0.9, 1.0, 0.93, 0.78)
FINGER_SPREAD = (-0.28, -0.1, 0.0, 0.1, 0.28)
KNUCKLE = 0.45


def hand_template() -> np.ndarray:
    """(21, 2) hand keypoints (along, across) in hand lengths; keypoint 0
    (wrist) at the origin, keypoint 12 (middle fingertip) at (1, 0)."""
    points = [(0.0, 0.0)]
    for tip, spread in zip(FINGER_TIPS, FINGER_SPREAD):
        for j in range(1, 5):
            points.append((KNUCKLE + (tip - KNUCKLE) * j / 4, spread))
    return np.array(points)


def _hand_points(wrist_xy: np.ndarray, direction: Tuple[float, float],
                 length_px: float) -> np.ndarray:
    """(T, 21, 2) image hand keypoints at (T, 2) wrists, the hand pointing
    along the image ``direction`` (unit x, y)."""
    along, across = hand_template().T
    dx, dy = direction
    offset = np.stack([along * dx - across * dy, along * dy + across * dx],
                      axis=-1) * length_px
    return wrist_xy[:, None, :] + offset[None]


def shoulder_mobility_sequence(frames: int = 60, fps: float = 30.0,
                               side: str = 'right',
                               fist_distance_hands: float = 0.8,
                               key_frame: int = 30, view: str = 'front',
                               with_hands: bool = True,
                               noise_px: float = 0.0, gaps=(),
                               seed: int = 0) -> Track:
    """Shoulder mobility filmed from behind (``view='front'``, mirrored) or
    the side: the ``side`` hand reaches down the back from over the
    shoulder, the other up from below; the fist centres (mean of the hand
    keypoints) come within ``fist_distance_hands`` hand lengths at
    ``key_frame`` (two hand lengths farther at the ends)."""
    top_letter = SIDE_LETTER[side]
    hand_px = HAND * BODY_HEIGHT_PX
    centre = hand_template()[:, 0].mean()      # wrist to fist centre, hands
    gap = (fist_distance_hands + 2 * (1 - bell(frames, key_frame))
           + 2 * centre) * HAND                # wrist to wrist, H
    hip = _point(0.0, ANKLE_HEIGHT + SHANK + THIGH, 0.0, frames)
    pose: Pose = {}
    for letter in 'RL':
        pose[letter + 'Hip'] = _sided(hip, HIP_WIDTH / 2, letter)
        pose[letter + 'Knee'] = pose[letter + 'Hip'] - _point(
            0.0, THIGH, 0.0, frames)
        pose[letter + 'Ankle'] = pose[letter + 'Knee'] - _point(
            0.0, SHANK, 0.0, frames)
    _standing_upper(hip, 0.0, frames, pose)
    middle = hip + _point(-0.06, TRUNK - 0.12, 0.0, frames)
    for letter, sign in ((top_letter, 1.0), ('L' if top_letter == 'R'
                                             else 'R', -1.0)):
        wrist = middle + _point(0.0, sign * gap / 2, 0.0, frames)
        pose[letter + 'Wrist'] = wrist
        pose[letter + 'Elbow'] = wrist + FOREARM * _point(
            0.0, sign, 0.0, frames)
    mirror = view == 'front'
    xy = project(pose, view, mirror)
    hands = None
    if with_hands:
        hands = np.stack([_hand_points(
            xy[:, JOINT_INDEX[letter + 'Wrist']],
            (0.0, 1.0) if letter == top_letter else (0.0, -1.0), hand_px)
            for letter in 'LR'], axis=1)
    return make_track(xy, fps, noise_px, gaps, seed, hands)


#: Wrist position along the body (shoulder 0, nose 1) for each push-up
#: hand position (see fms/thresholds.json, hand_*_min).
PUSHUP_HAND_POSITIONS = {'forehead': 1.0, 'chin': 0.15, 'clavicle': -0.35}


def pushup_sequence(frames: int = 60, fps: float = 30.0,
                    hand_position: str = 'forehead',
                    lift_deg: float = 22.0, hip_lag: float = 0.0,
                    key_frame: int = 40, view: str = 'side',
                    noise_px: float = 0.0, gaps=(), seed: int = 0
                    ) -> Track:
    """A trunk stability push-up: lying prone (feet at x = 0, head toward
    +x), the body rotates up about the toes to ``lift_deg`` at
    ``key_frame``.  ``hip_lag`` 0 lifts as one unit; above 0 the hips rise
    only ``1 - hip_lag`` of the body's angle (sagging at the hips).  The
    wrists stay on the floor at ``PUSHUP_HAND_POSITIONS[hand_position]``
    of the way from the shoulder to the nose (measured lying down).  The
    ramp holds the top until the end (the lift is the last phase)."""
    t = np.arange(frames, dtype=np.float64)
    s = np.clip(0.5 * (1 - np.cos(np.pi * (t - key_frame // 3)
                                  / (key_frame - key_frame // 3))), 0, 1)
    s = np.where(t < key_frame // 3, 0.0, np.where(t > key_frame, 1.0, s))
    body = np.radians(lift_deg * s)
    legs, lying = THIGH + SHANK, LYING_HEIGHT
    ankle = _point(0.0, lying, 0.0, frames)
    hip_angle = body * (1 - hip_lag)
    hip = ankle + legs * _point(np.cos(hip_angle), np.sin(hip_angle), 0.0,
                                frames)
    rise = ((legs + TRUNK) * np.sin(body) - legs * np.sin(hip_angle)) / TRUNK
    trunk_angle = np.arcsin(np.clip(rise, -1, 1))
    along = _point(np.cos(trunk_angle), np.sin(trunk_angle), 0.0, frames)
    shoulder = hip + TRUNK * along
    face = _point(np.sin(trunk_angle), -np.cos(trunk_angle), 0.0, frames)
    wrist_x = (legs + TRUNK) + PUSHUP_HAND_POSITIONS[hand_position] * NOSE_UP
    pose: Pose = {'Neck': shoulder}
    for letter in 'RL':
        pose[letter + 'Ankle'] = _sided(ankle, HIP_WIDTH / 2, letter)
        pose[letter + 'Knee'] = _sided(ankle + SHANK * _unit(hip - ankle),
                                       HIP_WIDTH / 2, letter)
        pose[letter + 'Hip'] = _sided(hip, HIP_WIDTH / 2, letter)
        pose[letter + 'Shoulder'] = _sided(shoulder, SHOULDER_WIDTH / 2,
                                           letter)
        wrist = _point(wrist_x, 0.02, SIDE_Z[letter] * SHOULDER_WIDTH / 2,
                       frames)
        pose[letter + 'Wrist'] = wrist
        pose[letter + 'Elbow'] = (wrist + pose[letter + 'Shoulder']) / 2 \
            + _point(0.0, 0.08, 0.0, frames)
    pose.update(head(shoulder, along, face))
    return _finish(pose, view, fps, noise_px, gaps, seed)


def _quadruped(frames: int) -> Pose:
    """Hands and knees: hips over the knees, shoulders over the hands."""
    floor = 0.03
    hip = (0.0, floor + THIGH)
    shoulder = (TRUNK, floor + UPPER_ARM + FOREARM)
    pose = {'Neck': (shoulder[0], shoulder[1], 0.0)}
    for letter in 'RL':
        zh, zs = SIDE_Z[letter] * HIP_WIDTH / 2, \
            SIDE_Z[letter] * SHOULDER_WIDTH / 2
        pose[letter + 'Hip'] = (hip[0], hip[1], zh)
        pose[letter + 'Knee'] = (0.0, floor, zh)
        pose[letter + 'Ankle'] = (-SHANK, floor, zh)
        pose[letter + 'Shoulder'] = (shoulder[0], shoulder[1], zs)
        pose[letter + 'Elbow'] = (TRUNK, floor + FOREARM, zs)
        pose[letter + 'Wrist'] = (TRUNK, floor, zs)
    return _static(pose, frames)


def rotary_stability_sequence(frames: int = 80, fps: float = 30.0,
                              side: str = 'right',
                              pattern: str = 'unilateral',
                              arm_drop_deg: float = 0.0,
                              touch_gap: float = 0.03, key_frame: int = 40,
                              view: str = 'side', noise_px: float = 0.0,
                              gaps=(), seed: int = 0) -> Track:
    """Rotary stability on hands and knees: the ``side`` arm and the leg
    of ``pattern`` ('unilateral': same side, 'diagonal': the other) extend
    (arm forward, ``arm_drop_deg`` below horizontal; leg straight back,
    level) until ``key_frame``, then flex until elbow and knee are
    ``touch_gap`` body heights apart under the trunk at the last frame."""
    arm_letter = SIDE_LETTER[side]
    leg_letter = arm_letter if pattern == 'unilateral' else \
        ('L' if arm_letter == 'R' else 'R')
    start = _quadruped(frames)
    extended, touch = dict(start), dict(start)
    shoulder, hip = start[arm_letter + 'Shoulder'], start[leg_letter + 'Hip']
    drop = np.radians(arm_drop_deg)
    arm_dir = _point(np.cos(drop), -np.sin(drop), 0.0, frames)
    extended[arm_letter + 'Elbow'] = shoulder + UPPER_ARM * arm_dir
    extended[arm_letter + 'Wrist'] = shoulder + (UPPER_ARM + FOREARM) \
        * arm_dir
    back = _point(-1.0, 0.0, 0.0, frames)
    extended[leg_letter + 'Knee'] = hip + THIGH * back
    extended[leg_letter + 'Ankle'] = hip + (THIGH + SHANK) * back
    meet = _point(TRUNK / 2, 0.17, 0.0, frames)
    touch[arm_letter + 'Elbow'] = meet + _point(touch_gap / 2, 0, 0, frames) \
        + shoulder * [0, 0, 1]
    touch[arm_letter + 'Wrist'] = touch[arm_letter + 'Elbow'] \
        + FOREARM * _point(0.0, -1.0, 0.0, frames)
    touch[leg_letter + 'Knee'] = meet - _point(touch_gap / 2, 0, 0, frames) \
        + hip * [0, 0, 1]
    touch[leg_letter + 'Ankle'] = touch[leg_letter + 'Knee'] \
        + SHANK * _point(-0.6, 0.8, 0.0, frames)
    t = np.arange(frames)
    s = bell(frames, key_frame)
    pose = {name: np.where((t <= key_frame)[:, None],
                           start[name] + (extended[name] - start[name])
                           * s[:, None],
                           touch[name] + (extended[name] - touch[name])
                           * s[:, None]) for name in start}
    trunk_up = _unit(pose['Neck'] - (pose['RHip'] + pose['LHip']) / 2)
    pose.update(head(pose['Neck'], trunk_up,
                     _unit(np.cross(trunk_up, [0.0, 0.0, 1.0]))))
    return _finish(pose, view, fps, noise_px, gaps, seed)
