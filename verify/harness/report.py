"""Rendering helpers for the book and the command line: verdict tables and provenance lines."""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from .claims import Verdict


def _fmt(x) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A GitHub/MyST pipe table."""
    lines = ["| " + " | ".join(h.replace("|", r"\|") for h in header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(c).replace("|", r"\|") for c in row) + " |")
    return "\n".join(lines)


def record_status(d: Mapping) -> str:
    """The status of a verdict dict; records written before the confidence contract carry only
    ``holds`` (decided on the point estimate)."""
    return d.get("status") or ("holds" if d["holds"] else "fails")


def interval_text(d: Mapping) -> str:
    """The one-sided limits with their confidence, or what the verdict rests on."""
    lo, hi, conf = d.get("lower"), d.get("upper"), d.get("confidence")
    if "status" not in d:
        return "point estimate (record predates the confidence contract)"
    if lo is None and hi is None:
        return {"exact": "exact", "seeded draw": "one seeded draw"}.get(d.get("basis"), str(d.get("basis")))
    lo = "−∞" if lo is None else _fmt(lo)
    hi = "∞" if hi is None else _fmt(hi)
    return f"[{lo}, {hi}] at {conf:.0%} each side"


def slack_text(d: Mapping) -> str:
    from .claims import slack
    s = d.get("slack")
    if s is None or isinstance(s, str):
        s = slack(d["measured"], d["bound"], d["relation"]) if not isinstance(s, str) else float(s)
    return _fmt(float(s))


def verdict_rows(verdicts: Iterable[Verdict | Mapping]) -> list[list]:
    rows = []
    for v in verdicts:
        d = v.to_dict() if isinstance(v, Verdict) else v
        measured = _fmt(d["measured"])
        if d.get("measured_exact") and d["measured_exact"] != _fmt(d["measured"]):
            measured += f" (= {d['measured_exact']})"
        bound = _fmt(d["bound"])
        if d.get("bound_exact") and d["bound_exact"] != bound:
            bound += f" (= {d['bound_exact']})"
        status = record_status(d)
        ok = "as expected" if status == ("holds" if d["expect"] else "fails") else "UNEXPECTED"
        rel = {"<=": "≤", ">=": "≥"}[d["relation"]]
        rows.append([f"{d['case']} ({d['method']})", d["role"].replace("_", " "), measured,
                     interval_text(d), f"{rel} {bound}", slack_text(d), f"**{status}** ({ok})"])
    return rows


VERDICT_HEADER = ["case (method)", "role", "measured", "interval", "bound", "slack", "verdict"]


def verdict_table(verdicts: Iterable[Verdict | Mapping]) -> str:
    return markdown_table(VERDICT_HEADER, verdict_rows(verdicts))


def provenance_line(record: Mapping) -> str:
    p = record["provenance"]
    return (f"device {p['device']}; commit `{p['git_commit'][:12]}`; {p['date']}; seed {p['seed']}; "
            f"{p['wall_seconds']} s; torch {p['torch']}, numpy {p['numpy']}, hierarchy-proofs "
            f"{p['package_version']}")


def records_table(records: Mapping[str, Mapping]) -> str:
    """Verdict table of stored records (e.g. large GPU runs), with a provenance line per record."""
    if not records:
        return "_No record yet._"
    lines = [verdict_table(records.values()), ""]
    for name, rec in records.items():
        lines.append(f"- `{name}`: {provenance_line(rec)}")
    return "\n".join(lines)
