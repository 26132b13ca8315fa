"""Shared by the benchmark scripts: timing (interleaved repeats, medians with min and max), the machine's
limits (float64/float32 GEMM peak, memory copy bandwidth, both on one thread and on all) and the record."""
from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/<name>.py` from the repository root
    sys.path.insert(0, str(ROOT))

from verify.harness.claims import device_name  # noqa: E402
from verify.harness.results import provenance, write_atomic  # noqa: E402


def interleaved(fns: dict, repeats: int) -> dict:
    """Run every function of ``fns`` once per round, ``repeats`` rounds (so a load change hits all alike);
    return ``{name: {"median", "min", "max", "runs"}}`` in seconds."""
    runs = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            runs[k].append(time.perf_counter() - t)
    return {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "runs": v} for k, v in runs.items()}


def machine_limits(quick: bool = False) -> dict:
    """What the hardware allows, measured here: GEMM GFLOP/s (float64, float32) and copy bandwidth (GB/s, read +
    write), on one thread and on torch's default count."""
    out = {"cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
           "torch_threads": os.cpu_count() or 1, "load_average": list(os.getloadavg())}
    n = 1024 if quick else 2048
    big = torch.empty((1 << 25) if quick else (1 << 27), dtype=torch.uint8)  # 32 / 128 MiB
    dst = torch.empty_like(big)
    dst.copy_(big)  # touch the pages once
    default = torch.get_num_threads()  # (the scripts run on one thread; the limits on every core are shown too)
    out["python_loop_mops"] = _python_loop_mops()
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        try:
            for dtype in (torch.float64, torch.float32):
                a = torch.randn(n, n, dtype=dtype)
                a @ a
                t = interleaved({"mm": lambda: a @ a}, 3)["mm"]["min"]
                out[f"gemm_{str(dtype)[6:]}_gflops_{threads}t"] = 2 * n**3 / t / 1e9
            t = interleaved({"copy": lambda: dst.copy_(big)}, 5)["copy"]["min"]
            out[f"copy_gbytes_per_s_{threads}t"] = 2 * big.numel() / t / 1e9
        finally:
            torch.set_num_threads(default)
    return out


def _python_loop_mops(n: int = 2_000_000) -> float:
    """Million iterations a second of a plain Python loop (best of three): the interpreter's speed, which the
    test suite's many small operations depend on as much as on the GEMM peak."""
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        s = 0
        for i in range(n):
            s += i
        best = min(best, time.perf_counter() - t)
    return n / best / 1e6


def write(name: str, out_path: str | None, data: dict, started: float, device="cpu") -> Path:
    """``results/benchmarks/<name>.json`` (or ``out_path``), with the provenance of the run."""
    path = Path(out_path) if out_path else ROOT / "results" / "benchmarks" / f"{name}.json"
    data = {**data, "provenance": provenance(device_name(device), 0, time.perf_counter() - started)}
    write_atomic(path, data)
    print(f"wrote {path}")
    return path


def fmt(t: dict) -> str:
    return f"{t['median']:.3g} s (min {t['min']:.3g}, max {t['max']:.3g})"
