"""Set-up of every test process, whether pytest runs ``lemmas/``, ``tests/`` or both (it loads this file before
theirs, and before anything imports numpy). None of it changes a computed value; together they took seconds off
the suite on a 2-core machine (issue 15).

- numpy's OpenBLAS runs on one thread, as torch does in the tests (``VERIFY_TEST_THREADS``), instead of starting a
  thread per core in each of the pytest-xdist workers that share those cores (its idle threads spin);
- freed memory stays in the heap for the next test instead of page-faulting in anew (:mod:`verify.allocator`);
- the garbage collector runs a tenth as often (:func:`verify.allocator.collect_less_often`): the tests make millions
  of short-lived objects and few cycles;
- the garbage collector is off while collection imports the package (torch, scipy, sympy, hypothesis: millions of
  objects), instead of walking the growing heap again and again (a second per worker); what collection built is
  then moved out of its sight, so its full collections during the tests do not walk it either.
"""
import os

import pytest

# OpenBLAS reads this when numpy loads it
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ.get("VERIFY_TEST_THREADS", "1"))

from verify.allocator import collect_less_often, collector_paused, keep_freed_memory  # noqa: E402

keep_freed_memory()
collect_less_often()


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    """Collection (the imports of every claim and test module, then the tests) with the collector paused, and what
    it built frozen: it lives until the end of the run (:func:`verify.allocator.collector_paused`)."""
    with collector_paused():
        return (yield)
