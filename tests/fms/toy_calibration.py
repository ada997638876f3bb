"""Toy calibration data: a one-measurement score whose hidden threshold
generates the coach's scores (shared by the calibration tests)."""

HIDDEN = 12.0           # the threshold the coach's scores come from
DEFAULT = 10.0
GRID = [float(v) for v in range(0, 21)]
# the trials' measurements: 0.5, 1.5, ..., 19.5 (one between each pair of
# grid values, so only the grid value 12 reproduces the coach exactly)
XS = [k + 0.5 for k in range(20)]


def rescore(document, thresholds):
    """Toy scoring: 3 when x reaches the threshold, else 1; ``unused`` is a
    threshold the score does not depend on."""
    return 3 if document['measurements']['x'] >= thresholds['x_min'] else 1


def squat_trials(xs, threshold, subjects=None):
    """Deep squat documents (one per subject) and coach scores from
    ``threshold``."""
    subjects = subjects or [f'S{i:02d}' for i in range(len(xs))]
    documents, coach = {}, {}
    for subject, x in zip(subjects, xs):
        key = (subject, 'deep_squat', None)
        documents[key] = {'format': 'fms-result', 'subject': subject,
                          'test': 'deep_squat', 'side': None,
                          'measurements': {'x': x}}
        coach[key] = 3 if x >= threshold else 1
    return documents, coach


SPACE = {'deep_squat': {'x_min': GRID, 'unused': GRID}}
DEFAULTS = {'deep_squat': {'x_min': DEFAULT, 'unused': 5.0},
            'aslr': {'x_min': 7.0}}
