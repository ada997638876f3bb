"""Tests of pose.maps_figure.save_maps_figures."""
import os

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pytest

import entity
from pose import maps_figure

H, W = 48, 64
STAGES = 6


def blob(x, y, sigma=4.0):
    """(H, W) float32 Gaussian peak of height 1 at (x, y)."""
    yy, xx = np.mgrid[0:H, 0:W]
    return np.exp(-((xx - x) ** 2 + (yy - y) ** 2)
                  / (2 * sigma ** 2)).astype(np.float32)


def stage_maps(joint='RWrist'):
    """Heatmaps with one joint's peak growing over the stages, and PAFs with
    the right forearm's field pointing right in the middle band."""
    heatmaps, pafs = [], []
    cx, cy = entity.LIMB_PAF_CHANNELS[3]          # RElbow-RWrist
    for stage in range(1, STAGES + 1):
        h = np.zeros((entity.NUM_HEATMAPS, H, W), np.float32)
        h[entity.JOINT_INDEX[joint]] = blob(40, 24) * stage / STAGES
        p = np.zeros((entity.NUM_PAF_CHANNELS, H, W), np.float32)
        p[cx, 20:28, 10:50] = stage / STAGES
        heatmaps.append(h)
        pafs.append(p)
    return heatmaps, pafs


def image():
    img = np.zeros((H, W, 3), np.uint8)
    img[:, W // 2:] = (40, 120, 200)
    return img


@pytest.fixture(scope='module')
def written(tmp_path_factory):
    """The figures of the synthetic maps, and the pyplot figures after."""
    out = tmp_path_factory.mktemp('figures')
    heatmaps, pafs = stage_maps()
    paths = maps_figure.save_maps_figures(image(), heatmaps, pafs,
                                          str(out / 'photo'))
    return out, paths, plt.get_fignums()


def test_writes_the_two_named_pngs_and_nothing_else(written):
    out, paths, _ = written
    assert paths == [str(out / 'photo_maps.png'),
                     str(out / 'photo_stages.png')]
    assert sorted(os.listdir(out)) == ['photo_maps.png', 'photo_stages.png']


@pytest.mark.parametrize('which', [0, 1])
def test_pngs_are_readable_with_content(written, which):
    fig = cv2.imread(written[1][which])
    assert fig is not None and fig.shape[0] > 100 and fig.shape[1] > 100
    assert fig.std() > 20                       # not a blank canvas
    packed = fig.astype(np.int32) @ np.array([1, 1 << 8, 1 << 16])
    assert len(np.unique(packed)) > 50          # image, colour map, text


def test_stages_figure_has_two_rows_of_six(written):
    h, w = cv2.imread(written[1][1]).shape[:2]
    panel_aspect = H / W
    assert w / h == pytest.approx(STAGES / (2 * panel_aspect), rel=0.1)


def test_no_pyplot_figures_left_open(written):
    assert written[2] == []


def render(tmp_path, name, heatmaps, pafs, **kwargs):
    paths = maps_figure.save_maps_figures(image(), heatmaps, pafs,
                                          str(tmp_path / name), **kwargs)
    return [open(p, 'rb').read() for p in paths]


def test_chosen_part_is_plotted(tmp_path):
    """The stages figure shows the chosen joint's map: a map with the peak
    on another joint renders differently; the maps figure (max over all
    joints) renders the same."""
    wrist = render(tmp_path, 'a', *stage_maps('RWrist'))
    nose = render(tmp_path, 'b', *stage_maps('Nose'))
    assert wrist[0] == nose[0] and wrist[1] != nose[1]


def test_limb_by_name_pair_equals_limb_by_index(tmp_path):
    maps = stage_maps()
    by_pair = render(tmp_path, 'a', *maps, limb=('RElbow', 'RWrist'))
    by_index = render(tmp_path, 'b', *maps, limb=3)
    other = render(tmp_path, 'c', *maps, limb=('LElbow', 'LWrist'))
    assert by_pair == by_index and by_pair != other


@pytest.mark.parametrize('change, message', [
    (lambda h, p: (h[:-1], p), 'stages'),
    (lambda h, p: ([x[:-1] for x in h], p), 'heatmaps'),
    (lambda h, p: (h, [x[:, :, 1:] for x in p]), 'PAFs'),
], ids=['stage-count', 'heatmap-channels', 'paf-size'])
def test_inconsistent_maps_raise(tmp_path, change, message):
    heatmaps, pafs = change(*stage_maps())
    with pytest.raises(ValueError, match=message):
        maps_figure.save_maps_figures(image(), heatmaps, pafs,
                                      str(tmp_path / 'x'))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('kwargs', [{'part': 'Tail'}, {'part': 18},
                                    {'limb': ('Nose', 'RWrist')},
                                    {'limb': 19}])
def test_unknown_part_or_limb_raises(tmp_path, kwargs):
    with pytest.raises(ValueError):
        maps_figure.save_maps_figures(image(), *stage_maps(),
                                      str(tmp_path / 'x'), **kwargs)
