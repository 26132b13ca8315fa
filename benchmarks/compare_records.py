"""Two folders of claim records, compared value by value: has a change moved any number a claim reports?

    # the records of every small case, made by two checkouts with the same command
    PYTHONPATH=OLD python -m verify.cli run --scale small --threads 1 --results /tmp/before
    python -m verify.cli run --scale small --threads 1 --results /tmp/after
    python benchmarks/compare_records.py /tmp/before /tmp/after

Every field of every record is compared except its provenance, run id, timing and configuration hash (which
names the code); numbers by their relative and absolute difference, everything else for equality. The record,
``results/benchmarks/records_unchanged.json``, lists the records that differ, with their largest relative and
absolute differences, how far the value the claim reports (``measured``) moved, and any non-numeric difference (a
verdict, an iteration count), which must be none. The absolute difference tells rounding noise apart from a moved
number: a field that is itself rounding noise (a distance of 1e-14 between two ways of computing one matrix) can
differ by tens of per cent and by 1e-15.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from _common import write

SKIP = {"provenance", "run_id", "seconds", "config_hash", "wall_seconds", "date"}


def differences(a, b, path: str = "") -> list[tuple[str, str, float | None, float | None]]:
    """``(path, what, relative difference, absolute difference)`` for every leaf where ``a`` and ``b`` differ (the
    differences ``None`` where the leaves are not both numbers)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k in SKIP:
                continue
            if k not in a or k not in b:
                out.append((f"{path}/{k}", "only in one record", None, None))
            else:
                out += differences(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [(path, f"length {len(a)} vs {len(b)}", None, None)]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    numbers = (int, float)
    if isinstance(a, float) and isinstance(b, numbers) or isinstance(b, float) and isinstance(a, numbers):
        if a == b or (math.isnan(a) and math.isnan(b)):
            return []
        return [(path, f"{a!r} vs {b!r}", abs(a - b) / max(abs(a), abs(b), 1e-300), abs(a - b))]
    return [] if a == b else [(path, f"{a!r} vs {b!r}", None, None)]


def _claim_records(folder: Path) -> dict[Path, dict]:
    """The claim records under ``folder`` (a committed ``results/`` also holds benchmarks, timings, run
    manifests and training records: only files with a claim, a case and a provenance count)."""
    out = {}
    for p in sorted(folder.rglob("*.json")):
        if ".runs" in p.parts:
            continue
        rec = json.loads(p.read_text())
        if isinstance(rec, dict) and {"claim", "case", "provenance"} <= set(rec):
            out[p] = rec
    return out


def _commits(records: dict) -> list[str]:
    """The commits the records were made at (from their provenance)."""
    return sorted({rec["provenance"]["git_commit"] for rec in records.values()})


def compare(before: Path, after: Path) -> dict:
    rows, missing = [], []
    n = 0
    recs_before, recs_after = _claim_records(before), _claim_records(after)
    for fb, rec_b in recs_after.items():
        fa = before / fb.relative_to(after)
        if fa not in recs_before:
            missing.append(str(fb.relative_to(after)))
            continue
        n += 1
        diffs = differences(recs_before[fa], rec_b)
        if diffs:
            rel = [r for _, _, r, _ in diffs if r is not None]
            absolute = [a for _, _, _, a in diffs if a is not None]
            measured = [r for p, _, r, _ in diffs if p == "/measured" and r is not None]
            rows.append({"record": str(fb.relative_to(after)), "fields_differing": len(diffs),
                         "max_relative_difference": max(rel) if rel else 0.0,
                         "max_absolute_difference": max(absolute) if absolute else 0.0,
                         "measured_relative_difference": measured[0] if measured else 0.0,
                         "non_numeric": [f"{p}: {w}" for p, w, r, _ in diffs if r is None][:5]})
    return {"before_commits": _commits(recs_before), "after_commits": _commits(recs_after), "records_compared": n, "records_identical": n - len(rows), "differing": rows,
            "max_relative_difference": max((r["max_relative_difference"] for r in rows), default=0.0),
            "max_measured_relative_difference": max((r["measured_relative_difference"] for r in rows), default=0.0),
            "non_numeric_differences": sum(len(r["non_numeric"]) for r in rows), "only_after": missing}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--command", default="verify run --scale small --threads 1", help="how both were made")
    ap.add_argument("--out", help="record path (default results/benchmarks/records_unchanged.json)")
    args = ap.parse_args(argv)
    for d in (args.before, args.after):
        if not d.is_dir():
            ap.error(f"{d}: not a folder of records")
    started = time.perf_counter()
    out = compare(args.before, args.after)
    print(f"{out['records_identical']}/{out['records_compared']} records identical; largest relative difference "
          f"{out['max_relative_difference']:.3g}; {out['non_numeric_differences']} non-numeric differences")
    for r in out["differing"]:
        print(f"  {r['record']}: {r['fields_differing']} fields, max relative {r['max_relative_difference']:.3g}, "
              f"max absolute {r['max_absolute_difference']:.3g}, measured {r['measured_relative_difference']:.3g}")
    write("records_unchanged", args.out, {"command": args.command, **out}, started)
    return 0 if out["non_numeric_differences"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
