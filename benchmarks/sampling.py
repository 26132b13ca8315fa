"""Benchmark (not a timed test): RHM sampling throughput and exact conditional_q time.

    python benchmarks/sampling.py [--device auto|cpu|cuda] [--out results/benchmarks/sampling.json]

Compares the vectorized sampler (verify.rhm.sample, one gather per level for the whole batch)
with a per-sample Python loop that derives one tree at a time, on the same grammar; and times
`conditional_q` at V = n_c = 256, m = 16, L = 8 (float64) at every level.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from verify import rhm
from verify.harness.claims import device_name, resolve_device
from verify.harness.results import provenance, write_atomic


def per_sample_loop(grammar: rhm.Grammar, n: int, rng: np.random.Generator):
    """The baseline: one sample at a time, one symbol at a time, in Python."""
    rules = [r.tolist() for r in grammar.rules]
    xs, ys = [], []
    for _ in range(n):
        y = int(rng.integers(grammar.num_classes))
        seq = [y]
        for level_rules in rules:
            nxt = []
            for sym in seq:
                nxt.extend(level_rules[sym][int(rng.integers(grammar.num_synonyms))])
            seq = nxt
        xs.append(seq)
        ys.append(y)
    return xs, ys


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--out", default="results/benchmarks/sampling.json")
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    t_start = time.perf_counter()
    rows = []
    for V, m, s, L in [(32, 8, 2, 4), (32, 8, 2, 6), (16, 4, 3, 4)]:
        g = rhm.sample_grammar(V, V, m, s, L, seed=0)
        n_loop, n_vec = 2_000, (2_000_000 if device.type == "cuda" else 200_000)
        loop = best_of(lambda: per_sample_loop(g, n_loop, np.random.default_rng(0)), 2)
        gen = torch.Generator().manual_seed(0)
        rhm.sample(g, 1000, gen, device)  # warm-up
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        vec = best_of(lambda: (rhm.sample(g, n_vec, gen, device, batch_size=1 << 18), sync()))
        rows.append({"V": V, "m": m, "s": s, "L": L, "d": s**L,
                     "loop_samples_per_s": n_loop / loop, "vectorized_samples_per_s": n_vec / vec,
                     "speedup": (n_vec / vec) / (n_loop / loop),
                     "vectorized_tokens_per_s": n_vec * s**L / vec})
        print(f"V={V} m={m} s={s} L={L} (d={s**L}): loop {n_loop / loop:,.0f}/s, vectorized "
              f"{n_vec / vec:,.0f}/s on {device}: {rows[-1]['speedup']:.0f}x")
    g = rhm.sample_grammar(256, 256, 16, 2, 8, seed=0)
    t_q = best_of(lambda: [rhm.exact.conditional_q(g, l, "float64") for l in range(1, 9)])
    print(f"conditional_q, V = n_c = 256, m = 16, L = 8, all 8 levels (float64): {t_q * 1e3:.1f} ms")
    g_small = rhm.sample_grammar(8, 8, 4, 2, 4, seed=0)
    t_frac = best_of(lambda: [rhm.exact.conditional_q(g_small, l, "fraction") for l in range(1, 5)])
    print(f"conditional_q, V = n_c = 8, m = 4, L = 4, all levels (Fraction): {t_frac * 1e3:.1f} ms")
    out = {"sampling": rows, "conditional_q_256_16_8_seconds": t_q, "conditional_q_fraction_8_4_4_seconds": t_frac,
           "provenance": provenance(device_name(device), 0, time.perf_counter() - t_start)}
    write_atomic(args.out, out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
