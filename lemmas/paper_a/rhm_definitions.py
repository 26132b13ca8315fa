r"""Definitions 3-4 and Remark 5 (arXiv aliases Definitions 2.1-2.2, Remark 2.3): the package's
grammars and sampler are the RHM the paper defines.

* **Definition 3** (RHM): a label :math:`\zeta\sim D_0`; every level-:math:`l` symbol :math:`\nu` is
  rewritten, independently, by a patch drawn from :math:`Q_l(\nu,\cdot)`.
* **Definition 4** (CFG-induced): :math:`D_0=\mathrm{Unif}(V_0)` and
  :math:`Q_l(\nu,\mu)=\mathbb 1\{(\nu,\mu)\in R_l\}/|\{(\nu,\mu')\in R_l\}|`, uniform over :math:`\nu`'s rules.
* **Remark 5**: :math:`(V,m)`-uniform (every symbol has exactly :math:`m` distinct rules), non-ambiguous
  (no patch has two parents), hence :math:`|P_l|=Vm` and the label is a function of the input.

**Exact (measured = number of violations, bound 0):** on the rule arrays of the package's grammars
(both samplers), ``verify.rhm.assumptions.definition_violations`` counts symbols whose :math:`m` rules
are not distinct (a repeated rule gets weight :math:`2/m`: :math:`Q_l` is then not uniform on its
support and :math:`\nu` has fewer than :math:`m` rules), patches with two parents, levels with
:math:`|P_l|\neq|V_{l-1}|m`, and inputs that two labels generate (every label's language enumerated top
down); and, for every enumerated derivation, whether ``verify.rhm.parse`` recovers its label and every
patch (symbol :math:`\cdot m` + rule) as computed top-down from the derivation's rule choices.
The package allows :math:`|V_0|=n_c\neq V` (then :math:`|P_1|=n_cm`); the paper takes :math:`n_c=V`.

**Sampled (Definition 3's law):** sentences drawn by ``verify.rhm.sample`` against their exact law from
``verify.rhm.enumerate_derivations`` (each of the :math:`n_cm^{(s^L-1)/(s-1)}` derivations has probability
:math:`1/(n_cm^{(s^L-1)/(s-1)})`), Pearson's goodness of fit; measured = statistic / its 99% quantile
(a test at level 1%; a sentence outside the language makes it infinite), bound 1.

**Negative controls:** a hand-made ambiguous grammar (a level-2 patch with two parents), a symbol
listing one rule twice, and a sampler that picks rule 0 with probability :math:`1/2+1/(2m)` (Definition
4's uniform :math:`Q_l` violated).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from verify import rhm
from verify.harness.claims import Case, Claim, Measurement
from verify.harness.stats import chi2_pvalue, pearson_statistic
from verify.rhm import assumptions

STATEMENT = (r"D_0=\mathrm{Unif}(V_0),\ Q_l(\nu,\mu)=\tfrac{\mathbb 1\{(\nu,\mu)\in R_l\}}{m};\ "
             r"|\{\nu:(\nu,\mu)\in R_l\}|\le1;\ |P_l|=Vm;\ \zeta=\zeta(x)")
TEST_LEVEL = 0.01

# hand-made rule arrays that are not valid package grammars (Grammar refuses them)
HAND_MADE = {
    # V = n_c = 2, m = s = L = 2: patch (0, 1) of level 2 is a rule of symbol 0 and of symbol 1
    "ambiguous": ([np.array([[[0, 0], [0, 1]], [[1, 0], [1, 1]]]),
                   np.array([[[0, 0], [0, 1]], [[0, 1], [1, 1]]])], 2, 2),
    # V = n_c = 2, m = s = L = 2: label 1 lists the patch (1, 0) twice
    "repeated_rule": ([np.array([[[0, 0], [0, 1]], [[1, 0], [1, 0]]]),
                       np.array([[[0, 0], [0, 1]], [[1, 0], [1, 1]]])], 2, 2),
}


def rules_of(params: dict):
    """(rules, V, n_c, grammar or None) of a case."""
    if params.get("grammar") in HAND_MADE:
        rules, V, n_c = HAND_MADE[params["grammar"]]
        return rules, V, n_c, None
    g = rhm.grammar_from_params(params)
    return list(g.rules), g.num_features, g.num_classes, g


def top_down_patches(g: rhm.Grammar, labels: torch.Tensor, choices: list) -> list[np.ndarray]:
    r"""For derivations given by labels and rule choices, the index (symbol :math:`\cdot m` + rule) of the
    patch at every node of depth :math:`l+1`, ``out[l]`` ``[n, s^l]``, by rewriting top-down from the
    rule arrays (the reference that ``parse`` must reproduce)."""
    m, seq, out = g.num_synonyms, labels.numpy()[:, None], []
    for l, rules in enumerate(g.rules):
        ch = choices[l].numpy()
        out.append(seq * m + ch)
        seq = rules[seq, ch].reshape(len(seq), -1)
    return out


def parse_mismatches(g: rhm.Grammar) -> tuple[int, int]:
    """(derivations whose parse disagrees with them -- label or any patch --, derivations)."""
    d = rhm.enumerate_derivations(g)
    parsed = rhm.parse(g, d.x)
    bad = parsed.labels.numpy() != d.labels.numpy()
    for l, want in enumerate(top_down_patches(g, d.labels, d.choices)):
        bad |= (parsed.patch_index[l + 1].numpy() != want).any(axis=1)
    return int(bad.sum()), len(bad)


def exact(case: Case) -> Measurement:
    rules, V, n_c, g = rules_of(case.params)
    chk = assumptions.definition_violations(rules, V, n_c)
    counts = dict(chk.counts)
    details = {"grammar": repr(g) if g is not None else case.params["grammar"], "V": V, "n_c": n_c,
               "m": int(np.shape(rules[0])[1]), "violations": chk.details,
               "language_size": chk.details.get("language_size")}
    if g is not None:
        counts["parse_mismatches"], details["derivations"] = parse_mismatches(g)
    else:
        counts["parse_mismatches"] = None  # not a package grammar: nothing to parse with
    details["counts"] = counts
    return Measurement(value=sum(v for v in counts.values() if v is not None), details=details)


def biased_choices(g: rhm.Grammar, choices: list, generator: torch.Generator) -> list:
    r"""The negative control's rule choices: rule 0 with probability :math:`1/2+1/(2m)` at every node."""
    return [torch.where(torch.rand(c.shape, generator=generator) < 0.5, torch.zeros_like(c), c) for c in choices]


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    _, _, _, g = rules_of(p)
    n = p["samples"]
    d = rhm.enumerate_derivations(g)
    weights = torch.as_tensor(g.num_features ** np.arange(g.input_length - 1, -1, -1), dtype=torch.long)
    codes = d.x @ weights
    order = torch.argsort(codes)
    sorted_codes = codes[order]
    law = np.zeros(len(codes) + 1)  # the last cell: a sentence outside the language (probability 0)
    np.add.at(law, np.arange(len(codes)), float(d.probability))
    if p.get("biased"):
        y, choices = rhm.sample_derivations(g, n, generator)
        x = rhm.expand(g, y, biased_choices(g, choices, generator))
    else:
        x, y = rhm.sample(g, n, generator)
    got = x.cpu() @ weights
    pos = torch.searchsorted(sorted_codes, got).clamp_max(len(codes) - 1)
    inside = sorted_codes[pos] == got
    cell = torch.where(inside, order[pos], torch.full_like(pos, len(codes)))
    observed = torch.bincount(cell, minlength=len(law)).numpy().astype(float)
    # each sentence has one derivation (non-ambiguity) and so one label: check the sampled labels too
    wrong_label = int((d.labels[order[pos]][inside] != y.cpu()[inside]).sum())
    stat, dof = pearson_statistic(observed, law)
    if wrong_label:
        stat = float("inf")
    critical = float(stats.chi2.ppf(1 - TEST_LEVEL, dof))
    return Measurement(value=stat / critical, details={
        "grammar": repr(g), "samples": n, "sentences": len(codes), "chi2": stat, "dof": dof,
        "critical_99": critical, "p_value": chi2_pvalue(stat, dof), "test_level": TEST_LEVEL,
        "outside_language": int(observed[-1]), "sampled_label_mismatches": wrong_label,
        "min_expected": float(n * law[:-1].min())})


