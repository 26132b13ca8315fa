"""Command line: ``verify list | run | report | results | findings | train | book``.

A bad command line never prints a traceback: every ``ValueError``/``OSError`` becomes one line
``verify: error: ...`` naming the flag, exit code 2; output folders are checked before any work. A lemma module
that fails to import is reported and skipped; ``list`` and ``run`` then exit 1.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tqdm.auto import tqdm

from .experiments import train as _train
from .harness import executors, findings, referee, timings
from .harness.claims import device_name, resolve_device
from .harness.discovery import claim_module, find_repo_dir, load_claims
from .harness.freshness import closure_hash, code_closure, code_root, freshness
from .harness.results import (COLUMNS, all_records, ensure_writable_folder, latest_run, load_record, mark_latest, new_run_id,
                              provenance, remove_orphaned_temporaries, resumable, row_of, run_folder, to_json,
                              write_atomic, write_record)
from .harness.stats import CONFIDENCE


def _load(args):
    """The claims of ``--lemmas`` and the modules that failed to import (reported on stderr, one line each)."""
    if args.lemmas is not None and (str(args.lemmas).strip() == "" or not Path(args.lemmas).is_dir()):
        raise ValueError(f"--lemmas {args.lemmas!r} is not a folder of claim modules")
    errors: list = []
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # reported below, once, on stderr
        claims = load_claims(args.lemmas, errors=errors)
    for failure in errors:
        print(f"verify: error: {failure}", file=sys.stderr)
    return claims, errors


def _repo(args) -> Path:
    """The project folder: the parent of ``--lemmas`` if given, else the nearest folder holding ``lemmas/``."""
    return Path(args.lemmas).resolve().parent if args.lemmas else find_repo_dir()


def _cmd_list(args) -> int:
    claims, errors = _load(args)
    for name, c in claims.items():
        alias = f" (= {c.alias})" if c.alias else ""
        page = f" [PDF {c.page}]" if c.page else ""
        print(f"{name:28s} Paper {c.paper}  {c.reference}{page}{alias}")
        for case in c.cases:
            print(f"    {case.name:34s} {case.scale:5s} {case.method:9s} {case.role}")
    return 1 if errors else 0


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = "  ".join(f"{{:{w}s}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    out += [fmt.format(*[str(c) for c in r]) for r in rows]
    return "\n".join(out)


def _cmd_run(args) -> int:
    t_start = time.perf_counter()  # the manifest's wall time: the whole command, loading and hashing included
    claims, errors = _load(args)
    executors.check_executor(args.executor, args.workers, args.scheduler, args.scheduler_file)
    if args.threads is not None and not 1 <= args.threads <= 1024:
        raise ValueError(f"--threads must be in [1, 1024]; got {args.threads}")
    run_id = new_run_id()  # one per invocation, in every record it writes
    repo = _repo(args)
    # a user's run goes to runs/<run id>/ (ignored by git); the committed results/ only when asked
    if args.results is not None:
        ensure_writable_folder(args.results, "--results")  # an empty or unwritable path: refused before any work
        results = Path(args.results)
    elif args.resume:
        results = latest_run(repo)
        if results is None:
            raise ValueError("--resume: no earlier run in runs/ (runs/LATEST); give --results DIR")
    else:
        results = run_folder(repo, run_id)
    unknown = [n for n in args.claims if n not in claims]
    if unknown:
        raise ValueError(f"unknown claim(s): {unknown}; known: {sorted(claims)}")
    device = resolve_device(args.device)
    todo = [(c, case) for n, c in claims.items() if not args.claims or n in args.claims
            for case in c.cases_at(args.scale) if not args.case or case.name in args.case]
    if args.case:
        known = {case.name for _, case in todo}
        missing = [n for n in args.case if n not in known]
        if missing:
            raise ValueError(f"--case: no case {missing} among the selected claims at --scale {args.scale}")
    ensure_writable_folder(results, "--results")  # before any case runs
    rows, unexpected = [], 0
    for claim in {c.name for c, _ in todo}:
        remove_orphaned_temporaries(results / claim)  # left by a killed run, over an hour ago
    code = code_root()
    # once per claim, not per case: hashing a closure parses every file in it (it was 35 s of a small run)
    hashes = {c.name: closure_hash(code_closure(claim_module(c).__file__, code), code)
              for c in {c.name: c for c, _ in todo}.values()}
    skipped = []
    if args.resume:  # keep the records this code already wrote for this configuration
        keep = [(c, case) for c, case in todo
                if resumable(load_record(c.name, case.name, results), c, case, device, hashes[c.name])]
        skipped = [f"{c.name}[{case.name}]" for c, case in keep]
        todo = [t for t in todo if t not in keep]
    lemmas = str(Path(args.lemmas).resolve() if args.lemmas else repo / "lemmas")
    threads = args.threads if args.threads is not None else (None if args.executor == "serial" else 1)
    tasks = [executors.Task(lemmas, c.name, case.name, str(device), threads) for c, case in todo]
    print(f"verify run: records to {results}/ ({len(tasks)} case(s) on {args.executor}"
          + (f", {len(skipped)} resumed from earlier records" if skipped else "") + ")", flush=True)
    bar = tqdm(total=len(tasks), desc=f"verify run ({args.scale}, {device})", unit="case")
    failed = []
    t_cases = time.perf_counter()
    naming = contextlib.ExitStack()

    def started(task):  # serial: the bar names the running case and its elapsed time
        naming.close()
        naming.enter_context(_naming(bar, task.label))

    with bar:
        for out in executors.run(tasks, args.executor, args.workers, args.scheduler, args.scheduler_file,
                                 on_start=started):
            naming.close()
            bar.update(1)
            if args.executor != "serial":
                bar.set_postfix_str(f"done {out.task.label}", refresh=True)
            if out.error is not None:
                failed.append(out)
                tqdm.write(f"verify: error: {out.task.label} raised {out.error}", file=sys.stderr)
                continue
            v = out.verdict
            path = write_record(v, results, run_id=run_id, code_hash=hashes[v.claim])  # as each completes
            unexpected += not v.as_expected
            rows.append([v.claim, v.case, v.role, f"{v.measured:.5g}", v.interval_str(), v.relation,
                         f"{v.bound:.5g}", f"{v.slack:.3g}", v.status, "yes" if v.as_expected else "NO",
                         f"{v.seconds:.1f}s", str(path)])
    now = time.perf_counter()
    _write_manifest(results, run_id, args, device, threads, now - t_start, now - t_cases,
                    [f"{r[0]}[{r[1]}]" for r in rows], [o.task.label for o in failed], skipped)
    order = {(c.name, case.name): i for i, (c, case) in enumerate(todo)}
    rows.sort(key=lambda r: order.get((r[0], r[1]), 0))
    if rows:
        print(_table(rows, ["claim", "case", "role", "measured", "interval", "", "bound", "slack", "verdict",
                            "as expected", "time", "record"]))
    if args.results is None:
        mark_latest(repo, results)  # the book reads this run's records instead of recomputing them
    print(f"\n{len(rows)} cases on {device}; verdicts at {CONFIDENCE:.0%} one-sided confidence per case "
          f"(exact cases exactly); {unexpected} not as expected; run id {run_id}; records in {results}/"
          + (f"; {len(skipped)} resumed" if skipped else ""))
    for o in failed:  # a case that raises is a bug to fix: its traceback, after the table
        print(f"\n{o.task.label} raised:\n{o.trace}", file=sys.stderr)
    if failed:
        print(f"{len(failed)} case(s) raised and have no record: "
              + ", ".join(o.task.label for o in failed), file=sys.stderr)
    if errors:
        print(f"{len(errors)} lemma module(s) failed to import and were skipped (see above)", file=sys.stderr)
    return 1 if unexpected or errors or failed else 0


def _write_manifest(results: Path, run_id: str, args, device, threads, wall: float, cases_wall: float,
                    done: list[str], failed: list[str], resumed: list[str]) -> Path:
    """``<results>/.runs/<run id>.json``: how a run was scheduled and how long it took: ``wall_seconds`` the whole
    command (loading the claims and hashing their code included), ``cases_wall_seconds`` from the first case to
    the last (the executor comparison on the Performance page reads these). The leading dot keeps it out of the
    records' folders."""
    prov = provenance(device_name(str(device)), 0, wall)
    manifest = {"run_id": run_id, "scale": args.scale, "device": prov["device"], "executor": args.executor,
                "workers": (1 if args.executor == "serial" else args.workers or
                            (None if args.scheduler or args.scheduler_file else os.cpu_count())),
                "threads_per_case": threads,
                "claims": sorted(args.claims), "cases": sorted(done), "failed": failed, "resumed": resumed,
                "wall_seconds": round(wall, 3), "cases_wall_seconds": round(cases_wall, 3),
                "cpu_count": os.cpu_count(), "git_commit": prov["git_commit"],
                "date": prov["date"], "torch": prov["torch"]}
    return write_atomic(Path(results) / ".runs" / f"{run_id}.json", to_json(manifest))


