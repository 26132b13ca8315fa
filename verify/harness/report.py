"""Rendering helpers for the book and the command line: verdict tables and provenance lines."""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import sympy

from .claims import Verdict, as_expected, basis_text, slack
from .stats import CONFIDENCE


def _fmt(x) -> str:
    """A table cell: floats to 4 significant digits, infinities as ``∞``/``−∞`` (never ``inf``)."""
    if x is None:
        return ""
    if isinstance(x, str) and x.strip().lower() in ("inf", "+inf", "-inf", "infinity", "-infinity"):
        x = float(x)  # older records store infinity as the string "inf"
    if isinstance(x, float):
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        return f"{x:.4g}"
    return str(x)


def exact_latex(exact: str | None, max_chars: int = 40) -> str | None:
    r"""The LaTeX of a record's exact value (``measured_exact``/``bound_exact``, stored as sympy ``sstr``), e.g.
    ``"2*sqrt(65)/5"`` -> ``\frac{2 \sqrt{65}}{5}``; ``None`` for none, for non-finite values and for closed forms
    longer than ``max_chars`` characters of LaTeX (they would widen the table: the page shows them)."""
    if not exact or exact.strip() in ("oo", "-oo", "zoo", "nan"):
        return None
    try:
        tex = sympy.latex(sympy.sympify(exact))
    except (sympy.SympifyError, TypeError, SyntaxError, ValueError):
        return None
    return tex if len(tex) <= max_chars and "|" not in tex else None


def _cell(x) -> str:
    """A table cell's text: a bare identifier (``appendix_b_V8_m4_L3``) may wrap after its underscores."""
    text = _fmt(x)
    if "_" in text and not any(ch in text for ch in " $`\\<*[") and not text.startswith(("http", "/")):
        return breakable(text)
    return text


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A GitHub/MyST pipe table (cells wrap: bare identifiers may break after an underscore)."""
    lines = ["| " + " | ".join(h.replace("|", r"\|") for h in header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(c).replace("|", r"\|") for c in row) + " |")
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
    if d.get("method") == "exact" and lo == hi == d.get("measured"):
        return "exact"  # limits of zero width: never "± 0"
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
    """`` = $\\frac{1}{3}$`` (rendered LaTeX) for a short exact value that differs from its float; infinities,
    values equal to what is shown and long closed forms are left out (the page shows those)."""
    tex = exact_latex(exact)
    if tex is None or exact == shown or tex == shown or _shown_exactly(exact, shown):
        return ""
    return f" = ${tex}$"


def _shown_exactly(exact: str, shown: str) -> bool:
    """Whether the decimal ``shown`` is the exact value itself (``0.5`` for ``1/2``): then nothing is added."""
    try:
        value = sympy.Rational(sympy.sympify(exact))
        return sympy.Rational(shown) == value
    except (TypeError, ValueError, sympy.SympifyError):
        return False


def breakable(name: str) -> str:
    """A case name as table text that may wrap after its underscores (``<wbr>``: copying it gives the name)."""
    return name.replace("_", "\\_<wbr>")


def verdict_rows(verdicts: Iterable[Verdict | Mapping], infinity: str | None = None) -> list[list]:
    """One row per verdict: case (and its role unless a plain check), verdict, measured value with its exact form
    and one-sided limits (or what it rests on), bound, slack -- five narrow columns, cells that wrap.
    ``infinity``: what an infinite measured value means on this claim (e.g. ``"no P* within budget"``),
    shown as ``∞: <infinity>``."""
    rows = []
    for v in verdicts:
        d = v.to_dict() if isinstance(v, Verdict) else v
        measured = _fmt(d["measured"])
        if infinity and measured in ("∞", "inf"):
            measured = f"∞: {infinity}"
        measured += _exact_suffix(d.get("measured_exact"), measured)
        bound = _fmt(d["bound"])
        bound += _exact_suffix(d.get("bound_exact"), bound)
        status = record_status(d)
        ok = "" if as_expected(status, d["expect"]) else "<br>(UNEXPECTED)"
        rel = {"<=": "≤", ">=": "≥"}[d["relation"]]
        role = d["role"].replace("_", " ")
        case = breakable(d["case"]) + ("" if role == "check" else f"<br>*{role}*")
        rows.append([f'<span class="verdict-case">{case}</span>', f"**{status}**{ok}",
                     f"{measured}<br>{interval_text(d)}", f"{rel}\u00a0{bound}", slack_text(d)])
    return rows


VERDICT_HEADER = ["case", "verdict", "measured; limits or basis", "bound", "slack"]


def verdict_table(verdicts: Iterable[Verdict | Mapping], infinity: str | None = None) -> str:
    """The verdicts as a Markdown table (:func:`verdict_rows`)."""
    return markdown_table(VERDICT_HEADER, verdict_rows(verdicts, infinity))


def provenance_line(record: Mapping, badges: Sequence[str] = (), each: bool = True) -> str:
    """Device, the full commit (with **dirty** and **stale** badges: see :mod:`verify.harness.freshness`),
    date, seed, wall time, versions (``each=False``: without date, seed and wall time, the record's own parts)."""
    p = record["provenance"]
    commit = str(p["git_commit"]).removesuffix("+dirty")
    if str(p["git_commit"]).endswith("+dirty") and "dirty" not in badges:
        badges = ["dirty", *badges]
    marks = "".join(f" **[{b}]**" for b in badges)
    own = f"{p['date']}; seed {p['seed']}; {p['wall_seconds']} s; " if each else ""
    return (f"device {p['device']}; commit `{commit}`{marks}; {own}torch {p['torch']}, numpy {p['numpy']}, "
            f"hierarchy-proofs {p['package_version']}")


def _shared_provenance(record: Mapping, badges: Sequence[str]) -> tuple:
    p = record["provenance"]
    return (p["device"], str(p["git_commit"]), tuple(badges), p["torch"], p["numpy"], p["package_version"])


def records_table(records: Mapping[str, Mapping], badges: Mapping[str, Sequence[str]] | None = None,
                  infinity: str | None = None) -> str:
    """Verdict table of stored records (e.g. large GPU runs), with their provenance: records that share device,
    commit, badges and versions share one line (:func:`provenance_line`), followed by each record's date, seed
    and wall time; ``badges``: per record, e.g. ``["dirty", "stale (3 commits behind, ...)"]``."""
    if not records:
        return "_No record yet._"
    badges = badges or {}
    lines = [verdict_table(records.values(), infinity), ""]
    groups: dict[tuple, list[str]] = {}
    for name, rec in records.items():
        groups.setdefault(_shared_provenance(rec, badges.get(name, ())), []).append(name)
    for names in groups.values():
        first = records[names[0]]
        if len(names) == 1:
            lines.append(f"- `{names[0]}`: {provenance_line(first, badges.get(names[0], ()))}")
            continue
        shared = provenance_line(first, badges.get(names[0], ()), each=False)
        each = "; ".join(f"`{n}` {records[n]['provenance']['date']}, seed {records[n]['provenance']['seed']}, "
                         f"{records[n]['provenance']['wall_seconds']} s" for n in names)
        lines.append(f"- {len(names)} records, {shared}. Each: {each}.")
    return "\n".join(lines)
