"""Domain constants of the OpenPose COCO-18 body model, defined once.

Everything the rest of the tool needs to know about the skeleton (joint order,
limbs, which part-affinity-field channels belong to which limb, drawing
colours) and about inference (input size, stride, normalisation, decoding
thresholds) lives here, each with a note saying where the value comes from.

Coordinates are always ``(x, y)`` in pixels unless a docstring says otherwise.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

# ---------------------------------------------------------------------------
# Skeleton
# ---------------------------------------------------------------------------

#: The 18 COCO joints in the order of the network's confidence-map channels
#: (channel 18 is the background map).
JOINT_NAMES: Tuple[str, ...] = (
    'Nose', 'Neck',
    'RShoulder', 'RElbow', 'RWrist',
    'LShoulder', 'LElbow', 'LWrist',
    'RHip', 'RKnee', 'RAnkle',
    'LHip', 'LKnee', 'LAnkle',
    'REye', 'LEye', 'REar', 'LEar',
)
NUM_JOINTS = len(JOINT_NAMES)            # 18
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}

#: The 19 limbs (connections between two joints, ``(from, to)`` as joint
#: indices), in the order of the original authors' Python demo.  The last two
#: (RShoulder-REar, LShoulder-LEar) are redundant connections: they are scored
#: like the others but are not drawn.
LIMBS: Tuple[Tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7),
    (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
    (2, 16), (5, 17),
)
NUM_LIMBS = len(LIMBS)                   # 19

#: For each limb of :data:`LIMBS`, the two PAF channels (x component, y
#: component) of the network's L1 branch output (38 channels).  These are the
#: demo's ``mapIdx`` minus the 19 heatmap channels that preceded the PAFs in
#: its concatenated output.
LIMB_PAF_CHANNELS: Tuple[Tuple[int, int], ...] = (
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25),
    (0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11),
    (28, 29), (30, 31), (34, 35), (32, 33), (36, 37),
    (18, 19), (26, 27),
)

#: Flags in the third column of a pose array (COCO keypoint convention):
#: the joint was found, or not (then x = y = 0).
JOINT_FOUND = 2
JOINT_MISSING = 0

#: Limbs drawn on images (the redundant ear-shoulder limbs are left out).
DRAWN_LIMBS: Tuple[int, ...] = tuple(range(17))

#: One BGR colour per joint (also used for the limb that ends in it), the
#: palette of the original demo.
JOINT_COLORS_BGR: Tuple[Tuple[int, int, int], ...] = (
    (0, 0, 255), (0, 85, 255), (0, 170, 255), (0, 255, 255), (0, 255, 170),
    (0, 255, 85), (0, 255, 0), (85, 255, 0), (170, 255, 0), (255, 255, 0),
    (255, 170, 0), (255, 85, 0), (255, 0, 0), (255, 0, 85), (255, 0, 170),
    (255, 0, 255), (170, 0, 255), (85, 0, 255),
)

# ---------------------------------------------------------------------------
# Network channel counts
# ---------------------------------------------------------------------------

NUM_HEATMAPS = NUM_JOINTS + 1            # 19: joints + background
NUM_PAF_CHANNELS = 2 * NUM_LIMBS         # 38
NUM_FACE_KEYPOINTS = 70
NUM_HAND_KEYPOINTS = 21
NUM_FACE_HEATMAPS = NUM_FACE_KEYPOINTS + 1   # 71
NUM_HAND_HEATMAPS = NUM_HAND_KEYPOINTS + 1   # 22

#: Every network downsamples by three 2x2 max-pools.
NETWORK_STRIDE = 8

# ---------------------------------------------------------------------------
# Inference parameters
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class InferenceParams:
    """Pre- and post-processing parameters, with OpenPose's defaults.

    The defaults are those of the original Python demo of Cao et al. (the
    ``config`` file of the training repository) unless a field says
    otherwise.  Create a changed copy with :func:`dataclasses.replace`.
    """

    #: Network input height in pixels; the image is scaled so that its
    #: height maps to this (the width follows the aspect ratio).
    input_height: int = 368
    #: Network input width in pixels, or None: the width follows the
    #: image's aspect ratio (OpenPose's ``--net_resolution WxH``, whose
    #: default ``-1x368`` means the latter).  With a width, the image is
    #: scaled to fit ``input_width`` x ``input_height`` keeping its aspect
    #: ratio and padded right and bottom to exactly that size, as OpenPose
    #: does (``CvMatToOpInput`` / ``resizeFixedAspectRatio``).
    input_width: Optional[int] = None
    #: Scale factors of the multi-scale ("precise") search, relative to
    #: ``input_height`` (demo: ``scale_search``).
    precise_scales: Tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)
    #: Padding value for the right/bottom border added to reach a multiple
    #: of :data:`NETWORK_STRIDE` (demo: ``padValue``).
    pad_value: int = 128
    #: Input normalisation ``x / scale - offset`` applied to BGR uint8
    #: pixels, as all three models were trained (the Caffe ``data`` layer:
    #: ``scale 0.00390625``, ``mean 128``).
    input_scale: float = 256.0
    input_offset: float = 0.5
    #: Standard deviation of the Gaussian that smooths the upsampled
    #: confidence maps before peak finding.
    gaussian_sigma: float = 3.0
    #: Minimum confidence-map value of a joint peak (demo: ``thre1``).
    peak_threshold: float = 0.1
    #: Minimum PAF alignment of one sample along a candidate limb
    #: (demo: ``thre2``).
    paf_threshold: float = 0.05
    #: Number of evenly spaced samples of the PAF line integral
    #: (demo: ``mid_num``).
    paf_samples: int = 10
    #: Fraction of samples that must exceed ``paf_threshold``
    #: (demo: ``> 0.8 * len(score_midpts)``).
    paf_sample_fraction: float = 0.8
    #: Limbs longer than this fraction of the image height are penalised by
    #: the distance prior (demo: ``0.5 * oriImg.shape[0] / norm - 1``).
    limb_length_prior: float = 0.5
    #: A person needs at least this many joints (demo: ``subset[i][-1] < 4``).
    min_person_parts: int = 4
    #: ... and at least this mean score per joint (demo: ``< 0.4``).
    min_person_score: float = 0.4


DEFAULT_PARAMS = InferenceParams()


# ---------------------------------------------------------------------------
# Face and hands
# ---------------------------------------------------------------------------

#: Index of each hand on the hand axis of (N, 2, 21, 3) hand keypoint arrays
#: and of (N, 2, 3) hand boxes: the order of OpenPose's ``hand_left`` and
#: ``hand_right`` keypoint fields (and of its ``std::array<Rectangle, 2>``
#: hand rectangles, left first).
LEFT_HAND, RIGHT_HAND = 0, 1

#: The 21 hand keypoints: 0 is the wrist, then four per finger from the palm
#: out (thumb 1-4, index 5-8, middle 9-12, ring 13-16, little 17-20).
HAND_FINGERS: Tuple[Tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4), (0, 5, 6, 7, 8), (0, 9, 10, 11, 12),
    (0, 13, 14, 15, 16), (0, 17, 18, 19, 20))
#: The bones drawn for a hand: consecutive points of each finger chain.
HAND_BONES: Tuple[Tuple[int, int], ...] = tuple(
    (a, b) for finger in HAND_FINGERS for a, b in zip(finger, finger[1:]))
#: One BGR colour per finger (thumb .. little).
FINGER_COLORS_BGR: Tuple[Tuple[int, int, int], ...] = (
    (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 255))
#: Colour of each of the 21 hand keypoints: that of the first finger of
#: :data:`HAND_FINGERS` containing it (the wrist takes the thumb's).
HAND_JOINT_COLORS_BGR: Tuple[Tuple[int, int, int], ...] = tuple(
    next(FINGER_COLORS_BGR[f]
         for f, finger in enumerate(HAND_FINGERS) if k in finger)
    for k in range(NUM_HAND_KEYPOINTS))
#: Colour of each bone of :data:`HAND_BONES`: that of its finger.
HAND_BONE_COLORS_BGR: Tuple[Tuple[int, int, int], ...] = tuple(
    FINGER_COLORS_BGR[f]
    for f, finger in enumerate(HAND_FINGERS)
    for _ in zip(finger, finger[1:]))
#: Colour of the face keypoints: white, as OpenPose's ``FACE_COLORS_RENDER``
#: (``faceParameters.hpp``).
FACE_COLOR_BGR = (255, 255, 255)


@dataclasses.dataclass(frozen=True)
class PartParams:
    """Face and hand regions and keypoints, with OpenPose's values.

    The region rules are those of OpenPose's ``faceDetector.cpp``
    (``getFaceFromPoseKeypoints``) and ``handDetector.cpp``
    (``getHandFromPoseIndexes``).
    """

    #: A body joint is used for the face box only when its score is above
    #: this, strictly (OpenPose's ``faceDetector.cpp``,
    #: ``FaceDetector::detectFaces``: ``threshold = 0.25f``, compared with
    #: ``>`` in ``getFaceFromPoseKeypoints``).
    face_joint_threshold: float = 0.25
    #: A body joint is used for a hand box only when its score is above
    #: this, strictly (OpenPose's ``handDetector.cpp``,
    #: ``HandDetector::detectHands``: ``threshold = 0.03f``, compared with
    #: ``>`` in ``getHandFromPoseIndexes``; an early version of that file
    #: used 0.25).
    hand_joint_threshold: float = 0.03
    #: Hand box centre: the wrist plus this fraction of the elbow->wrist
    #: vector (a third of the forearm beyond the wrist).
    hand_center_forearm_ratio: float = 0.33
    #: Hand box side: this times max(forearm, ``hand_upper_arm_ratio`` x
    #: upper arm).
    hand_size_ratio: float = 1.5
    hand_upper_arm_ratio: float = 0.9
    #: Face box side, per cue: 2 x neck-nose distance; 3 x eye distance;
    #: 2 x ear distance; for a profile (one eye and ear) 0.85 x the sum of
    #: nose-eye, nose-ear and neck-nose distances.  The cues found are
    #: averaged.
    face_neck_nose_ratio: float = 2.0
    face_eyes_ratio: float = 3.0
    face_ears_ratio: float = 2.0
    face_profile_ratio: float = 0.85
    #: Square network input of the face and hand networks (OpenPose's
    #: default net resolution for both).
    input_size: int = 368
    #: Value of crop pixels outside the image (OpenPose's extractors warp
    #: the crop with a zero border).
    crop_pad_value: int = 0
    #: Input normalisation ``x / scale - offset`` of the face and hand
    #: crops' BGR uint8 pixels (OpenPose's face and hand extractors call
    #: ``uCharCvMatToFloatPtr(..., normalize=1)``: ``x / 256 - 0.5``, the
    #: same values as the body network's, but the face and hand networks'
    #: own).
    input_scale: float = 256.0
    input_offset: float = 0.5
    #: A face or hand keypoint is reported when its heatmap peak is above
    #: this (as the DeNA Chainer port; OpenPose reports every peak with its
    #: score and hides low ones when rendering).
    face_peak_threshold: float = 0.1
    hand_peak_threshold: float = 0.1


DEFAULT_PART_PARAMS = PartParams()
