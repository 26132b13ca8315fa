"""``verify train``: train a learner on an RHM, write a result record and a learning-curve PNG.

``main(argv)`` is self-contained (``python -m verify.experiments.train --help``); the CLI hooks it in as a subcommand.
The learning curve trains the learner afresh at ``P/2^k`` samples, ``k = curve_points-1..0``, each on
fresh samples from the same seeds, and measures the test accuracy on one fixed test set.

Before any work, every flag is checked (a one-line error naming the flag, exit code 2), the memory of the
request is estimated and refused above ``VERIFY_MEMORY_LIMIT_GB`` (:func:`memory_estimate`), the output folder
and the checkpoint's folder are checked for writing, and an existing ``--checkpoint`` is read (tensors and plain
data only) and refused unless it was written for this very configuration. The record's file name holds the
main fields and a hash of the full configuration, so two different runs never share a file.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

from ..harness.claims import device_name, resolve_device
from ..harness.results import config_hash, ensure_writable_folder, new_run_id, provenance, to_json, write_atomic
from ..rhm import SAMPLERS, check_parameters, sample, sample_grammar
from ..validate import memory_limit_bytes
from .sample_complexity import LEARNERS, MAX_SAMPLES, fit_learner

#: The widest random-feature map ``--num-features`` may ask for (the learner's ``max_features``).
MAX_NUM_FEATURES = 1 << 14
#: The most learning-curve points (``P/2^k`` for ``k < 64`` covers every 64-bit ``P``).
MAX_CURVE_POINTS = 64
#: Fields of the configuration that name the record file, with their short labels.
NAME_FIELDS = (("V", "V"), ("n_c", "nc"), ("m", "m"), ("s", "s"), ("L", "L"), ("sampler", ""), ("grammar_seed", "g"),
               ("P", "P"), ("seed", "seed"))


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
    p.add_argument("--P", type=int, default=20000, help="training samples (all stages together), at least L")
    p.add_argument("--seed", type=int, default=0, help="training seed (features, samples, init)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--num-test", type=int, default=2000)
    p.add_argument("--num-features", type=int, default=512,
                   help=f"M of the random features (layerwise_ridge), at most {MAX_NUM_FEATURES}")
    p.add_argument("--sigma-scale", type=float, default=0.5, help="sigma / rho-tilde per level (layerwise_ridge)")
    p.add_argument("--epochs", type=int, default=50, help="SGD epochs (cnn, mlp2)")
    p.add_argument("--min-steps", type=int, default=None,
                   help="least number of SGD steps, however small P (cnn, mlp2; default: the P* protocol's, "
                        "verify.experiments.sample_complexity.DEFAULT_HYPERPARAMETERS)")
    p.add_argument("--width", type=int, default=None, help="channels / hidden units (cnn, mlp2; default: the protocol's)")
    p.add_argument("--curve-points", type=int, default=5, help=f"learning-curve points, at most {MAX_CURVE_POINTS}")
    p.add_argument("--checkpoint", default=None,
                   help="resume/save the layerwise learner here (refused if written for another configuration)")
    p.add_argument("--out", default="results/train", help="folder of the record (.json) and curve (.png)")
    p.add_argument("--no-progress", action="store_true")
    return p


# -- checks before any work ----------------------------------------------------------------------------------------
def _int_flag(flag: str, value, lo: int, hi: int | None = None, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{flag} must be an integer {rng}{why}; got {value!r}")
    return value


def _hyper(args) -> dict:
    """The hyper-parameters that ``args.learner`` uses (the others are left out of its name and hash)."""
    if args.learner == "layerwise_ridge":
        return {"num_features": args.num_features, "sigma_scale": args.sigma_scale}
    if args.learner in ("cnn", "mlp2"):
        given = {"min_steps": getattr(args, "min_steps", None), "width": getattr(args, "width", None)}
        return {"epochs": args.epochs, **{k: v for k, v in given.items() if v is not None}}
    return {}


def configuration(args) -> dict:
    """Everything that determines a ``verify train`` run's numbers (device aside, named in the provenance)."""
    n_c = args.V if args.n_c is None else args.n_c
    return {"learner": args.learner, "V": args.V, "n_c": n_c, "m": args.m, "s": args.s, "L": args.L,
            "sampler": args.sampler, "grammar_seed": args.grammar_seed, "P": args.P, "seed": args.seed,
            "num_test": args.num_test, "curve_points": args.curve_points, **_hyper(args)}


