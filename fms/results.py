"""What the analysis of one trial finds, and its JSON result document.

The result document (:func:`result_document`) is what ``agreement`` and
``calibrate`` read; :func:`document_measurements` reads its measurements
back as :class:`fms.measurements.Measurement` records (version-1 files
written before ``measurement_details`` existed get units '' and no
anchors).
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
        score: the suggested score, 0-3.
        reasons: one line each, why that score (and what was not judged).
        inputs: what the camera cannot see, as given: 'pain',
            'heels_raised', 'sex', ...
        thresholds: threshold key -> value used for this test.
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
    score: int
    reasons: List[str]
    inputs: Dict[str, object]
    thresholds: Dict[str, float]


def result_document(analysis: Analysis, subject: str) -> dict:
    """The JSON result of a trial: what ``agreement`` and ``calibrate`` read.

    Keys: ``format``, ``version``, ``subject``, ``test``, ``side``, ``view``,
    ``score``, ``reasons``, ``inputs``, ``key_frame`` (``index``, ``frame``,
    ``time``, ``reason``), ``measurements`` (name -> value or null),
    ``measurement_details`` (name -> ``{"unit", "anchor": {"joint",
    "place"} or null}``), ``criteria`` (a list of :class:`CriterionResult`
    as dicts), ``thresholds``, ``person_id`` and ``source``.
    """
    track, key = analysis.track, analysis.key_index
    return {
        'format': RESULT_FORMAT, 'version': RESULT_VERSION,
        'subject': subject, 'test': analysis.test, 'side': analysis.side,
        'view': analysis.view, 'score': int(analysis.score),
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
    }


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


def _number(value) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return finite_or_none(value)
