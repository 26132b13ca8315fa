"""Informal Principle 2 (i), (iii) and Definitions 3-4 / Remark 5: the library functions of
verify.rhm.assumptions that the claims principle_correlation, principle_identifiability and
rhm_definitions measure, against independent brute forces (every derivation enumerated and followed
top-down from the rule arrays; every input of V^(s^L) parsed bottom-up; pairwise distances in loops)."""
import dataclasses
import itertools
import sys
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings

from verify import rhm
from verify.harness.discovery import load_claims
from verify.rhm import assumptions, exact
from verify.strategies import grammars

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = load_claims(ROOT / "lemmas")
TINY = settings(max_examples=30, deadline=None)


def lemma(stem):
    return sys.modules[f"lemmas.{stem}"]


def brute_force_first_patch_q(g, level):
    """q of every first level-l patch from the enumerated derivations, patch and parent followed
    top-down from the rule arrays (no parse, no Grammar.patches/parents)."""
    d = rhm.enumerate_derivations(g)
    m = g.num_synonyms
    sym = d.labels.numpy().copy()
    for k in range(level - 1):
        sym = g.rules[k][sym, d.choices[k][:, 0].numpy(), 0]
    choice = d.choices[level - 1][:, 0].numpy()
    joint = defaultdict(Fraction)
    parent = {}
    for nu, r, z in zip(sym.tolist(), choice.tolist(), d.labels.tolist()):
        mu = tuple(g.rules[level - 1][nu, r].tolist())
        parent[mu] = nu
        joint[(mu, z)] += d.probability
    q = {}
    for mu in parent:
        p = sum(joint.get((mu, z), Fraction(0)) for z in range(g.num_classes))
        q[mu] = tuple(joint.get((mu, z), Fraction(0)) / p for z in range(g.num_classes))
    return q, parent


def brute_force_pairs(g, level):
    q, parent = brute_force_first_patch_q(g, level)
    conf, best, spread = 0, None, Fraction(0)
    for a, b in itertools.combinations(sorted(q), 2):
        d2 = sum((x - y) ** 2 for x, y in zip(q[a], q[b]))
        if parent[a] != parent[b]:
            conf += d2 == 0
            best = d2 if best is None else min(best, d2)
        else:
            spread = max(spread, d2)
    return conf, best, spread


@TINY
@given(grammars(max_features=4, max_synonyms=3, max_tuple_size=3, max_layers=3))
def test_confusable_pairs_and_synonym_spread_match_enumeration(g):
    assume(rhm.num_derivations(g) <= 20_000)
    for level in range(1, g.num_layers + 1):
        conf, best, spread = brute_force_pairs(g, level)
        pairs = assumptions.confusable_pairs(g, level, "fraction")
        assert pairs.count == conf
        assert pairs.extreme_sq == best
        syn = assumptions.synonym_spread(g, level, "fraction")
        assert (syn.extreme_sq or 0) == spread == 0


def test_hand_made_negative_control_is_confusable_by_brute_force():
    g = lemma("principle_correlation").shared_first_tokens_grammar()
    conf, best, _ = brute_force_pairs(g, 2)
    assert conf == 4 and best == 0
    assert lemma("principle_correlation").confusable_count(g) == 4
    assert brute_force_pairs(g, 1)[0] == 0


def test_search_finds_a_degenerate_grammar_and_says_when_none():
    mod = lemma("principle_correlation")
    seed = mod.first_confusable_seed(4, 4, 2, 2, 3, "appendix_b")
    g = rhm.sample_grammar(4, 4, 2, 2, 3, seed=seed, sampler="appendix_b")
    assert sum(brute_force_pairs(g, l)[0] for l in (1, 2, 3)) > 0
    for earlier in range(seed):
        h = rhm.sample_grammar(4, 4, 2, 2, 3, seed=earlier, sampler="appendix_b")
        assert sum(brute_force_pairs(h, l)[0] for l in (1, 2, 3)) == 0
    with pytest.raises(ValueError, match="no grammar"):
        mod.first_confusable_seed(8, 8, 4, 2, 2, "appendix_b", seeds=range(0))


def test_float_tolerance_agrees_with_exact_counts():
    for seed in range(6):
        g = rhm.sample_grammar(4, 4, 2, 2, 3, seed=seed, sampler="appendix_b")
        for level in (1, 2, 3):
            a = assumptions.confusable_pairs(g, level, "fraction")
            b = assumptions.confusable_pairs(g, level, "float64", tolerance=1e-24)
            assert a.pairs == b.pairs
            assert float(a.extreme_sq) == pytest.approx(b.extreme_sq, abs=1e-15)


