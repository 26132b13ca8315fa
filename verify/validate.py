"""Parameter checks shared by the library: a ``ValueError`` that names the parameter and its valid range."""
from __future__ import annotations

import numbers


def int_at_least(name: str, value, lo: int) -> int:
    """``value`` as an int, or a ValueError naming ``name`` and the range ``>= lo`` (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}; got {value!r}")
    return int(value)
