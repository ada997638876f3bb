"""Detection: keeping the strongest people."""
import numpy as np

from pose.detection import Detection


def detection(scores, parts=True):
    n = len(scores)
    poses = np.arange(n * 18 * 3, dtype=np.float32).reshape(n, 18, 3)
    return Detection(poses, np.asarray(scores, np.float32),
                     np.tile(np.arange(n, dtype=np.float32)[:, None], 18),
                     np.arange(n * 70 * 3, dtype=np.float32).reshape(n, 70, 3)
                     if parts else None,
                     np.arange(n * 126, dtype=np.float32).reshape(n, 2, 21, 3)
                     if parts else None)


def test_strongest_keeps_the_highest_scores_aligned():
    full = detection([0.5, 0.9, 0.1, 0.7])
    kept = full.strongest(2)
    np.testing.assert_array_equal(kept.scores, np.float32([0.9, 0.7]))
    for name in ('poses', 'confidences', 'faces', 'hands'):
        np.testing.assert_array_equal(getattr(kept, name),
                                      getattr(full, name)[[1, 3]])


def test_strongest_without_a_limit_or_parts():
    full = detection([0.3, 0.2], parts=False)
    assert full.strongest(None) is full and full.strongest(5) is full
    kept = full.strongest(1)
    assert len(kept) == 1 and kept.faces is None and kept.hands is None
