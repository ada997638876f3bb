"""Plain-text tables and figures for the reports printed by the commands."""
from __future__ import annotations

import math
from typing import List, Sequence

#: What the reports print for an undefined figure (an undefined kappa, no
#: trials).
NOT_AVAILABLE = 'n/a'

#: Space between blocks of lines set side by side.
BLOCK_GAP = ' ' * 4


def aligned_table(rows: Sequence[Sequence[str]],
                  right: Sequence[bool]) -> List[str]:
    """Lines of an aligned table; a rule under the first (header) row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(cell.rjust(width) if r else cell.ljust(width)
                       for cell, width, r in zip(row, widths, right)).rstrip()
             for row in rows]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return lines


def side_by_side(blocks: Sequence[List[str]]) -> List[str]:
    """Blocks of lines set next to each other, each padded to its width."""
    height = max(len(block) for block in blocks)
    widths = [max(len(line) for line in block) for block in blocks]
    padded = [block + [''] * (height - len(block)) for block in blocks]
    return [BLOCK_GAP.join(block[row].ljust(width)
                           for block, width in zip(padded, widths)).rstrip()
            for row in range(height)]


def fraction_text(value: float) -> str:
    """``'0.67'``, or ``'n/a'`` for NaN."""
    return NOT_AVAILABLE if math.isnan(value) else f'{value:.2f}'


def kappa_text(kappa: float, n: int) -> str:
    """``'0.71'``, or ``'n/a'`` for an undefined kappa (no trials, or one
    shared category; the report's notes explain it)."""
    if n == 0 or math.isnan(kappa):
        return NOT_AVAILABLE
    return f'{kappa:.2f}'
