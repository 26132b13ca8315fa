"""The command line shared by the scripts that write a book page's record (the book trains nothing while it
builds): ``python -m verify.experiments.<demo> [--out FILE]`` runs ``make()`` and writes its result with
provenance, atomically."""
from __future__ import annotations

import argparse
import time
from typing import Callable

from ..harness.claims import device_name
from ..harness.results import provenance, to_json, write_atomic


def write_demo_record(make: Callable[[], dict], prog: str, doc: str, default_out: str, seed: int, argv=None) -> int:
    """Parse ``--out``, run ``make()`` (a dict), add its provenance (CPU, ``seed``, wall time) and write it."""
    p = argparse.ArgumentParser(prog=f"python -m {prog}", description=doc.split("\n\n")[0])
    p.add_argument("--out", default=default_out)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    data = make()
    data["provenance"] = provenance(device_name("cpu"), seed, time.perf_counter() - t0)
    print(write_atomic(args.out, to_json(data)))
    return 0
