"""Tests of fms.report: curve plot, key frame image, video frame, files."""
import json
import os

import cv2
import numpy as np
import pytest
from matplotlib.colors import to_rgb

import entity
from fms import FmsError
from fms import report
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


def synthetic_track(source=''):
    """A squat: everything but the ankles goes down and up once; the left
    ankle is missing in frames 20-24; a right hand beside the right wrist."""
    times = np.arange(FRAMES) / FPS
    base = np.array([STANDING[name] for name in entity.JOINT_NAMES],
                    np.float64)
    depth = SQUAT_DEPTH_PX * np.sin(np.pi * np.arange(FRAMES) / (FRAMES - 1))
    xy = np.repeat(base[None], FRAMES, axis=0)
    moving = [i for i, n in enumerate(entity.JOINT_NAMES) if n not in FEET]
    xy[:, moving, 1] += depth[:, None]
    xy[20:25, joint('LAnkle')] = np.nan
    hands = np.full((FRAMES, 2, entity.NUM_HAND_KEYPOINTS, 2), np.nan)
    fan = np.stack([np.linspace(-12, 12, entity.NUM_HAND_KEYPOINTS),
                    np.linspace(5, 30, entity.NUM_HAND_KEYPOINTS)], axis=1)
    hands[:, 1] = xy[:, joint('RWrist')][:, None, :] + fan
    confidence = np.where(np.isfinite(xy).all(axis=2), 0.9, 0.0)
    return Track(times=times, frames=np.arange(FRAMES, dtype=np.int64) + 100,
                 xy=xy, confidence=confidence, hands=hands, person_id=3,
                 source=source)


def synthetic_analysis(key=KEY, source=''):
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
        measurements={'knee_flexion': 95.0, 'trunk_inclination': 30.0,
                      'knee_valgus': None},
        criteria=criteria, score=2,
        reasons=['trunk leans forward more than 20 deg'],
        inputs={'pain': False}, thresholds={'femur_deg': 90.0,
                                            'trunk_deg': 20.0,
                                            'valgus': 0.1})


def decode(png):
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def key_line_column(png):
    """The pixel column holding most pixels of the key frame colour."""
    image = decode(png).astype(int)
    rgb = np.array(to_rgb(report.KEY_FRAME_COLOR)) * 255
    distance = np.abs(image - rgb[::-1]).sum(axis=2)
    counts = (distance < 40).sum(axis=0)
    assert counts.max() > 100          # a line through both panels
    return int(np.argmax(counts))


@pytest.fixture(scope='module')
def analysis():
    return synthetic_analysis()


@pytest.fixture(scope='module')
def photo():
    """A textured 640x480 frame."""
    rng = np.random.default_rng(0)
    return rng.integers(60, 120, (HEIGHT, WIDTH, 3), dtype=np.uint8)


# -- curve plot -------------------------------------------------------------


def test_plot_is_a_png_of_two_stacked_panels(analysis):
    image = decode(report.plot_curves(analysis))
    height, width = image.shape[:2]
    assert width == report.PLOT_WIDTH_INCHES * report.PLOT_DPI
    expected = (2 * report.PANEL_HEIGHT_INCHES
                + report.TITLE_HEIGHT_INCHES) * report.PLOT_DPI
    assert abs(height - expected) <= 2


def test_key_frame_line_moves_with_the_key_frame_in_time():
    columns = [key_line_column(report.plot_curves(synthetic_analysis(k)))
               for k in (10, 30, 50)]
    assert columns[0] < columns[1] < columns[2]
    assert abs((columns[1] - columns[0]) - (columns[2] - columns[1])) <= 2


def test_plot_without_curves_or_with_a_nan_key_value(analysis):
    nan_key = synthetic_analysis(key=42)      # knee curve NaN there
    assert decode(report.plot_curves(nan_key)).shape[1] == 800
    empty = synthetic_analysis()
    empty.curves, empty.curve_thresholds = {}, {}
    assert decode(report.plot_curves(empty)).shape[0] > 100


def test_key_index_outside_the_track_is_refused():
    with pytest.raises(ValueError, match='key index'):
        report.plot_curves(synthetic_analysis(key=FRAMES))


# -- key frame image --------------------------------------------------------


def test_key_frame_image_keeps_the_frame_size_and_the_input(analysis, photo):
    before = photo.copy()
    out = report.key_frame_image(analysis, photo)
    assert out.shape == photo.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(photo, before)


