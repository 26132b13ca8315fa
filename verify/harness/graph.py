r"""The dependency graph of a paper's statements as a self-contained SVG (no Graphviz, no JavaScript).

Nodes are statements (shape by kind, fill by status, see :data:`verify.harness.blueprint.STATUSES`), an
arrow runs from a statement to each statement whose proof uses it (prerequisites above, theorems below), and
a node links to its page in the book. The layout is layered: a statement sits one row below the lowest of
the statements it uses (its longest chain of prerequisites), rows wider than ``per_row`` nodes wrap, and the
order within a row is settled by a few barycentre sweeps (the Sugiyama heuristic) to shorten the edges.
"""
from __future__ import annotations

import html
import textwrap
from typing import Mapping

from .statements import Statement, find_cycle

W, H = 124, 54  # node box
GAP_X, GAP_Y = 14, 46


def layers(stmts: Mapping[str, Statement]) -> dict[str, int]:
    """Row of each statement: 0 if it uses nothing, else one more than the deepest statement it uses."""
    deps = {k: [f"{s.paper}:{u}" for u in s.uses if f"{s.paper}:{u}" in stmts] for k, s in stmts.items()}
    cycle = find_cycle(deps)
    if cycle:
        raise ValueError(f"the statements' dependencies have a cycle: {' -> '.join(cycle)}")
    depth: dict[str, int] = {}

    def d(k):
        if k not in depth:
            depth[k] = 1 + max((d(u) for u in deps[k]), default=-1)
        return depth[k]

    for k in stmts:
        d(k)
    return depth


def _order(stmts, rows: dict[int, list[str]], deps, sweeps: int = 6) -> dict[int, list[str]]:
    users: dict[str, list[str]] = {k: [] for k in stmts}
    for k, us in deps.items():
        for u in us:
            users[u].append(k)
    pos = {k: i for r in rows.values() for i, k in enumerate(r)}
    keys = sorted(rows)
    for sweep in range(sweeps):
        seq = keys[1:] if sweep % 2 == 0 else list(reversed(keys[:-1]))
        for r in seq:
            nbrs = deps if sweep % 2 == 0 else users
            def bary(k):
                ns = [pos[n] for n in nbrs[k] if n in pos]
                return sum(ns) / len(ns) if ns else pos[k]
            rows[r] = sorted(rows[r], key=lambda k: (bary(k), pos[k]))
            pos.update({k: i for i, k in enumerate(rows[r])})
    return rows


def _shape(kind: str, x: float, y: float, fill: str, stroke: str, dash: str) -> str:
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dash}'
    if kind == "definition":
        return f'<rect x="{x}" y="{y}" width="{W}" height="{H}" {common}/>'
    if kind == "assumption":
        c = 10
        pts = [(x + c, y), (x + W - c, y), (x + W, y + H / 2), (x + W - c, y + H), (x + c, y + H), (x, y + H / 2)]
        return f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" {common}/>'
    if kind in ("theorem",):
        return (f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="8" {common}/>'
                f'<rect x="{x + 3}" y="{y + 3}" width="{W - 6}" height="{H - 6}" rx="6" fill="none" '
                f'stroke="{stroke}" stroke-width="1"/>')
    if kind in ("remark", "principle"):
        return f'<ellipse cx="{x + W / 2}" cy="{y + H / 2}" rx="{W / 2}" ry="{H / 2}" {common}/>'
    if kind in ("construction", "algorithm", "equation"):
        c = 8
        pts = [(x + c, y), (x + W - c, y), (x + W, y + c), (x + W, y + H - c), (x + W - c, y + H), (x + c, y + H),
               (x, y + H - c), (x, y + c)]
        return f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" {common}/>'
    return f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="14" {common}/>'  # lemma, proposition, corollary


