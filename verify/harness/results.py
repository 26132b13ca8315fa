"""Result records on disk: ``results/<claim>/<case>.json``, one per claim and case, with provenance.

Records are written atomically (a uniquely named temporary file in the same folder, then ``os.replace``), so
a crash never leaves a half-written record and two processes never publish each other's half. Every record
carries the ``run_id`` of the invocation that wrote it and its full ``configuration`` (with a short
``config_hash``). JSON has no infinity or NaN: a non-finite number is written as ``null`` and named in the
record's ``nonfinite`` map (``{"measured": "inf", "details/curve/3/1": "nan"}``, keys are JSON pointers
without the leading ``/``); :func:`load_record` and :func:`load_records` restore them as floats. A record that
is not valid JSON is skipped with a warning that names the file.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import secrets
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

import verify

import dataclasses

from .claims import Verdict

__all__ = ["COLUMNS", "all_records", "row_of", "to_frame", "config_hash", "ensure_writable_folder", "git_commit", "latest_run", "load_overlay", "load_record",
           "load_records", "mark_latest", "new_run_id", "provenance", "record_of", "remove_orphaned_temporaries", "resumable",
           "restore_nonfinite", "run_folder", "to_json", "verdict_from_record", "write_atomic", "write_record"]


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


def provenance(device: str, seed: int, seconds: float, code_hash: str | None = None) -> dict:
    """Who/what/when produced a record; ``code_hash``: the hash of the claim's code closure
    (:func:`verify.harness.freshness.code_closure`), which tells later whether the record is stale."""
    return {
        "code_hash": code_hash,
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


def new_run_id() -> str:
    """A fresh run id: the UTC time and a random suffix, e.g. ``20250101T120000Z-3f9a1c``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


_PROCESS_RUN_ID: str | None = None


def _default_run_id() -> str:
    """The run id of records written without one (one per process)."""
    global _PROCESS_RUN_ID
    if _PROCESS_RUN_ID is None:
        _PROCESS_RUN_ID = new_run_id()
    return _PROCESS_RUN_ID


# -- JSON with non-finite numbers --------------------------------------------------------------------------------
def _pointer_token(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _jsonable(x: Any, path: tuple = (), nonfinite: dict | None = None):
    """``x`` as plain JSON data; a non-finite float becomes ``None`` and, with ``nonfinite``, is listed there
    under its JSON pointer (``"inf"``, ``"-inf"`` or ``"nan"``)."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v, path + (str(k),), nonfinite) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v, path + (str(i),), nonfinite) for i, v in enumerate(x)]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist(), path, nonfinite)
    if isinstance(x, torch.Tensor):
        return _jsonable(x.detach().cpu().tolist(), path, nonfinite)
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        x = float(x)
        if math.isfinite(x):
            return x
        if nonfinite is not None:
            nonfinite["/".join(_pointer_token(p) for p in path)] = "nan" if x != x else ("inf" if x > 0 else "-inf")
        return None
    if x is None or isinstance(x, (str, int)):
        return x
    return str(x)


def to_json(data: Mapping) -> dict:
    """``data`` as JSON data, with the non-finite numbers as ``null`` listed in ``data["nonfinite"]``."""
    nonfinite: dict[str, str] = {}
    out = _jsonable(data, (), nonfinite)
    if nonfinite:
        out["nonfinite"] = nonfinite
    return out


def restore_nonfinite(record: dict) -> dict:
    """Put back the non-finite numbers that :func:`to_json` wrote as ``null`` (in place; returns ``record``)."""
    for pointer, value in (record.get("nonfinite") or {}).items():
        if value not in ("inf", "-inf", "nan"):
            continue
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")]
        node = record
        try:
            for p in parts[:-1]:
                node = node[int(p)] if isinstance(node, list) else node[p]
            last = int(parts[-1]) if isinstance(node, list) else parts[-1]
            if node[last] is None:
                node[last] = float(value)
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # the record was edited by hand: leave it as it is
    return record


def config_hash(config: Mapping) -> str:
    """A short hash of a configuration (its canonical JSON): two different configurations never share it
    (but for a 2^-48 chance)."""
    text = json.dumps(_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def configuration_of(verdict: Verdict) -> dict:
    """Everything that determines a claim case's result (besides the code, named by the provenance's commit)."""
    return {"claim": verdict.claim, "case": verdict.case, "scale": verdict.scale, "method": verdict.method,
            "role": verdict.role, "expect": verdict.expect, "relation": verdict.relation, "seed": verdict.seed,
            "params": verdict.params, "device": verdict.device}


def configuration(claim, case, device) -> dict:
    """What :func:`configuration_of` will say of ``claim``'s ``case`` evaluated on ``device``, known before it
    runs (``verify run --resume`` compares it with a record's)."""
    from .claims import device_name
    return {"claim": claim.name, "case": case.name, "scale": case.scale, "method": case.method, "role": case.role,
            "expect": bool(case.expect), "relation": claim.relation, "seed": case.seed,
            "params": case.params_for(device), "device": device_name(device)}


def resumable(record: Mapping | None, claim, case, device, code_hash: str | None) -> bool:
    """Whether ``record`` is the result ``claim``'s ``case`` would give now: same configuration and same code
    (its ``code_hash``); a record without a code hash is never resumed."""
    if not record or not code_hash or record.get("provenance", {}).get("code_hash") != code_hash:
        return False
    return record.get("config_hash") == config_hash(configuration(claim, case, device))


def record_of(verdict: Verdict, run_id: str | None = None, code_hash: str | None = None) -> dict:
    rec = verdict.to_dict()
    rec["provenance"] = provenance(verdict.device, verdict.seed, verdict.seconds, code_hash)
    config = configuration_of(verdict)
    rec["run_id"] = run_id or _default_run_id()
    rec["configuration"] = config
    rec["config_hash"] = config_hash(config)
    return to_json(rec)


# -- writing -------------------------------------------------------------------------------------------------------
def ensure_writable_folder(path: str | os.PathLike, name: str = "path") -> Path:
    """Create folder ``path`` if needed and check that a file can be written there (a probe file is created and
    removed), before any work; a ``ValueError`` naming ``name`` (e.g. the CLI flag) otherwise."""
    if path is None or str(path).strip() == "":
        raise ValueError(f"{name} must name a folder; got an empty path")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} {str(path)!r} is not a folder (a file of that name exists)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ValueError(f"{name} {str(path)!r} is not a writable folder: {e.strerror or e}") from None
    return path


