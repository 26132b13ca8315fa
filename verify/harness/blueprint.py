r"""Each numbered statement's verdict, from the records of the claims that check it.

A statement's **status** is decided from every case of every claim that names it in ``Claim.statements``, at
the package's confidence (each record's verdict is already decided at it), in this order:

1. ``not covered``: no claim checks it;
2. ``fails``: a ``check`` case fails, or a negative control does not fail (the check cannot be trusted);
3. ``inconclusive``: a ``check`` case, or a negative control, is inconclusive;
4. ``fails as printed``: an ``as_printed`` case fails and every ``check`` case (the corrected form) holds;
5. ``not recorded or stale``: a case has no record, or its record is stale (its claim's code changed since);
6. ``holds``: every check holds, every negative control fails, every as-printed case holds.

Paper B's statements are reconstructions (its full text is out of reach): a covered one whose status would be
``holds`` or ``fails as printed`` is ``reconstructed`` instead, with the verdict beside it.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping

from .claims import Claim
from .freshness import Freshness, closure_hash, code_closure, freshness
from .results import load_overlay
from .statements import Statement

#: status -> (fill colour, one-line meaning), in the legend's order.
STATUSES = {
    "holds": ("#8fd19e", "holds: every check holds at 99%, negative controls fail"),
    "fails as printed": ("#ffd27f", "fails as printed; the corrected form holds"),
    "fails": ("#f08080", "fails: a check fails (or a negative control does not)"),
    "inconclusive": ("#fff59d", "inconclusive at 99% (never a pass)"),
    "reconstructed": ("#c5b3e6", "Paper B: a reconstructed form, checked (verdict in the label)"),
    "not recorded or stale": ("#9ecae1", "a case not yet recorded, or its record is stale"),
    "not covered": ("#dddddd", "not covered: no claim checks it yet"),
}


@dataclasses.dataclass
class CaseRecord:
    """One case of a claim with its record (``None``: not recorded) and the record's freshness."""
    claim: str
    case: str
    scale: str
    role: str
    expect: bool
    record: dict | None
    fresh: Freshness | None

    @property
    def status(self) -> str | None:
        if self.record is None:
            return None
        return self.record.get("status") or ("holds" if self.record.get("holds") else "fails")


@dataclasses.dataclass
class StatementVerdict:
    statement: Statement
    status: str
    verdict: str  # the status before Paper B's "reconstructed" relabelling
    claims: list
    cases: list  # of CaseRecord
    why: str

    @property
    def checks(self) -> list:
        return [c for c in self.cases if c.role == "check"]

    @property
    def errata(self) -> list:
        """As-printed cases whose record fails: the evidence that the printed form is off."""
        return [c for c in self.cases if c.role == "as_printed" and c.status == "fails"]


def newest_records(claim: str, roots) -> dict[str, dict]:
    """A claim's records from the folders ``roots`` (e.g. the committed ``results/`` and the latest run), case
    by case the one written last (its provenance date): a run older than the committed records does not
    hide them. Each record carries ``_source``, its folder."""
    out: dict[str, dict] = {}
    for root in roots:
        for case, rec in load_overlay(claim, [root]).items():
            old = out.get(case)
            if old is None or rec.get("provenance", {}).get("date", "") >= old.get("provenance", {}).get("date", ""):
                out[case] = rec
    return out


def claim_cases(claims: Mapping[str, Claim], roots, repo: str | os.PathLike,
                module_files: Mapping[str, str]) -> dict[str, list[CaseRecord]]:
    """Every case of every claim with its record from ``roots`` (the newest of each case, :func:`newest_records`)
    and its freshness. ``module_files``: claim name -> the file of its module."""
    repo = Path(repo)
    out: dict[str, list[CaseRecord]] = {}
    for name, claim in claims.items():
        recs = newest_records(name, roots)
        files = code_closure(module_files[name], repo) if name in module_files else []
        now = closure_hash(files, repo) if files else None
        rows = []
        for case in claim.cases:
            rec = recs.get(case.name)
            fresh = freshness(rec, files, repo, now) if rec is not None and files else None
            rows.append(CaseRecord(name, case.name, case.scale, case.role, bool(case.expect), rec, fresh))
        out[name] = rows
    return out


def _decide(cases: list[CaseRecord]) -> tuple[str, str]:
    checks = [c for c in cases if c.role == "check" and c.record is not None]
    controls = [c for c in cases if c.role == "negative_control" and c.record is not None]
    printed = [c for c in cases if c.role == "as_printed" and c.record is not None]
    bad = [c for c in checks if c.status == "fails"] + [c for c in controls if c.status == "holds"]
    if bad:
        return "fails", ", ".join(f"{c.claim}[{c.case}] {c.status}" for c in bad[:3])
    unsure = [c for c in checks + controls if c.status == "inconclusive"]
    if unsure:
        return "inconclusive", ", ".join(f"{c.claim}[{c.case}]" for c in unsure[:3])
    wrong_print = [c for c in printed if c.status == "fails"]
    if wrong_print:
        return "fails as printed", ", ".join(f"{c.claim}[{c.case}]" for c in wrong_print[:3])
    missing = [c for c in cases if c.record is None]
    stale = [c for c in cases if c.fresh is not None and c.fresh.stale]
    if missing or stale:
        parts = []
        if missing:
            parts.append(f"{len(missing)} case(s) not recorded")
        if stale:
            parts.append(f"{len(stale)} record(s) stale")
        return "not recorded or stale", "; ".join(parts)
    if not checks and not printed:
        return "not recorded or stale", "no recorded check"
    return "holds", f"{len(checks)} check(s) hold, {len(controls)} negative control(s) fail"


def assess(stmts: Mapping[str, Statement], claims: Mapping[str, Claim],
           cases: Mapping[str, list[CaseRecord]]) -> dict[str, StatementVerdict]:
    """The :class:`StatementVerdict` of every statement (keyed as ``stmts``)."""
    out = {}
    for key, st in stmts.items():
        covering = [c for c in claims.values() if c.paper == st.paper and st.id in c.statements]
        rows = [r for c in covering for r in cases.get(c.name, [])]
        if not covering:
            status, why = "not covered", "no claim checks it"
        else:
            status, why = _decide(rows)
        verdict = status
        if st.paper == "B" and status in ("holds", "fails as printed"):
            status = "reconstructed"
        out[key] = StatementVerdict(st, status, verdict, [c.name for c in covering], rows, why)
    return out

