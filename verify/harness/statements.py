r"""The numbered statements of the two papers, and how their proofs depend on each other.

One :class:`Statement` per numbered definition, assumption, lemma, proposition, theorem, corollary,
remark, construction, principle, algorithm or displayed equation that a proof cites. ``uses`` names
the statements (of the same paper) that its proof -- or, for a definition, its formulation -- uses,
read from the page cited in ``uses_page``. A claim (``lemmas/``) names the statements it checks in
``Claim.statements``; statements no claim checks are nodes too ("not covered").

This is the blueprint of the papers in the sense of Lean blueprints (leanblueprint's ``\uses``):
:func:`dependency_graph` turns it into a graph, which must be acyclic (a test checks it).

The statement lists are data: ``paper_a_statements.py`` (PMLR 336 numbering, from the digest
``papers/rhm.md``) and ``paper_b_statements.py`` (Paper B's table of contents; every element's
``source`` says whether the table of contents, the abstract, a summary, or the package's
reconstruction supplies it).
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping

#: What a node is; the graph draws each kind in its own shape.
KINDS = ("definition", "assumption", "lemma", "proposition", "theorem", "corollary", "remark",
         "construction", "principle", "algorithm", "equation")
#: Where a Paper B element comes from (Paper A's come from its PDF: ``"pdf"``).
SOURCES = ("pdf", "table of contents", "abstract", "summary", "reconstructed")


@dataclasses.dataclass(frozen=True)
class Statement:
    """A numbered statement of a paper.

    ``id``: the paper's own number with its kind, e.g. ``"Lemma 18"``, ``"Theorem 4.3"``, ``"eq. (14)"``.
    ``title``: a few plain-text words (no LaTeX: it labels a graph node). ``page``: where it is printed
    (Paper A: PMLR 336 PDF page, e.g. ``"p. 28"``). ``uses``: ids of the statements its proof uses,
    read at ``uses_page`` (e.g. ``"proof p. 29"``). ``source``: see :data:`SOURCES`. ``note``: what is
    uncertain about it (e.g. a dependency the digest infers rather than reads).
    """
    id: str
    paper: str
    kind: str
    title: str
    page: str = ""
    uses: tuple = ()
    uses_page: str = ""
    source: str = "pdf"
    alias: str = ""
    note: str = ""

    def __post_init__(self):
        if self.paper not in ("A", "B"):
            raise ValueError(f"Statement {self.id!r}: paper must be 'A' or 'B'; got {self.paper!r}")
        if self.kind not in KINDS:
            raise ValueError(f"Statement {self.id!r}: kind must be one of {KINDS}; got {self.kind!r}")
        if self.source not in SOURCES:
            raise ValueError(f"Statement {self.id!r}: source must be one of {SOURCES}; got {self.source!r}")
        if isinstance(self.uses, str) or not all(isinstance(u, str) for u in self.uses):
            raise ValueError(f"Statement {self.id!r}: uses must be a tuple of statement ids")
        if self.id in self.uses:
            raise ValueError(f"Statement {self.id!r} uses itself")

    @property
    def key(self) -> str:
        """``"A:Lemma 18"``: unique across both papers."""
        return f"{self.paper}:{self.id}"


def statements(paper: str | None = None) -> dict[str, Statement]:
    """The statements of ``paper`` (``"A"``, ``"B"`` or ``None`` for both), by :attr:`Statement.key`."""
    if paper not in (None, "A", "B"):
        raise ValueError(f"paper must be 'A', 'B' or None; got {paper!r}")
    from . import paper_a_statements, paper_b_statements  # data modules import this one
    out: dict[str, Statement] = {}
    for s in paper_a_statements.STATEMENTS + paper_b_statements.STATEMENTS:
        if s.key in out:
            raise ValueError(f"statement {s.key!r} is listed twice")
        if paper is None or s.paper == paper:
            out[s.key] = s
    return out


def unknown_uses(stmts: Mapping[str, Statement]) -> list[tuple[str, str]]:
    """``(statement, used id)`` pairs whose used id is not a statement of the same paper."""
    return [(s.key, u) for s in stmts.values() for u in s.uses if f"{s.paper}:{u}" not in stmts]


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle of the directed graph ``node -> successors`` as a list of nodes, or ``None`` if acyclic."""
    colour: dict[str, int] = {}  # 0 unseen, 1 on the stack, 2 done
    for root in edges:
        if colour.get(root):
            continue
        stack = [(root, iter(edges.get(root, ())))]
        path = [root]
        colour[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
                continue
            state = colour.get(nxt, 0)
            if state == 1:
                return path[path.index(nxt):] + [nxt]
            if state == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(edges.get(nxt, ()))))
                path.append(nxt)
    return None
