"""The papers' statement blueprints (verify.harness.statements): known dependencies, an acyclic
graph, and every claim naming the statements it checks."""
import re

import pytest

from verify.harness import paper_a_statements
from verify.harness import statements as st
from verify.harness.discovery import load_claims

#: "Lemma 14", "Lemmas 14, 15, 16", "Definitions 3-4", "Assumptions 9 and 13", "Informal Principle 2",
#: "Theorem 4.3" (Paper B's dotted numbers); the plural kinds name several statements.
_KIND = r"(Theorem|Lemma|Assumption|Definition|Remark|Proposition|Corollary|Construction|Principle|Algorithm)s?"
_NUM = r"\d+(?:\.\d+)*"
_NAMED = re.compile(rf"\b{_KIND}\s+({_NUM}(?:\s*(?:,|and|-|–)\s*{_NUM}(?![\w.]))*)")
_EQ = re.compile(r"\beq\.\s*\(?(\d+)\)?")


def named_in_reference(reference: str) -> set[str]:
    """The statement ids a claim's ``reference`` names, e.g. ``"Lemmas 14, 15, 16"`` -> three ids,
    ``"Definitions 3-4"`` -> two, ``"eq. (8)"`` -> ``"eq. (8)"``."""
    out = set()
    for m in _NAMED.finditer(reference):
        kind, body = m.group(1), m.group(2)
        for part in re.split(r"\s*(?:,|and)\s*", body):
            span = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part.strip())
            if span:
                out.update(f"{kind} {n}" for n in range(int(span[1]), int(span[2]) + 1))
            elif part.strip():
                out.add(f"{kind} {part.strip()}")
    out.update(f"eq. ({n})" for n in _EQ.findall(reference))
    return out


def test_named_in_reference_parses_the_claims_forms():
    assert named_in_reference("Lemmas 14, 15, 16") == {"Lemma 14", "Lemma 15", "Lemma 16"}
    assert named_in_reference("Definitions 3-4, Remark 5") == {"Definition 3", "Definition 4", "Remark 5"}
    assert named_in_reference("Lemma 10, eq. (7); Assumptions 9 and 13") == {
        "Lemma 10", "eq. (7)", "Assumption 9", "Assumption 13"}
    assert named_in_reference("Informal Principle 2 (iii); its RHM instantiation (eq. (4) remark, "
                              "Assumption 9 (a)-(b))") == {"Principle 2", "eq. (4)", "Assumption 9"}
    assert named_in_reference("Lemma 24 and Remark 25 (App. B)") == {"Lemma 24", "Remark 25"}
    assert named_in_reference("Paper B, Theorem 4.3 (reconstructed)") == {"Theorem 4.3"}


@pytest.fixture(scope="module")
def claims():
    errors: list = []
    loaded = load_claims("lemmas", errors=errors)
    assert not errors, f"claim modules failed to import: {errors}"
    return loaded


def test_every_use_is_a_known_statement_of_the_same_paper():
    assert st.unknown_uses(st.statements()) == []


def test_dependency_graph_is_acyclic():
    edges = {k: [f"{s.paper}:{u}" for u in s.uses] for k, s in st.statements().items()}
    assert st.find_cycle(edges) is None


def test_find_cycle_finds_a_cycle():
    assert st.find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) in (["a", "b", "c", "a"],)
    assert st.find_cycle({"a": ["b"], "b": [], "c": ["b"]}) is None


def test_paper_a_statements_are_well_formed():
    stmts = st.statements("A")
    assert len(stmts) >= 32
    for s in stmts.values():
        assert s.source == "pdf", s.id
        assert s.page.startswith(("p. ", "pp. ")), (s.id, s.page)
        assert not re.search(r"[$\\]", s.title) and 2 <= len(s.title.split()) <= 6, (s.id, s.title)
        kind_word = s.id.split()[0]
        assert (kind_word == "eq." and s.kind == "equation") or kind_word.lower() == s.kind, (s.id, s.kind)
    # the global counter of the PMLR numbering: every number 1..32 is one statement
    numbers = sorted(int(s.id.split()[1]) for s in stmts.values()
                     if s.kind not in ("equation", "construction"))
    assert numbers == list(range(1, 33))
    # an equation printed inside a statement is folded into it, never a node of its own
    for eq, owner in paper_a_statements.EQUATIONS.items():
        assert f"A:{eq}" not in stmts and f"A:{owner}" in stmts, (eq, owner)


def test_every_claim_names_known_statements(claims):
    for name, claim in claims.items():
        if claim.paper == "B" and not claim.statements:
            continue  # Paper B's statements are being filled in separately
        assert claim.statements, f"claim {name!r} names no statement (Claim.statements)"
        known = st.statements(claim.paper)
        unknown = [s for s in claim.statements if f"{claim.paper}:{s}" not in known]
        assert not unknown, f"claim {name!r}: unknown statements {unknown}"
        assert len(set(claim.statements)) == len(claim.statements), name
        # Claim.uses resolves through the blueprint and never repeats a checked statement
        assert not set(claim.uses) & set(claim.statements), name


def test_every_statement_a_reference_names_is_listed(claims):
    for name, claim in claims.items():
        if claim.paper == "B" and not claim.statements:
            continue
        known = st.statements(claim.paper)
        folded = paper_a_statements.EQUATIONS if claim.paper == "A" else {}
        for sid in named_in_reference(claim.reference):
            if sid in folded:
                assert folded[sid] in claim.statements, (name, sid, folded[sid])
                continue
            assert f"{claim.paper}:{sid}" in known, f"claim {name!r}: {sid!r} is not a known statement"
            assert sid in claim.statements, f"claim {name!r}: its reference names {sid!r}, not in statements"


def test_every_paper_a_statement_appears_in_the_graph(claims):
    """Every Paper A claim checks at least one statement; uncovered statements stay nodes (grey)."""
    checked = {s for c in claims.values() if c.paper == "A" for s in c.statements}
    assert checked <= {s.id for s in st.statements("A").values()}
