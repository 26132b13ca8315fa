"""Every test runs with one torch thread (``VERIFY_TEST_THREADS`` overrides): the tests are small-op work, which a
second thread does not speed up and a busy machine slows down many times (issue 15: 83 against 557 SGD steps/s
on a loaded 2-core machine). The previous thread count is restored after the session.

Freed memory stays in the heap (:mod:`verify.allocator`), and what collection built is frozen out of the garbage
collector's sight: neither changes a computed value, both take seconds off the suite (issue 15)."""
import os

# numpy's OpenBLAS reads this when it loads (nothing here has imported numpy yet): one thread, as torch has
# (VERIFY_TEST_THREADS), instead of a thread per core in each of the workers that share those cores; its idle
# threads spin, and with two workers on two cores the suite took 8 s more CPU (issue 15)
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ.get("VERIFY_TEST_THREADS", "1"))

import pytest

from verify.allocator import keep_freed_memory

# freed buffers stay in the heap for the next test instead of page-faulting in anew (issue 15: the suite's system
# time 8.5 s -> 3 s); where memory comes from, not what is computed
keep_freed_memory()


@pytest.fixture(scope="session", autouse=True)
def _one_thread_per_test_session():
    from verify.threads import limit  # here, not at import: the xdist controller loads this file and runs no test
    with limit(int(os.environ.get("VERIFY_TEST_THREADS", "1"))):
        yield


def pytest_collection_finish(session):
    """Move what collection built (modules, claims, parameter sets) out of the garbage collector's sight: it lives
    until the end, and every full collection during the run would walk it again (issue 15: 0.8 s a worker)."""
    import gc
    gc.collect()
    gc.freeze()
