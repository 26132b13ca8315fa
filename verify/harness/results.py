"""Result records on disk: ``results/<claim>/<case>.json``, one per claim and case, with provenance.

Records are written atomically (a temporary file in the same folder, then ``os.replace``), so a
crash never leaves a half-written record.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

import verify

from .claims import Verdict


def git_commit(cwd: str | os.PathLike | None = None) -> str:
    """The checkout's commit, with ``+dirty`` if tracked files differ from it; ``unknown`` outside git."""
    cwd = cwd or Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             check=True, timeout=10).stdout.strip()
        # records being written are not code: a run that rewrites results/ is not "dirty"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(device: str, seed: int, seconds: float) -> dict:
    """Who/what/when produced a record."""
    return {
        "package_version": verify.__version__,
        "git_commit": git_commit(),
        "device": device,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "seed": seed,
        "wall_seconds": round(seconds, 3),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _jsonable(x: Any):
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if np.isfinite(x) else str(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if x is None or isinstance(x, (str, int, bool)):
        return x
    return str(x)


def record_of(verdict: Verdict) -> dict:
    rec = verdict.to_dict()
    rec["provenance"] = provenance(verdict.device, verdict.seed, verdict.seconds)
    return _jsonable(rec)


def write_atomic(path: Path, data: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a record is meant to be read and committed
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_record(verdict: Verdict, root: str | os.PathLike = "results") -> Path:
    """Write ``root/<claim>/<case>.json`` atomically; return its path."""
    return write_atomic(Path(root) / verdict.claim / f"{verdict.case}.json", record_of(verdict))


def load_record(claim: str, case: str, root: str | os.PathLike = "results") -> dict | None:
    path = Path(root) / claim / f"{case}.json"
    return json.loads(path.read_text()) if path.exists() else None


def load_records(claim: str, root: str | os.PathLike = "results") -> dict[str, dict]:
    """All records of a claim, by case name."""
    folder = Path(root) / claim
    if not folder.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
