"""The library API: body poses (with faces and hands) on images and videos.

The commands are thin layers over these names; a program uses them the
same way::

    import cv2
    from pose.api import PoseDetector, draw_people

    detector = PoseDetector('posenet', 'models/coco_posenet.npz')
    img = cv2.imread('data/person.png')
    [detection] = detector.predict([img])   # one Detection per image
    detection.poses                         # (N, 18, 3) float32: x, y, flag
    cv2.imwrite('pose.png', draw_people(img, detection.poses))

    from pose.api import VideoOptions, run_video
    summary = run_video('clip.mp4', VideoOptions(keypoints_out='clip.jsonl'))

=================  ==========================================================
name               what it is
=================  ==========================================================
PoseDetector       the body network: ``predict(images) -> [Detection]``,
                   ``maps(img)``, ``stage_maps(img)`` (heatmaps, then PAFs)
Detection          the people of one image (poses, scores, confidences,
                   faces, hands)
decode_poses       maps -> Detection (the paper's PAF matching)
DetectorOptions    networks, device, input size; VideoOptions adds frames
                   and outputs
load_detectors     options -> Detectors (body, face, hands), whose
                   ``predict`` fills faces and hands
process_image      one image file -> drawing and keypoint file
run_video          one video or camera -> annotated video and keypoint lines
run_batch          many videos (BatchRequest: a folder, glob or list, an
                   output folder) with the networks loaded once, resumable
                   from the folder's batch.jsonl -> BatchSummary
draw_people        poses (and faces and hands) drawn on an image
=================  ==========================================================
"""
from pose.decode import decode_poses
from pose.detection import Detection
from pose.detector import PoseDetector
from pose.draw import draw_people, draw_person_pose
from pose.image_pipeline import ImageResult, MapsRequest, process_image
from pose.options import (Detectors, DetectorOptions, VideoOptions,
                          load_detectors)
from pose.video_pipeline import Summary, run_video
from pose.batch import BatchRequest, BatchSummary, run_batch

__all__ = ['PoseDetector', 'Detection', 'decode_poses', 'draw_people',
           'draw_person_pose', 'DetectorOptions', 'VideoOptions',
           'Detectors', 'load_detectors', 'process_image', 'ImageResult',
           'MapsRequest', 'run_video', 'Summary', 'run_batch',
           'BatchRequest', 'BatchSummary']
