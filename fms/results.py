"""What the analysis of one trial finds, and its JSON result document.

The result document (:func:`result_document`) is what ``agreement`` and
``calibrate`` read; :func:`document_measurements` reads its measurements
back as :class:`fms.measurements.Measurement` records (version-1 files
written before ``measurement_details`` existed get units '' and no
anchors).

Repetitions: ``measurements``, ``measurement_details``, ``criteria`` and
``key_frame`` are those of the chosen (best) repetition, as before
repetitions were found, so every reader of a single trial keeps working.
``repetitions`` lists each repetition found (its frames, score and
measurements) and ``repetition`` the chosen one's ``index``;
:func:`repetition_measurements` reads each repetition's measurements back
so that :func:`fms.scoring.rescore` judges every repetition again and takes
the best (documents without ``repetitions`` are judged on ``measurements``
alone).  These fields are optional additions, so the version stays 1.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

import numpy as np

from common.numbers import finite_or_none
from fms.measurements import (Measurement, Measurements, anchor_document,
                              anchor_from_document)
from fms.sequence import Track

#: ``format`` and ``version`` fields of a result document.
RESULT_FORMAT = 'fms-result'
RESULT_VERSION = 1


@dataclasses.dataclass
class CriterionResult:
    """One scoring criterion judged at the key frame (or over the trial).

    ``passed`` is ``value <comparison> threshold``; it is None when the view
    cannot observe the criterion (``observable`` False) or the joints it
    needs were not found (``value`` None); ``note`` then says why.
    """
    name: str                 # e.g. 'femur_below_horizontal'
    description: str          # one line: what is judged
    measurement: str          # key of Analysis.measurements
    value: Optional[float]
    unit: str                 # 'deg', 'hand lengths', 'fraction', ...
    threshold_key: str        # key of the test's thresholds
    threshold: Optional[float]
    comparison: str           # '<=' or '>='
    observable: bool
    passed: Optional[bool]
    note: str = ''
    view: Optional[str] = None    # the view it was judged from (None: not)


@dataclasses.dataclass
class Repetition:
    """One repetition of a trial (:mod:`fms.repetitions`), judged at its
    own key frame.

    Attributes:
        first_index, last_index: indices into the track's arrays of its
            first and last frames (inclusive).
        key_index: index of its key frame.
        score: its suggested score (None: provisional, or no criterion
            could be judged at its key frame).
        measurements: what its criteria compared.
        possible: the scores it could still get (``(score,)`` when
            definite; empty when nothing was judged).
    """
    first_index: int
    last_index: int
    key_index: int
    score: Optional[int]
    measurements: Measurements
    possible: Tuple[int, ...] = ()


@dataclasses.dataclass
class Analysis:
    """The analysis of one trial of one test.

    Attributes:
        test, side, view: as given (side None for unilateral tests).
        track: the prepared track (gaps filled, smoothed).
        curves: name -> (T,) float64 per-frame measure (NaN where the
            joints were missing), e.g. 'knee_flexion' in degrees.
        curve_units: name -> unit of each curve ('deg', ...).
        curve_thresholds: name -> [(label, value)] lines to draw on the
            curve's plot.
        key_index: index into the track's arrays of the key frame.
        key_reason: how the key frame was chosen ('lowest hip position').
        measurements: name -> :class:`fms.measurements.Measurement`, the
            value at the key frame (or over the trial; None where not
            measurable) with its unit and anchor joint; what the criteria
            compare and the key frame image labels.
        criteria: every criterion of the test, observable or not.
        score: the suggested score, 0-3; None when it is provisional: a
            criterion not judged (not observable in the view, or its
            joints not seen) could change it.
        possible: the scores still possible, ascending (``(score,)``
            when definite).
        to_film: for a provisional score, what to film to decide it.
        reasons: one line each, why that score (and what was not judged).
        inputs: what the camera cannot see, as given: 'pain',
            'heels_raised', 'sex', ...
        thresholds: threshold key -> value used for this test.
        repetitions: every repetition found, in time order (empty for an
            analysis built without them).
        repetition: index into ``repetitions`` of the chosen one, the
            best-scoring (ties: the first), whose key frame, measurements,
            criteria and score are the trial's above; None without
            repetitions.
    """
    test: str
    side: Optional[str]
    view: str
    track: Track
    curves: Dict[str, np.ndarray]
    curve_units: Dict[str, str]
    curve_thresholds: Dict[str, List[Tuple[str, float]]]
    key_index: int
    key_reason: str
    measurements: Measurements
    criteria: List[CriterionResult]
    score: Optional[int]
    reasons: List[str]
    inputs: Dict[str, object]
    thresholds: Dict[str, float]
    possible: Tuple[int, ...] = ()
    to_film: List[str] = dataclasses.field(default_factory=list)
    repetitions: List[Repetition] = dataclasses.field(default_factory=list)
    repetition: Optional[int] = None


def result_document(analysis: Analysis, subject: str) -> dict:
    """The JSON result of a trial: what ``agreement`` and ``calibrate`` read.

    Keys: ``format``, ``version``, ``subject``, ``test``, ``side``, ``view``,
    ``score`` (null when provisional), ``possible`` (the scores still
    possible), ``to_film`` (what to film to decide a provisional score),
    ``reasons``, ``inputs``, ``key_frame`` (``index``, ``frame``,
    ``time``, ``reason``), ``measurements`` (name -> value or null),
    ``measurement_details`` (name -> ``{"unit", "anchor": {"joint",
    "place"} or null}``), ``criteria`` (a list of :class:`CriterionResult`
    as dicts), ``thresholds``, ``person_id``, ``source``,
    ``repetitions`` (a list of ``{"index" (from 1), "first_frame",
    "last_frame", "key_frame" (frame numbers), "score", "possible",
    "measurements"
    (name -> value or null)}``) and ``repetition`` (the chosen one's
    ``index``, null without repetitions).  ``key_frame``, ``measurements``
    and ``criteria`` are the chosen repetition's.
    """
    track, key = analysis.track, analysis.key_index
    return {
        'format': RESULT_FORMAT, 'version': RESULT_VERSION,
        'subject': subject, 'test': analysis.test, 'side': analysis.side,
        'view': analysis.view,
        'score': None if analysis.score is None else int(analysis.score),
        'possible': [int(s) for s in analysis.possible],
        'to_film': list(analysis.to_film),
        'reasons': list(analysis.reasons), 'inputs': dict(analysis.inputs),
        'key_frame': {'index': int(key), 'frame': int(track.frames[key]),
                      'time': float(track.times[key]),
                      'reason': analysis.key_reason},
        'measurements': {name: m.value for name, m
                         in analysis.measurements.items()},
        'measurement_details': {
            name: {'unit': m.unit, 'anchor': anchor_document(m.anchor)}
            for name, m in analysis.measurements.items()},
        'criteria': [_criterion_document(c) for c in analysis.criteria],
        'thresholds': {name: float(value) for name, value
                       in analysis.thresholds.items()},
        'person_id': int(track.person_id), 'source': track.source,
        'repetitions': [_repetition_document(r, i, track.frames)
                        for i, r in enumerate(analysis.repetitions)],
        'repetition': (None if analysis.repetition is None
                       else int(analysis.repetition) + 1),
    }


def _repetition_document(repetition: Repetition, index: int,
                         frames: np.ndarray) -> dict:
    """A repetition as a JSON-ready dict, numbered from 1, with frame
    numbers (not indices)."""
    return {'index': index + 1,
            'first_frame': int(frames[repetition.first_index]),
            'last_frame': int(frames[repetition.last_index]),
            'key_frame': int(frames[repetition.key_index]),
            'score': (None if repetition.score is None
                      else int(repetition.score)),
            'possible': [int(s) for s in repetition.possible],
            'measurements': {name: finite_or_none(m.value) for name, m
                             in repetition.measurements.items()}}


def _criterion_document(criterion: CriterionResult) -> dict:
    """A criterion as a JSON-ready dict (NaN values become null)."""
    document = dataclasses.asdict(criterion)
    document['value'] = finite_or_none(criterion.value)
    document['threshold'] = finite_or_none(criterion.threshold)
    return document


def document_measurements(document: dict) -> Measurements:
    """The measurement records of a result document (any version): values
    from ``measurements``, unit and anchor from ``measurement_details`` when
    present (else '' and None); a value that is not a number is None."""
    details = document.get('measurement_details') or {}
    records = {}
    for name, value in (document.get('measurements') or {}).items():
        detail = details.get(name) if isinstance(details, dict) else None
        detail = detail if isinstance(detail, dict) else {}
        records[name] = Measurement(
            _number(value), str(detail.get('unit') or ''),
            anchor_from_document(detail.get('anchor')))
    return records


def repetition_measurements(document: dict) -> List[Measurements]:
    """The measurement records of each repetition of a result document
    (units and anchors from ``measurement_details``, as
    :func:`document_measurements`); ``[document_measurements(document)]``
    for a document without repetition measurements (written before
    repetitions were found, or by hand)."""
    repetitions = document.get('repetitions')
    if not isinstance(repetitions, list) or not repetitions or not all(
            isinstance(r, dict) and isinstance(r.get('measurements'), dict)
            for r in repetitions):
        return [document_measurements(document)]
    return [document_measurements(
        {'measurements': r['measurements'],
         'measurement_details': document.get('measurement_details')})
        for r in repetitions]


def _number(value) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return finite_or_none(value)
