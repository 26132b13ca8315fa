# Shared set-up of the book's pages (run with `%run ../_common.py`): find the repository, load claims.
import sys
import warnings

# tqdm.auto, imported by the library's progress bars, warns on stderr that ipywidgets is missing: not a page's
# business (the pages show no progress bar)
warnings.filterwarnings("ignore", message="IProgress not found")

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import os
from pathlib import Path

from verify.harness.discovery import claim_module, find_repo_dir, load_claims
from verify.harness.freshness import closure_hash, code_closure, code_root, freshness
from verify.harness.report import records_table, verdict_table
from verify.harness.blueprint import newest_records
from verify.harness.results import latest_run, load_records, verdict_from_record
from verify.harness.stats import CONFIDENCE

try:  # figures inline in the page, whatever MPLBACKEND says
    get_ipython().run_line_magic("matplotlib", "inline")  # noqa: F821
except NameError:
    pass

REPO = find_repo_dir()
CLAIMS = load_claims(REPO / "lemmas")
RESULTS = REPO / "results"
CODE = code_root()  # where the running `verify` package lives: a record's code closure is read there
# The records a page reads: the committed results/ and the latest `verify run` (runs/LATEST, or the folder
# VERIFY_RUN names), the newer record of each case. A page recomputes a small case only when no fresh record has it.
_RUN = Path(os.environ["VERIFY_RUN"]) if os.environ.get("VERIFY_RUN") else latest_run(REPO)
ROOTS = [RESULTS] + ([_RUN] if _RUN is not None else [])
plt.rcParams.update({"figure.dpi": 110, "figure.figsize": (7, 3.6), "axes.grid": True, "grid.alpha": 0.3})


def lemma(name):
    """The lemma module ``lemmas/<name>.py`` (loaded once by ``load_claims``)."""
    return sys.modules[f"lemmas.{name}"]


def confidence_note(claim_name, scale="small"):
    """The page's statement of the confidence convention and the claim's family-wise level."""
    claim = CLAIMS[claim_name]
    k = sum(c.method == "empirical" for c in claim.cases_at(scale))
    fam = claim.family_confidence(scale)
    cite = f"Checked: Paper {claim.paper}, {claim.reference}" + (f", PDF {claim.page}" if claim.page else "") + ". "
    return (cite + f"Verdicts at {CONFIDENCE:.0%} one-sided confidence per case (exact cases exactly; the limits "
            "column gives each side's limit at that confidence unless it names another); "
            f"*inconclusive* is never a pass. With {k} sampled case{'s' if k != 1 else ''} at this scale, "
            f"all are decided right together with probability at least {fam:.0%} (union bound). "
            "Slack = bound ÷ measured (≤ bounds) or measured ÷ bound (≥ bounds).")


def _closure(claim_name):
    files = code_closure(claim_module(CLAIMS[claim_name]).__file__, CODE)
    return files, closure_hash(files, CODE)


def fresh_records(claim_name):
    """The claim's records (results/ overlaid with the latest run), each with its freshness."""
    files, now = _closure(claim_name)
    recs = newest_records(claim_name, ROOTS)
    return {case: (rec, freshness(rec, files, CODE, now)) for case, rec in recs.items()}


def show_small(claim_name, infinity=None):
    """The verdict table of every small case of a claim: read from a fresh record (written by `verify run`
    with the code that is here) where there is one, else computed now on the CPU. ``infinity``: what an
    infinite measured value means for this claim (shown as "∞: <infinity>")."""
    claim = CLAIMS[claim_name]
    recs = fresh_records(claim_name)
    verdicts, computed, read = [], [], set()
    for c in claim.cases_at("small"):
        rec, fresh = recs.get(c.name, (None, None))
        if rec is not None and fresh.stale is False:
            verdicts.append(verdict_from_record(rec))
            read.add(Path(rec["_source"]).name)
        else:
            verdicts.append(claim.evaluate(c, "cpu"))
            computed.append(c.name)
    if computed and read:
        origin = (f"{len(verdicts) - len(computed)} case(s) read from fresh records ({', '.join(sorted(read))}/), "
                  f"{len(computed)} computed while this page was built")
    elif computed:
        origin = "computed while this page was built (no fresh record: run `verify run` first to reuse its records)"
    else:
        origin = f"read from the records of `verify run` ({', '.join(sorted(read))}/), written with the code that is here"
    display(Markdown(verdict_table(verdicts, infinity) + "\n\n" + confidence_note(claim_name) + f" Small cases {origin}."))
    return {v.case: v for v in verdicts}


