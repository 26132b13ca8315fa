"""Benchmark (not a timed test): exact q of every level, level by level (the former O(L^2) dense chain) against
``exact.first_patch_laws`` (one running product, sparse P_k for large V), and kappa + signal gaps computed
separately against sharing one set of laws.

    python benchmarks/exact_q.py [--quick] [--repeats 3] [--out results/benchmarks/exact_q.json]

One thread (``torch``/BLAS), interleaved repeats, medians with min and max.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy/torch load their thread pools
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import fmt, interleaved, machine_limits, write  # noqa: E402
from verify import rhm  # noqa: E402
from verify.rhm import assumptions, exact  # noqa: E402


def level_by_level_dense(g, arith="float64"):
    """The pre-issue-15 computation: for every level, P_1 ... P_{l-1} rebuilt densely from scratch."""
    out = []
    for level in range(1, g.num_layers + 1):
        A = np.eye(g.num_classes)
        for k in range(1, level):
            A = A @ exact.transition_matrix(g, k, arith)
        colsum = A.sum(axis=0)
        out.append(A.T / np.where(colsum == 0, 1, colsum)[:, None])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="V = 256 instead of 1024 (under 30 s)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    V, m, L = (256, 16, 8) if args.quick else (1024, 32, 8)
    g = rhm.sample_grammar(V, V, m, 2, L, seed=0)
    t = interleaved({
        "level_by_level_dense": lambda: level_by_level_dense(g),
        "first_patch_laws": lambda: exact.first_patch_laws(g, "float64"),
        "kappa_and_gaps_separately": lambda: (assumptions.kappa(g, "float64"), assumptions.signal_gaps(g, "float64")),
        "kappa_and_gaps_shared_laws": lambda: (lambda laws: (assumptions.kappa(g, "float64", laws=laws),
                                                             assumptions.signal_gaps(g, "float64", laws=laws)))(
            exact.first_patch_laws(g, "float64")),
    }, args.repeats)
    ref, new = level_by_level_dense(g), exact.first_patch_laws(g, "float64")
    diff = max(float(np.abs(a - b.q).max()) for a, b in zip(ref, new))
    for k, v in t.items():
        print(f"V = n_c = {V}, m = {m}, L = {L}: {k:28s} {fmt(v)}")
    print(f"speed-up of all levels' q: {t['level_by_level_dense']['median'] / t['first_patch_laws']['median']:.1f}x; "
          f"max |q difference| {diff:.2g}")
    small = rhm.sample_grammar(8, 8, 4, 2, 4, seed=0)
    t_frac = interleaved({"fraction": lambda: exact.first_patch_laws(small, "fraction")}, args.repeats)["fraction"]
    write("exact_q", args.out, {
        "grammar": {"V": V, "n_c": V, "m": m, "s": 2, "L": L, "seed": 0, "sampler": "authors"},
        "seconds": t, "max_abs_q_difference": diff, "threads": 1, "quick": args.quick,
        "speedup_all_levels": t["level_by_level_dense"]["median"] / t["first_patch_laws"]["median"],
        "fraction_V8_m4_L4_seconds": t_frac, "machine": machine_limits(args.quick)}, started)


if __name__ == "__main__":
    main()
