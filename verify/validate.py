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


# -- more checks (issue 13: every public entry point) ----------------------------------------------
def int_in(name: str, value, lo: int, hi: int) -> int:
    """``value`` as an int in ``[lo, hi]``, or a ValueError naming ``name`` and the range (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]; got {value!r}")
    return int(value)


def boolean(name: str, value) -> bool:
    """``value`` if it is a bool (Python or numpy), else a ValueError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def one_of(name: str, value, options) -> str:
    """``value`` if it is one of ``options`` (compared as strings only when it is a string), else a ValueError."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}; got {value!r}")
    return value


def instance(name: str, value, cls):
    """``value`` if it is an instance of ``cls``, else a ValueError naming ``name`` and the expected type."""
    if not isinstance(value, cls):
        want = cls.__name__ if isinstance(cls, type) else " or ".join(c.__name__ for c in cls)
        raise ValueError(f"{name} must be a {want}; got {type(value).__name__}")
    return value


def numpy_generator(name: str, value):
    """``value`` if it is a ``numpy.random.Generator``, else a ValueError naming ``name`` (no global RNG)."""
    if not isinstance(value, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator (seeded explicitly; the global RNG is never "
                         f"used); got {type(value).__name__}")
    return value


def device(name: str, value, default=None) -> torch.device:
    """A ``torch.device`` from ``value`` (``None``: ``default``), refusing an unknown device string and a CUDA
    device on a machine without CUDA, with a ValueError naming ``name``."""
    if value is None:
        if default is None:
            raise ValueError(f"{name} must be a torch device or a device string such as 'cpu'; got None")
        value = default
    if not isinstance(value, (str, torch.device)):
        raise ValueError(f"{name} must be a torch.device or a string such as 'cpu' or 'cuda'; got {type(value).__name__}")
    try:
        dev = torch.device(value)
    except (RuntimeError, ValueError, TypeError) as err:
        raise ValueError(f"{name} must be a torch device such as 'cpu' or 'cuda'; got {value!r} ({err})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}={value!r} asks for CUDA, which this machine does not have; use 'cpu'")
    if dev.type not in ("cpu", "cuda", "mps", "meta"):
        raise ValueError(f"{name} must be a 'cpu' or 'cuda' device; got {value!r}")
    return dev


def float_dtype(name: str, value) -> torch.dtype:
    """``value`` if it is ``torch.float32`` or ``torch.float64``, else a ValueError naming ``name``."""
    if value not in (torch.float32, torch.float64):
        raise ValueError(f"{name} must be torch.float32 or torch.float64; got {value!r}")
    return value


def tensor(name: str, x, *, ndim: int | None = None, min_ndim: int = 0, floating: bool | None = None,
           check_finite: bool = True) -> torch.Tensor:
    """``x`` unchanged if it is a torch tensor with ``ndim`` (or at least ``min_ndim``) dimensions, of a
    floating dtype when ``floating`` (an integer one when ``floating is False``; bool and complex are refused),
    and finite where ``check_finite``; else a ValueError naming ``name``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"{name} must hold real numbers; got dtype {x.dtype}")
    if floating is True and not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor (float32/float64); got dtype {x.dtype}")
    if floating is False and x.is_floating_point():
        raise ValueError(f"{name} must be an integer tensor; got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {list(x.shape)}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s); got shape {list(x.shape)}")
    if check_finite and x.is_floating_point() and x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must hold finite numbers (no NaN or infinity)")
    return x