def record_name(config: dict) -> str:
    """The record's file stem: learner, grammar, P and seed, the learner's hyper-parameters, the test size and a
    hash of the full configuration (``config_hash``)."""
    parts = [config["learner"]] + [f"{label}{config[key]}" for key, label in NAME_FIELDS]
    if "num_features" in config:
        parts += [f"M{config['num_features']}", f"sig{config['sigma_scale']:g}"]
    if "epochs" in config:
        parts.append(f"ep{config['epochs']}")
    if "min_steps" in config:
        parts.append(f"steps{config['min_steps']}")
    if "width" in config:
        parts.append(f"w{config['width']}")
    parts += [f"test{config['num_test']}", config_hash(config)]
    return "_".join(parts)


def check_flags(args) -> None:
    """Every flag in its range, with the flag's name in the message (before any work)."""
    _int_flag("--V", args.V, 2, why=" (symbols per level)")
    if args.n_c is not None:
        _int_flag("--n-c", args.n_c, 2, why=" (classes)")
    _int_flag("--m", args.m, 1, why=" (rules per symbol)")
    _int_flag("--s", args.s, 2, why=" (branching factor)")
    _int_flag("--L", args.L, 1, why=" (depth)")
    _int_flag("--grammar-seed", args.grammar_seed, 0)
    _int_flag("--seed", args.seed, 0)
    _int_flag("--P", args.P, args.L, why=f" (training samples: at least one per stage, L = {args.L})")
    _int_flag("--num-test", args.num_test, 1)
    _int_flag("--num-features", args.num_features, 1, MAX_NUM_FEATURES)
    if not (isinstance(args.sigma_scale, (int, float)) and math.isfinite(args.sigma_scale) and args.sigma_scale > 0):
        raise ValueError(f"--sigma-scale must be a finite number > 0; got {args.sigma_scale!r}")
    _int_flag("--epochs", args.epochs, 1)
    if getattr(args, "min_steps", None) is not None:
        _int_flag("--min-steps", args.min_steps, 0, why=" (least number of SGD steps)")
    if getattr(args, "width", None) is not None:
        _int_flag("--width", args.width, 1, why=" (channels / hidden units)")
    _int_flag("--curve-points", args.curve_points, 1, MAX_CURVE_POINTS)
    if args.sampler not in SAMPLERS:
        raise ValueError(f"--sampler must be one of {SAMPLERS}; got {args.sampler!r}")
    if args.learner not in LEARNERS:
        raise ValueError(f"--learner must be one of {LEARNERS}; got {args.learner!r}")
    n_c = args.V if args.n_c is None else args.n_c
    try:
        check_parameters(args.V, n_c, args.m, args.s, args.L, args.sampler)
    except ValueError as e:
        text = str(e)
        names = {"num_synonyms": "--m", "num_classes": "--n-c", "num_features": "--V", "tuple_size": "--s",
                 "num_layers": "--L", "sampler": "--sampler"}
        for k, f in names.items():  # the library's parameter names, as the flags that set them
            text = text.replace(k, f)
        raise ValueError(text if text.startswith("--") else f"--V/--n-c/--m/--s/--L/--sampler: {text}") from None
    if args.P > MAX_SAMPLES.get(args.learner, args.P):
        raise ValueError(f"--P must be <= {MAX_SAMPLES[args.learner]} for {args.learner} (n x n Gram matrix); "
                         f"got {args.P}")
    if args.checkpoint is not None and args.learner != "layerwise_ridge":
        raise ValueError(f"--checkpoint is only supported by --learner layerwise_ridge, not {args.learner!r}")


GiB = 2**30


