r"""Definition 31 (Paper A, Appendix C, p. 41): the package's sampler draws deep quadratic Boolean
functions.

Definition 31 is a definition, not a theorem: what can be checked is that the package's random
class member (:func:`verify.boolean.sample_deep_quadratic`: disjoint leaf pairs, then merges of
disjoint nodes of one level, :math:`|\hat f_S|\ge c>0`) satisfies (a)-(c), and that the checker
(:func:`verify.boolean.validate_definition_31`) catches each kind of violation.

**Exact.** For every sampled :math:`f` with :math:`d\le12`, the Fourier support is computed **from
the function's values** on all of :math:`\{\pm1\}^d` (fast Walsh-Hadamard transform of the exact
values, integer arithmetic), not from the sampler's dictionary; for larger :math:`d` the declared
support is checked. Measured: the total number of violations of (a), (b), (c) over all functions of
the case (bound 0).
**Negative controls** (the same path, on hand-built functions): overlapping degree-2 supports (b); a
degree-6 term (a; it also has no halves in :math:`\mathcal S_3`, so (c)); a degree-4 set that is not
the union of two degree-2 supports (c).
"""
from __future__ import annotations


import numpy as np

from verify.boolean import deep_quadratic as dq
from verify.harness.claims import Case, Claim, Measurement
from verify.ptf.fourier import walsh_hadamard

ENUMERATE_UP_TO = 12


def fourier_support(f: dq.DeepQuadratic) -> list:
    r""":math:`\{S:\hat f_S\ne0\}` from the values of :math:`f` on all of :math:`\{\pm1\}^d` (the
    Walsh-Hadamard transform of the integer numerators: exact)."""
    X = dq.all_inputs(f.d)
    values = dq.evaluate(f, X)
    spectrum = walsh_hadamard(values.numerators.astype(np.int64))   # 2^d * den * f_S, by bit mask
    return [frozenset(i + 1 for i in range(f.d) if mask >> i & 1) for mask in np.flatnonzero(spectrum)]



def exact(case: Case) -> Measurement:
    p = case.params
    total, rows, enumerated = 0, {}, 0
    below_c = 0
    for f in dq.from_params(p):
        if f.d <= p.get("enumerate_up_to", ENUMERATE_UP_TO):
            support = fourier_support(f)
            enumerated += 1
        else:
            support = list(f.support)
        report = dq.validate_definition_31(support)
        total += report["violations"]
        if p["kind"] == "sampled":
            below_c += sum(abs(v) < dq.as_fraction("c", p.get("c", 0.5)) for v in f.coefficients.values())
        row = rows.setdefault(f.d, {"d": f.d, "functions": 0, "support_sizes": [], "violations": 0})
        row["functions"] += 1
        row["support_sizes"].append(len(support))
        row["violations"] += report["violations"]
        if report["violations"] and "example" not in row:
            row["example"] = {k: [sorted(map(sorted, v)) if isinstance(v, tuple) else sorted(v) for v in report[k]]
                              for k in "abc"}
    table = [{"d": r["d"], "functions": r["functions"], "min_support": min(r["support_sizes"]),
              "max_support": max(r["support_sizes"]), "violations": r["violations"],
              **({"example": r["example"]} if "example" in r else {})} for r in rows.values()]
    return Measurement(value=total, details={"by_d": table, "functions_enumerated": enumerated,
                                             "coefficients_below_c": below_c})


CLAIM = Claim(
    name="appendix_c_definition_31",
    paper="A",
    reference="Definition 31 (App. C)",
    page="p. 41",
    statements=("Definition 31",),
    alias="Definition C.1 (inferred)",
    hypotheses=(r"f=\sum_{S\subset[d]}\hat f_S\chi_S,\ \mathcal S_q:=\{S\subset[d]:|S|=q,\ \hat f_S\ne0\}",),
    statement=(r"\text{(a) }\mathcal S_q\ne\varnothing\Rightarrow q=2^k,\ k\in\mathbb N_{>0};\ "
               r"\text{(b) the elements of each }\mathcal S_q\text{ are pairwise disjoint};\ "
               r"\text{(c) }S\in\mathcal S_q,\ q>2\Rightarrow S=S_1\cup S_2,\ S_1,S_2\in\mathcal S_{q/2}"),
    measured=(r"\#\text{violations of (a)-(c) over the case's functions (Fourier support from all "
              r"}2^d\text{ values when }d\le12)"),
    relation="<=",
    bound=lambda case: 0,
    exact=exact,
    cases=(
        Case("sampler_d4_to_12", dict(kind="sampled", d_values=(4, 6, 8, 10, 12), per_shape=8, seed=0),
             note="every depth 1..floor(log2 d), 8 functions each; support from all 2^d values"),
        Case("sampler_d16_to_128", dict(kind="sampled", d_values=(16, 24, 32, 64, 128), per_shape=8, seed=1),
             note="the sampler's declared support (too many inputs to enumerate)"),
        Case("overlapping_pairs", dict(kind="support", d=4, support=((1, 2), (2, 3))), role="negative_control",
             note="x1x2 + x2x3: two degree-2 supports share x2, (b) fails"),
        Case("degree_6_term", dict(kind="support", d=6, support=((1, 2), (3, 4), (5, 6), (1, 2, 3, 4, 5, 6))),
             role="negative_control", note="a degree-6 term: (a) fails (and (c): no halves of degree 3)"),
        Case("degree_4_not_a_union", dict(kind="support", d=4, support=((1, 2), (1, 2, 3, 4))),
             role="negative_control", note="x1x2 + x1x2x3x4: {3,4} is not in S_2, (c) fails"),
        Case("sampler_d16_to_256", dict(kind="sampled", d_values=(16, 32, 64, 128, 256), per_shape=2500, seed=2),
             scale="large",
             note="declared supports of many functions at larger d: 2500 of every depth at every d (75,000)"),
        Case("enumerated_d14_to_20", dict(kind="sampled", d_values=(14, 16, 18, 20), per_shape=40, seed=3,
                                          enumerate_up_to=20),
             scale="large",
             note="the Fourier support computed from all 2^d values (Walsh-Hadamard, exact) up to d = 20 "
                  "(the enumeration limit), every depth, 40 functions each: the sampler's functions satisfy "
                  "(a)-(c) as functions, not only as declared supports"),
    ),
)
