r"""The referee's report: every numbered statement of a paper with its verdict, generated from the records.

For each statement: its page, the claims that check it, how many of their checks hold, the slack range of
the checks (bound ÷ measured, or measured ÷ bound), and whether the records are stale. Then the **errata**:
each statement whose printed form fails, with the evidence (case, measured value, printed bound, page); the
**measured constants** (the claim modules' ``findings`` hooks); what is **reconstructed** (Paper B); what is
**not covered**; and which records are **stale or missing**. ``verify report`` prints it as text, Markdown
or JSON; the book's report page is its Markdown.
"""
from __future__ import annotations

import json
import math
import os
from typing import Mapping

from .blueprint import STATUSES, assess, claim_cases
from .claims import Claim
from .discovery import claim_module
from .statements import statements as all_statements


def _num(x) -> str:
    if x is None:
        return "—"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if math.isnan(x):
        return "n/a"
    return f"{x:.3g}"


def build(claims: Mapping[str, Claim], roots, repo: str | os.PathLike, paper: str | None = None) -> dict:
    """The report as plain data (what ``--format json`` prints). ``roots``: record folders, later ones
    overriding earlier ones case by case (e.g. ``[results/, runs/<latest>/]``)."""
    if paper not in (None, "A", "B"):
        raise ValueError(f"paper must be 'A', 'B' or None (both); got {paper!r}")
    stmts = all_statements(paper)
    files = {}
    for name, c in claims.items():
        try:
            files[name] = claim_module(c).__file__
        except ValueError:
            pass
    cases = claim_cases(claims, roots, repo, files)
    verdicts = assess(stmts, claims, cases)
    rows, errata, stale, reconstructed, uncovered = [], [], [], [], []
    errata_seen: set = set()
    for key, v in verdicts.items():
        st = v.statement
        checks = [c for c in v.checks if c.record is not None]
        slacks = [float(c.record["slack"]) for c in checks if c.record.get("slack") is not None]
        finite = [s for s in slacks if not math.isnan(s)]
        rows.append({"key": key, "paper": st.paper, "statement": st.id, "kind": st.kind, "title": st.title,
                     "page": st.page, "status": v.status, "verdict": v.verdict, "why": v.why, "claims": v.claims,
                     "checks_hold": sum(c.status == "holds" for c in checks), "checks": len(v.checks),
                     "slack_min": min(finite) if finite else None, "slack_max": max(finite) if finite else None,
                     "uses": list(st.uses), "source": st.source})
        for c in v.errata:  # one entry per case: a claim that checks several statements names them all
            r = c.record
            claim = claims.get(c.claim)
            if (c.claim, c.case) in errata_seen:
                continue
            errata_seen.add((c.claim, c.case))
            errata.append({"statements": list(claim.statements) if claim else [st.id], "paper": st.paper,
                           "reference": claim.reference if claim else st.id,
                           "page": (claim.page if claim and claim.page else st.page), "claim": c.claim,
                           "case": c.case, "measured": r.get("measured"), "relation": r.get("relation"),
                           "bound": r.get("bound"), "slack": r.get("slack"), "lower": r.get("lower"),
                           "upper": r.get("upper"), "note": claim.case(c.case).note if claim else ""})
        for c in v.cases:
            if c.record is None:
                stale.append({"claim": c.claim, "case": c.case, "scale": c.scale, "state": "not recorded"})
            elif c.fresh is not None and (c.fresh.stale or c.fresh.dirty):
                stale.append({"claim": c.claim, "case": c.case, "scale": c.scale,
                              "state": "; ".join(c.fresh.badges()), "commit": c.fresh.commit})
        if st.paper == "B" and st.source != "pdf":
            reconstructed.append({"statement": st.id, "source": st.source, "note": st.note, "verdict": v.verdict})
        if v.status == "not covered":
            uncovered.append({"statement": st.id, "paper": st.paper, "page": st.page, "title": st.title})
    dedup = {(s["claim"], s["case"]): s for s in stale}
    constants = []
    for name, claim in claims.items():
        if paper and claim.paper != paper:
            continue
        hook = None
        try:
            hook = getattr(claim_module(claim), "findings", None)
        except ValueError:
            pass
        recs = {c.case: c.record for c in cases.get(name, []) if c.record is not None}
        if hook and recs:
            constants += [{"claim": name, "text": line} for line in hook(recs)]
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    return {"paper": paper or "A+B", "roots": [str(r) for r in roots if r is not None], "counts": counts,
            "statements": rows, "errata": errata, "constants": constants, "reconstructed": reconstructed,
            "not_covered": uncovered, "stale": list(dedup.values())}


def _limits(e) -> str:
    if e.get("lower") is None and e.get("upper") is None:
        return ""
    return f" (99% limits [{_num(e.get('lower'))}, {_num(e.get('upper'))}])"


def _slack(r) -> str:
    if r["slack_min"] is None:
        return "—"
    lo, hi = _num(r["slack_min"]), _num(r["slack_max"])
    return lo if lo == hi else f"{lo}–{hi}"


