"""Paper B's numbered statements and their dependencies: see :mod:`verify.harness.statements`.

Paper B's body was not available (``papers/ptf.md``), so every statement carries its ``source``:
``"table of contents"`` where the number is seen in the arXiv-HTML table of contents (Theorem 3.4,
Theorem 4.3, Lemma 5.3), ``"summary"`` where only the third-party reproduction README or the AI-written
summary names it (Def. 3.1, Def. 4.1, Alg. 4.2, Lemma 5.2). ``uses`` follows what those sources
describe of the proofs; where that is an inference, ``note`` says so. ``page`` is empty: no page of
the PMLR v306 PDF (pp. 22909-22936) was read.
"""
from .statements import Statement

STATEMENTS: tuple = (
    Statement("Definition 3.1", "B", "definition", "Hierarchical PTF model class, (r, K, M, B, xi)-hierarchy",
              source="summary",
              note="number from the reproduction README ('Hierarchical PTF model class'); the nesting "
                   "L_1 in ... in L_r = [n] is in the abstract; the summary names (r, K, M, B, xi); B undefined"),
    Statement("Theorem 3.4", "B", "theorem", "Brain dump: random majority votes give a hierarchy",
              uses=("Definition 3.1",), uses_page="proof in §8 (table of contents)", source="table of contents",
              note="number and §8 proof from the table of contents; 'brain dump' and random majorities over a "
                   "circuit's internal states from the reproduction README and summaries; that it uses Def. 3.1 "
                   "is an inference (it asserts a hierarchy emerges)"),
    Statement("Definition 4.1", "B", "definition", "beta-Xavier initialisation", source="summary",
              note="number from the reproduction README ('frozen beta-Xavier random-feature blocks'); the "
                   "variances were not seen"),
    Statement("Algorithm 4.2", "B", "algorithm", "Layerwise training of a ResNet",
              uses=("Definition 4.1",), source="summary",
              note="number from the reproduction README; steps (beta-Xavier init, W^2_k = 0, orthogonal W^D, "
                   "train W^2_k to gradient norm eps_opt, sign(W^D Gamma_{D-1})) from the summary"),
    Statement("Lemma 5.2", "B", "lemma", "Convex per-label read-out",
              uses=("Algorithm 4.2",), source="summary",
              note="number and wording from the reproduction README; that it is about Alg. 4.2's per-block "
                   "problem is an inference"),
    Statement("Lemma 5.3", "B", "lemma", "Kernels from random neurons approximate low-degree polynomials",
              uses=("Definition 4.1",), uses_page="proof in §9 (table of contents)", source="table of contents",
              note="number and §9 proof from the table of contents; the content from the summary; the use of "
                   "Def. 4.1 (the neurons' distribution) is an inference"),
    Statement("Theorem 4.3", "B", "theorem", "Layerwise SGD on ResNets learns hierarchies",
              uses=("Definition 3.1", "Algorithm 4.2", "Lemma 5.2", "Lemma 5.3"),
              uses_page="proof in §5 (table of contents)", source="table of contents",
              note="number and §5 proof from the table of contents; the depth formula and the loss-decay step "
                   "from the summary; the uses are the summary's mechanisms (hierarchy, algorithm, convex "
                   "read-out, random-feature approximation), inferred"),
)
