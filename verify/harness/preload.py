"""What the fork server of :mod:`verify.harness.executors` imports once, before it forks any worker.

The imports (torch, sympy, scipy.stats through the claim contract: millions of objects) run with the garbage
collector paused, and what they built is then frozen (:func:`verify.allocator.collector_paused`): a forked
worker's collections never walk it, and never write to its pages, so the fork shares them with the server
instead of copying them."""
from verify.allocator import collector_paused

with collector_paused():
    import verify.harness.claims  # noqa: F401
    import verify.harness.executors  # noqa: F401
