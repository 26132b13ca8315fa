r"""Remark 32 (Paper A, Appendix C, p. 41): the split of Definition 31 (c) is unique, and the support
has size :math:`O(d)`.

The remark prints "by (b), the decomposition in (c) is unique" and "the support size is
:math:`O(d)`, as going up one level halves the number of possible terms". The explicit form checked
here is that reasoning made explicit (the package's, not a printed bound): the sets of
:math:`\mathcal S_{2^k}` are disjoint subsets of :math:`[d]` of size :math:`2^k`, so
:math:`|\mathcal S_{2^k}|\le d/2^k` and :math:`|\mathrm{supp}\hat f|\le d(\tfrac12+\tfrac14+\dots)<d`.

**Exact.** Measured: the largest of (1) the number of splits :math:`\{S_1,S_2\}\subset\mathcal
S_{|S|/2}` with :math:`S_1\cup S_2=S` over :math:`S\in\mathrm{supp}\hat f`, :math:`|S|>2`
(:func:`verify.boolean.splits`); (2) :math:`\max_k2^k|\mathcal S_{2^k}|/d`; (3)
:math:`|\mathrm{supp}\hat f|/d`; over every function of the case. Bound 1: uniqueness (1), the
per-level count (2), the total (3). (Existence of a split is Definition 31 (c), checked there.)
**Negative controls** (Definition 31 (b) fails): all six pairs of :math:`[4]` and
:math:`x_1x_2x_3x_4` (support 7 > d = 4, three splits); :math:`\{1,2\},\{3,4\},\{1,3\},\{2,4\}` and
:math:`\{1,2,3,4\}` in :math:`d=8` (support within :math:`d`, but two splits).
"""
from __future__ import annotations

from fractions import Fraction


from verify.boolean import deep_quadratic as dq
from verify.harness.claims import Case, Claim, Measurement



def remark_quantities(f: dq.DeepQuadratic) -> dict:
    """The three ratios of the module docstring for one function (exact)."""
    most_splits = max((len(dq.splits(f, S)) for S in f.support if len(S) > 2), default=1)
    per_level = {k: Fraction(2 ** k * n, f.d) for k, n in dq.level_counts(f).items()}
    return {"max_splits": most_splits, "max_level_ratio": max(per_level.values(), default=Fraction(0)),
            "support_ratio": Fraction(len(f.support), f.d), "level_counts": dq.level_counts(f)}


def exact(case: Case) -> Measurement:
    worst, rows = Fraction(0), []
    worst_parts = {"max_splits": 0, "max_level_ratio": Fraction(0), "support_ratio": Fraction(0)}
    for f in dq.from_params(case.params):
        q = remark_quantities(f)
        for k in worst_parts:
            worst_parts[k] = max(worst_parts[k], q[k])
        worst = max(worst, Fraction(q["max_splits"]), q["max_level_ratio"], q["support_ratio"])
        if len(rows) < 12:
            rows.append({"d": f.d, "support": len(f.support), "level_counts": q["level_counts"],
                         "max_splits": q["max_splits"], "max_level_ratio": str(q["max_level_ratio"])})
    return Measurement(value=worst, details={"worst": {k: str(v) for k, v in worst_parts.items()},
                                             "examples": rows})


CLAIM = Claim(
    name="appendix_c_remark_32",
    paper="A",
    reference="Remark 32 (App. C)",
    page="p. 41",
    statements=("Remark 32",),
    alias="Remark C.2 (inferred)",
    hypotheses=(r"f\text{ is a deep quadratic Boolean function (Definition 31 (a)-(c))}",),
    statement=(r"\text{the decomposition }S=S_1\cup S_2\text{ of (c) is unique};\ |\mathrm{supp}\hat f|=O(d)"
               r"\ \text{(explicitly: }|\mathcal S_{2^k}|\le d/2^k,\ |\mathrm{supp}\hat f|\le d)"),
    measured=(r"\max\big(\#\{\{S_1,S_2\}\subset\mathcal S_{|S|/2}:S_1\cup S_2=S\},\ "
              r"\max_k2^k|\mathcal S_{2^k}|/d,\ |\mathrm{supp}\hat f|/d\big)"),
    relation="<=",
    bound=lambda case: 1,
    exact=exact,
    cases=(
        Case("figure3", dict(kind="figure3"), note="Fig. 3's f on d = 12: 10 terms, every split unique"),
        Case("text_example", dict(kind="text"), note="x1x2 + x3x4 + x1x2x3x4 + x5x6 (p. 41)"),
        Case("sampler_d4_to_64", dict(kind="sampled", d_values=(4, 8, 12, 16, 32, 64), per_shape=10, seed=0),
             note="every depth 1..floor(log2 d), 10 sampled functions each"),
        Case("all_pairs_of_4", dict(kind="support", d=4,
                                    support=((1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4), (1, 2, 3, 4))),
             role="negative_control", note="(b) fails: support 7 > d = 4 and {1,2,3,4} has 3 splits"),
        Case("two_splits", dict(kind="support", d=8, support=((1, 2), (3, 4), (1, 3), (2, 4), (1, 2, 3, 4))),
             role="negative_control", note="(b) fails: support 5 <= d = 8, but {1,2,3,4} has 2 splits"),
        Case("sampler_d128_to_1024", dict(kind="sampled", d_values=(128, 256, 512, 1024), per_shape=10, seed=1),
             scale="large", note="10 functions of every depth at every d (no reduced CPU size)"),
        Case("sampler_d2048_d4096", dict(kind="sampled", d_values=(2048, 4096), per_shape=4, seed=4),
             scale="large",
             note="larger d: 4 functions of every depth 1..11 (d = 2048) and 1..12 (d = 4096); the ratios "
                  "|S_(2^k)| 2^k/d and |supp f|/d stay <= 1 and every split is unique"),
    ),
)
