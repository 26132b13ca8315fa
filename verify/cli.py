"""Command line: ``verify list | run | report | findings | train | book``.

A bad command line never prints a traceback: every ``ValueError``/``OSError`` becomes one line
``verify: error: ...`` naming the flag, exit code 2; output folders are checked before any work. A lemma module
that fails to import is reported and skipped; ``list`` and ``run`` then exit 1.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tqdm.auto import tqdm

from .experiments import train as _train
from .harness import findings, referee
from .harness.claims import resolve_device
from .harness.discovery import claim_module, find_repo_dir, load_claims
from .harness.freshness import closure_hash, code_closure, code_root
from .harness.results import (ensure_writable_folder, latest_run, mark_latest, new_run_id, remove_orphaned_temporaries,
                              run_folder, write_record)
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
    claims, errors = _load(args)
    run_id = new_run_id()  # one per invocation, in every record it writes
    repo = _repo(args)
    # a user's run goes to runs/<run id>/ (ignored by git); the committed results/ only when asked
    results = Path(args.results) if args.results else run_folder(repo, run_id)
    if args.results:
        ensure_writable_folder(results, "--results")  # before any case runs
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
    hashes = {c.name: closure_hash(code_closure(claim_module(c).__file__, code), code) for c, _ in todo}
    print(f"verify run: records to {results}/", flush=True)
    bar = tqdm(todo, desc=f"verify run ({args.scale}, {device})", unit="case")
    for claim, case in bar:
        with _naming(bar, f"{claim.name}[{case.name}]"):  # the running case and its elapsed time
            v = claim.evaluate(case, device)
        path = write_record(v, results, run_id=run_id, code_hash=hashes[claim.name])
        unexpected += not v.as_expected
        rows.append([v.claim, v.case, v.role, f"{v.measured:.5g}", v.interval_str(), v.relation,
                     f"{v.bound:.5g}", f"{v.slack:.3g}", v.status, "yes" if v.as_expected else "NO",
                     f"{v.seconds:.1f}s", str(path)])
    print(_table(rows, ["claim", "case", "role", "measured", "interval", "", "bound", "slack", "verdict",
                        "as expected", "time", "record"]))
    if not args.results:
        mark_latest(repo, results)  # the book reads this run's records instead of recomputing them
    print(f"\n{len(rows)} cases on {device}; verdicts at {CONFIDENCE:.0%} one-sided confidence per case "
          f"(exact cases exactly); {unexpected} not as expected; run id {run_id}; records in {results}/")
    if errors:
        print(f"{len(errors)} lemma module(s) failed to import and were skipped (see above)", file=sys.stderr)
    return 1 if unexpected or errors else 0


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
    if args.write:
        path = Path(args.write)
        text = _read_text(path, "--write")
        try:
            text = findings.replace_block(text, block)
        except ValueError as e:
            raise ValueError(f"--write {str(path)!r}: {e}") from None
        path.write_text(text)
        print(f"findings block of {path} rewritten from {args.results}/")
    elif args.check:
        path = Path(args.check)
        if findings.current_block(_read_text(path, "--check")) != block:
            print(f"{path}: the findings block differs from the records; run `verify findings --write {path}`",
                  file=sys.stderr)
            return 1
        print(f"{path}: findings block matches the records")
    else:
        print(block, end="")
    return 0


def record_roots(results: list | None, repo: Path) -> list[Path]:
    """The record folders to read: ``--results`` (repeatable; later ones win case by case), or by default the
    committed ``results/`` overlaid with the latest ``verify run`` (``runs/LATEST``)."""
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
                    help="record folder (repeatable, later ones win; default: results/ and the latest run)")
    _train.build_parser(sub.add_parser("train", help="train a learner on an RHM; write a record and a learning curve"))
    try:
        args = p.parse_args(argv)
    except SystemExit as e:  # argparse has printed usage and its one-line error (or --help)
        return e.code if isinstance(e.code, int) else 2
    try:
        return {"list": _cmd_list, "run": _cmd_run, "book": _cmd_book, "findings": _cmd_findings, "report": _cmd_report,
                "train": lambda a: _train.main(parsed=a)}[args.command](args)
    except (ValueError, OSError) as e:
        text = str(e).strip().splitlines()
        print(f"verify: error: {text[0] if text else type(e).__name__}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