def show_large(claim_name, infinity=None):
    """Show the stored records of the claim's large cases (from `verify run --scale large`); ``infinity`` as in
    :func:`show_small`."""
    claim = CLAIMS[claim_name]
    recs = fresh_records(claim_name)
    large = {c.name: recs[c.name][0] for c in claim.cases_at("large") if c.name in recs}
    badges = {c: recs[c][1].badges() for c in large}
    missing = [c.name for c in claim.cases_at("large") if c.name not in recs]
    display(Markdown(records_table(large, badges, infinity)))
    if missing:
        display(Markdown("Not yet recorded: " + ", ".join(f"`{m}`" for m in missing)
                         + " (run `verify run " + claim_name + " --scale large`)."))
    return large


def hypotheses_block(claim_name):
    """The claim's hypotheses as the paper prints them (``Claim.hypotheses``, LaTeX), as a Markdown list."""
    claim = CLAIMS[claim_name]
    cite = f"Paper {claim.paper}, {claim.reference}" + (f", PDF {claim.page}" if claim.page else "")
    if not claim.hypotheses:
        return Markdown(f"**Hypotheses** ({cite}): none listed.")
    return Markdown(f"**Hypotheses, as printed** ({cite}):\n\n" + "\n".join(f"- ${h}$" for h in claim.hypotheses))


# -- the statement graphs and the referee's report (the book's first pages) -----------------------------------
import re as _re

from IPython.display import HTML


def claim_pages():
    """Claim name -> its page (path from the book's root, ``.html``): the first page that shows its cases."""
    book = REPO / "book"
    pat = _re.compile(r'(?:show_small|show_large|confidence_note|hypotheses_block)\(\s*"([A-Za-z0-9_]+)"'
                      r'|CLAIMS\[\s*"([A-Za-z0-9_]+)"\s*\]')
    out = {}
    for md in sorted(book.rglob("*.md")):
        if "_build" in md.parts:
            continue
        for m in pat.finditer(md.read_text()):
            name = m.group(1) or m.group(2)
            out.setdefault(name, md.relative_to(book).with_suffix(".html").as_posix())
    return out


def _report(paper):
    from verify.harness import referee
    return referee.build(CLAIMS, ROOTS, CODE, paper=paper)


def statement_graph(paper, prefix=""):
    """The dependency graph of ``paper``'s statements, coloured by verdict, each node a link to its page
    (``prefix``: the path from the current page to the book's root, e.g. ``"../"``)."""
    from verify.harness import graph
    from verify.harness.blueprint import STATUSES
    from verify.harness.statements import statements
    rep = _report(paper)
    rows = {r["key"]: r for r in rep["statements"]}
    stmts = statements(paper)
    pages = claim_pages()
    links, tips, subs = {}, {}, {}
    for k, r in rows.items():
        page = next((pages[c] for c in r["claims"] if c in pages), None)
        if page:
            links[k] = prefix + page
        checks = f"{r['checks_hold']}/{r['checks']} checks hold" if r["checks"] else "no check case"
        uses = ", ".join(r["uses"]) or "nothing numbered"
        tips[k] = (f"{r['statement']} ({r['page'] or r['source']}): {r['title']}. Verdict: {r['status']}"
                   + (f" ({r['verdict']})" if r["status"] == "reconstructed" else "")
                   + f"; {checks}; claims: {', '.join(r['claims']) or 'none'}; uses: {uses}. {r['why']}.")
        if r["status"] == "reconstructed":
            subs[k] = f"[{r['verdict']}]"
    fill = {k: STATUSES[r["status"]][0] for k, r in rows.items()}
    svg = graph.svg(stmts, fill, links=links, tooltips=tips, subtitles=subs)
    used = [s for s in STATUSES if rep["counts"].get(s)]
    legend = " ".join(
        f'<span style="display:inline-block;margin:2px 10px 2px 0;white-space:nowrap">'
        f'<span style="display:inline-block;width:14px;height:14px;background:{STATUSES[s][0]};'
        f'border:1px solid #333;vertical-align:middle"></span> {STATUSES[s][1]} ({rep["counts"][s]})</span>'
        for s in used)
    display(HTML(f'<div style="font-size:0.85em;margin-bottom:6px">{legend}</div>{svg}'))
    return rep


def referee_report(paper, prefix=""):
    """The referee's report of ``paper`` as Markdown (the same as `verify report --paper P --format markdown`)."""
    from verify.harness import referee
    # links to the pages' sources (.md): MyST resolves them to the built pages (a link to .html would not resolve)
    pages = {c: prefix + p.removesuffix(".html") + ".md" for c, p in claim_pages().items()}
    display(Markdown(referee.to_markdown(_report(paper), links=pages)))
