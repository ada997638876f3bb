"""The measuring function of each FMS test: the test's curves, its
repetitions and the measurements the criteria compare
(:class:`fms.movements.common.Measures`), dispatched on by
:func:`fms.analysis.analyze_track`.

======================  ====================================================
module                  what it measures
======================  ====================================================
common                  shared: mid points, key frames, repetitions, the
                        checks of the movement and of the side given
deep_squat              knee, hip, trunk, tibia, femur and dowel (side);
                        the knees' medial offsets (front)
hurdle_step             the stepping ankle's clearance; trunk lean (side);
                        leg alignment, lateral lean, shoulder tilt (front)
inline_lunge            trunk inclination, back knee height (side);
                        lateral lean, front knee alignment (front)
shoulder_mobility       the fists' distance in hand lengths (hand length
                        given, measured or estimated)
aslr                    the leg raise angle and the raised ankle's position
                        along the down leg
pushup                  the shoulder rise, hip deviation over the lift, hand
                        position before it
rotary_stability        the reach, arm and leg angles, the elbow-to-knee
                        touch, the trunk's stability
======================  ====================================================
"""
from typing import Callable, Dict, Mapping, Optional

from fms.movements.aslr import measure_aslr
from fms.movements.common import Measures
from fms.movements.deep_squat import measure_deep_squat
from fms.movements.hurdle_step import measure_hurdle_step
from fms.movements.inline_lunge import measure_inline_lunge
from fms.movements.pushup import measure_pushup
from fms.movements.rotary_stability import measure_rotary_stability
from fms.movements.shoulder_mobility import measure_shoulder_mobility
from fms.sequence import Track

Measure = Callable[[Track, Optional[str], str, Mapping], Measures]

#: The measuring function of each test: (prepared track, side, view,
#: inputs) -> :class:`fms.movements.common.Measures`.
MEASURES: Dict[str, Measure] = {
    'deep_squat': measure_deep_squat,
    'hurdle_step': measure_hurdle_step,
    'inline_lunge': measure_inline_lunge,
    'shoulder_mobility': measure_shoulder_mobility,
    'aslr': measure_aslr,
    'trunk_stability_pushup': measure_pushup,
    'rotary_stability': measure_rotary_stability,
}
