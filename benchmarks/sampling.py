"""Benchmark (not a timed test): RHM sampling throughput, tokens alone and tokens with the float32 one-hot a
network consumes.

    python benchmarks/sampling.py [--quick] [--repeats 3] [--device auto|cpu|cuda] [--out results/benchmarks/sampling.json]

Compared on the same grammars (samples per second, one thread, interleaved repeats, medians with min and max):

* ``per_sample_loop`` -- one sample at a time, one symbol at a time, in Python;
* ``index_unranking`` -- the RHM authors' approach, written here: a uniform integer index of the whole
  (label, derivation), :math:`[0, n_cm^{(s^L-1)/(s-1)})`, unranked into rule choices by division; it needs
  that index in int64 and so stops where :math:`n_cm^{(s^L-1)/(s-1)}\\ge2^{63}` (recorded as ``null``);
* ``sample`` -- :func:`verify.rhm.sample`, the reference stream the claims use (unchanged);
* ``sample_fast`` / ``sample_batches`` -- the bulk-random-bits sampler, and its batches with the one-hot
  written by scatter into a reused buffer (channels-last and channels-first);
* with one-hot: ``sample`` followed by ``torch.nn.functional.one_hot(...).float()`` per batch (the path before
  issue 15) and by :func:`verify.rhm.one_hot` (a float32 scatter).
"""
from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import interleaved, machine_limits, write  # noqa: E402
from verify import rhm  # noqa: E402
from verify.harness.claims import resolve_device  # noqa: E402


def per_sample_loop(grammar: rhm.Grammar, n: int, rng: np.random.Generator):
    """One sample at a time, one symbol at a time, in Python."""
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


def unranking_size(grammar: rhm.Grammar) -> int:
    """:math:`n_c m^{(s^L-1)/(s-1)}`: the number of (label, derivation) pairs, the range of the index."""
    s, L = grammar.tuple_size, grammar.num_layers
    return grammar.num_classes * grammar.num_synonyms ** ((s**L - 1) // (s - 1))


def index_unranking(grammar: rhm.Grammar, n: int, generator: torch.Generator):
    """The authors' generator: draw an index of the whole derivation, unrank it level by level (the label is the
    leading digit, then the rule choices in base m, level after level), expand. OverflowError where the index
    does not fit int64."""
    total, m, s = unranking_size(grammar), grammar.num_synonyms, grammar.tuple_size
    if total >= 2**63:
        raise OverflowError(f"the derivation index needs {math.log2(total):.0f} bits > 63")
    idx = torch.randint(total, (n,), generator=generator)
    per_label = total // grammar.num_classes
    y, rest = idx // per_label, idx % per_label
    seq = y[:, None]
    for rules in (torch.tensor(r) for r in grammar.rules):
        k = seq.shape[1]
        digits = torch.empty(n, k, dtype=torch.long)
        for j in range(k):
            digits[:, j] = rest % m
            rest = rest // m
        seq = rules[seq, digits].reshape(n, -1)
    return seq, y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples (under 30 s)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    device = resolve_device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    started = time.perf_counter()
    n, n_loop, batch = (1 << 15, 500, 4096) if args.quick else (1 << 18, 3000, 4096)
    rows = []
    for V, m, s, L in [(32, 8, 2, 3), (64, 8, 2, 4), (16, 8, 3, 4), (32, 8, 2, 6)]:
        g = rhm.sample_grammar(V, V, m, s, L, seed=0)
        gen = torch.Generator(device=device if device.type == "cuda" else "cpu").manual_seed(0)

        def onehot_former():
            x, _ = rhm.sample(g, n, gen, device)
            for i in range(0, n, batch):
                torch.nn.functional.one_hot(x[i:i + batch], V).float()
            sync()

        def onehot_scatter():
            x, _ = rhm.sample(g, n, gen, device)
            for i in range(0, n, batch):
                rhm.one_hot(x[i:i + batch], V)
            sync()

        def batches(channels_first):
            for _ in rhm.sample_batches(g, n, gen, batch, device, channels_first=channels_first):
                pass
            sync()

        fns = {"sample_tokens": lambda: (rhm.sample(g, n, gen, device), sync()),
               "sample_fast_tokens": lambda: (rhm.sample_fast(g, n, gen, device), sync()),
               "sample_plus_former_one_hot": onehot_former,
               "sample_plus_scatter_one_hot": onehot_scatter,
               "sample_batches_one_hot": lambda: batches(False),
               "sample_batches_one_hot_channels_first": lambda: batches(True)}
        overflow = unranking_size(g) >= 2**63
        if not overflow and device.type == "cpu":
            fns["index_unranking_tokens"] = lambda: index_unranking(g, n, gen)
        t = interleaved(fns, args.repeats)
        loop = interleaved({"loop": lambda: per_sample_loop(g, n_loop, np.random.default_rng(0))}, 1)["loop"]
        rate = {k: n / v["median"] for k, v in t.items()}
        rate["per_sample_loop_tokens"] = n_loop / loop["median"]
        if overflow:
            rate["index_unranking_tokens"] = None
        row = {"V": V, "m": m, "s": s, "L": L, "d": s**L, "n": n, "batch_size": batch,
               "derivation_index_bits": round(math.log2(unranking_size(g)), 1), "samples_per_s": rate,
               "seconds": {**t, "per_sample_loop": loop}}
        rows.append(row)
        print(f"V={V} m={m} s={s} L={L} (d={s**L}, index {row['derivation_index_bits']} bits):")
        for k, r in rate.items():
            print(f"   {k:40s} {'overflows int64' if r is None else f'{r:14,.0f} samples/s'}")
    # the fields that book/paper_a/model.md reads (its Performance section): tokens against the loop, and q
    legacy = [{"V": r["V"], "m": r["m"], "s": r["s"], "L": r["L"], "d": r["d"],
               "loop_samples_per_s": r["samples_per_s"]["per_sample_loop_tokens"],
               "vectorized_samples_per_s": r["samples_per_s"]["sample_tokens"],
               "speedup": r["samples_per_s"]["sample_tokens"] / r["samples_per_s"]["per_sample_loop_tokens"]}
              for r in rows]
    g_q = rhm.sample_grammar(256, 256, 16, 2, 8, seed=0)
    t_q = interleaved({"q": lambda: rhm.exact.first_patch_laws(g_q, "float64")}, args.repeats)["q"]["min"]
    write("sampling", args.out, {"rows": rows, "threads": 1, "quick": args.quick, "device": str(device),
                                 "sampling": legacy, "conditional_q_256_16_8_seconds": t_q,
                                 "machine": machine_limits(args.quick)}, started, device)


if __name__ == "__main__":
    main()