@contextlib.contextmanager
def _naming(bar, label: str, every: float = 1.0):
    """Show ``label`` and its elapsed seconds in the bar's postfix, refreshed every ``every`` s while the
    body runs (a case may run for minutes: the bar must say which, and for how long)."""
    t0 = time.perf_counter()
    stop = threading.Event()

    def tick():
        while not stop.wait(every):
            bar.set_postfix_str(f"{label} {time.perf_counter() - t0:.0f}s", refresh=True)

    bar.set_postfix_str(f"{label} 0s", refresh=True)
    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _cmd_book(args) -> int:
    book = Path(args.book)
    if not (book / "_config.yml").exists():
        raise ValueError(f"--book {str(book)!r}: no Jupyter Book there (_config.yml missing)")
    if args.clean and (book / "_build").exists():
        shutil.rmtree(book / "_build")
    latest = latest_run(_repo(args) if args.lemmas else find_repo_dir(book.resolve()))
    print("book: pages read the committed results/ and, where fresh, the records of "
          + (f"the latest run ({latest})" if latest else "no run yet (small cases are computed while it builds; "
             "`verify run --scale small` first makes the build faster)"), flush=True)
    exe = shutil.which("jupyter-book") or str(Path(sys.executable).parent / "jupyter-book")
    # -W -n --keep-going: a failing cell or any warning fails the build, after reporting them all.
    cmd = [exe, "build", str(book), "-W", "-n", "--keep-going"] + (["--all"] if args.clean else [])
    print("+", " ".join(cmd), flush=True)
    rc = subprocess.call(cmd)
    if rc == 0:
        print(f"book: {book / '_build' / 'html' / 'index.html'}")
    return rc


