"""From confidence maps and part affinity fields to people (Cao et al. 2017).

The bottom-up parsing of the paper and of the authors' Python demo, in named
steps:

1. :func:`smooth_heatmaps`: Gaussian smoothing of the confidence maps;
2. :func:`find_peaks`: joint candidates, local maxima above a threshold
   (:func:`find_smoothed_peaks` does both, smoothing only where it matters).
3. :func:`limb_candidates`: the PAF line integral for every pair of
   candidates of a limb's two joints, with the demo's distance prior.
4. :func:`match_limbs`: greedy bipartite matching of each limb type.
   :func:`map_evidence` does steps 3 and 4 for every limb (on a GPU the
   PAFs are read there and only these samples leave the device).
5. :func:`assemble_people`: joining the matched limbs that share joints.
6. :func:`filter_people`: dropping people with too few or too weak parts.

:func:`decode_poses` runs them all.  Every array is NumPy; coordinates are
always ``(x, y)`` in pixels of the maps, and maps are indexed ``[y, x]``.

Example::

    >>> import numpy as np
    >>> poses, scores = decode_poses(np.zeros((19, 40, 60), np.float32),
    ...                              np.zeros((38, 40, 60), np.float32))
    >>> poses.shape, scores.shape
    ((0, 18, 3), (0,))
"""
from __future__ import annotations

from typing import FrozenSet, List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from entity import (DEFAULT_PARAMS, JOINT_FOUND, JOINT_MISSING,
                    LIMB_PAF_CHANNELS, LIMBS, NUM_HEATMAPS, NUM_JOINTS,
                    NUM_PAF_CHANNELS, InferenceParams)
from pose.detection import Detection

#: Radius of the Gaussian kernel in standard deviations: the default of
#: ``scipy.ndimage.gaussian_filter``, which the authors' demo smooths with
#: (and OpenCV's own choice for floating-point images).
GAUSSIAN_TRUNCATE = 4.0

#: The demo smooths with ``scipy.ndimage.gaussian_filter``, whose default
#: border mode ``'reflect'`` (``dcba|abcd``) is OpenCV's BORDER_REFLECT.
GAUSSIAN_BORDER = cv2.BORDER_REFLECT


class People(NamedTuple):
    """People under assembly, as the demo's ``subset`` rows.

    Attributes:
        joint_ids: (P, 18) int64: for each joint, the index of its peak in
            that joint's array of :func:`find_peaks`, -1 where missing.
        scores: (P,) float64: sum of the peak scores of the person's joints
            plus the scores of the connections that joined them.
        part_counts: (P,) int64: number of joints found (``joint_ids >= 0``).
    """
    joint_ids: np.ndarray
    scores: np.ndarray
    part_counts: np.ndarray


# ---------------------------------------------------------------------------
# 1-2. Smoothing and peaks
# ---------------------------------------------------------------------------


def gaussian_kernel(sigma: float) -> np.ndarray:
    """(2 * radius + 1, 1) float32 normalised 1-D Gaussian, radius
    ``ceil(GAUSSIAN_TRUNCATE * sigma)`` pixels."""
    radius = int(np.ceil(GAUSSIAN_TRUNCATE * sigma))
    return cv2.getGaussianKernel(2 * radius + 1, sigma, cv2.CV_32F)


def _blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return cv2.sepFilter2D(image, cv2.CV_32F, kernel, kernel,
                           borderType=GAUSSIAN_BORDER)