def test_skeleton_and_hand_are_drawn_at_the_key_frame(analysis, photo):
    out = report.key_frame_image(analysis, photo)
    xy = analysis.track.xy[KEY]
    for name in ('RKnee', 'LKnee', 'RAnkle', 'Neck'):
        x, y = np.round(xy[joint(name)]).astype(int)
        patch = (slice(y - 2, y + 3), slice(x - 2, x + 3))
        assert np.abs(out[patch].astype(int)
                      - photo[patch].astype(int)).mean() > 20, name
    tip = np.round(analysis.track.hands[KEY, 1, -1]).astype(int)
    assert np.any(out[tip[1], tip[0]] != photo[tip[1], tip[0]])


def test_measured_value_is_written_right_of_its_joint(analysis, photo):
    without = synthetic_analysis()
    without.measurements = {}
    with_labels = report.key_frame_image(analysis, photo)
    plain = report.key_frame_image(without, photo)
    x, y = analysis.track.xy[KEY, joint('RKnee')]
    x_mid = (x + analysis.track.xy[KEY, joint('LKnee')][0]) / 2
    region = (slice(int(y) - 20, int(y) + 5),
              slice(int(x_mid) + 5, int(x_mid) + 150))
    assert np.any(with_labels[region] != plain[region])


def test_canvas_fits_the_keypoints_when_there_is_no_frame(analysis):
    out = report.key_frame_image(analysis)
    height, width = out.shape[:2]
    assert width >= report.CANVAS_MIN_SIZE[0]
    assert height >= report.CANVAS_MIN_SIZE[1]
    dark = np.all(out == report.CANVAS_BGR, axis=2).mean()
    assert dark > 0.5
    colours = {tuple(c) for c in entity.JOINT_COLORS_BGR}
    drawn = {tuple(p) for p in out.reshape(-1, 3)}
    assert colours & drawn


def test_canvas_of_the_given_frame_size_keeps_pixels(analysis):
    out = report.key_frame_image(analysis, None, size=(WIDTH, HEIGHT))
    assert out.shape == (HEIGHT, WIDTH, 3)
    x, y = np.round(analysis.track.xy[KEY, joint('RAnkle')]).astype(int)
    assert np.any(out[y, x] != report.CANVAS_BGR)


def test_bad_frame_is_refused(analysis):
    with pytest.raises(FmsError, match='uint8'):
        report.key_frame_image(analysis, np.zeros((10, 10, 3), np.float32))


def test_measurement_anchors():
    xy = np.array([STANDING[n] for n in entity.JOINT_NAMES], np.float64)
    knees = (xy[joint('RKnee')] + xy[joint('LKnee')]) / 2
    hips = (xy[joint('RHip')] + xy[joint('LHip')]) / 2
    assert report.measurement_anchor('knee_flexion', None, xy) == \
        tuple(knees)
    assert report.measurement_anchor('knee_flexion', 'left', xy) == \
        tuple(xy[joint('LKnee')])
    assert report.measurement_anchor('stance_knee_flexion', 'left', xy) == \
        tuple(xy[joint('RKnee')])
    assert report.measurement_anchor('trunk_inclination', 'left', xy) == \
        tuple(hips)
    assert report.measurement_anchor('right_hip_flexion', 'left', xy) == \
        tuple(xy[joint('RHip')])
    assert report.measurement_anchor('tempo', None, xy) is None
    xy[joint('LKnee')] = np.nan
    assert report.measurement_anchor('knee_flexion', 'left', xy) is None


def test_criterion_lines(analysis):
    lines = [report.criterion_line(c) for c in analysis.criteria]
    assert lines[0] == ('PASS femur below horizontal: 95 deg '
                        '(limit >= 90 deg)')
    assert lines[1] == 'FAIL trunk parallel tibia: 30 deg (limit <= 20 deg)'
    assert lines[2] == 'n/a  knee valgus: needs the front view'


# -- video frame ------------------------------------------------------------


def brightness(index):
    return 20 * index + 10


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    """A 10-frame MJPG .avi whose frame i is uniformly brightness(i)."""
    path = str(tmp_path_factory.mktemp('video') / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), FPS,
                             (64, 48))
    assert writer.isOpened()
    for i in range(10):
        writer.write(np.full((48, 64, 3), brightness(i), np.uint8))
    writer.release()
    return path