def _read_text(path: Path, flag: str) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{flag} {str(path)!r} cannot be read: {getattr(e, 'strerror', None) or e}") from None


def _cmd_findings(args) -> int:
    claims, errors = _load(args)
    if errors:
        print("verify: error: the findings would miss the claims above; fix their modules first", file=sys.stderr)
        return 1
    if not Path(args.results).is_dir():
        raise ValueError(f"--results {args.results!r} is not a folder of records")
    block = findings.markdown(claims, args.results)
    # the findings block, and the timing block where the file has one (the README does)
    blocks = [(findings.BEGIN, findings.END, block), (timings.BEGIN, timings.END, timings.markdown(args.results))]
    if args.write:
        path = Path(args.write)
        text = _read_text(path, "--write")
        try:
            text = findings.replace_block(text, block)
        except ValueError as e:
            raise ValueError(f"--write {str(path)!r}: {e}") from None
        for begin, end, b in blocks[1:]:
            if begin in text:
                text = findings.replace_block(text, b, begin, end)
        path.write_text(text)
        print(f"generated blocks of {path} rewritten from {args.results}/")
    elif args.check:
        path = Path(args.check)
        text = _read_text(path, "--check")
        for i, (begin, end, b) in enumerate(blocks):
            if (i == 0 or begin in text) and findings.current_block(text, begin, end) != b:
                print(f"{path}: a generated block differs from the records; run `verify findings --write {path}`",
                      file=sys.stderr)
                return 1
        print(f"{path}: the generated blocks match the records")
    else:
        print(block, end="")
    return 0


