"""How many CPU threads torch uses, chosen per block of work and restored afterwards.

Small tensor operations (the SGD baselines' mini-batches, the sampler's gathers, most tests) gain nothing
from a second thread and lose a great deal when the machine is busy: an OpenMP team whose other thread is
descheduled makes every operation wait for it (issue 15 measured the SGD CNN at 557 steps/s on one thread
against 83 on torch's default two, on a loaded 2-core machine). :func:`limit` runs a block with a given
thread count and puts the previous count back, so no global setting is left behind.
"""
from __future__ import annotations

import contextlib
import numbers

import torch

__all__ = ["SMALL_OP_THREADS", "limit"]

#: The thread count of small-op work (SGD nets on mini-batches, sampling).
SMALL_OP_THREADS = 1


@contextlib.contextmanager
def limit(num_threads: int | None = SMALL_OP_THREADS):
    """Run the ``with`` block with torch's intra-op thread count set to ``num_threads`` (an int >= 1; ``None``
    leaves it as it is), then restore the previous count, also when the block raises."""
    if num_threads is not None and (isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral)
                                    or num_threads < 1):
        raise ValueError(f"num_threads must be an integer >= 1 or None; got {num_threads!r}")
    previous = torch.get_num_threads()
    if num_threads is None or num_threads == previous:
        yield previous
        return
    torch.set_num_threads(int(num_threads))
    try:
        yield int(num_threads)
    finally:
        torch.set_num_threads(previous)
