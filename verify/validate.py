"""Parameter checks shared by the library: a ``ValueError`` that names the parameter and its valid range."""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch


def int_at_least(name: str, value, lo: int) -> int:
    """``value`` as an int, or a ValueError naming ``name`` and the range ``>= lo`` (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}; got {value!r}")
    return int(value)


def real_in(name: str, value, lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = False,
            hi_open: bool = False) -> float:
    """``value`` as a finite float in the range ``lo..hi`` (ends closed unless ``*_open``), or a ValueError
    naming ``name`` and the range (bools, NaN and infinities are refused)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        v = float(value)
        ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be a finite real number in {rng}; got {value!r}")
    return float(value)


def finite(name: str, x):
    """``x`` (a torch tensor or array-like) unchanged if every entry is finite, else a ValueError naming ``name``."""
    t = x if isinstance(x, torch.Tensor) else None
    if t is not None:
        bad = (t.is_floating_point() or t.is_complex()) and not bool(torch.isfinite(t).all())
    else:
        a = np.asarray(x)
        bad = a.dtype.kind in "fc" and not bool(np.isfinite(a).all()) or a.dtype.kind not in "biufc"
    if bad:
        raise ValueError(f"{name} must hold finite numbers (no NaN or infinity)")
    return x


def generator(name: str, value):
    """``value`` if it is a ``torch.Generator``, else a ValueError naming ``name`` (no global RNG fallback)."""
    if not isinstance(value, torch.Generator):
        raise ValueError(f"{name} must be a torch.Generator (seeded explicitly; the global RNG is never used); "
                         f"got {type(value).__name__}")
    return value


def int_tokens(name: str, x, hi: int, shape: tuple | None = None):
    """A torch integer tensor with entries in ``[0, hi)`` and, where ``shape`` is given, that shape (``None``
    entries are free), or a ValueError naming ``name``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"{name} must be an integer tensor; got dtype {x.dtype}")
    if shape is not None and (x.ndim != len(shape) or any(w is not None and g != w for g, w in zip(x.shape, shape))):
        want = ", ".join("n" if w is None else str(w) for w in shape)
        raise ValueError(f"{name} must have shape [{want}]; got {list(x.shape)}")
    if x.numel():
        lo_, hi_ = int(x.min()), int(x.max())
        if lo_ < 0 or hi_ >= hi:
            raise ValueError(f"{name} must hold integers in [0, {hi - 1}]; got min {lo_}, max {hi_}")
    return x