def record_roots(results: list | None, repo: Path) -> list[Path]:
    """The record folders to read: ``--results`` (repeatable), or by default the committed ``results/`` and the
    latest ``verify run`` (``runs/LATEST``); of each case, the newest record counts."""
    if results:
        roots = [Path(r) for r in results]
        for r in roots:
            if not r.is_dir():
                raise ValueError(f"--results {str(r)!r} is not a folder of records")
        return roots
    return [p for p in (repo / "results", latest_run(repo)) if p is not None and p.is_dir()]


def _cmd_report(args) -> int:
    claims, errors = _load(args)
    repo = _repo(args)
    rep = referee.build(claims, record_roots(args.results, repo), code_root(), paper=args.paper)
    text = {"text": referee.to_text, "markdown": referee.to_markdown, "json": referee.to_json}[args.format](rep)
    sys.stdout.write(text)
    return 1 if errors else 0


def _cmd_results(args) -> int:
    repo = _repo(args)
    roots = record_roots(args.results, repo)
    if args.all_runs:
        runs = repo / "runs"
        roots += [p for p in sorted(runs.iterdir()) if p.is_dir() and p not in roots] if runs.is_dir() else []
    recs = all_records(roots)
    if args.claim:
        known = {r["claim"] for r in recs}
        missing = [c for c in args.claim if c not in known]
        if missing:
            raise ValueError(f"--claim: no records of {missing} in {', '.join(map(str, roots))}")
        recs = [r for r in recs if r["claim"] in args.claim]
    rows = [row_of(r) for r in recs]
    if args.stale:
        claims, _ = _load(args)
        code = code_root()
        keep = []
        closures = {}
        for rec, row in zip(recs, rows):
            c = claims.get(rec["claim"])
            if c is None:
                row["freshness"] = "no such claim now"
                keep.append(row)
                continue
            if c.name not in closures:
                files = code_closure(claim_module(c).__file__, code)
                closures[c.name] = (files, closure_hash(files, code))
            f = freshness(rec, closures[c.name][0], code, closures[c.name][1])
            if f.stale or f.stale is None:  # dirty alone is not stale: the code hash decides
                row["freshness"] = "; ".join(f.badges())
                keep.append(row)
        rows = keep
    if args.failing:
        rows = [r for r in rows if not r["as_expected"]]
    if args.to:
        if not args.output:
            raise ValueError("--to needs --output FILE")
        if args.to == "csv":
            import csv
            cols = list(COLUMNS) + (["freshness"] if args.stale else [])
            with open(args.output, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=cols)
                w.writeheader()
                w.writerows(rows)
        else:
            try:
                import pandas as pd
                pd.DataFrame(rows).to_parquet(args.output)
            except ImportError as e:
                raise ValueError(f"--to parquet needs pandas and pyarrow ({e})") from None
        print(f"{len(rows)} record(s) written to {args.output}")
        return 0
    def num(x):
        return "" if x is None else (f"{x:.4g}" if isinstance(x, float) else str(x))
    table = [[r["claim"], r["case"], r["role"] or "", r["status"], "yes" if r["as_expected"] else "NO",
              num(r["measured"]), f"{r['relation']} {num(r['bound'])}", num(r["slack"]),
              (r["commit"] or "")[:10] + ("+dirty" if str(r["commit"]).endswith("+dirty") else ""),
              r["run_id"] or "", r.get("freshness", "")] for r in rows]
    if table:
        print(_table(table, ["claim", "case", "role", "verdict", "as expected", "measured", "bound", "slack",
                             "commit", "run id", "freshness" if args.stale else ""]))
    print(f"{len(rows)} record(s) from {', '.join(str(r) for r in roots)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="verify", description="Check the papers' lemmas: exact small cases, "
                                "empirical large cases, results with provenance, and the book.")
    p.add_argument("--lemmas", default=None, help="folder of claim modules (default: ./lemmas)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list claims and their cases")
    r = sub.add_parser("run", help="evaluate claims; write results/<claim>/<case>.json")
    r.add_argument("claims", nargs="*", help="claim names (default: all)")
    r.add_argument("--scale", choices=["small", "large", "all"], default="small")
    r.add_argument("--case", action="append", default=[], metavar="NAME",
                   help="evaluate only this case (repeatable)")
    r.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    r.add_argument("--executor", choices=executors.EXECUTORS, default="serial",
                   help="where cases run: this process, a process pool, or Dask (pip install 'hierarchy-proofs[dask]')")
    r.add_argument("--workers", type=int, default=None, help="processes for --executor process/dask (default: CPUs)")
    r.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads per case (default: 1 on process/dask, torch's own serially)")
    r.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
    r.add_argument("--scheduler-file", default=None, metavar="FILE", help="a Dask scheduler file (dask-jobqueue)")
    r.add_argument("--resume", action="store_true",
                   help="skip cases whose record (same configuration and code) is already in the results folder "
                        "(default folder: the latest run)")
    r.add_argument("--results", default=None, metavar="DIR",
                   help="write the records here (default: a new runs/<run id>/, ignored by git; "
                        "`--results results` updates the committed records)")
    b = sub.add_parser("book", help="build the Jupyter Book (fails on any warning or failing cell)")
    b.add_argument("--book", default="book")
    b.add_argument("--clean", action="store_true", help="remove book/_build first and rebuild every page")
    f = sub.add_parser("findings", help="the findings, generated from results/ (print, --write or --check a file)")
    f.add_argument("--results", default="results", help="results folder (default: ./results)")
    g = f.add_mutually_exclusive_group()
    g.add_argument("--write", metavar="FILE", help="rewrite FILE's findings block (README.md)")
    g.add_argument("--check", metavar="FILE", help="exit 1 if FILE's findings block differs from the records")
    rp = sub.add_parser("report", help="the referee's report: every statement, its verdict, errata, constants")
    rp.add_argument("--paper", choices=["A", "B"], default=None, help="one paper (default: both)")
    rp.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    rp.add_argument("--results", action="append", default=None, metavar="DIR",
                    help="record folder (repeatable; the newest record of a case wins; default: results/ and the latest run)")
    rs = sub.add_parser("results", help="a table of the records, filtered (--failing, --claim, --stale) or exported")
    rs.add_argument("--results", action="append", default=None, metavar="DIR",
                    help="record folder (repeatable; default: results/ and the latest run)")
    rs.add_argument("--all-runs", action="store_true", help="also every folder under runs/")
    rs.add_argument("--failing", action="store_true", help="only cases whose verdict is not the one they expect")
    rs.add_argument("--claim", action="append", default=[], metavar="NAME", help="only this claim (repeatable)")
    rs.add_argument("--stale", action="store_true", help="only records that are stale (or whose freshness cannot be told)")
    rs.add_argument("--to", choices=["csv", "parquet"], default=None, help="export instead of printing")
    rs.add_argument("--output", default=None, metavar="FILE")
    _train.build_parser(sub.add_parser("train", help="train a learner on an RHM; write a record and a learning curve"))
    try:
        args = p.parse_args(argv)
    except SystemExit as e:  # argparse has printed usage and its one-line error (or --help)
        return e.code if isinstance(e.code, int) else 2
    try:
        return {"list": _cmd_list, "run": _cmd_run, "book": _cmd_book, "findings": _cmd_findings, "report": _cmd_report, "results": _cmd_results,
                "train": lambda a: _train.main(parsed=a)}[args.command](args)
    except (ValueError, OSError) as e:
        text = str(e).strip().splitlines()
        print(f"verify: error: {text[0] if text else type(e).__name__}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
