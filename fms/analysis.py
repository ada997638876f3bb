"""The analysis of one trial: curves, repetitions, key frames,
measurements, score.

:func:`analyze_track` prepares the subject's track (gaps filled, smoothed:
:func:`fms.sequence.prepare_track`), computes the per-frame curves of the
test, cuts the clip into its repetitions (:mod:`fms.repetitions`, from the
test's driving curve: the hip height for the squat and the lunge, the
stepping ankle's height for the hurdle step, the fist distance for
shoulder mobility, the leg raise angle for the ASLR, the shoulder rise for
the push-up, the reach for rotary stability), measures what the criteria
compare at each repetition's key frame (or over the repetition, or over
the trial where said) and judges each (:func:`fms.scoring.evaluate`).
FMS scores the best of up to three repetitions, so the trial's score,
key frame, measurements and criteria are those of the best-scoring
repetition (ties: the first).  Each test has one small measuring function
in its own module of :mod:`fms.movements` (:data:`MEASURES`), whose
docstring lists the test's curves.

What stays trial-wide: the checks that the clip holds the movement and
shows the ``--side`` given (they are about the clip, not a repetition),
the moving leg of rotary stability, the hand length of shoulder mobility,
and the curves themselves (the push-up's shoulder rise is measured from
the lowest shoulder of the whole clip).

Every measured value is a :class:`fms.measurements.Measurement` record:
its unit is stated by the measuring function once (the curve's unit, for a
value read off a curve) and its anchor names the joint it belongs to (the
stepping ankle's clearance, the back knee's height, the trunk between the
hips), so the report writes it there.  Values used only for bookkeeping (a
hand length in pixels, flags) have no anchor.

Curves (``Analysis.curves``) are (T,) float64, NaN where joints are
missing.
"""
from __future__ import annotations

from typing import List, Mapping, Optional

import numpy as np

from fms import FmsError
from fms.criteria import check_inputs
from fms.labels import scores_in_words
from fms.movements import MEASURES
from fms.protocol import check_side, check_test, check_view
from fms.results import Analysis, Repetition
from fms.scoring import check_observable, evaluate, score_repetitions
from fms.sequence import DEFAULT_TRACK_PARAMS, Track, TrackParams, \
    prepare_track
from fms.thresholds import test_thresholds

__all__ = ['MEASURES', 'analyze_track', 'repetition_line',
           'repetition_outcome']

#: Fewer frames than this is no movement at all.
MIN_FRAMES = 3


def analyze_track(track: Track, test: str, side: Optional[str], view: str,
                  inputs: Mapping, thresholds: Optional[Mapping] = None,
                  params: TrackParams = DEFAULT_TRACK_PARAMS) -> Analysis:
    """Analyse one trial of ``test`` filmed in ``view``.

    Args:
        track: the subject's raw track (:func:`fms.sequence.select_subject`).
        test, side, view: see :mod:`fms.protocol`; ``side`` is required for
            bilateral tests (the moving limb's side) and None otherwise.
        inputs: what the camera cannot see: ``pain``, ``clearing_pain``
            (shoulder mobility, push-up, rotary stability),
            ``heels_raised``, ``sex`` ('male'/'female', push-up),
            ``pattern`` (rotary), ``hand_length_cm`` and ``stature_cm``
            (shoulder mobility: the hand length measured before the test,
            and the stature that sets its pixel scale).
        thresholds: overrides of the packaged thresholds (see
            :func:`fms.thresholds.test_thresholds`).
        params: gap filling and smoothing of the track.

    Returns:
        The :class:`fms.results.Analysis`, ``curve_thresholds`` holding the
        threshold lines (label, value) of the curves.

    Raises:
        FmsError: bad test, side or view; joints the test needs never found
            (the message names them and the framing to use); no criterion
            observable in the view; a clip without the tested movement
            (too few frames, or e.g. a squat whose hip never lowers); a
            ``side`` the movement contradicts (the message names the side
            detected); clearing pain for a test without a clearing test;
            a hand length or stature that is not a positive number, given
            without the other, or given for another test than shoulder
            mobility (:func:`fms.criteria.check_hand_scale`).
    """
    check_test(test)
    side = check_side(test, side)
    check_view(view)
    check_inputs(test, inputs)
    check_observable(test, view)
    values = test_thresholds(test, thresholds)
    if len(track) < MIN_FRAMES:
        raise FmsError(f'{test}: only {len(track)} frame(s): no movement to '
                       f'analyse; give a keypoint file or video of the '
                       f'whole trial')
    prepared = prepare_track(track, params)
    measures = MEASURES[test](prepared, side, view, inputs)
    verdicts = [evaluate(test, view, measured, values, inputs)
                for measured in measures.measurements]
    # a repetition where nothing was judged (its key frame without the
    # joints) cannot be the best; none judged at all: an error
    trial = score_repetitions(test, view, verdicts)
    chosen = trial.chosen
    repetitions = [Repetition(span.first, span.last, span.key, v.score,
                              measured, v.possible if v.judged else ())
                   for span, v, measured in zip(
                       measures.spans, verdicts, measures.measurements)]
    reasons = trial.reasons + list(measures.notes) + [
        repetition_line(repetitions, chosen, prepared.frames)]
    lines = {curve: [(label, values[key]) for label, key in entries]
             for curve, entries in measures.lines.items()
             if curve in measures.curves}
    key_reason = measures.key_reason
    if len(repetitions) > 1:
        key_reason += f', repetition {chosen + 1} of {len(repetitions)}'
    return Analysis(
        test=test, side=side, view=view, track=prepared,
        curves=measures.curves, curve_units=measures.units,
        curve_thresholds=lines, key_index=repetitions[chosen].key_index,
        key_reason=key_reason,
        measurements=repetitions[chosen].measurements,
        criteria=verdicts[chosen].criteria, score=trial.score,
        possible=trial.possible, to_film=trial.to_film, reasons=reasons,
        inputs=dict(inputs),
        thresholds=values, repetitions=repetitions, repetition=chosen)


def repetition_outcome(repetition: Repetition) -> str:
    """``scored 2``, ``provisional (1 or 3)`` or ``not judged (joints not
    found)``."""
    if repetition.score is not None:
        return f'scored {repetition.score}'
    if repetition.possible:
        return f'provisional ({scores_in_words(repetition.possible)})'
    return 'not judged (joints not found)'


def repetition_line(repetitions: List[Repetition], chosen: int,
                    frames: np.ndarray) -> str:
    """The reason line naming the repetition scored: ``repetition 2 of 3
    (frames 61-118), the best; others: repetition 1 scored 1, repetition 3
    scored 2`` (``one repetition (frames 0-89)`` when only one)."""
    def span(r: Repetition) -> str:
        return (f'frames {int(frames[r.first_index])}-'
                f'{int(frames[r.last_index])}')
    best = repetitions[chosen]
    if len(repetitions) == 1:
        return f'one repetition ({span(best)})'
    others = ', '.join(f'repetition {i + 1} {repetition_outcome(r)}'
                       for i, r in enumerate(repetitions) if i != chosen)
    return (f'repetition {chosen + 1} of {len(repetitions)} ({span(best)}), '
            f'the best; others: {others}')
