"""Tests of fms.repetitions: the repetitions of a driving curve."""
import numpy as np
import pytest

from fms import repetitions
from fms.repetitions import Span, find_repetitions, separation_frames
from tests.fixtures.movements import bell


def bells(depths, frames=60, key=30):
    """Repetitions of cosine-shaped excursions of the given depths."""
    return np.concatenate([d * bell(frames, key) for d in depths])


def test_three_repetitions_are_three_spans_covering_the_clip():
    spans = find_repetitions(bells([1.0, 1.0, 1.0]), True, 15)
    assert [s.key for s in spans] == [30, 90, 150]
    assert spans[0].first == 0 and spans[-1].last == 179
    assert all(a.last + 1 == b.first for a, b in zip(spans, spans[1:]))
    assert all(s.first < s.key < s.last for s in spans)


def test_one_repetition_keeps_the_clip_extreme():
    curve = bells([1.0], frames=90, key=40)
    assert find_repetitions(curve, True, 15) == [Span(0, 89, 40)]


def test_the_smallest_values_drive_when_asked():
    spans = find_repetitions(5.0 - bells([2.0, 1.5]), False, 15)
    assert [s.key for s in spans] == [30, 90]


@pytest.mark.parametrize('seed', range(5))
def test_noise_does_not_split_one_repetition(seed):
    rng = np.random.default_rng(seed)
    curve = bells([1.0], frames=90, key=45) + rng.normal(0, 0.05, 90)
    assert len(find_repetitions(curve, True, 15)) == 1
    three = bells([1.0, 0.9, 1.0]) + rng.normal(0, 0.05, 180)
    assert len(find_repetitions(three, True, 15)) == 3


def test_a_bounce_at_the_bottom_is_one_repetition():
    curve = bells([1.0], frames=90, key=45)
    curve[40:51] -= 0.25 * np.sin(np.linspace(0, np.pi, 11))   # rises 25%
    assert len(find_repetitions(curve, True, 15)) == 1


def test_a_shallow_excursion_is_not_a_repetition():
    shallow = repetitions.ENTER_LEVEL - 0.1
    spans = find_repetitions(bells([1.0, shallow, 0.8]), True, 15)
    assert [s.key for s in spans] == [30, 150]


def test_extremes_closer_than_the_separation_are_one():
    curve = bells([1.0, 1.0], frames=12, key=6)     # extremes 12 apart
    assert len(find_repetitions(curve, True, 12)) == 2
    assert len(find_repetitions(curve, True, 13)) == 1


def test_missing_values_and_flat_curves():
    curve = bells([1.0, 1.0])
    curve[25:36] = np.nan                     # the first extreme missing
    spans = find_repetitions(curve, True, 15)
    assert len(spans) == 2 and not 25 <= spans[0].key <= 35
    assert find_repetitions(np.full(20, 3.0), True, 15) == [Span(0, 19, 0)]
    with pytest.raises(ValueError, match='no finite value'):
        find_repetitions(np.full(20, np.nan), True, 15)


def test_separation_in_frames_follows_the_frame_rate():
    assert separation_frames(np.arange(90) / 30.0) == 15
    assert separation_frames(np.arange(90) / 60.0) == 30
    assert separation_frames(np.zeros(3)) == 1