def bound(case: Case):
    return 0 if case.method == "exact" else 1


_B = dict(V=4, n_c=4, m=2, s=2, L=3, grammar_seed=1, sampler="appendix_b")

CLAIM = Claim(
    name="rhm_definitions",
    paper="A",
    reference="Definitions 3-4, Remark 5",
    page="pp. 5-6",
    statements=("Definition 3", "Definition 4", "Remark 5"),
    alias="Definitions 2.1-2.2, Remark 2.3 (inferred)",
    hypotheses=(r"R_l\subset V_l\times V_{l+1}^s,\ l\in[L-1]_0\ \text{(production rules)}",),
    statement=STATEMENT,
    measured=(r"\#\text{violations (repeated rules, two-parent patches, }|P_l|\ne|V_{l-1}|m,\text{ two-label inputs, "
              r"parse errors) (exact)};\ \chi^2/\chi^2_{0.99}\text{ (sampled sentences)}"),
    relation="<=",
    bound=bound,
    exact=exact,
    empirical=empirical,
    cases=(
        Case("appendix_b_V4_m2_L3", _B),
        Case("authors_V4_m2_s3_L2", dict(V=4, n_c=4, m=2, s=3, L=2, grammar_seed=2, sampler="authors")),
        Case("authors_V8_m4_L2", dict(V=8, n_c=8, m=4, s=2, L=2, grammar_seed=0, sampler="authors")),
        Case("authors_V3_nc2_m2_L3", dict(V=3, n_c=2, m=2, s=2, L=3, grammar_seed=0, sampler="authors"),
             note="the package's generalisation n_c != V (|P_1| = n_c m)"),
        Case("ambiguous_hand_made", {"grammar": "ambiguous"}, role="negative_control",
             note="a level-2 patch with two parents: non-ambiguity, |P_2| = Vm and the label as a function of "
                  "the input all fail"),
        Case("repeated_rule_hand_made", {"grammar": "repeated_rule"}, role="negative_control",
             note="label 1 lists one patch twice: Q_0(1, .) is not uniform on its support, label 1 has one rule"),
        Case("sampled_appendix_b_V4_m2_L3", dict(_B, samples=200_000), method="empirical", seed=301,
             note="512 sentences, about 390 draws each"),
        Case("sampled_authors_V4_m2_s3_L2", dict(V=4, n_c=4, m=2, s=3, L=2, grammar_seed=2, sampler="authors",
                                                samples=100_000), method="empirical", seed=302),
        Case("sampled_biased_rule_choice", dict(_B, samples=200_000, biased=True), method="empirical", seed=303,
             role="negative_control", note="rule 0 with probability 3/4 at every node (m = 2)"),
    ),
)