def svg(stmts: Mapping[str, Statement], fill: Mapping[str, str], links: Mapping[str, str] | None = None,
        tooltips: Mapping[str, str] | None = None, subtitles: Mapping[str, str] | None = None,
        per_row: int = 7, dashed: frozenset = frozenset()) -> str:
    """The graph as an ``<svg>`` element that scales to the page width. ``fill``: colour per statement key;
    ``links``: URL per key (a click opens it); ``tooltips``: hover text per key; ``subtitles``: a short second
    line (e.g. a Paper B verdict); ``dashed``: keys drawn with a dashed outline."""
    links, tooltips, subtitles = links or {}, tooltips or {}, subtitles or {}
    depth = layers(stmts)
    deps = {k: [f"{s.paper}:{u}" for u in s.uses if f"{s.paper}:{u}" in stmts] for k, s in stmts.items()}
    rows: dict[int, list[str]] = {}
    for k in stmts:  # the statements' own order breaks ties
        rows.setdefault(depth[k], []).append(k)
    rows = _order(stmts, rows, deps)
    # wrap wide rows: a row of n > per_row nodes becomes ceil(n / per_row) visual rows
    placed: dict[str, tuple[float, float]] = {}
    y = 10.0
    width = per_row * (W + GAP_X) + GAP_X
    for r in sorted(rows):
        keys = rows[r]
        for start in range(0, len(keys), per_row):
            chunk = keys[start:start + per_row]
            offset = (width - len(chunk) * (W + GAP_X) + GAP_X) / 2
            for i, k in enumerate(chunk):
                placed[k] = (offset + i * (W + GAP_X), y)
            y += H + GAP_Y
    height = y - GAP_Y + 12
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" style="max-width:{width:.0f}px;height:auto" '
           f'font-family="sans-serif" role="img">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#666"/></marker></defs>']
    for k, us in deps.items():  # edges first, under the nodes
        x1, y1 = placed[k]
        for u in us:
            x0, y0 = placed[u]
            sx, sy = x0 + W / 2, y0 + H
            tx, ty = x1 + W / 2, y1
            if ty <= sy:  # same visual row after wrapping: go around the side
                sy, ty = y0 + H / 2, y1 + H / 2
                sx, tx = (x0 + W, x1) if x0 < x1 else (x0, x1 + W)
            my = (sy + ty) / 2
            out.append(f'<path d="M {sx:.1f} {sy:.1f} C {sx:.1f} {my:.1f}, {tx:.1f} {my:.1f}, {tx:.1f} {ty:.1f}" '
                       f'fill="none" stroke="#888" stroke-width="1" marker-end="url(#arrow)" opacity="0.75"/>')
    for k, st in stmts.items():
        x, y0 = placed[k]
        dash = ' stroke-dasharray="5,3"' if k in dashed else ""
        node = [_shape(st.kind, x, y0, fill.get(k, "#ffffff"), "#333", dash)]
        title = textwrap.wrap(st.title, 23)
        if len(title) > 2:
            title = [title[0], textwrap.shorten(" ".join(title[1:]), 23, placeholder="…")]
        lines = [st.id] + title[:1 if k in subtitles else 2] + ([subtitles[k]] if k in subtitles else [])
        step = 12.5
        top = y0 + H / 2 - (len(lines) - 1) * step / 2 + 4
        for i, line in enumerate(lines):
            weight = ' font-weight="bold"' if i == 0 else ""
            size = 11.5 if i == 0 else 9.5
            node.append(f'<text x="{x + W / 2:.1f}" y="{top + i * step:.1f}" text-anchor="middle" '
                        f'font-size="{size}"{weight} fill="#111" style="text-decoration:none">{html.escape(line)}</text>')
        title = f"<title>{html.escape(tooltips.get(k, st.id + ': ' + st.title))}</title>"
        body = title + "".join(node)
        if k in links:
            body = (f'<a href="{html.escape(links[k])}" xlink:href="{html.escape(links[k])}" target="_top" '
                    f'style="text-decoration:none">{body}</a>')
        out.append(f"<g>{body}</g>")
    out.append("</svg>")
    return "\n".join(out)
