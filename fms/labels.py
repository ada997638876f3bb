"""Words for a trial's values, criteria and summary, shared by the plot, the
key frame image and the command line."""
from __future__ import annotations

from typing import List, Sequence

from fms.protocol import MAX_SCORE
from fms.results import Analysis, CriterionResult

#: Measured values in degrees are written without decimals, others with
#: this many.
VALUE_DECIMALS = 2


def format_value(value: float, unit: str) -> str:
    """``97 deg``, ``0.25 fraction``: degrees whole, others 2 decimals."""
    decimals = 0 if unit == 'deg' else VALUE_DECIMALS
    value = round(float(value), decimals) + 0.0     # no "-0"
    return f'{value:.{decimals}f} {unit}'.rstrip()


def scores_in_words(scores: Sequence[int]) -> str:
    """``'2 or 3'``, ``'1, 2 or 3'``."""
    words = [str(s) for s in scores]
    return ' or '.join([', '.join(words[:-1]), words[-1]] if len(words) > 1
                       else words)


def words(name: str) -> str:
    """``knee_flexion`` -> ``knee flexion``."""
    return name.replace('_', ' ')


def criterion_line(criterion: CriterionResult) -> str:
    """One line per criterion, e.g.
    ``PASS femur below horizontal: 8 deg (limit >= 0 deg)`` or
    ``n/a  knees over feet: not observable in the side view: ...``."""
    label = words(criterion.name)
    if not criterion.observable or criterion.passed is None:
        why = criterion.note or ('not observable' if not criterion.observable
                                 else 'not measured')
        return f'n/a  {label}: {why}'
    verdict = 'PASS' if criterion.passed else 'FAIL'
    threshold = ('' if criterion.threshold is None else
                 f' (limit {criterion.comparison} '
                 f'{format_value(criterion.threshold, criterion.unit)})')
    value = ('?' if criterion.value is None else
             format_value(criterion.value, criterion.unit))
    return f'{verdict} {label}: {value}{threshold}'


def trial_title(analysis: Analysis) -> str:
    """``deep squat (left), side view: suggested score 2/3``."""
    side = f' ({analysis.side})' if analysis.side else ''
    return (f'{words(analysis.test)}{side}, {analysis.view} view: '
            f'{score_words(analysis)}')


def score_words(analysis: Analysis) -> str:
    """``suggested score 2/3`` or ``provisional: 1 or 3``."""
    if analysis.score is None:
        return f'provisional: {scores_in_words(analysis.possible)}'
    return f'suggested score {analysis.score}/{MAX_SCORE}'


def key_frame_line(analysis: Analysis) -> str:
    """``key frame 45 at 1.50 s (lowest hip position)``."""
    track, key = analysis.track, analysis.key_index
    return (f'key frame {int(track.frames[key])} at '
            f'{float(track.times[key]):.2f} s ({analysis.key_reason})')


def analysis_summary(analysis: Analysis, subject: str) -> List[str]:
    """The lines the command line prints for a trial: the suggested score,
    the key frame, each criterion and each reason."""
    side = f' ({analysis.side})' if analysis.side else ''
    lines = [f'{subject}: {analysis.test}{side}, {analysis.view} view: '
             f'{score_words(analysis)}', key_frame_line(analysis)]
    lines += [f'  {criterion_line(c)}' for c in analysis.criteria]
    lines += [f'  - {reason}' for reason in analysis.reasons]
    return lines
