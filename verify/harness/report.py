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


def verdict_rows(verdicts: Iterable[Verdict | Mapping]) -> list[list]:
    rows = []
    for v in verdicts:
        d = v.to_dict() if isinstance(v, Verdict) else v
        unc = d.get("uncertainty")
        measured = _fmt(d["measured"]) + (f" ± {_fmt(unc)}" if unc is not None else "")
        if d.get("measured_exact") and d["measured_exact"] != _fmt(d["measured"]):
            measured += f" (= {d['measured_exact']})"
        bound = _fmt(d["bound"])
        if d.get("bound_exact") and d["bound_exact"] != bound:
            bound += f" (= {d['bound_exact']})"
        status = "holds" if d["holds"] else "fails"
        ok = "as expected" if d["holds"] == d["expect"] else "UNEXPECTED"
        rel = {"<=": "≤", ">=": "≥"}[d["relation"]]
        rows.append([f"{d['case']} ({d['method']})", d["role"].replace("_", " "), measured, f"{rel} {bound}",
                     f"**{status}** ({ok})"])
    return rows


VERDICT_HEADER = ["case (method)", "role", "measured", "bound", "verdict"]


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