def test_leaked_model_q_matches_its_closed_form():
    r"""With the rule of the first level-1 token = zeta mod m: q^(2)_(nu, r)(zeta) is proportional to
    P_1[zeta, nu] 1{r = zeta mod m} (first-token chain, no enumeration)."""
    mod = lemma("principle_identifiability")
    g = rhm.sample_grammar(4, 4, 2, 2, 3, seed=1, sampler="appendix_b")
    rows, parents = mod.leaked_q(g, 2, leak_level=2)
    P1 = exact.transition_matrix(g, 1, "fraction")
    m = g.num_synonyms
    for mu, row in enumerate(rows):
        nu, r = divmod(mu, m)
        w = [P1[z, nu] * (r == z % m) for z in range(g.num_classes)]
        if sum(w) == 0:
            assert row is None
        else:
            assert row == [x / sum(w) for x in w]
    assert mod._spread_of_rows(rows, parents) > 0


# -- Assumption 9 ----------------------------------------------------------------------------------
def brute_force_separation(h, tok):
    intra, inter = 0.0, np.inf
    for i in range(len(h)):
        for j in range(len(h)):
            d = float(np.sqrt(((h[i] - h[j]) ** 2).sum()))
            if tok[i] == tok[j]:
                intra = max(intra, d)
            else:
                inter = min(inter, d)
    return intra, inter


@pytest.mark.parametrize("seed", range(4))
def test_cluster_separation_matches_pairwise_loops(seed):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(40, 3)) + np.repeat(rng.normal(size=(4, 3)) * 3, 10, axis=0)
    h[5] = h[3]  # a duplicate representation
    tok = np.repeat(np.arange(4), 10)
    cs = assumptions.cluster_separation(torch.as_tensor(h), torch.as_tensor(tok), chunk_size=7)
    intra, inter = brute_force_separation(h, tok)
    assert cs.intra == pytest.approx(intra, rel=1e-12)
    assert cs.inter == pytest.approx(inter, rel=1e-12)
    assert cs.ratio == pytest.approx(intra / inter, rel=1e-12)
    assert cs.distinct[0] == 9


