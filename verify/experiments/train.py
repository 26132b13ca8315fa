"""``verify train``: train a learner on an RHM, write a result record and a learning-curve PNG.

``main(argv)`` is self-contained (``python -m verify.experiments.train --help``); the CLI hooks it in as a subcommand.
The learning curve trains the learner afresh at ``P/2^k`` samples, ``k = curve_points-1..0``, each on
fresh samples from the same seeds, and measures the test accuracy on one fixed test set.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from ..harness.claims import device_name, resolve_device
from ..harness.results import _jsonable, provenance, write_atomic
from ..rhm import SAMPLERS, sample, sample_grammar
from .sample_complexity import LEARNERS, MAX_SAMPLES, fit_learner


def build_parser(p: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = p or argparse.ArgumentParser(prog="verify train", description=__doc__.splitlines()[0])
    p.add_argument("--learner", choices=LEARNERS, default="layerwise_ridge")
    p.add_argument("--V", type=int, default=8, help="num_features (symbols per level)")
    p.add_argument("--n-c", type=int, default=None, help="num_classes (default: V)")
    p.add_argument("--m", type=int, default=4, help="num_synonyms (rules per symbol)")
    p.add_argument("--s", type=int, default=2, help="tuple_size (branching factor)")
    p.add_argument("--L", type=int, default=3, help="num_layers (depth)")
    p.add_argument("--sampler", choices=SAMPLERS, default="appendix_b")
    p.add_argument("--grammar-seed", type=int, default=1, help="(the default grammar has K_rho > 0)")
    p.add_argument("--P", type=int, default=20000, help="training samples (all stages together)")
    p.add_argument("--seed", type=int, default=0, help="training seed (features, samples, init)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--num-test", type=int, default=2000)
    p.add_argument("--num-features", type=int, default=512, help="M of the random features (layerwise_ridge)")
    p.add_argument("--sigma-scale", type=float, default=0.5, help="sigma / rho-tilde per level (layerwise_ridge)")
    p.add_argument("--epochs", type=int, default=50, help="SGD epochs (cnn, mlp2)")
    p.add_argument("--curve-points", type=int, default=5)
    p.add_argument("--checkpoint", default=None, help="resume/save the layerwise learner here (torch.save)")
    p.add_argument("--out", default="results/train", help="folder of the record (.json) and curve (.png)")
    p.add_argument("--no-progress", action="store_true")
    return p


def train_once(args, grammar, P: int, test, device, checkpoint=None) -> float:
    """Train ``args.learner`` on ``P`` samples (a baseline on exactly the layerwise learner's samples,
    :func:`verify.experiments.sample_complexity.fit_learner`) and return its test accuracy."""
    if args.learner == "layerwise_ridge":
        hyper = {"num_features": args.num_features, "sigma_scale": args.sigma_scale}
    elif args.learner in ("cnn", "mlp2"):
        hyper = {"epochs": args.epochs}
    else:
        hyper = {}
    model = fit_learner(args.learner, grammar, P, args.seed, device, progress=not args.no_progress,
                        checkpoint=checkpoint, **hyper)
    return model.accuracy(*test)


def run(args) -> dict:
    device = resolve_device(args.device)
    if args.P < 1 or args.curve_points < 1 or args.num_test < 1:
        raise ValueError(f"P, curve_points and num_test must be integers >= 1; got {args.P}, {args.curve_points}, "
                         f"{args.num_test}")
    if args.P > MAX_SAMPLES.get(args.learner, args.P):
        raise ValueError(f"P must be <= {MAX_SAMPLES[args.learner]} for {args.learner} (n x n Gram matrix); "
                         f"got {args.P}")
    n_c = args.V if args.n_c is None else args.n_c
    grammar = sample_grammar(args.V, n_c, args.m, args.s, args.L, seed=args.grammar_seed, sampler=args.sampler)
    test = sample(grammar, args.num_test, torch.Generator().manual_seed(2**31 - 1 - args.seed), device)
    t0 = time.perf_counter()
    sizes = sorted({max(args.L, args.P >> k) for k in range(args.curve_points)})
    curve = []
    for P in sizes:
        t = time.perf_counter()
        acc = train_once(args, grammar, P, test, device, args.checkpoint if P == args.P else None)
        curve.append({"P": P, "test_accuracy": acc, "seconds": time.perf_counter() - t})
    seconds = time.perf_counter() - t0
    name = f"{args.learner}_V{args.V}_nc{n_c}_m{args.m}_s{args.s}_L{args.L}_g{args.grammar_seed}_P{args.P}_seed{args.seed}"
    record = {"learner": args.learner, "grammar": repr(grammar),
              "params": {k: v for k, v in vars(args).items() if k not in ("out", "no_progress")},
              "P": args.P, "test_accuracy": curve[-1]["test_accuracy"], "curve": curve,
              "provenance": provenance(device_name(device), args.seed, seconds)}
    out = Path(args.out)
    path = write_atomic(out / f"{name}.json", _jsonable(record))
    png = out / f"{name}.png"
    import matplotlib
    import matplotlib.ticker
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([c["P"] for c in curve], [c["test_accuracy"] for c in curve], "o-")
    ax.axhline(0.9, ls="--", color="k", lw=1)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # minor labels overlap
    ax.set_xlabel("training samples P")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{args.learner}: V={args.V}, m={args.m}, s={args.s}, L={args.L}")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    record["record_path"], record["png_path"] = str(path), str(png)
    return record


def main(argv: list[str] | None = None, parsed=None) -> int:
    args = parsed if parsed is not None else build_parser().parse_args(argv)
    try:
        rec = run(args)
    except ValueError as e:
        print(f"verify train: error: {e}", file=sys.stderr)
        return 2
    for c in rec["curve"]:
        print(f"P = {c['P']:>8d}  test accuracy {c['test_accuracy']:.4f}  ({c['seconds']:.1f}s)")
    print(f"record: {rec['record_path']}\ncurve:  {rec['png_path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