def memory_estimate(args) -> dict[str, tuple[str, float]]:
    """The largest allocations of the request, ``{what: (flag that sets it, bytes)}``: int64 inputs (test set,
    the largest training set; twice, for the draw and the concatenation), the grammar's exact laws
    (:math:`L\\cdot\\max(V,n_c)^2` float64 matrices, four at a time), and per learner its largest tensors
    (layerwise ridge: the :math:`2M\\times2M` moment matrix, three copies in the solve, and a batch of features;
    kernels: the :math:`P\\times P` Gram matrix, three copies, and the one-hot inputs; SGD nets: their
    parameters with gradients and momentum, and a one-hot batch)."""
    n_c = args.V if args.n_c is None else args.n_c
    d = float(args.s) ** args.L  # the input length s^L
    V = float(max(args.V, n_c))
    est = {"test inputs, num_test x s^L": ("--num-test/--s/--L", 2 * 8.0 * args.num_test * d),
           "training inputs, P x s^L": ("--P/--s/--L", 2 * 8.0 * args.P * d),
           "the grammar's exact laws, L x V^2": ("--V/--n-c/--L", 4 * 8.0 * args.L * V * V)}
    if args.learner == "layerwise_ridge":
        M2 = 2.0 * args.num_features
        est["moment matrix, (2M)^2"] = ("--num-features", 3 * 8.0 * M2 * M2)
        est["a batch of features"] = ("--num-features/--V/--s/--L", 8.0 * 4096 * (2 * M2 + d * args.V))
    elif args.learner.startswith("kernel"):
        est["Gram matrix, P^2"] = ("--P", 3 * 8.0 * float(args.P) ** 2)
        est["one-hot inputs, P x V s^L"] = ("--P/--V/--s/--L", 8.0 * (args.P + 4096) * d * args.V)
    else:
        width = getattr(args, "width", None) or (64 if args.learner == "cnn" else 256)
        params = (args.V * args.s * width + args.L * width * width * args.s if args.learner == "cnn"
                  else args.V * d * width)
        est["network parameters"] = ("--V/--s/--L", 4 * 4.0 * params)
        est["one-hot batch, 8192 x V s^L"] = ("--V/--s/--L", 4.0 * 8192 * d * args.V)
    return est


def check_memory(args) -> None:
    """Refuse a request whose :func:`memory_estimate` is above ``VERIFY_MEMORY_LIMIT_GB`` (default 8 GiB),
    naming the flag behind the largest part, the estimate and the limit."""
    est = memory_estimate(args)
    total = sum(b for _, b in est.values())
    limit = memory_limit_bytes()
    if total > limit:
        what, (flags, size) = max(est.items(), key=lambda kv: kv[1][1])
        shown = {**vars(args), "n_c": args.V if args.n_c is None else args.n_c}
        values = " ".join(f"{f} {shown[f[2:].replace('-', '_')]}" for f in flags.split("/"))
        raise ValueError(f"{values}: the request needs about "
                         f"{total / GiB:.3g} GiB ({what}: {size / GiB:.3g} GiB), above the memory limit of "
                         f"{limit / GiB:.3g} GiB (set VERIFY_MEMORY_LIMIT_GB to raise it)")


def check_paths(args) -> None:
    """``--out`` a writable folder and ``--checkpoint`` a file in a writable folder (probed, before any work)."""
    ensure_writable_folder(args.out, "--out")
    if args.checkpoint is not None:
        if str(args.checkpoint).strip() == "":
            raise ValueError("--checkpoint must name a file; got an empty path")
        ck = Path(args.checkpoint)
        if ck.is_dir():
            raise ValueError(f"--checkpoint {str(ck)!r} is a folder; it must name a checkpoint file")
        ensure_writable_folder(ck.parent, "--checkpoint's folder")


def curve_sizes(P: int, L: int, curve_points: int) -> list[int]:
    """The learning curve's sample sizes: ``max(L, P >> k)`` for ``k < curve_points`` (distinct, sorted)."""
    return sorted({max(L, P >> k) for k in range(min(curve_points, P.bit_length() + 1))})


