"""Movement analysis for the Functional Movement Screen (FMS).

Reads the keypoint files written by ``video_pose_detector.py``, follows one
subject, measures the joint angles that the FMS scoring criteria need, finds
the key frame of each test, suggests a 0-3 score with its reasons, and
compares suggested scores with a coach's.

======================  ====================================================
module                  its one job
======================  ====================================================
protocol                the tests, sides, views, scores; the side rule
sequence                keypoint file -> the subject's track, smoothed
angles                  plane geometry of keypoints over time
measurements            a measured value's record: value, unit, anchor
analysis                one trial: curves, key frame, measurements, score
movements               the measuring function of each test (one module each)
thresholds              the thresholds file and the calibration grid
criteria                the criteria table, its roles and score rules' data
scoring                 judging the criteria, the score from the roles,
                        provisional scores
fusion                  a trial's views judged together; its retests
results                 the analysis and its JSON result document
labels                  values, criteria and summaries in words
text_layout             text and boxes of lines on images
curve_plot              the per-frame measures as a PNG plot
key_frame               the key frame image: skeleton, labels, criteria
outputs                 output paths checked first, written atomically
report                  a trial's three report files
trial                   one trial from its keypoints to its report
coach_scores            the coach's CSV
result_files            the folder of result files
statistics              confusion matrix, exact agreement, weighted kappa
agreement               automatic vs coach scores: the report's figures
tables                  plain-text tables
agreement_text          the agreement report as text
agreement_files         the agreement report's JSON, CSV and PNG
calibration             fitting thresholds to a coach, cross-validated
calibration_output      the calibration's table and files
manifest                the session manifest, read and checked
screening               a session's scores per athlete: the document
html_report             the session's HTML pages (templates/)
session                 a whole session from its manifest to its files
======================  ====================================================
"""
from common.errors import ToolError


class FmsError(ToolError, ValueError):
    """Bad input for the movement analysis; the message says what is wrong
    and what to do (the command line prints it as one line)."""
