r"""Keep freed memory for reuse instead of handing it back to the kernel (glibc's ``malloc``, Linux).

glibc serves an allocation above its *mmap threshold* (128 KiB, raised dynamically to at most 32 MiB) with a
fresh ``mmap`` and returns it to the kernel when it is freed; it also trims free memory above the heap's top
beyond its *trim threshold*. The next buffer of that size then takes one page fault per 4 KiB page, and the
kernel zeroes each page. Work that allocates and frees many mid-sized tensors -- the test suite, one small case
after another -- spends seconds in those faults: issue 15 measured 4.4 million minor faults and 8.5 s of system
time in one run of the suite on a 2-core machine, against 0.9 million and 2-3 s with the thresholds raised.

:func:`keep_freed_memory` raises both thresholds with ``mallopt`` for the rest of the process. It changes where
memory comes from, never what is computed; the price is a higher peak resident size (1.0 to 1.4 GB for the
suite's largest process).
It does nothing on a C library without ``mallopt`` (macOS, Windows, musl), where it returns ``False``.

The garbage collector is the other cost of many small tests: :func:`collector_paused` keeps it off while a block
imports (and freezes what the block built), :func:`collect_less_often` raises its young-generation threshold.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc

__all__ = ["collect_less_often", "collector_paused", "keep_freed_memory"]

# mallopt's parameter numbers, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Allocations up to this size come from the heap and are reused there once freed.
MMAP_THRESHOLD = 256 << 20
#: Free memory up to this size stays at the heap's top.
TRIM_THRESHOLD = 512 << 20
#: Allocations of container objects, net of deallocations, between two young-generation collections (CPython's
#: default is 700).
YOUNG_THRESHOLD = 7000


def keep_freed_memory(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Raise glibc's mmap and trim thresholds (bytes, each in ``[128 KiB, 1 GiB]``) for this process.

    Returns ``True`` when both were set, ``False`` where the C library has no ``mallopt`` or refuses them."""
    for name, value in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) or not 128 << 10 <= value <= 1 << 30:
            raise ValueError(f"{name} must be an integer number of bytes in [131072, 1073741824]; got {value!r}")
    path = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(path)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))


@contextlib.contextmanager
def collector_paused():
    """The garbage collector off for the block (imports build millions of objects and few cycles, and the collector
    would walk the growing heap again and again: a second of CPU for torch, scipy and sympy on a 2-core machine,
    issue 15); at its end, what the block left alive is frozen out of the collector's sight (``gc.freeze``), so
    later collections do not walk it either, and a forked process shares its pages instead of copying them. The
    collector is then as it was before the block.

    Used by the repository's ``conftest.py`` around test collection and by :mod:`verify.harness.preload` in the
    executors' fork server."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()  # the block's garbage, so that it is not frozen with the rest
        gc.freeze()
        if was_enabled:
            gc.enable()


def collect_less_often(young: int = YOUNG_THRESHOLD) -> tuple[int, int, int]:
    """Set the garbage collector's young-generation threshold (net container allocations between two collections,
    an integer in ``[1, 10**6]``; CPython's default is 700), the older generations' thresholds unchanged; returns
    the thresholds before.

    Every tenth young collection also collects the middle generation, and the middle one's every tenth the whole
    heap, so a ten times higher young threshold makes every generation's collections ten times rarer. The test
    suite allocates millions of short-lived objects (sympy and Fraction arithmetic, hypothesis examples) and few
    cycles: issue 15 measured 3.1 s of collections in the two pytest-xdist workers of one run at the default and
    1.5 s at 7000, the largest worker 1.3 GB resident either way. What is computed is unchanged."""
    if isinstance(young, bool) or not isinstance(young, int) or not 1 <= young <= 10 ** 6:
        raise ValueError(f"young (the young-generation threshold) must be an integer in [1, 1000000]; got {young!r}")
    before = gc.get_threshold()
    gc.set_threshold(young, *before[1:])
    return before
