"""Benchmark (not a timed test): the layerwise ridge learner (Paper A, eqs. 1-3) as ``verify train`` runs it,
against the former every-sample computation (a Gram row for every sample's first patch, every patch of every
sample embedded through the trained levels, an LU solve), on the same grammar, features and samples.

    python benchmarks/learner.py [--quick] [--repeats 3] [--out results/benchmarks/learner.json]

Default: ``verify train --P 100000 --m 4 --L 4 --num-features 2048`` (V = 8, appendix_b grammar seed 1, training
seed 0, one fit at P; the command's learning curve adds four smaller fits). ``--quick``: L = 3, P = 10000, M = 512.
One thread, interleaved repeats, medians with min and max; the test accuracy of both on one test set.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402

from _common import fmt, interleaved, machine_limits, write  # noqa: E402
from verify import rhm  # noqa: E402
from verify.learners.layerwise_ridge import (LayerwiseRidge, level_generator, practical_parameters,  # noqa: E402
                                             stage_samples)


def reference_fit(model: LayerwiseRidge, grammar, seed: int, batch_size: int = 4096) -> LayerwiseRidge:
    """The learner as it was before issue 15: the same stages, features and samples, but the moments summed over
    every sample (``C += X^T X`` a batch at a time), each patch embedded separately, and an LU solve."""
    L, s = grammar.num_layers, grammar.tuple_size
    for level in range(L, 0, -1):
        model.draw_features(level, level_generator(seed, level))
        x, y = stage_samples(grammar, level, model.levels[level].num_samples, seed)
        d, width = model.feature_dim(level), s ** (L - level + 1)
        C = torch.zeros(d, d, dtype=model.dtype)
        B = torch.zeros(model.num_classes, d, dtype=model.dtype)
        for i in range(0, len(x), batch_size):
            h = torch.nn.functional.one_hot(x[i:i + batch_size, :width], model.num_features).to(model.dtype)
            for l in range(L, level, -1):
                h = model.level_output(model.patch_features(h, l), l)
            feats = model.patch_features(h, level)[:, 0]
            C += feats.T @ feats
            B.index_add_(0, y[i:i + batch_size], feats)
        lam, _ = model.regularization(level, grammar.num_patches(level))
        A = C / len(x) + lam * torch.eye(d, dtype=model.dtype)
        model.weights[level] = torch.linalg.solve(A, (B / len(x)).T).T
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="L = 3, P = 10000, M = 512 (under 30 s)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    V, m, L, P, M = (8, 4, 3, 10_000, 512) if args.quick else (8, 4, 4, 100_000, 2048)
    g = rhm.sample_grammar(V, V, m, 2, L, seed=1, sampler="appendix_b")
    levels = practical_parameters(g, P, num_features=M, sigma_scale=0.5)
    test = rhm.sample(g, 2000, torch.Generator().manual_seed(10**6))
    models = {}

    def fast():
        models["layerwise_ridge"] = LayerwiseRidge.for_grammar(g, levels).fit(g, seed=0, progress=False)

    def reference():
        models["every_sample_reference"] = reference_fit(LayerwiseRidge.for_grammar(g, levels), g, seed=0)

    t = interleaved({"every_sample_reference": reference, "layerwise_ridge": fast}, args.repeats)
    acc = {k: mdl.accuracy(*test) for k, mdl in models.items()}
    rel = max(float((models["layerwise_ridge"].weights[l] - models["every_sample_reference"].weights[l]).norm()
                    / models["every_sample_reference"].weights[l].norm()) for l in range(1, L + 1))
    for k, v in t.items():
        print(f"V={V} m={m} L={L} P={P} M={M}: {k:24s} {fmt(v)}, test accuracy {acc[k]:.4f}")
    speedup = t["every_sample_reference"]["median"] / t["layerwise_ridge"]["median"]
    print(f"speed-up {speedup:.1f}x; largest relative difference of a level's W: {rel:.2g}")
    probe = LayerwiseRidge.for_grammar(g, levels).fit(g, seed=0, progress=False)
    distinct = {}
    for level in range(L, 0, -1):
        x, y = stage_samples(g, level, levels[level - 1].num_samples, 0)
        distinct[level] = {"samples": len(x), "distinct_first_patch_subtrees":
                           int(probe.distinct_first_patches(x, y, level)[0].shape[0]),
                           "feature_dim": probe.feature_dim(level)}
    write("learner", args.out, {
        "configuration": {"V": V, "n_c": V, "m": m, "s": 2, "L": L, "sampler": "appendix_b", "grammar_seed": 1,
                          "P": P, "num_features": M, "sigma_scale": 0.5, "seed": 0, "num_test": 2000},
        "seconds": t, "test_accuracy": acc, "max_relative_W_difference": rel, "speedup": speedup,
        "distinct_per_level": distinct, "threads": 1, "quick": args.quick,
        "machine": machine_limits(args.quick)}, started)


if __name__ == "__main__":
    main()
