"""Measured values for JSON documents and tables."""
from __future__ import annotations

import math
from typing import Optional


def finite_or_none(value) -> Optional[float]:
    """``value`` as a plain float, or None when it is None, NaN or infinite
    (JSON has no NaN; a missing measurement is ``null``)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