def smooth_heatmaps(heatmaps: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of every map, as the demo before peak finding.

    Args:
        heatmaps: (C, H, W) float32 maps.
        sigma: standard deviation in pixels.

    Returns:
        (C, H, W) float32, each map smoothed on its own.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    kernel = gaussian_kernel(sigma)
    smoothed = np.empty_like(heatmaps)
    for heatmap, out in zip(heatmaps, smoothed):
        out[...] = _blur(heatmap, kernel)
    return smoothed


def find_peaks(heatmaps: np.ndarray, threshold: float,
               scores_from: Optional[np.ndarray] = None
               ) -> List[np.ndarray]:
    """Joint candidates: local maxima of each joint's confidence map.

    The demo's rule: a pixel is a peak when its value is above ``threshold``
    and not below any of its four neighbours (neighbours outside the map
    are ignored; the demo pads with 0, the same for ``threshold >= 0``).  A
    plateau of equal values therefore gives one peak per pixel, as in the
    demo; smoothed maps of real networks have no plateaus.

    Args:
        heatmaps: (C, H, W) float32 confidence maps (usually smoothed),
            C >= 18; only the 18 joint channels are searched (the background
            channel 18 is ignored).
        threshold: minimum peak value (``InferenceParams.peak_threshold``).
        scores_from: (C, H, W) maps the peak scores are read from; the
            demo reads the unsmoothed maps.  Default: ``heatmaps``.

    Returns:
        18 arrays, one per joint in :data:`entity.JOINT_NAMES` order, each
        (K_j, 3) float32 ``[x, y, score]``, peaks in row-major order.
    """
    maps = np.ascontiguousarray(heatmaps[:NUM_JOINTS], dtype=np.float32)
    _, height, width = maps.shape
    flat = maps.reshape(-1)
    index = np.flatnonzero(flat > threshold)
    y, x = np.divmod(index % (height * width), width)
    is_peak = _not_below_neighbours(flat, index, x, y, width, height)
    scores = maps if scores_from is None else np.asarray(scores_from)
    return _peak_table(index[is_peak], scores)


def find_smoothed_peaks(heatmaps: np.ndarray, sigma: float,
                        threshold: float) -> List[np.ndarray]:
    """``find_peaks(smooth_heatmaps(heatmaps, sigma), threshold,
    scores_from=heatmaps)``, smoothing only where peaks can be.

    The kernel's weights are positive and sum to one and the border is a
    reflection, so a smoothed value is a weighted mean of the raw values
    within the kernel's radius (per axis): it can exceed ``threshold`` only
    that close to a raw value that does.  Only blocks around the regions
    above ``threshold`` are smoothed (exactly, with margins), and peaks are
    searched there; the result is the same (up to float rounding at the
    threshold itself) at a fraction of the cost when people cover a small
    part of the image.

    Args:
        heatmaps: (C, H, W) float32 unsmoothed confidence maps, C >= 18
            (only the 18 joint channels are used).
        sigma: standard deviation of the smoothing in pixels.
        threshold: minimum peak value; below 0 the whole maps are smoothed.

    Returns:
        As :func:`find_peaks`: 18 (K_j, 3) float32 ``[x, y, score]`` arrays,
        scores read from ``heatmaps``.
    """
    maps = np.asarray(heatmaps, dtype=np.float32)[:NUM_JOINTS]
    if threshold < 0:
        return find_peaks(smooth_heatmaps(maps, sigma), threshold, maps)
    kernel = gaussian_kernel(sigma)
    # A peak lies within the kernel's radius of a value above threshold;
    # one more pixel gives its four neighbours.
    blocks = _whole_crowded_channels(
        _active_boxes(maps, threshold, len(kernel) // 2 + 1), maps.shape)
    values, starts = _smoothed_blocks(maps, blocks, kernel)
    return _peak_table(_block_peaks(values, starts, blocks, maps.shape[1:],
                                    threshold), maps)


def _block_peaks(values: np.ndarray, starts: np.ndarray, blocks: np.ndarray,
                 map_shape: Tuple[int, int], threshold: float) -> np.ndarray:
    """Ascending flat indices into the (18, H, W) maps of the peaks in the
    blocks of :func:`_smoothed_blocks` (``values``, ``starts``) over the
    boxes ``blocks`` of :func:`_active_boxes`."""
    map_height, map_width = map_shape
    # Rows end with a 0 (<= threshold), so the previous and next values
    # are the left and right neighbours: a cheap first cut.
    candidate = values > threshold
    candidate[1:] &= values[1:] >= values[:-1]
    candidate[:-1] &= values[:-1] >= values[1:]
    index = np.flatnonzero(candidate)
    block = np.searchsorted(starts, index, side='right') - 1
    channel, top, bottom, left, right = blocks[block].T
    row_length, height = right - left + 1, bottom - top
    y, x = np.divmod(index - starts[block], row_length)
    # A candidate on a block edge inside the map is also a candidate, with
    # all its neighbours, of the block of the region it is close to.
    inner = (((x > 0) | (left == 0))
             & ((x < row_length - 2) | (right == map_width))
             & ((y > 0) | (top == 0))
             & ((y < height - 1) | (bottom == map_height)))
    is_peak = inner & _not_below_neighbours(values, index, x, y, row_length,
                                            height)
    flat_index = (channel * map_height + y + top) * map_width + x + left
    return np.unique(flat_index[is_peak])   # blocks may overlap


def _not_below_neighbours(values: np.ndarray, index: np.ndarray,
                          x: np.ndarray, y: np.ndarray,
                          row_length: Union[int, np.ndarray],
                          height: Union[int, np.ndarray]) -> np.ndarray:
    """Which ``values[index]`` are >= their four neighbours.

    ``values`` holds row-major blocks one after another, of ``height`` rows
    of ``row_length`` values (scalars or one per candidate); ``x``, ``y``
    are the candidates' positions in their block.  Neighbours outside the
    block are ignored.
    """
    centre = values[index]
    result = np.ones(len(index), dtype=bool)
    for step, at_edge in ((-1, x == 0), (1, x == row_length - 1),
                          (-row_length, y == 0),
                          (row_length, y == height - 1)):
        neighbour = np.take(values, index + step, mode='clip')
        result &= at_edge | (centre >= neighbour)
    return result


def _peak_table(flat_index: np.ndarray, score_maps: np.ndarray
                ) -> List[np.ndarray]:
    """Peaks given by ascending flat indices into (C, H, W) maps as 18
    (K_j, 3) float32 ``[x, y, score]`` arrays, scores from ``score_maps``."""
    _, height, width = score_maps.shape
    joint, pixel = np.divmod(flat_index, height * width)
    y, x = np.divmod(pixel, width)
    table = np.column_stack([x, y, score_maps[joint, y, x]])
    counts = np.bincount(joint, minlength=NUM_JOINTS)
    return np.split(table.astype(np.float32), np.cumsum(counts)[:-1])


def _active_boxes(heatmaps: np.ndarray, threshold: float,
                  margin: int) -> np.ndarray:
    """(B, 5) int ``[channel, top, bottom, left, right]`` (half-open): the
    bounding boxes of the connected regions above ``threshold``, widened by
    ``margin`` and clipped to the map (boxes may overlap)."""
    channels, height, width = heatmaps.shape
    # All channels stacked in one image, a blank row below each so that no
    # region spans two channels.
    above = np.zeros((channels, height + 1, width), np.uint8)
    np.greater(heatmaps, threshold, out=above[:, :height].view(bool))
    contours, _ = cv2.findContours(above.reshape(-1, width),
                                   cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rects = np.array([cv2.boundingRect(c) for c in contours],
                     dtype=np.intp).reshape(-1, 4)
    x, y, w, h = rects.T
    channel, top = np.divmod(y, height + 1)
    return np.column_stack([
        channel, np.maximum(top - margin, 0),
        np.minimum(top + h + margin, height),
        np.maximum(x - margin, 0), np.minimum(x + w + margin, width)])


def _whole_crowded_channels(blocks: np.ndarray,
                            shape: Tuple[int, int, int]) -> np.ndarray:
    """``blocks``, except that a channel whose blocks add up to more than
    its area (speckle noise, say) gets one block over the whole channel:
    smoothing it at once is cheaper then."""
    channels, height, width = shape
    area = (blocks[:, 2] - blocks[:, 1]) * (blocks[:, 4] - blocks[:, 3])
    crowded = np.bincount(blocks[:, 0], weights=area,
                          minlength=channels) > height * width
    whole = [(c, 0, height, 0, width) for c in np.flatnonzero(crowded)]
    return np.concatenate([blocks[~crowded[blocks[:, 0]]],
                           np.array(whole, np.intp).reshape(-1, 5)])


def _smoothed_blocks(heatmaps: np.ndarray, blocks: np.ndarray,
                     kernel: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``(values, starts)``: the smoothed blocks, row-major one after
    another in a 1-D float32 array, each row followed by a 0; and (B,) where
    each block begins.

    Each block is smoothed exactly: its crop is widened by the kernel's
    radius so that only the map's own borders reflect.
    """
    _, height, width = heatmaps.shape
    radius = len(kernel) // 2
    sizes = (blocks[:, 2] - blocks[:, 1]) * (blocks[:, 4] - blocks[:, 3] + 1)
    starts = np.cumsum(sizes) - sizes
    values = np.zeros(sizes.sum(), np.float32)
    for (channel, top, bottom, left, right), start in zip(blocks.tolist(),
                                                          starts.tolist()):
        y0, x0 = max(top - radius, 0), max(left - radius, 0)
        crop = heatmaps[channel, y0:min(bottom + radius, height),
                        x0:min(right + radius, width)]
        rows = values[start:start + (bottom - top) * (right - left + 1)]
        rows.reshape(bottom - top, -1)[:, :-1] = _blur(crop, kernel)[
            top - y0:bottom - y0, left - x0:right - x0]
    return values, starts


# ---------------------------------------------------------------------------
# 3. Limb candidates: the PAF line integral
# ---------------------------------------------------------------------------


class LimbPairs(NamedTuple):
    """Every pair of candidates of a limb's two joints that has a direction
    (coincident points are left out), in row-major order of the pairs.

    Attributes:
        index_a, index_b: (M,) indices into the first and second joint's
            peaks.
        start: (M, 2) float64 ``(x, y)`` of the first joint's candidate.
        delta: (M, 2) float64 second minus first candidate.
        length: (M,) float64 ``|delta|``, > 0.
    """
    index_a: np.ndarray
    index_b: np.ndarray
    start: np.ndarray
    delta: np.ndarray
    length: np.ndarray


def limb_pairs(peaks_a: np.ndarray, peaks_b: np.ndarray) -> LimbPairs:
    """The :class:`LimbPairs` of (K_a, 3) and (K_b, 3) float32
    ``[x, y, score]`` peaks."""
    index_a, index_b = np.divmod(np.arange(len(peaks_a) * len(peaks_b)),
                                 max(len(peaks_b), 1))
    start = peaks_a[index_a, :2].astype(np.float64)
    delta = peaks_b[index_b, :2] - start
    length = np.hypot(delta[:, 0], delta[:, 1])
    pairs = LimbPairs(index_a, index_b, start, delta, length)
    if np.all(length > 0):
        return pairs
    return LimbPairs(*(v[length > 0] for v in pairs))


def sample_pixels(pairs: LimbPairs, samples: int,
                  map_size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """``(y, x)``, each (M, samples) intp: the pixels where each pair's
    segment is sampled, ``samples`` points from start to end inclusive (the
    demo's ``np.linspace``) rounded to the nearest pixel.  Samples between
    two peaks lie in the map of (H, W) ``map_size``; any others are
    clamped to it."""
    height, width = map_size
    steps = np.arange(samples) / max(samples - 1, 1)
    points = (pairs.start[:, None, :]
              + steps[None, :, None] * pairs.delta[:, None, :])
    pixel = np.rint(points).astype(np.intp)                    # (M, S, 2)
    x = np.minimum(np.maximum(pixel[..., 0], 0), width - 1)
    y = np.minimum(np.maximum(pixel[..., 1], 0), height - 1)
    return y, x


def sample_pafs(pafs: np.ndarray,
                pixels: Sequence[Tuple[np.ndarray, np.ndarray]],
                channels: Sequence[Tuple[int, int]] = LIMB_PAF_CHANNELS
                ) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Per limb, ``(paf_x, paf_y)``, each (M, S) float32: the (38, H, W)
    PAFs of its x and y channels at its sample pixels
    (:func:`sample_pixels`), read limb by limb."""
    return [(pafs[cx][y, x], pafs[cy][y, x])
            for (cx, cy), (y, x) in zip(channels, pixels)]


def sample_index(pixels: Sequence[Tuple[np.ndarray, np.ndarray]],
                 channels: Sequence[Tuple[int, int]] = LIMB_PAF_CHANNELS
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The index reading the samples of several limbs from (38, H, W) maps
    in one gather (on a GPU): ``(channel, y, x)``, (2, P), (1, P) and
    (1, P) intp, P the number of sample pixels of all the limbs;
    ``pafs[index]`` is (2, P): the x components, then the y components
    (:func:`split_samples` cuts it per limb)."""
    sizes = [y.size for y, _ in pixels]
    channel = np.concatenate([np.repeat(np.asarray(c, np.intp)[:, None], n,
                                        axis=1)
                              for c, n in zip(channels, sizes)], axis=1)
    y = np.concatenate([y.ravel() for y, _ in pixels])[None]
    x = np.concatenate([x.ravel() for _, x in pixels])[None]
    return channel, y, x


def split_samples(values: np.ndarray,
                  pixels: Sequence[Tuple[np.ndarray, np.ndarray]]
                  ) -> List[Tuple[np.ndarray, np.ndarray]]:
    """(2, P) samples read with :func:`sample_index` -> per limb
    ``(paf_x, paf_y)``, each (M, S), as :func:`sample_pafs`."""
    ends = np.cumsum([y.size for y, _ in pixels])
    return [(values[0, end - y.size:end].reshape(y.shape),
             values[1, end - y.size:end].reshape(y.shape))
            for end, (y, _) in zip(ends, pixels)]


def pair_scores(pairs: LimbPairs, samples: Tuple[np.ndarray, np.ndarray],
                image_height: int,
                params: InferenceParams = DEFAULT_PARAMS) -> np.ndarray:
    """Score a limb's pairs from their PAF samples.

    Each sample is dotted with the unit vector a -> b; the score is the
    mean of the dots plus the distance prior ``min(limb_length_prior *
    image_height / length - 1, 0)``.  A pair is kept when more than
    ``paf_sample_fraction`` of the dots exceed ``paf_threshold`` and the
    score is positive.

    Args:
        pairs: the limb's :class:`LimbPairs` (M pairs).
        samples: ``(paf_x, paf_y)``, each (M, S) float32: the PAF at the
            pairs' sample pixels (:func:`sample_pafs`).
        image_height: height of the image in pixels (for the prior).

    Returns:
        (K, 3) float64 ``[index_a, index_b, score]`` of the kept pairs
        (indices stored as exact floats), in row-major order of the pairs.
    """
    if not len(pairs.length):
        return np.zeros((0, 3))
    paf_x, paf_y = samples
    unit = pairs.delta / pairs.length[:, None]
    dots = paf_x * unit[:, :1] + paf_y * unit[:, 1:]
    prior = np.minimum(params.limb_length_prior * image_height
                       / pairs.length - 1, 0)
    score = dots.sum(axis=1) / params.paf_samples + prior
    aligned = ((dots > params.paf_threshold).sum(axis=1)
               > params.paf_sample_fraction * params.paf_samples)
    keep = aligned & (score > 0)
    return np.column_stack([pairs.index_a, pairs.index_b, score])[keep]


def limb_candidates(peaks_a: np.ndarray, peaks_b: np.ndarray,
                    paf_x: np.ndarray, paf_y: np.ndarray, image_height: int,
                    params: InferenceParams = DEFAULT_PARAMS) -> np.ndarray:
    """Score every pair of candidates of one limb's two joints: the PAF is
    sampled at ``params.paf_samples`` points along each pair's segment
    (:func:`sample_pixels`) and scored by :func:`pair_scores`.

    Args:
        peaks_a, peaks_b: (K_a, 3) and (K_b, 3) float32 ``[x, y, score]``
            peaks of the limb's first and second joint.
        paf_x, paf_y: (H, W) float32 x and y components of the limb's PAF.
        image_height: height of the image in pixels (for the prior).

    Returns:
        (M, 3) float64 ``[index_a, index_b, score]``, as
        :func:`pair_scores`.
    """
    pairs = limb_pairs(peaks_a, peaks_b)
    y, x = sample_pixels(pairs, params.paf_samples, paf_x.shape)
    return pair_scores(pairs, (paf_x[y, x], paf_y[y, x]), image_height,
                       params)


# ---------------------------------------------------------------------------
# 4. Matching
# ---------------------------------------------------------------------------


def match_limbs(candidates: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    """Greedy bipartite matching of one limb type.

    Candidates are taken by descending score (ties: first listed first)
    unless one of their parts is already used; at most ``min(n_a, n_b)``
    connections, as in the demo.

    Args:
        candidates: (M, 3) ``[index_a, index_b, score]`` from
            :func:`limb_candidates`.
        n_a, n_b: number of peaks of the limb's first and second joint.

    Returns:
        (L, 3) float64 ``[index_a, index_b, score]``, by descending score.
    """
    used_a = np.zeros(n_a, dtype=bool)
    used_b = np.zeros(n_b, dtype=bool)
    chosen = []
    order = np.argsort(-candidates[:, 2], kind='stable')
    for a, b, score in candidates[order]:
        if len(chosen) >= min(n_a, n_b):
            break
        if not (used_a[int(a)] or used_b[int(b)]):
            used_a[int(a)] = used_b[int(b)] = True
            chosen.append((a, b, score))
    return np.array(chosen, dtype=np.float64).reshape(-1, 3)


# ---------------------------------------------------------------------------
# 5. Assembly
# ---------------------------------------------------------------------------


def _redundant_limbs(limbs: Sequence[Tuple[int, int]]) -> FrozenSet[int]:
    """Indices of the limbs that close a cycle, taken in order: those whose
    joints earlier limbs already connect (the ear-shoulder limbs)."""
    component = list(range(NUM_JOINTS))

    def root(joint: int) -> int:
        while component[joint] != joint:
            joint = component[joint]
        return joint

    redundant = set()
    for k, (a, b) in enumerate(limbs):
        if root(a) == root(b):
            redundant.add(k)
        component[root(a)] = root(b)
    return frozenset(redundant)


#: Limbs that may join or extend people but never start one (demo:
#: ``k < 17``): the ones beyond the spanning tree of the skeleton.
REDUNDANT_LIMBS = _redundant_limbs(LIMBS)


class _Assembly:
    """People grown one connection at a time (the demo's ``subset``).

    Invariant: a peak belongs to at most one person, so a connection touches
    at most two people.  Part counts are not kept but counted at the end,
    so they are whole numbers by construction.
    """

    def __init__(self, peak_scores: Sequence[np.ndarray]):
        self.peak_scores = peak_scores
        self.joint_ids: List[np.ndarray] = []
        self.scores: List[float] = []

    def owners(self, joint_a: int, id_a: int, joint_b: int,
               id_b: int) -> List[int]:
        return [p for p, ids in enumerate(self.joint_ids)
                if ids[joint_a] == id_a or ids[joint_b] == id_b]

    def start(self, joint_a: int, id_a: int, joint_b: int, id_b: int,
              limb_score: float) -> None:
        ids = np.full(NUM_JOINTS, -1, dtype=np.int64)
        ids[[joint_a, joint_b]] = id_a, id_b
        self.joint_ids.append(ids)
        self.scores.append(self.peak_scores[joint_a][id_a]
                           + self.peak_scores[joint_b][id_b] + limb_score)

    def attach(self, person: int, joint_a: int, id_a: int, joint_b: int,
               id_b: int, limb_score: float) -> None:
        """Give the person the connection's other part if that joint is
        empty; one already holding another peak is a conflict: ignored."""
        ids = self.joint_ids[person]
        for joint, peak in ((joint_a, id_a), (joint_b, id_b)):
            if ids[joint] < 0:
                ids[joint] = peak
                self.scores[person] += (self.peak_scores[joint][peak]
                                        + limb_score)
                return

    def merge(self, keep: int, other: int, limb_score: float) -> None:
        """Join two people with disjoint joints: union of the joints (so
        the part counts add up), sum of the scores plus the connection's."""
        self.joint_ids[keep] = np.maximum(self.joint_ids[keep],
                                          self.joint_ids[other])
        self.scores[keep] += self.scores[other] + limb_score
        del self.joint_ids[other], self.scores[other]

    def disjoint(self, first: int, second: int) -> bool:
        return not np.any((self.joint_ids[first] >= 0)
                          & (self.joint_ids[second] >= 0))

    def people(self) -> People:
        joint_ids = np.array(self.joint_ids, np.int64).reshape(-1, NUM_JOINTS)
        part_counts = np.count_nonzero(joint_ids >= 0, axis=1)
        return People(joint_ids, np.array(self.scores, dtype=np.float64),
                      part_counts.astype(np.int64))


def assemble_people(matches_per_limb: Sequence[np.ndarray],
                    peaks: Sequence[np.ndarray]) -> People:
    """Join matched limbs that share joints into people, as the demo does.

    Limbs are visited in :data:`entity.LIMBS` order.  For each connection
    (a, b): if one person holds a or b, it gets the other part when that
    joint is still empty; if two people hold them and share no joint, they
    merge; if nobody holds either and the limb is not redundant, a new person
    starts.  Other cases (conflicting slots, overlapping people) are ignored,
    so a peak never belongs to two people.

    Args:
        matches_per_limb: one (L_k, 3) ``[index_a, index_b, score]`` array
            per limb of :data:`entity.LIMBS` (from :func:`match_limbs`).
        peaks: the 18 (K_j, 3) ``[x, y, score]`` arrays of
            :func:`find_peaks`.

    Returns:
        :class:`People`, in order of creation.
    """
    assembly = _Assembly([p[:, 2].astype(np.float64) for p in peaks])
    for k, ((joint_a, joint_b), matches) in enumerate(
            zip(LIMBS, matches_per_limb)):
        for id_a, id_b, limb_score in matches:
            _connect(assembly, joint_a, int(id_a), joint_b, int(id_b),
                     float(limb_score), may_start=k not in REDUNDANT_LIMBS)
    return assembly.people()


def _connect(assembly: _Assembly, joint_a: int, id_a: int, joint_b: int,
             id_b: int, limb_score: float, may_start: bool) -> None:
    """Apply one connection to the people under assembly."""
    owners = assembly.owners(joint_a, id_a, joint_b, id_b)
    if len(owners) == 1:
        assembly.attach(owners[0], joint_a, id_a, joint_b, id_b, limb_score)
    elif len(owners) == 2:
        if assembly.disjoint(*owners):
            assembly.merge(*owners, limb_score)
    elif may_start:
        assembly.start(joint_a, id_a, joint_b, id_b, limb_score)


def filter_people(people: People,
                  params: InferenceParams = DEFAULT_PARAMS) -> People:
    """Keep people with at least ``params.min_person_parts`` joints and a
    mean score per joint (``score / part_count``) of at least
    ``params.min_person_score``."""
    counts = people.part_counts
    keep = counts >= params.min_person_parts
    keep[keep] = (people.scores[keep] / counts[keep]
                  >= params.min_person_score)
    return People(*(values[keep] for values in people))


# ---------------------------------------------------------------------------
# 6. The whole decoding
# ---------------------------------------------------------------------------


def decode_poses(heatmaps: np.ndarray, pafs: np.ndarray,
                 params: InferenceParams = DEFAULT_PARAMS, *,
                 smooth: bool = True) -> Detection:
    """Every person in one image, from the network's final maps.

    Args:
        heatmaps: (19, H, W) float32 confidence maps (18 joints, then the
            background, which is ignored) at image resolution, not smoothed.
        pafs: (38, H, W) float32 part affinity fields, channels as
            :data:`entity.LIMB_PAF_CHANNELS`.
        params: thresholds; see :class:`entity.InferenceParams`.
        smooth: smooth the confidence maps with ``params.gaussian_sigma``
            before peak finding (the demo does); False searches the maps as
            given (exact maps, or maps smoothed elsewhere).

    Returns:
        The :class:`pose.detection.Detection` (no faces or hands):

        * poses: (N, 18, 3) float32 ``x, y, flag`` in pixels of the maps,
          flag :data:`JOINT_FOUND` (2), or :data:`JOINT_MISSING` (0) with
          x = y = 0;
        * scores: (N,) float32 person scores (peak scores plus connection
          scores), highest first;
        * confidences: (N, 18) float32 unsmoothed confidence-map value at
          each joint, 0 where missing.

        No person: shapes (0, 18, 3), (0,) and (0, 18).
    """
    heatmaps, pafs = _checked_maps(heatmaps, pafs)
    peaks = (find_smoothed_peaks(heatmaps, params.gaussian_sigma,
                                 params.peak_threshold)
             if smooth else find_peaks(heatmaps, params.peak_threshold))
    return poses_from_peaks(peaks, pafs, params)


class MapEvidence(NamedTuple):
    """What steps 5-6 need from one image's maps: small (a few rows per
    limb, never all pairs) and on the host.

    Attributes:
        peaks: 18 (K_j, 3) float32 ``[x, y, score]`` arrays.
        matches: per limb of :data:`entity.LIMBS`, its (L, 3) float64
            ``[index_a, index_b, score]`` connections (:func:`match_limbs`).
    """
    peaks: Sequence[np.ndarray]
    matches: List[np.ndarray]


#: Most candidate pairs whose PAF samples are read together (one gather on
#: a GPU; on the CPU, reading a sample from the network's maps
#: (:class:`pose.device_maps.UpsampledField`) takes two rows of the map's
#: height, so about 8 KB a pair at input height 368): an image with a few
#: people reads all its limbs at once, while maps with thousands of peaks
#: (untrained weights) are read limb by limb, each limb's pairs freed
#: before the next, so memory stays that of the largest limb.
PAIRS_PER_GATHER = 2 ** 14


def map_evidence(peaks: Sequence[np.ndarray], pafs,
                 params: InferenceParams = DEFAULT_PARAMS,
                 sample=sample_pafs) -> MapEvidence:
    """Steps 3-4 for every limb: the :class:`MapEvidence` of peaks and
    (38, H, W) PAFs.  ``sample(pafs, pixels, channels)`` reads the PAFs
    along the pairs of several limbs at once (:func:`sample_pafs`, or
    :func:`pose.device_maps.sample_pafs` for maps on a GPU, which then
    never leave it)."""
    map_size = tuple(pafs.shape[1:])
    matches = []
    for limbs in _gather_groups(peaks):
        pairs = [limb_pairs(peaks[a], peaks[b])
                 for a, b in (LIMBS[k] for k in limbs)]
        samples = sample(pafs, [sample_pixels(p, params.paf_samples,
                                              map_size) for p in pairs],
                         [LIMB_PAF_CHANNELS[k] for k in limbs])
        matches += [match_limbs(pair_scores(p, v, map_size[0], params),
                                len(peaks[LIMBS[k][0]]),
                                len(peaks[LIMBS[k][1]]))
                    for k, p, v in zip(limbs, pairs, samples)]
    return MapEvidence(peaks, matches)


def _gather_groups(peaks: Sequence[np.ndarray]) -> List[List[int]]:
    """The limbs (indices into :data:`entity.LIMBS`) in runs of at most
    :data:`PAIRS_PER_GATHER` candidate pairs (a larger limb alone)."""
    groups: List[List[int]] = [[]]
    total = 0
    for k, (a, b) in enumerate(LIMBS):
        pairs = len(peaks[a]) * len(peaks[b])
        if groups[-1] and total + pairs > PAIRS_PER_GATHER:
            groups.append([])
            total = 0
        groups[-1].append(k)
        total += pairs
    return groups


def poses_from_evidence(evidence: MapEvidence,
                        params: InferenceParams = DEFAULT_PARAMS
                        ) -> Detection:
    """Steps 5-6: assemble the matched limbs into people and filter them.

    Returns:
        The :class:`pose.detection.Detection`, as :func:`decode_poses`.
    """
    people = filter_people(assemble_people(evidence.matches, evidence.peaks),
                           params)
    return _detection(people, evidence.peaks)


def poses_from_peaks(peaks: Sequence[np.ndarray], pafs: np.ndarray,
                     params: InferenceParams = DEFAULT_PARAMS) -> Detection:
    """Steps 3-6 of :func:`decode_poses`, from peaks found elsewhere (on a
    GPU, say).

    Args:
        peaks: 18 (K_j, 3) float32 ``[x, y, score]`` arrays, as
            :func:`find_peaks` returns them.
        pafs: (38, H, W) float32 part affinity fields at image resolution.
        params: thresholds; see :class:`entity.InferenceParams`.

    Returns:
        The :class:`pose.detection.Detection`, as :func:`decode_poses`.
    """
    return poses_from_evidence(map_evidence(peaks, pafs, params), params)


def _checked_maps(heatmaps: np.ndarray, pafs: np.ndarray
                  ) -> Tuple[np.ndarray, np.ndarray]:
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    pafs = np.asarray(pafs, dtype=np.float32)
    if heatmaps.ndim != 3 or heatmaps.shape[0] != NUM_HEATMAPS:
        raise ValueError(f'heatmaps must be ({NUM_HEATMAPS}, H, W), got '
                         f'{heatmaps.shape}')
    if pafs.shape != (NUM_PAF_CHANNELS,) + heatmaps.shape[1:]:
        raise ValueError(f'pafs must be ({NUM_PAF_CHANNELS}, H, W) with the '
                         f'heatmaps\' H, W {heatmaps.shape[1:]}, got '
                         f'{pafs.shape}')
    return heatmaps, pafs


def _detection(people: People, peaks: Sequence[np.ndarray]) -> Detection:
    """The people as a Detection, by descending score."""
    order = np.argsort(-people.scores, kind='stable')
    ids = people.joint_ids[order]
    found = ids >= 0
    first_id = np.cumsum([0] + [len(p) for p in peaks[:-1]])
    table = np.concatenate([np.zeros((1, 3), np.float32), *peaks])
    rows = np.where(found, ids + first_id + 1, 0)   # row 0: missing joint
    poses = table[rows]                              # (N, 18, 3)
    confidences = poses[..., 2].copy()
    poses[..., 2] = np.where(found, JOINT_FOUND, JOINT_MISSING)
    return Detection(poses=poses.astype(np.float32),
                     scores=people.scores[order].astype(np.float32),
                     confidences=confidences.astype(np.float32))