@pytest.mark.parametrize('index', [0, 7, 9])
def test_read_video_frame(video, index):
    frame = report.read_video_frame(video, index)
    assert frame.shape == (48, 64, 3)
    assert abs(frame.mean() - brightness(index)) < 5


def test_sequential_reading_finds_the_same_frame(video):
    frame = report._read_sequentially(video, 6)
    assert abs(frame.mean() - brightness(6)) < 5


class MisreportingCapture:
    """A capture whose seek seems to land one frame early."""

    def __init__(self, capture):
        self.capture = capture

    def get(self, prop):
        return self.capture.get(prop) - 1

    def __getattr__(self, name):
        return getattr(self.capture, name)


def test_inexact_seek_falls_back_to_reading_in_order(video, monkeypatch):
    opened = []
    real_open = report._open_video

    def open_video(path):
        opened.append(path)
        capture = real_open(path)
        return MisreportingCapture(capture) if len(opened) == 1 else capture
    monkeypatch.setattr(report, '_open_video', open_video)
    frame = report.read_video_frame(video, 5)
    assert len(opened) == 2
    assert abs(frame.mean() - brightness(5)) < 5


def test_unreadable_frames_are_none(video, tmp_path):
    assert report.read_video_frame(video, 10) is None
    assert report.read_video_frame(video, -1) is None
    assert report.read_video_frame(str(tmp_path / 'none.avi'), 0) is None
    junk = tmp_path / 'junk.avi'
    junk.write_bytes(b'not a video')
    assert report.read_video_frame(str(junk), 0) is None


# -- writing ----------------------------------------------------------------


def test_write_report_writes_three_files(analysis, photo, tmp_path):
    out = tmp_path / 'new' / 'folder'
    paths = report.write_report(analysis, 'anna', str(out), 'anna_squat',
                                image=photo)
    assert paths == {'json': str(out / 'anna_squat.json'),
                     'plot': str(out / 'anna_squat_angles.png'),
                     'image': str(out / 'anna_squat_key_frame.png')}
    assert sorted(os.listdir(out)) == sorted(
        os.path.basename(p) for p in paths.values())
    with open(paths['json'], encoding='utf-8') as f:
        document = json.load(f)
    assert document['subject'] == 'anna' and document['score'] == 2
    assert document['key_frame']['index'] == KEY
    assert document['key_frame']['frame'] == KEY + 100
    assert document['criteria'][2]['passed'] is None
    assert cv2.imread(paths['image']).shape == photo.shape
    assert cv2.imread(paths['plot']) is not None


def test_write_report_canvas_of_frame_size(analysis, tmp_path):
    paths = report.write_report(analysis, 'anna', str(tmp_path), 'a',
                                frame_size=(WIDTH, HEIGHT))
    assert cv2.imread(paths['image']).shape == (HEIGHT, WIDTH, 3)


def test_output_folder_that_is_a_file_leaves_nothing(analysis, tmp_path):
    blocker = tmp_path / 'out'
    blocker.write_text('x')
    with pytest.raises((FmsError, OSError)):
        report.write_report(analysis, 'anna', str(blocker), 'anna')
    assert sorted(os.listdir(tmp_path)) == ['out']
    assert blocker.read_text() == 'x'


def test_failed_write_removes_what_it_created(analysis, tmp_path):
    os.mkdir(tmp_path / 'anna_angles.png')      # the plot cannot replace it
    with pytest.raises(FmsError, match='anna_angles.png'):
        report.write_report(analysis, 'anna', str(tmp_path), 'anna')
    assert os.listdir(tmp_path) == ['anna_angles.png']


def test_input_keypoint_file_is_never_overwritten(tmp_path):
    source = tmp_path / 'anna.json'
    source.write_text('{"frame": 0}\n')
    analysis = synthetic_analysis(source=str(source))
    with pytest.raises(FmsError, match='overwrite'):
        report.write_report(analysis, 'anna', str(tmp_path), 'anna')
    assert source.read_text() == '{"frame": 0}\n'
    assert os.listdir(tmp_path) == ['anna.json']


def test_bad_stem_is_refused(analysis, tmp_path):
    with pytest.raises(FmsError, match='without folders'):
        report.write_report(analysis, 'anna', str(tmp_path), 'a/b')
