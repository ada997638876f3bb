"""Movement analysis for the Functional Movement Screen (FMS).

Reads the keypoint files written by ``video_pose_detector.py``, follows one
subject, measures the joint angles that the FMS scoring criteria need, finds
the key frame of each test, suggests a 0-3 score with its reasons, and
compares suggested scores with a coach's.
"""


class FmsError(ValueError):
    """Bad input for the movement analysis; the message says what is wrong
    and what to do (the command line prints it as one line)."""
