"""What the fork server of :mod:`verify.harness.executors` imports once, before it forks any worker.

The imports (torch, sympy, scipy.stats through the claim contract: millions of objects) run with the garbage
collector off, which otherwise walks the growing heap many times over (about a second of CPU on a 2-core
machine, issue 15), and what they built is then frozen: a forked worker's collections never walk it, and
never write to its pages, so the fork shares them with the server instead of copying them."""
import gc

_was_enabled = gc.isenabled()
gc.disable()
try:
    import verify.harness.claims  # noqa: F401
    import verify.harness.executors  # noqa: F401
finally:
    gc.freeze()
    if _was_enabled:
        gc.enable()
