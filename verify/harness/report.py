"""Rendering helpers for the book and the command line: verdict tables and provenance lines."""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from .claims import Verdict, as_expected, basis_text, slack
from .stats import CONFIDENCE


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
    """The one-sided limits (their confidence is stated under the table), or what the verdict rests on."""
    lo, hi = d.get("lower"), d.get("upper")
    if "status" not in d:
        return "point estimate (old record)"
    if lo is None and hi is None:
        return basis_text(d.get("basis"), d.get("details"))
    lo = "−∞" if lo is None else _fmt(lo)
    hi = "∞" if hi is None else _fmt(hi)
    conf = d.get("confidence")
    other = f" at {100 * conf:.4g}%" if conf and abs(conf - CONFIDENCE) > 1e-12 else ""
    return f"[{lo}, {hi}]{other}"


def slack_text(d: Mapping) -> str:
    s = d.get("slack")
    s = slack(d["measured"], d["bound"], d["relation"]) if s is None else float(s)
    return "—" if s != s else _fmt(s)  # NaN: 0 against a bound of 0, met with equality


def _exact_suffix(exact: str | None, shown: str) -> str:
    """`` (= 1/3)`` for a short exact value that differs from its float; long closed forms are left
    to the page (they would push the verdict off the table)."""
    if not exact or exact == shown or exact in ("oo", "-oo", "nan") or len(exact) > 24:
        return ""
    return f" (= `{exact}`)"


def verdict_rows(verdicts: Iterable[Verdict | Mapping]) -> list[list]:
    rows = []
    for v in verdicts:
        d = v.to_dict() if isinstance(v, Verdict) else v
        measured = _fmt(d["measured"])
        measured += _exact_suffix(d.get("measured_exact"), measured)
        bound = _fmt(d["bound"])
        bound += _exact_suffix(d.get("bound_exact"), bound)
        status = record_status(d)
        ok = "" if as_expected(status, d["expect"]) else " (UNEXPECTED)"
        rel = {"<=": "≤", ">=": "≥"}[d["relation"]]
        rows.append([f"{d['case']} ({d['method']})", d["role"].replace("_", " "), f"**{status}**{ok}", measured,
                     interval_text(d), f"{rel} {bound}", slack_text(d)])
    return rows


VERDICT_HEADER = ["case (method)", "role", "verdict", "measured", "one-sided limits", "bound", "slack"]


def verdict_table(verdicts: Iterable[Verdict | Mapping]) -> str:
    return markdown_table(VERDICT_HEADER, verdict_rows(verdicts))


def provenance_line(record: Mapping, badges: Sequence[str] = ()) -> str:
    """Device, the full commit (with **dirty** and **stale** badges: see :mod:`verify.harness.freshness`),
    date, seed, wall time, versions."""
    p = record["provenance"]
    commit = str(p["git_commit"]).removesuffix("+dirty")
    if str(p["git_commit"]).endswith("+dirty") and "dirty" not in badges:
        badges = ["dirty", *badges]
    marks = "".join(f" **[{b}]**" for b in badges)
    return (f"device {p['device']}; commit `{commit}`{marks}; {p['date']}; seed {p['seed']}; "
            f"{p['wall_seconds']} s; torch {p['torch']}, numpy {p['numpy']}, hierarchy-proofs "
            f"{p['package_version']}")


def records_table(records: Mapping[str, Mapping], badges: Mapping[str, Sequence[str]] | None = None) -> str:
    """Verdict table of stored records (e.g. large GPU runs), with a provenance line per record;
    ``badges``: per record, e.g. ``["dirty", "stale (3 commits behind, ...)"]``."""
    if not records:
        return "_No record yet._"
    badges = badges or {}
    lines = [verdict_table(records.values()), ""]
    for name, rec in records.items():
        lines.append(f"- `{name}`: {provenance_line(rec, badges.get(name, ()))}")
    return "\n".join(lines)
