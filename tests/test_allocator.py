"""verify.allocator: freed memory stays in the heap (no page fault per page on the next buffer of that size),
and bad thresholds are refused by name; the garbage collector paused for a block, what it left frozen; its young
generation collected less often."""
import ctypes.util
import gc
import weakref
import platform
import subprocess
import sys

import pytest

from verify.allocator import collect_less_often, collector_paused, keep_freed_memory

_GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# 20 buffers of 48 MiB allocated and freed in turn, each written through: glibc's default mmap threshold stops
# rising at 32 MiB, so each is a fresh mmap whose 12,288 pages of 4 KiB all fault in (transparent huge pages are
# turned off for the count); kept in the heap, the first buffer faults them in and the others reuse them.
_FAULTS_PER_BUFFER = """
import ctypes, resource, sys
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE: 4 KiB pages, so the count does not hang on huge pages
import numpy as np
from verify.allocator import collector_paused, keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
np.ones(1 << 10)  # numpy's own set-up first
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    a = np.ones((48 << 20) // 8)
    del a
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def _faults_per_buffer(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", _FAULTS_PER_BUFFER, mode], capture_output=True, text=True, check=True)
    return float(out.stdout)


@pytest.mark.skipif(not _GLIBC, reason="glibc's mallopt")
def test_freed_buffers_are_reused_without_page_faults():
    pages = (48 << 20) // 4096
    default, kept = _faults_per_buffer("default"), _faults_per_buffer("keep")
    assert default > 0.9 * pages, default  # every buffer faults in anew
    assert kept < 0.1 * pages, kept  # the first one's pages, reused


@pytest.mark.skipif(not _GLIBC, reason="glibc's mallopt")
def test_applies_on_glibc():
    assert keep_freed_memory() is True


def test_no_mallopt_is_not_an_error(monkeypatch):
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "/no/such/libc.so")
    assert keep_freed_memory() is False


@pytest.mark.parametrize("kwargs, name", [({"mmap_threshold": 0}, "mmap_threshold"),
                                          ({"mmap_threshold": 2 << 30}, "mmap_threshold"),
                                          ({"trim_threshold": 1.5e6}, "trim_threshold"),
                                          ({"trim_threshold": True}, "trim_threshold")])
def test_bad_thresholds_are_refused_by_name(kwargs, name):
    with pytest.raises(ValueError, match=name):
        keep_freed_memory(**kwargs)


class _Node:
    pass


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_paused_freezes_what_the_block_left_and_restores_the_collector(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            assert not gc.isenabled()
            kept = [_Node() for _ in range(1000)]
            cycle = _Node()
            cycle.me = cycle  # garbage once the block ends: collected, not frozen
            dead = weakref.ref(cycle)
            del cycle
        assert gc.isenabled() is enabled
        assert dead() is None
        assert gc.get_freeze_count() >= frozen + len(kept)
    finally:
        (gc.enable if was else gc.disable)()


def test_collect_less_often_sets_the_young_threshold_only_and_returns_the_old_ones():
    before = gc.get_threshold()
    try:
        assert collect_less_often(12345) == before
        assert gc.get_threshold() == (12345, *before[1:])
        # a young collection is due only after that many net container allocations
        gc.collect()
        kept = [[] for _ in range(5000)]
        assert gc.get_count()[0] >= len(kept)
    finally:
        gc.set_threshold(*before)


@pytest.mark.parametrize("young", [0, -5, 10 ** 6 + 1, 7000.0, True, "7000"])
def test_collect_less_often_refuses_a_bad_threshold_by_name(young):
    before = gc.get_threshold()
    with pytest.raises(ValueError, match="young"):
        collect_less_often(young)
    assert gc.get_threshold() == before