def to_text(rep: dict) -> str:
    out = [f"Referee's report, Paper {rep['paper']} (records: {', '.join(rep['roots'])})", ""]
    out.append("  ".join(f"{k}: {n}" for k, n in rep["counts"].items() if n))
    out.append("")
    w = max([len(r["statement"]) for r in rep["statements"]] + [9])
    out.append(f"{'':2s}{'statement':{w}s}  {'page':10s}  {'verdict':22s}  {'checks':7s}  {'slack':12s}  claims")
    for r in rep["statements"]:
        checks = f"{r['checks_hold']}/{r['checks']}" if r["checks"] else "—"
        status = r["status"] + (f" ({r['verdict']})" if r["status"] == "reconstructed" else "")
        out.append(f"{r['paper']:2s}{r['statement']:{w}s}  {r['page'][:10]:10s}  {status[:22]:22s}  {checks:7s}  "
                   f"{_slack(r):12s}  {', '.join(r['claims']) or '—'}")
    if rep["errata"]:
        out += ["", "Errata (the printed form fails; evidence):"]
        for e in rep["errata"]:
            out.append(f"- Paper {e['paper']}, {e['reference']} (PDF {e['page']}): {e['claim']}[{e['case']}] measured "
                       f"{_num(e['measured'])} {e['relation']} printed bound {_num(e['bound'])}, slack {_num(e['slack'])}"
                       f"{_limits(e)}")
    if rep["constants"]:
        out += ["", "Measured constants and sizes:"] + [f"- {c['text']}" for c in rep["constants"]]
    if rep["reconstructed"]:
        out += ["", "Reconstructed (Paper B's text is out of reach):"]
        out += [f"- {r['statement']}: source {r['source']}; verdict {r['verdict']}" for r in rep["reconstructed"]]
    if rep["not_covered"]:
        out += ["", "Not covered: " + ", ".join(f"{r['paper']}:{r['statement']}" for r in rep["not_covered"])]
    if rep["stale"]:
        out += ["", f"Stale, dirty or missing records ({len(rep['stale'])}):"]
        out += [f"- {s['claim']}[{s['case']}] ({s['scale']}): {s['state']}" for s in rep["stale"][:40]]
        if len(rep["stale"]) > 40:
            out.append(f"- ... and {len(rep['stale']) - 40} more (--format json lists them all)")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return str(text).replace("|", r"\|").replace("\n", " ")


def to_markdown(rep: dict, links: Mapping[str, str] | None = None) -> str:
    """Markdown: a narrow table per paper (statement, verdict, checks, slack) and the sections below it.
    ``links``: claim name -> URL of its page."""
    links = links or {}
    out = []
    counts = ", ".join(f"{n} {k}" for k, n in rep["counts"].items() if n)
    out.append(f"**{len(rep['statements'])} statements**: {counts}.\n")
    out.append("| statement | verdict | checks | slack |\n|---|---|---|---|")
    for r in rep["statements"]:
        claims = ", ".join(f"[`{c}`]({links[c]})" if c in links else f"`{c}`" for c in r["claims"])
        name = f"**{r['statement']}** ({r['page']})" if r["page"] else f"**{r['statement']}**"
        status = r["status"] + (f": {r['verdict']}" if r["status"] == "reconstructed" else "")
        checks = f"{r['checks_hold']}/{r['checks']}" if r["checks"] else "—"
        out.append(f"| {_md_cell(name)}<br>{claims or _md_cell(r['title'])} | {_md_cell(status)} | {checks} | "
                   f"{_slack(r)} |")
    if rep["errata"]:
        out += ["", "**Errata** (the printed form fails at 99%; the statement's page shows the form that holds):", ""]
        for e in rep["errata"]:
            link = f"[`{e['claim']}`]({links[e['claim']]})" if e["claim"] in links else f"`{e['claim']}`"
            rel = {"<=": "≤", ">=": "≥"}.get(e["relation"], e["relation"])
            out.append(f"- **{_md_cell(e['reference'])}** (PDF {e['page']}), {link} `{e['case']}`: measured "
                       f"{_num(e['measured'])}{_limits(e)} {rel} printed bound {_num(e['bound'])}: **fails** "
                       f"(slack {_num(e['slack'])}). {_md_cell(e['note'])}")
    if rep["constants"]:
        out += ["", "**Measured constants and sizes:**", ""] + [f"- {c['text']}" for c in rep["constants"]]
    if rep["reconstructed"]:
        out += ["", "**Reconstructed** (Paper B's full text is out of reach; each element's source is on its page):",
                ""]
        out += [f"- {r['statement']}: {r['source']}; verdict {r['verdict']}" for r in rep["reconstructed"]]
    if rep["not_covered"]:
        out += ["", "**Not covered yet:** " + ", ".join(r["statement"] for r in rep["not_covered"]) + "."]
    if rep["stale"]:
        n_missing = sum(s["state"] == "not recorded" for s in rep["stale"])
        out += ["", f"**Records to redo:** {len(rep['stale']) - n_missing} stale or dirty, {n_missing} not recorded "
                "(`verify report --format json` lists them)."]
    return "\n".join(out) + "\n"


def to_json(rep: dict) -> str:
    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None if x != x else ("inf" if x > 0 else "-inf")
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x
    return json.dumps(clean(rep), indent=1, allow_nan=False) + "\n"
