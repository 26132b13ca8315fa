r"""Paper A's numbered statements (PMLR 336 numbering) and their proofs' dependencies: see
:mod:`verify.harness.statements`.

Paper A is Ren, Dandi, Krzakala and Lee, COLT 2026, PMLR 336:5556-5597. Every statement is read
from the digests ``papers/rhm.md`` and ``papers/rhm_appendix_c.md``, which were transcribed from
the camera-ready PDF (``source="pdf"``). The pages are PDF pages, as the claims cite them. The
paper numbers all its statements with one global counter, 1-32: Theorem 1, Principle 2, ...,
Remark 32. The warm-up constructions of Section 3 (the digest's items 1 and 2) are nodes too. So
are the displayed equations that a claim checks and that no numbered statement prints: eq. (4),
the definition of :math:`q^{(l)}_\mu` with its remark that synonyms share it; eq. (6), the RBF
features; eq. (8), the clean-signal factorization; and eq. (14) of Appendix C. An equation that a
numbered statement prints belongs to that statement, as :data:`EQUATIONS` records.

``uses`` lists the direct dependencies only: for a proof, the statements it applies; for a
definition or assumption, the statements its formulation needs. A dependency that is already
implied through another listed one is left out. The digest reads most of them from the proofs.
Where it does not, the dependency is inferred and the statement's ``note`` says ``inferred:``
and why. Statements the paper cites from other papers (Lemma 12: Rahimi and Recht 2007; Lemma 22:
Hoeffding 1963) have no proof in the paper and use nothing. The learner's definitions, eqs.
(1)-(3), and the numbered equations printed inside proofs (eqs. (9), (11), (12)) are not nodes.
No claim checks them.

The arXiv aliases are the claims' own. The arXiv numbering was not seen, and its App. A aliases
disagree with each other: see Lemma 18's note.
"""
from .statements import Statement

#: Numbered equations that are printed inside a numbered statement: equation -> statement id.
EQUATIONS = {
    "eq. (5)": "Assumption 6",
    "eq. (7)": "Lemma 10",
    "eq. (10)": "Lemma 11",
    "eq. (13)": "Remark 25",
}

_A = "A"