def test_cluster_separation_touching_clusters_and_bad_inputs():
    h = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    cs = assumptions.cluster_separation(h, torch.tensor([0, 0, 1]))
    assert cs.inter == 0 and cs.ratio == np.inf
    with pytest.raises(ValueError, match="h"):
        assumptions.cluster_separation(torch.zeros(3, dtype=torch.float64), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="finite"):
        assumptions.cluster_separation(torch.tensor([[np.nan], [0.0]]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="tokens"):
        assumptions.cluster_separation(h, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="tokens"):
        assumptions.cluster_separation(h, torch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="two distinct"):
        assumptions.cluster_separation(h, torch.tensor([1, 1, 1]))
    with pytest.raises(ValueError, match="chunk_size"):
        assumptions.cluster_separation(h, torch.tensor([0, 1, 1]), chunk_size=0)


def test_enumerated_support_contains_every_test_representation():
    """The learned tokens of sampled test inputs are among those of the enumerated subtrees."""
    mod = lemma("principle_identifiability")
    p = dict(V=4, n_c=4, m=2, s=2, L=3, grammar_seed=1, sampler="appendix_b", total=600, M=32, sigma_scale=0.5)
    g = rhm.grammar_from_params(p)
    x, tok = mod.subtrees(g, 1)
    assert len(x) == 4 * 2 ** 3 and x.shape[1] == 4
    assert (rhm.parse(rhm.Grammar.from_rules(list(g.rules[1:]), 4, 4), x).labels == tok).all()
    model = mod.train(g, p, seed=0, device="cpu")
    for level in (1, 2):
        h_all, t_all = mod.token_representations(model, g, level)
        test, _ = rhm.sample(g, 50, torch.Generator().manual_seed(1))
        h_test, t_test = mod.token_representations(model, g, level, test)
        d = torch.cdist(h_test, h_all, compute_mode="donot_use_mm_for_euclid_dist")
        d[t_test[:, None] != t_all[None, :]] = np.inf
        assert float(d.min(dim=1).values.max()) < 1e-9


# -- Definitions 3-4 / Remark 5 ---------------------------------------------------------------------
def bottom_up_labels(rules, V, x):
    """The set of labels that derive input x, by brute force bottom-up (any number of parents)."""
    s = rules[0].shape[2]
    cands = [{t} for t in x]
    for r in reversed(rules):
        nxt = []
        for i in range(0, len(cands), s):
            parents = set()
            for combo in itertools.product(*cands[i:i + s]):
                for nu in range(r.shape[0]):
                    if any(tuple(rule) == combo for rule in r[nu].tolist()):
                        parents.add(nu)
            nxt.append(parents)
        cands = nxt
    return cands[0]


@pytest.mark.parametrize("name", ["ambiguous", "repeated_rule"])
def test_hand_made_violations_match_bottom_up_parsing(name):
    rules, V, n_c = lemma("rhm_definitions").HAND_MADE[name]
    chk = assumptions.definition_violations(rules, V, n_c)
    d = rules[0].shape[2] ** len(rules)
    two = sum(len(bottom_up_labels(rules, V, x)) > 1 for x in itertools.product(range(V), repeat=d))
    assert chk.counts["inputs_with_two_labels"] == two
    if name == "ambiguous":
        assert two > 0 and chk.counts["ambiguous_patches"] == 1 and chk.counts["patch_set_size"] == 1
    else:
        assert chk.counts["repeated_rules"] == 1
        law = assumptions.production_law(rules, 0, V, n_c)
        assert law[1] == {(1, 0): Fraction(1)}


@TINY
@given(grammars(max_features=4, max_synonyms=3, max_tuple_size=3, max_layers=3))
def test_package_grammars_have_no_violations_and_languages_match_enumeration(g):
    assume(rhm.num_derivations(g) <= 20_000)
    chk = assumptions.definition_violations(g.rules, g.num_features, g.num_classes)
    assert chk.total == 0 and all(v == 0 for v in chk.counts.values())
    langs = assumptions.languages(g.rules, g.num_features, g.num_classes)
    d = rhm.enumerate_derivations(g)
    for zeta in range(g.num_classes):
        assert langs[zeta] == {tuple(x) for x in d.x[d.labels == zeta].tolist()}
    for level in range(g.num_layers):
        for law in assumptions.production_law(g.rules, level, g.num_features, g.num_classes):
            assert sum(law.values()) == 1 and set(law.values()) == {Fraction(1, g.num_synonyms)}


@TINY
@given(grammars(max_features=4, max_synonyms=3, max_tuple_size=3, max_layers=3))
def test_top_down_patches_agree_with_parse(g):
    assume(rhm.num_derivations(g) <= 20_000)
    bad, total = lemma("rhm_definitions").parse_mismatches(g)
    assert bad == 0 and total == rhm.num_derivations(g)


def test_definition_checks_refuse_bad_inputs():
    ok = [np.zeros((2, 1, 2), dtype=int)]
    with pytest.raises(ValueError, match="num_features"):
        assumptions.definition_violations(ok, 0, 2)
    with pytest.raises(ValueError, match="num_classes"):
        assumptions.definition_violations(ok, 2, True)
    with pytest.raises(ValueError, match="non-empty list"):
        assumptions.definition_violations([], 2, 2)
    with pytest.raises(ValueError, match=r"rules\[0\] must have shape"):
        assumptions.definition_violations([np.zeros((2, 2), dtype=int)], 2, 2)
    with pytest.raises(ValueError, match=r"rules\[1\] must have shape"):
        assumptions.definition_violations(ok + [np.zeros((3, 1, 2), dtype=int)], 2, 2)
    with pytest.raises(ValueError, match="integers"):
        assumptions.definition_violations([np.zeros((2, 1, 2))], 2, 2)
    with pytest.raises(ValueError, match="outside"):
        assumptions.definition_violations([np.full((2, 1, 2), 2)], 2, 2)
    with pytest.raises(ValueError, match="level"):
        assumptions.production_law(ok, 1, 2, 2)
    with pytest.raises(ValueError, match="limit"):
        assumptions.languages(ok, 2, 2, limit=1)
    g = rhm.sample_grammar(4, 4, 2, 2, 2, seed=0)
    with pytest.raises(ValueError, match="level"):
        assumptions.confusable_pairs(g, 3)
    with pytest.raises(ValueError, match="tolerance"):
        assumptions.confusable_pairs(g, 1, "fraction", tolerance=0.5)
    with pytest.raises(ValueError, match="tolerance"):
        assumptions.confusable_pairs(g, 1, tolerance=-1)
    with pytest.raises(ValueError, match="level"):
        assumptions.synonym_spread(g, 0)


def test_identifiability_needs_two_levels():
    claim = CLAIMS["principle_identifiability"]
    case = claim.case("learned_V4_m2_L2")
    with pytest.raises(ValueError, match="L must be >= 2"):
        claim.evaluate(dataclasses.replace(case, params=dict(case.params, L=1)))
