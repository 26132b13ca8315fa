"""Set-up of every test process, whether pytest runs ``lemmas/``, ``tests/`` or both (it loads this file before
theirs, and before anything imports numpy). None of it changes a computed value; together they took seconds off
the suite on a 2-core machine (issue 15).

- numpy's OpenBLAS runs on one thread, as torch does in the tests (``VERIFY_TEST_THREADS``), instead of starting a
  thread per core in each of the pytest-xdist workers that share those cores (its idle threads spin);
- freed memory stays in the heap for the next test instead of page-faulting in anew (:mod:`verify.allocator`);
- what collection built is moved out of the garbage collector's sight, so its full collections do not walk it.
"""
import os

# OpenBLAS reads this when numpy loads it
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ.get("VERIFY_TEST_THREADS", "1"))

from verify.allocator import keep_freed_memory  # noqa: E402

keep_freed_memory()


def pytest_collection_finish(session):
    """Freeze what collection built (modules, claims, parameter sets): it lives until the end of the run."""
    import gc
    gc.collect()
    gc.freeze()