def write_atomic(path: Path, data: dict) -> Path:
    """Write ``data`` as strict JSON (no NaN/Infinity tokens) to ``path`` through a uniquely named temporary
    file in the same folder, removed if anything fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a record is meant to be read and committed
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_orphaned_temporaries(folder: str | os.PathLike, older_than: float = 3600.0) -> list[Path]:
    """Remove the temporary files (``.*.tmp``) that a killed writer left in ``folder`` and its sub-folders,
    if older than ``older_than`` seconds (a younger one may belong to a running writer); return them."""
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for p in folder.rglob(".*.tmp"):
        try:
            if p.is_file() and now - p.stat().st_mtime > older_than:
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed


def write_record(verdict: Verdict, root: str | os.PathLike = "results", run_id: str | None = None,
                 code_hash: str | None = None) -> Path:
    """Write ``root/<claim>/<case>.json`` atomically; return its path. ``run_id``: the invocation's id (one
    per ``verify run``; default: one per process); ``code_hash``: see :func:`provenance`."""
    return write_atomic(Path(root) / verdict.claim / f"{verdict.case}.json", record_of(verdict, run_id, code_hash))


# -- run folders ---------------------------------------------------------------------------------------------------
#: A user's ``verify run`` writes to ``runs/<run id>/`` (ignored by git); ``runs/LATEST`` names the last one.
RUNS = "runs"


def run_folder(repo: str | os.PathLike, run_id: str) -> Path:
    """``<repo>/runs/<run id>/``: where a ``verify run`` writes unless told ``--results``."""
    return Path(repo) / RUNS / run_id


def mark_latest(repo: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Record ``folder`` as the latest run (``runs/LATEST`` holds its path relative to ``runs/``, or absolute)."""
    runs = Path(repo) / RUNS
    folder = Path(folder).resolve()
    try:
        text = folder.relative_to(runs.resolve()).as_posix()
    except ValueError:
        text = str(folder)
    runs.mkdir(parents=True, exist_ok=True)
    tmp = runs / ".LATEST.tmp"
    tmp.write_text(text + "\n")
    os.replace(tmp, runs / "LATEST")
    return runs / "LATEST"


