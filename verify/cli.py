"""Command line: ``verify list``, ``verify run``, ``verify findings``, ``verify train``, ``verify book``."""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from tqdm.auto import tqdm

from .experiments import train as _train
from .harness import findings
from .harness.claims import resolve_device
from .harness.discovery import load_claims
from .harness.results import write_record
from .harness.stats import CONFIDENCE


def _cmd_list(args) -> int:
    claims = load_claims(args.lemmas)
    for name, c in claims.items():
        alias = f" (= {c.alias})" if c.alias else ""
        page = f" [PDF {c.page}]" if c.page else ""
        print(f"{name:28s} Paper {c.paper}  {c.reference}{page}{alias}")
        for case in c.cases:
            print(f"    {case.name:34s} {case.scale:5s} {case.method:9s} {case.role}")
    return 0


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = "  ".join(f"{{:{w}s}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    out += [fmt.format(*[str(c) for c in r]) for r in rows]
    return "\n".join(out)


def _cmd_run(args) -> int:
    claims = load_claims(args.lemmas)
    unknown = [n for n in args.claims if n not in claims]
    if unknown:
        print(f"unknown claim(s): {unknown}; known: {sorted(claims)}", file=sys.stderr)
        return 2
    device = resolve_device(args.device)
    todo = [(c, case) for n, c in claims.items() if not args.claims or n in args.claims
            for case in c.cases_at(args.scale) if not args.case or case.name in args.case]
    if args.case:
        known = {case.name for _, case in todo}
        missing = [n for n in args.case if n not in known]
        if missing:
            print(f"--case: no case {missing} among the selected claims at --scale {args.scale}", file=sys.stderr)
            return 2
    rows, unexpected = [], 0
    bar = tqdm(todo, desc=f"verify run ({args.scale}, {device})", unit="case")
    for claim, case in bar:
        bar.set_postfix_str(f"{claim.name}[{case.name}]", refresh=True)  # which case is running now
        v = claim.evaluate(case, device)
        path = write_record(v, args.results)
        unexpected += not v.as_expected
        rows.append([v.claim, v.case, v.role, f"{v.measured:.5g}", v.interval_str(), v.relation,
                     f"{v.bound:.5g}", f"{v.slack:.3g}", v.status, "yes" if v.as_expected else "NO",
                     f"{v.seconds:.1f}s", str(path)])
    print(_table(rows, ["claim", "case", "role", "measured", "interval", "", "bound", "slack", "verdict",
                        "as expected", "time", "record"]))
    print(f"\n{len(rows)} cases on {device}; verdicts at {CONFIDENCE:.0%} one-sided confidence per case "
          f"(exact cases exactly); {unexpected} not as expected")
    return 1 if unexpected else 0


def _cmd_book(args) -> int:
    book = Path(args.book)
    if not (book / "_config.yml").exists():
        print(f"no Jupyter Book at {book}/ (_config.yml missing)", file=sys.stderr)
        return 2
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


def _cmd_findings(args) -> int:
    claims = load_claims(args.lemmas)
    block = findings.markdown(claims, args.results)
    if args.write:
        path = Path(args.write)
        path.write_text(findings.replace_block(path.read_text(), block))
        print(f"findings block of {path} rewritten from {args.results}/")
    elif args.check:
        path = Path(args.check)
        if findings.current_block(path.read_text()) != block:
            print(f"{path}: the findings block differs from the records; run `verify findings --write {path}`",
                  file=sys.stderr)
            return 1
        print(f"{path}: findings block matches the records")
    else:
        print(block, end="")
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
    r.add_argument("--results", default="results", help="results folder (default: ./results)")
    b = sub.add_parser("book", help="build the Jupyter Book (fails on any warning or failing cell)")
    b.add_argument("--book", default="book")
    b.add_argument("--clean", action="store_true", help="remove book/_build first and rebuild every page")
    f = sub.add_parser("findings", help="the findings, generated from results/ (print, --write or --check a file)")
    f.add_argument("--results", default="results", help="results folder (default: ./results)")
    g = f.add_mutually_exclusive_group()
    g.add_argument("--write", metavar="FILE", help="rewrite FILE's findings block (README.md)")
    g.add_argument("--check", metavar="FILE", help="exit 1 if FILE's findings block differs from the records")
    _train.build_parser(sub.add_parser("train", help="train a learner on an RHM; write a record and a learning curve"))
    args = p.parse_args(argv)
    try:
        return {"list": _cmd_list, "run": _cmd_run, "book": _cmd_book, "findings": _cmd_findings,
                "train": lambda a: _train.main(parsed=a)}[args.command](args)
    except ValueError as e:
        print(f"verify: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
