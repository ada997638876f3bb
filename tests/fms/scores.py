"""Two subjects' screens scored by the analyzer and by a coach, for the
agreement tests: subject A complete in both, B with one side missing in the
automatic results, C scored by the coach only."""


def full_screen(subject, scores):
    """Trial scores of a subject: ``scores`` maps test -> score (unilateral)
    or (left, right) (bilateral)."""
    trials = {}
    for test, value in scores.items():
        if isinstance(value, tuple):
            trials[subject, test, 'left'] = value[0]
            trials[subject, test, 'right'] = value[1]
        else:
            trials[subject, test, None] = value
    return trials


A_AUTO = {'deep_squat': 2, 'hurdle_step': (2, 1), 'inline_lunge': (3, 2),
          'shoulder_mobility': (2, 2), 'aslr': (3, 3),
          'trunk_stability_pushup': 2, 'rotary_stability': (2, 2)}
# differs: deep_squat 3 (-1), hurdle_step right 2 (-1), push-up 3 (-1)
A_COACH = dict(A_AUTO, deep_squat=3, hurdle_step=(2, 2),
               trunk_stability_pushup=3)
B_COACH = {'deep_squat': 1, 'hurdle_step': (2, 2), 'inline_lunge': (2, 2),
           'shoulder_mobility': (1, 3), 'aslr': (2, 2),
           'trunk_stability_pushup': 1, 'rotary_stability': (1, 1)}
# differs: deep_squat 3 (+2), aslr left 0 (-2); aslr right missing
B_AUTO = dict(B_COACH, deep_squat=3)


def make_scores():
    auto = {**full_screen('A', A_AUTO), **full_screen('B', B_AUTO)}
    auto['B', 'aslr', 'left'] = 0
    del auto['B', 'aslr', 'right']
    coach = {**full_screen('A', A_COACH), **full_screen('B', B_COACH),
             ('C', 'deep_squat', None): 2}
    return auto, coach
