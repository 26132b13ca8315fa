r"""Keep freed memory for reuse instead of handing it back to the kernel (glibc's ``malloc``, Linux).

glibc serves an allocation above its *mmap threshold* (128 KiB, raised dynamically to at most 32 MiB) with a
fresh ``mmap`` and returns it to the kernel when it is freed; it also trims free memory above the heap's top
beyond its *trim threshold*. The next buffer of that size then takes one page fault per 4 KiB page, and the
kernel zeroes each page. Work that allocates and frees many mid-sized tensors -- the test suite, one small case
after another -- spends seconds in those faults: issue 15 measured 4.4 million minor faults and 8.5 s of system
time in one run of the suite on a 2-core machine, against 0.9 million and 2-3 s with the thresholds raised.

:func:`keep_freed_memory` raises both thresholds with ``mallopt`` for the rest of the process. It changes where
memory comes from, never what is computed; the price is a higher peak resident size (1.0 to 1.4 GB for the suite's largest process).
It does nothing on a C library without ``mallopt`` (macOS, Windows, musl), where it returns ``False``.
"""
from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["keep_freed_memory"]

# mallopt's parameter numbers, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Allocations up to this size come from the heap and are reused there once freed.
MMAP_THRESHOLD = 256 << 20
#: Free memory up to this size stays at the heap's top.
TRIM_THRESHOLD = 512 << 20


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