def _learner_levels(args, grammar, P: int):
    from ..learners.layerwise_ridge import LayerwiseRidge, practical_parameters
    levels = practical_parameters(grammar, P, num_features=args.num_features, sigma_scale=args.sigma_scale)
    return LayerwiseRidge.for_grammar(grammar, levels), levels


def check_checkpoint(args, grammar) -> None:
    """An existing ``--checkpoint`` must have been written for this configuration (the full-size run's levels,
    grammar and seed); read with ``weights_only=True``. Refused before any training."""
    if args.checkpoint is None or not Path(args.checkpoint).exists():
        return
    from ..learners.layerwise_ridge import read_checkpoint
    model, _ = _learner_levels(args, grammar, args.P)
    try:
        model.load_state(read_checkpoint(args.checkpoint), grammar=grammar, seed=args.seed, transform=None,
                         source=f"checkpoint {args.checkpoint!r}")
    except ValueError as e:
        raise ValueError(f"--checkpoint: {e}") from None


# -- the run -------------------------------------------------------------------------------------------------------
def train_once(args, grammar, P: int, test, device, checkpoint=None) -> tuple[float, int]:
    """Train ``args.learner`` on ``P`` samples (a baseline on exactly the layerwise learner's samples,
    :func:`verify.experiments.sample_complexity.fit_learner`); return its test accuracy and the number of training
    samples it used (the stages' :math:`N^{(l)}\\propto m^l` are rounded down, so it can be a little below ``P``)."""
    model = fit_learner(args.learner, grammar, P, args.seed, device, progress=not args.no_progress,
                        checkpoint=checkpoint, **_hyper(args))
    from ..learners.layerwise_ridge import sample_allocation
    return model.accuracy(*test), sum(sample_allocation(P, grammar).values())


def run(args) -> dict:
    check_flags(args)
    check_memory(args)
    check_paths(args)
    device = resolve_device(args.device)
    config = configuration(args)
    grammar = sample_grammar(args.V, config["n_c"], args.m, args.s, args.L, seed=args.grammar_seed,
                             sampler=args.sampler)
    if args.learner == "layerwise_ridge":
        try:
            _learner_levels(args, grammar, args.P)  # Assumption 6 (K_rho > 0), checked before any training
        except ValueError as e:
            raise ValueError(f"--grammar-seed {args.grammar_seed}: {e}") from None
    check_checkpoint(args, grammar)
    test = sample(grammar, args.num_test, torch.Generator().manual_seed(2**31 - 1 - args.seed), device)
    t0 = time.perf_counter()
    curve = []
    for P in curve_sizes(args.P, args.L, args.curve_points):
        t = time.perf_counter()
        acc, used = train_once(args, grammar, P, test, device, args.checkpoint if P == args.P else None)
        curve.append({"P": P, "samples_used": used, "test_accuracy": acc, "seconds": time.perf_counter() - t})
    seconds = time.perf_counter() - t0
    name = record_name(config)
    record = {"learner": args.learner, "grammar": repr(grammar), "run_id": new_run_id(), "configuration": config,
              "config_hash": config_hash(config),
              "params": {k: v for k, v in vars(args).items() if k not in ("out", "no_progress")},
              "P": args.P, "test_accuracy": curve[-1]["test_accuracy"], "curve": curve,
              "provenance": provenance(device_name(device), args.seed, seconds)}
    out = Path(args.out)
    path = write_atomic(out / f"{name}.json", to_json(record))
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
    if parsed is None:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as e:  # argparse has printed its one-line error (or --help)
            return e.code if isinstance(e.code, int) else 2
    else:
        args = parsed
    try:
        rec = run(args)
    except (ValueError, OSError) as e:
        print(f"verify train: error: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}",
              file=sys.stderr)
        return 2
    for c in rec["curve"]:
        print(f"P = {c['P']:>8d}  test accuracy {c['test_accuracy']:.4f}  ({c['seconds']:.1f}s)")
    print(f"record: {rec['record_path']}\ncurve:  {rec['png_path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
