"""The README's test command, timed: quiet, and with a second process keeping one core busy (issue 15).

    python benchmarks/test_suite.py                        # this checkout, quiet then loaded
    python benchmarks/test_suite.py --repo /path/to/other  # also another checkout (an earlier commit, say)
    python benchmarks/test_suite.py --repeats 2            # interleaved: every checkout and load once a round

The record also holds the machine's speed (GEMM peak, copy bandwidth, a plain Python loop) measured before and
after the runs.

Each run is ``pytest -n auto --dist loadgroup lemmas/ tests/`` in the checkout, with ``PYTHONPATH`` set to it
(so another checkout's ``verify`` is the one tested), and a JUnit report from which the seconds of every test
module are summed. The load is one Python process spinning on one core for the whole run. The record,
``results/benchmarks/test_suite.json``, holds every run with its checkout's commit, so a before/after
comparison is two checkouts measured in the same rounds on the same machine.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from _common import ROOT, machine_limits, write

COMMAND = ["-m", "pytest", "-n", "auto", "--dist", "loadgroup", "lemmas/", "tests/", "-q", "-p", "no:cacheprovider"]


def _commit(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _modules(junit: Path) -> tuple[dict, Counter]:
    """Seconds per test module (the test file) and the outcome counts, from a JUnit report."""
    seconds, outcomes = Counter(), Counter()
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "?").split("::")[0]
        seconds[module] += float(case.get("time", 0.0))
        child = next(iter(case), None)
        outcomes["passed" if child is None or child.tag in ("system-out", "system-err", "properties") else
                 child.tag] += 1
    return dict(seconds), outcomes


def run_suite(repo: Path, loaded: bool, python: str = sys.executable) -> dict:
    """One timed run of the test command in ``repo`` (``loaded``: with a busy process on one core)."""
    spinner = (subprocess.Popen([python, "-c", "while True: pass"], stdout=subprocess.DEVNULL)
               if loaded else None)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            junit = Path(tmp) / "junit.xml"
            env = {**os.environ, "PYTHONPATH": str(repo)}
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            proc = subprocess.run([python, *COMMAND, f"--junitxml={junit}"], cwd=repo, env=env,
                                  capture_output=True, text=True)
            wall = time.perf_counter() - t0
            modules, outcomes = _modules(junit) if junit.exists() else ({}, Counter())
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return {"repo": str(repo), "commit": _commit(repo), "loaded": loaded, "wall_seconds": round(wall, 2),
            "exit_status": proc.returncode, "summary": last, "outcomes": dict(outcomes),
            "load_average_at_start": round(load, 2), "test_seconds_sum": round(sum(modules.values()), 2),
            "modules": {k: round(v, 3) for k, v in sorted(modules.items(), key=lambda kv: -kv[1])}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", action="append", default=[], help="another checkout to time beside this one")
    ap.add_argument("--repeats", type=int, default=1, help="rounds (each: every checkout, quiet then loaded)")
    ap.add_argument("--quiet-only", action="store_true", help="no loaded runs")
    ap.add_argument("--out", help="record path (default results/benchmarks/test_suite.json)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error(f"--repeats must be >= 1; got {args.repeats}")
    repos = [Path(r).resolve() for r in args.repo] + [ROOT]
    for r in repos:
        if not (r / "lemmas").is_dir() or not (r / "tests").is_dir():
            ap.error(f"--repo {r}: not a checkout of this package (no lemmas/ and tests/)")
    started = time.perf_counter()
    # the machine's speed before and after the runs: the same commit measures seconds apart on different days
    # of one cloud machine, so a record's seconds are read beside it
    machine = {"before": machine_limits(quick=True)}
    runs = []
    for rnd in range(args.repeats):
        for repo in repos:
            for loaded in (False,) if args.quiet_only else (False, True):
                run = run_suite(repo, loaded)
                run["round"] = rnd
                runs.append(run)
                print(f"round {rnd} {run['commit'][:10]} {'loaded' if loaded else 'quiet '}: "
                      f"{run['wall_seconds']:.1f} s, {run['summary']}", flush=True)
    machine["after"] = machine_limits(quick=True)
    write("test_suite", args.out, {"command": "pytest " + " ".join(COMMAND[2:]), "cpus": os.cpu_count(),
                                   "load": "one process spinning on one core", "machine": machine, "runs": runs},
          started)
    return 0 if all(r["exit_status"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