def real_array(name: str, x, *, ndim: int | None = None, min_ndim: int = 0, allow_inf: bool = False,
               lo: float | None = None, integer: bool = False) -> np.ndarray:
    """``x`` (array-like of real numbers, not strings, bools or complex) as a float64 (``integer``: int64)
    numpy array with ``ndim`` (or at least ``min_ndim``) dimensions, no NaN (no infinity unless ``allow_inf``),
    entries ``>= lo`` where given, integer-valued where ``integer``; else a ValueError naming ``name``."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name} must be an array of real numbers; got {type(x).__name__} ({err})") from None
    if a.dtype == object and a.size:  # python ints beyond int64, Fractions, sympy numbers ...
        vals = a.ravel().tolist()
        if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in vals):
            raise ValueError(f"{name} must hold real numbers only")
        try:
            a = np.array([float(v) for v in vals], dtype=np.float64).reshape(a.shape)
        except (OverflowError, ValueError, TypeError):
            raise ValueError(f"{name} must hold numbers that fit in float64") from None
    if a.dtype.kind not in "iuf" and not (a.dtype == object and a.size == 0):
        raise ValueError(f"{name} must be an array of real numbers; got dtype {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {a.shape}")
    if a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s); got shape {a.shape}")
    if a.dtype.kind == "f" and a.size:
        if np.isnan(a).any() or (not allow_inf and np.isinf(a).any()):
            raise ValueError(f"{name} must hold finite numbers (no NaN{'' if allow_inf else ' or infinity'})")
    if integer:
        if a.dtype.kind == "f":
            if a.size and not (np.isfinite(a).all() and (a == np.round(a)).all() and np.abs(a).max() < 2**62):
                raise ValueError(f"{name} must hold integers")
            a = a.astype(np.int64)
        elif a.dtype.kind == "u" and a.size and a.max() >= 2**63:
            raise ValueError(f"{name} must hold integers that fit in int64")
        a = a.astype(np.int64)
    else:
        a = a.astype(np.float64)
    if lo is not None and a.size and a.min() < lo:
        raise ValueError(f"{name} must hold numbers >= {lo}; got min {a.min()}")
    return a


def number(name: str, value, *, allow_symbol: bool = False):
    """``value`` if it is a real number (int, float, Fraction, numpy or sympy number; a sympy expression only
    where ``allow_symbol``), never a string (``sympy.nsimplify`` and ``sympify`` would evaluate it)."""
    import sympy
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a real number; got {value!r}")
    if isinstance(value, sympy.Basic):
        if value.is_number:
            if value.is_real is False or not value.is_finite:
                raise ValueError(f"{name} must be a finite real number; got {value!r}")
            return value
        if allow_symbol:
            return value
        raise ValueError(f"{name} must be a number, not a symbolic expression; got {value!r}")
    if not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    return value


# -- memory ----------------------------------------------------------------------------------------
DEFAULT_MEMORY_LIMIT_GB = 8.0
"""The default of ``VERIFY_MEMORY_LIMIT_GB``: the most memory (GiB) one request may ask for."""


class MemoryLimitError(ValueError):
    """A request whose estimated memory is above ``VERIFY_MEMORY_LIMIT_GB`` (a ValueError: the message names
    the parameters that make it large, the estimate and the limit)."""


def memory_limit_bytes() -> int:
    """The limit in bytes: ``VERIFY_MEMORY_LIMIT_GB`` (GiB, a positive number) or 8 GiB by default."""
    import os
    raw = os.environ.get("VERIFY_MEMORY_LIMIT_GB", "")
    if not raw.strip():
        return int(DEFAULT_MEMORY_LIMIT_GB * 2**30)
    try:
        gb = float(raw)
    except ValueError:
        gb = math.nan
    if not math.isfinite(gb) or gb <= 0:
        raise ValueError(f"VERIFY_MEMORY_LIMIT_GB must be a positive number of GiB; got {raw!r}")
    return int(gb * 2**30)


def check_memory(what: str, nbytes) -> None:
    """Refuse a request whose estimated size ``nbytes`` is above the limit (:func:`memory_limit_bytes`) with a
    :class:`MemoryLimitError` (a ValueError) that says ``what`` (name the parameters that make it large), the
    estimate and the limit. Call it before allocating."""
    limit = memory_limit_bytes()
    if nbytes > limit:
        est = float(nbytes)
        raise MemoryLimitError(f"{what} would need about {est / 2**30:.3g} GiB, above the memory limit of "
                               f"{limit / 2**30:.3g} GiB (set VERIFY_MEMORY_LIMIT_GB to raise it)")
