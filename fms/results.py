"""What the analysis of one trial finds, and its JSON result document."""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

import numpy as np

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
        measurements: name -> value at the key frame (or over the trial),
            None where not measurable; what the criteria compare.
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
    measurements: Dict[str, Optional[float]]
    criteria: List[CriterionResult]
    score: int
    reasons: List[str]
    inputs: Dict[str, object]
    thresholds: Dict[str, float]


def result_document(analysis: Analysis, subject: str) -> dict:
    """The JSON result of a trial: what ``agreement`` and ``calibrate`` read.

    Keys: ``format``, ``version``, ``subject``, ``test``, ``side``, ``view``,
    ``score``, ``reasons``, ``inputs``, ``key_frame`` (``index``, ``frame``,
    ``time``, ``reason``), ``measurements``, ``criteria`` (a list of
    :class:`CriterionResult` as dicts), ``thresholds``, ``person_id`` and
    ``source``.
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
        'measurements': {name: _plain(value) for name, value
                         in analysis.measurements.items()},
        'criteria': [{name: _plain(value) for name, value
                      in dataclasses.asdict(criterion).items()}
                     for criterion in analysis.criteria],
        'thresholds': {name: float(value) for name, value
                       in analysis.thresholds.items()},
        'person_id': int(track.person_id), 'source': track.source,
    }


def _plain(value):
    """A JSON-ready copy of a measured value (NaN and None become None)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    value = float(value)
    return None if np.isnan(value) else value