def latest_run(repo: str | os.PathLike) -> Path | None:
    """The folder of the latest ``verify run`` (``runs/LATEST``), or ``None`` if there is none."""
    runs = Path(repo) / RUNS
    try:
        text = (runs / "LATEST").read_text().strip()
    except OSError:
        return None
    folder = Path(text) if Path(text).is_absolute() else runs / text
    return folder if text and folder.is_dir() else None


def load_overlay(claim: str, roots) -> dict[str, dict]:
    """A claim's records from several folders, later folders taking precedence case by case (e.g. the
    committed ``results/`` overlaid with the latest run); each record gains ``_source`` (its folder)."""
    out: dict[str, dict] = {}
    for root in roots:
        if root is None:
            continue
        for case, rec in load_records(claim, root).items():
            rec["_source"] = str(root)
            out[case] = rec
    return out


# -- reading -------------------------------------------------------------------------------------------------------
def _read(path: Path) -> dict | None:
    """The record at ``path`` with its non-finite numbers restored; ``None`` and a warning naming the file if it
    is not a JSON object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        warnings.warn(f"skipping the unreadable record {path}: {type(e).__name__}: {str(e).splitlines()[0]}",
                      stacklevel=3)
        return None
    if not isinstance(data, dict):
        warnings.warn(f"skipping the record {path}: not a JSON object", stacklevel=3)
        return None
    return restore_nonfinite(data)


def load_record(claim: str, case: str, root: str | os.PathLike = "results") -> dict | None:
    """The record of ``claim``'s ``case``, or ``None`` if there is none (or it is unreadable: a warning)."""
    path = Path(root) / claim / f"{case}.json"
    return _read(path) if path.exists() else None


def load_records(claim: str, root: str | os.PathLike = "results") -> dict[str, dict]:
    """All readable records of a claim, by case name (an unreadable one is skipped with a warning)."""
    folder = Path(root) / claim
    if not folder.is_dir():
        return {}
    out = {}
    for p in sorted(folder.glob("*.json")):
        rec = _read(p)
        if rec is not None:
            out[p.stem] = rec
    return out


def verdict_from_record(record: Mapping) -> Verdict:
    """The :class:`~verify.harness.claims.Verdict` a record was written from (non-finite numbers restored)."""
    names = [f.name for f in dataclasses.fields(Verdict)]
    missing = [n for n in names if n not in record]
    if missing:
        raise ValueError(f"record of {record.get('claim')}[{record.get('case')}] lacks {missing}: written by an "
                         "older version; rerun `verify run`")
    return Verdict(**{n: record[n] for n in names})


# -- queries over many records -------------------------------------------------------------------------------------
#: The columns of :func:`rows` (``verify results`` and :func:`to_frame`).
COLUMNS = ("claim", "case", "scale", "role", "status", "as_expected", "measured", "relation", "bound", "lower",
           "upper", "slack", "device", "commit", "date", "run_id", "folder")


def all_records(roots) -> list[dict]:
    """Every readable record under the folders ``roots`` (each ``<claim>/<case>.json``), with ``_source``."""
    out = []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for case, rec in load_records(folder.name, root).items():
                if "claim" in rec and "case" in rec:
                    rec["_source"] = str(root)
                    out.append(rec)
    return out


def row_of(rec: Mapping) -> dict:
    """One record as a flat row of :data:`COLUMNS`."""
    from .claims import as_expected
    prov = rec.get("provenance", {})
    status = rec.get("status") or ("holds" if rec.get("holds") else "fails")
    return {"claim": rec["claim"], "case": rec["case"], "scale": rec.get("scale"), "role": rec.get("role"),
            "status": status, "as_expected": as_expected(status, bool(rec.get("expect", True))),
            "measured": rec.get("measured"), "relation": rec.get("relation"), "bound": rec.get("bound"),
            "lower": rec.get("lower"), "upper": rec.get("upper"), "slack": rec.get("slack"),
            "device": prov.get("device"), "commit": prov.get("git_commit"), "date": prov.get("date"),
            "run_id": rec.get("run_id"), "folder": rec.get("_source")}


def to_frame(roots=("results",)):
    """All records under ``roots`` as a pandas DataFrame of :data:`COLUMNS` (``pip install pandas``)."""
    try:
        import pandas as pd
    except ImportError:
        raise ValueError('to_frame needs pandas: pip install "hierarchy-proofs[dask]" (or pandas)') from None
    return pd.DataFrame([row_of(r) for r in all_records(roots)], columns=list(COLUMNS))
