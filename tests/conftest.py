"""Every test runs with one torch thread (``VERIFY_TEST_THREADS`` overrides): the tests are small-op work, which a
second thread does not speed up and a busy machine slows down many times (issue 15: 83 against 557 SGD steps/s
on a loaded 2-core machine). The previous thread count is restored after the session.

The set-up of every test process (numpy's BLAS threads, the allocator, the garbage collector) is the repository's
``conftest.py``."""
import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_thread_per_test_session():
    from verify.threads import limit  # here, not at import: the xdist controller loads this file and runs no test
    with limit(int(os.environ.get("VERIFY_TEST_THREADS", "1"))):
        yield