STATEMENTS: tuple = (
    # ---------------------------------------------------------------- main text, Sections 1-4
    Statement(
        "Theorem 1", _A, "theorem", "Deep CNN learns RHMs", page="p. 2",
        uses=("Theorem 7", "Remark 8"), uses_page="p. 10 (Theorem 7), p. 11 (Remark 8)",
        alias="Theorem 1.1 (inferred)",
        note="inferred: Theorem 1 is the informal form of Theorem 7. Its O(m^{(1+o(1))L}) samples are "
             "Remark 8's reading of Theorem 7 in Proposition 19's regime."),
    Statement(
        "Principle 2", _A, "principle", "Shallow-to-deep chaining", page="pp. 2-3",
        alias="Informal Principle 1.2",
        note="Informal, and sufficient rather than necessary, so there is no proof. The paper "
             "instantiates it for the RHM (Section 4: (i) Assumption 6(b), (ii) eq. (8), (iii) "
             "q as a proxy for the parent, turned into features by eq. (6)) and for Appendix C's "
             "Definition 31 class. These are applications, not dependencies."),
    Statement(
        "Definition 3", _A, "definition", "Random Hierarchy Model", page="pp. 5-6",
        alias="Definition 2.1 (inferred)",
        note="The digest and the claims cite Definitions 3-4 and Remark 5 together, at pp. 5-6."),
    Statement(
        "Definition 4", _A, "definition", "CFG-induced RHM", page="pp. 5-6",
        uses=("Definition 3",), uses_page="pp. 5-6",
        alias="Definition 2.2 (inferred)",
        note="The formulation specializes Definition 3's D_0 and Q_l to production rules R_l."),
    Statement(
        "Remark 5", _A, "remark", "Uniform non-ambiguous RHMs", page="pp. 5-6",
        uses=("Definition 4",), uses_page="pp. 5-6",
        alias="Remark 2.3 (inferred)",
        note="(V,m)-uniform, non-ambiguous, synonyms and P_l, all stated for Definition 4's R_l "
             "and Q_l. Hence |P_l| = Vm."),
    Statement(
        "eq. (4)", _A, "equation", "Label law given patch", page="p. 9",
        uses=("Remark 5",), uses_page="p. 9",
        note="Defines q^{(l)}_mu for mu in P_l (Remark 5), with the remark that synonyms share it "
             "exactly. The page is the one the claim principle_identifiability cites for that "
             "remark; the digest gives none."),
    Statement(
        "Construction 1", _A, "construction", "Tensor features, intermediate nodes", page="p. 9",
        uses=("Remark 5",), uses_page="p. 9",
        note="The first warm-up of Section 3, for non-ambiguous (V,m)-uniform RHMs (the digest's "
             "item 1 of Section 3)."),
    Statement(
        "Construction 2", _A, "construction", "Conditional probabilities as surrogate", page="p. 9",
        uses=("Remark 5", "eq. (4)", "Construction 1", "Assumption 6"), uses_page="p. 9",
        note="The second warm-up of Section 3. inferred: (1) the orthonormal x_mu it needs are "
             "Construction 1's tensor features, as the claim warmup_constructions builds them; "
             "(2) the clustering recovers the parents only if non-synonyms have distinct q, which "
             "is the qualitative content of Assumption 6(b) (the claim module's docstring)."),
    Statement(
        "Assumption 6", _A, "assumption", "Non-degeneracy and nontrivial signal", page="p. 10",
        uses=("Remark 5", "eq. (4)"), uses_page="p. 10",
        alias="Assumption 4.1",
        note="The assumption is stated for CFG-induced, (V,m)-uniform, non-ambiguous RHMs (Remark "
             "5). (a) bounds the first-patch law by kappa; (b) is eq. (5), on the q of eq. (4)."),
    Statement(
        "Theorem 7", _A, "theorem", "Layerwise GD learns the RHM", page="p. 10",
        uses=("Assumption 6", "Remark 5", "eq. (6)", "Lemma 11"), uses_page="proof p. 30 (App. A.3)",
        alias="Theorem 4.2 (inferred)",
        note="The proof chains Lemma 11 over the levels L, ..., 1, with the explicit "
             "eps_*^{(l)} and N^{(l)}. Non-ambiguity (Remark 5) turns eps_*^{(1)} <= c into the "
             "label. The learner is eqs. (1)-(3) with the RBF features of eq. (6). Proposition 19 "
             "is not used by the proof: it enters through Remark 8."),
    Statement(
        "Remark 8", _A, "remark", "Samples polynomial in d", page="p. 11",
        uses=("Theorem 7", "Proposition 19"), uses_page="p. 11",
        alias="Remark 4.3 (inferred)",
        note="In Proposition 19's regime, poly(K_rho^{-1}, kappa, m, V, s, L) = d^{o(1)}, so "
             "Theorem 7's bound is dominated by m^L. The shallow Omega(m^{s^L}) is a heuristic "
             "the paper quotes."),
    Statement(
        "eq. (6)", _A, "equation", "RBF random Fourier features", page="pp. 10-12",
        note="The learner's feature map Phi_{sigma,M} (Section 4.1.1). The page is not in the "
             "digest: eq. (6) is printed between eq. (5) (p. 10) and eq. (7) (p. 12)."),
    Statement(
        "Assumption 9", _A, "assumption", "Token embeddings cluster", page="p. 11",
        alias="Assumption 4.4 (inferred)",
        note="The induction hypothesis at level l, on the learner's token embeddings; it uses no "
             "numbered statement. At level L (one-hot) it holds with eps_S = 0 and rho = sqrt 2. "
             "Lemma 11's proof re-establishes it one level up."),
    Statement(
        "Lemma 10", _A, "lemma", "RBF features near-orthogonal", page="p. 12",
        uses=("Assumption 9", "eq. (6)", "Lemma 12"), uses_page="proof pp. 21-22",
        alias="Lemma 4.5 (inferred)",
        note="Prints eq. (7). The lemma assumes Assumption 9 and bounds the features of eq. (6). "
             "inferred: the proof's random-feature error eps_RF is bounded by Lemma 12, which is "
             "printed inside the proof (p. 22); Lemma 12's width at "
             "eps_RF = (eps_O ^ eps_S^2)/2 is Lemma 10's M."),
    Statement(
        "eq. (8)", _A, "equation", "Clean-signal factorization", page="pp. 12-13",
        uses=("Definition 3", "eq. (4)"), uses_page="pp. 12-13",
        note="E[e_zeta x_mu^T] = sum_mu p_mu q_mu E[x_mu]^T, by conditional independence given the "
             "first patch. This is condition (ii) of Principle 2 for the RHM. inferred: the "
             "independence comes from Definition 3's independent rewriting of each symbol "
             "(digest, Section 2). The page is not in the digest: eq. (8) is printed between eq. "
             "(7) (p. 12) and eq. (10) (p. 13)."),
    Statement(
        "Lemma 11", _A, "lemma", "Training a single layer", page="p. 13",
        uses=("Assumption 6", "Assumption 9", "Remark 5", "Lemma 10", "Assumption 13", "Lemma 17"),
        uses_page="proof p. 29",
        alias="Lemma 4.6 (inferred)",
        note="Prints eq. (10). The proof applies Lemma 10 with rho = rho^{(l+1)}/2 (Assumption "
             "6(b)), eps_S = 1/(4|P_l|) and eps_O = eps_*/(600|P_l|^2 kappa sqrt(d_y)), and then "
             "Lemma 17. Assumption 9 holds because the level-(l+1) outputs lie within "
             "2 eps_*^{(l+1)} of each other. |P_l| = Vm and d_y = V come from Remark 5. "
             "inferred: eq. (7)'s bounds, with ||Phi|| = 1, are Assumption 13, the hypothesis of "
             "Lemma 17."),
    # ---------------------------------------------------------------- Appendix A
    Statement(
        "Lemma 12", _A, "lemma", "Random Fourier feature error", page="p. 22",
        uses=("eq. (6)",), uses_page="p. 22",
        alias="Lemma A.1 (inferred)",
        note="Claim 1 of Rahimi and Recht (2007), which the paper cites without proof. It bounds the "
             "features of eq. (6) on the unit ball."),
    Statement(
        "Assumption 13", _A, "assumption", "Patch embeddings near-orthonormal", page="p. 23",
        note="The patch embeddings have unit norm, pairwise products at most eps_O, and "
             "intracluster distance at most eps_S. It uses no numbered statement. The page is "
             "not in the digest: it is printed before Lemma 14 (pp. 23-25), and the claim "
             "rff_near_orthogonality cites pp. 23-25."),
    Statement(
        "Lemma 14", _A, "lemma", "Ridge solution factors through q", page="pp. 23-25",
        uses=("Assumption 13", "eq. (8)"), uses_page="proof pp. 23-25",
        alias="Lemma A.2 (inferred)",
        note="The proof uses the dual form (eq. (11)), a block-diagonal Gram matrix and "
             "Woodbury. inferred: the factor q-hat_mu is eq. (8)'s factorization; the claim "
             "clean_signal's page calls eq. (8) the population statement the proof uses."),
    Statement(
        "Lemma 15", _A, "lemma", "GD converges geometrically", page="pp. 25-26",
        uses=("Assumption 13", "Lemma 14"), uses_page="proof pp. 25-26",
        alias="Lemma A.3 (inferred)",
        note="Strong convexity and smoothness, citing Nesterov, Thm 2.1.15. Eq. (12), printed with "
             "it, adds Lemma 14's error to the GD error."),
    Statement(
        "Lemma 16", _A, "lemma", "Scalar in front of q", page="pp. 26-27",
        uses=("Assumption 13",), uses_page="proof pp. 26-27",
        alias="Lemma A.4 (inferred)",
        note="The appendix proves 1/(4(p+lambda)). The main text (Section 4.1.2) prints "
             "(p+lambda)^{-1}/2."),
    Statement(
        "Lemma 17", _A, "lemma", "Training W recovers q", page="pp. 27-28",
        uses=("Assumption 6", "Assumption 13", "Lemma 14", "Lemma 15", "Lemma 16", "Lemma 18"),
        uses_page="proof pp. 27-28",
        note="The lemma assumes Assumption 13 and GD as in Lemma 15. The proof concentrates p-hat "
             "with N >= 8 kappa |P_l| log(4|P_l|/delta_P), which has the extra |P_l|. inferred: "
             "(1) that concentration is Lemma 18's; (2) the proof starts from eq. (12), i.e. "
             "Lemma 14's factorization plus Lemma 15; (3) its p-hat alpha >= 1/(5 kappa) rests "
             "on Lemma 16's scalar bound; (4) kappa is Assumption 6(a)'s. No arXiv alias: the "
             "claim says the number was not seen."),
    Statement(
        "Lemma 18", _A, "lemma", "Concentration of p-hat and q-hat", page="p. 28",
        uses=("Assumption 6", "eq. (4)"), uses_page="p. 28",
        alias="Lemma A.5 (inferred)",
        note="Chernoff for p-hat; vector Azuma-Hoeffding (Pinelis 1994, Thm 3.5) for q-hat, the "
             "empirical form of eq. (4). inferred: the kappa|P_l| in the p-hat radius is "
             "Assumption 6(a)'s lower bound on p_mu. The alias is the claim's. It conflicts with "
             "the claim ridge_factorization's Lemmas 14-16 = A.2-A.4, which would make Lemma 18 "
             "A.6 (A.7 if Assumption 13 shares the counter)."),
    # ---------------------------------------------------------------- Appendix B
    Statement(
        "Proposition 19", _A, "proposition", "Random rules give signal", page="p. 31",
        uses=("Remark 5", "eq. (4)", "Lemma 20", "Lemma 30"),
        uses_page="proof pp. 31-39 (App. B; restated p. 39)",
        alias="Proposition B.1 (inferred)",
        note="Every first-token matrix P_k is doubly stochastic (Lemma 20), so "
             "q^{(l)}_mu = P_1...P_{l-1} e_{nu(mu)} exactly. Lemma 30, with a union bound over "
             "pairs of non-synonyms (Remark 5), gives the gap. This verifies Assumption 6: (a) "
             "with kappa = 1, and (b)."),
    Statement(
        "Lemma 20", _A, "lemma", "Balls-into-bins first-token law", page="p. 32",
        alias="Lemma B.2 (inferred)",
        note="The law of the first-token matrix under Appendix B's rule sampler (not a numbered "
             "statement). It uses no numbered statement."),
    Statement(
        "Lemma 21", _A, "lemma", "Pz as draws without replacement", page="p. 32",
        uses=("Lemma 20",), uses_page="p. 32",
        alias="Lemma B.3 (inferred)",
        note="tau = Pz, with N the balls-into-bins table of Lemma 20."),
    Statement(
        "Lemma 22", _A, "lemma", "Hoeffding's convex-order comparison", page="p. 32",
        alias="Lemma B.4 (inferred)",
        note="Hoeffding (1963), Theorem 4, which the paper cites without proof."),
    Statement(
        "Corollary 23", _A, "corollary", "Chernoff bounds without replacement", page="p. 33",
        uses=("Lemma 22",), uses_page="p. 33",
        alias="Corollary B.5 (inferred)"),
    Statement(
        "Lemma 24", _A, "lemma", "Bin-count concentration", page="p. 33",
        uses=("Lemma 20", "Corollary 23"), uses_page="p. 33",
        alias="Lemma B.6 (inferred)",
        note="N_{<=nu,mu} counts the balls of Lemma 20's placement. inferred: the bound "
             "2 exp(-eps^2 gamma m/3) is a Chernoff bound for a count of draws without "
             "replacement, which Corollary 23 supplies (the claim's book page reads it so)."),
    Statement(
        "Remark 25", _A, "remark", "Bin counts in middle window", page="p. 33",
        uses=("Lemma 24",), uses_page="p. 33",
        alias="Remark B.7 (inferred)",
        note="Prints eq. (13). It applies Lemma 24 with gamma = nu/V up to 2/3, outside Lemma 24's "
             "hypothesis gamma < 1/2 (the claim appendix_b_bin_count_concentration)."),
    Statement(
        "Lemma 26", _A, "lemma", "Conditional covariance identity", page="p. 34",
        uses=("Lemma 21",), uses_page="p. 34",
        alias="Lemma B.8 (inferred)",
        note="Exact moments of Lemma 21's draws Z_{nu,s}, given the first nu-1 bins."),
    Statement(
        "Lemma 27", _A, "lemma", "Conditional moment bounds", page="pp. 35-37",
        uses=("Lemma 26", "Remark 25"), uses_page="pp. 35-37",
        alias="Lemma B.9 (inferred)",
        note="inferred: the second moment it bounds is Lemma 26's formula, and the window "
             "nu in [V/3, 2V/3], with its log(2V/delta_P), is Remark 25's bin-count "
             "concentration. The digest does not describe the proof."),
    Statement(
        "Lemma 28", _A, "lemma", "Exponential moment inequality", page="p. 37",
        alias="Lemma B.10 (inferred)",
        note="It follows from e^x <= 1 + x + x^2 for x <= 1 and uses no numbered statement."),
    Statement(
        "Lemma 29", _A, "lemma", "One-step contraction", page="pp. 37-39",
        uses=("Lemma 21", "Lemma 27", "Lemma 28"), uses_page="proof pp. 37-39",
        alias="Lemma B.11 (inferred)",
        note="The proof writes ||Pz||^2 = sum_nu tau_nu^2 over the draws of Lemma 21. It "
             "lower-bounds the sum over nu in [V/3, 2V/3] with Lemma 27's conditional moments, "
             "Lemma 28 and a martingale argument (the claim's book page)."),
    Statement(
        "Lemma 30", _A, "lemma", "Multistep contraction", page="p. 39",
        uses=("Lemma 20", "Lemma 29"), uses_page="p. 39",
        alias="Lemma B.12 (inferred)",
        note="P_1, ..., P_l are i.i.d. from Lemma 20's law. The proof applies Lemma 29 once per "
             "factor and uses ||e_mu - e_mu'||^2 = 2."),
    # ---------------------------------------------------------------- Appendix C (informal)
    Statement(
        "Definition 31", _A, "definition", "Deep quadratic Boolean functions", page="p. 41",
        alias="Definition C.1 (inferred)"),
    Statement(
        "Remark 32", _A, "remark", "Unique split, linear support", page="p. 41",
        uses=("Definition 31",), uses_page="p. 41",
        alias="Remark C.2 (inferred)",
        note="The split is unique by Definition 31(b). The support is O(d)."),
    Statement(
        "eq. (14)", _A, "equation", "Quadratic network represents f", page="p. 42",
        uses=("Definition 31", "Remark 32"), uses_page="p. 42",
        note="The layer-by-layer construction for Definition 31's class. Appendix C says it is "
             "informal. inferred: indexing y^{(l)} by S = S_1 u S_2 needs the unique split of "
             "Remark 32."),
)
