r"""Informal Principle 2 on deep quadratic Boolean functions (Paper A, Appendix C, p. 42): the clean
signal (ii), with (i) and (iii) as the appendix argues them.

The appendix argues (informally): (ii) "by (b), once earlier layers have found the correct supports,
the current layer's inputs :math:`x^{(l)}=(\chi_S(x))_{S\in\mathcal S_{2^{l-1}}}` are independent
Rademacher variables", and "the unique population minimizer" of :math:`\mathcal L^{(l)}` on the residual
:math:`f_*-\sum_{l'<l}f^{(l')}` "is :math:`w^{(l)}=\sum_{S=S_1\cup S_2\in\mathcal S_{2^l}}\hat f_Se_{S_1S_2}`";
(i) holds "as :math:`f_*` is the summation of :math:`\sum_{S\in\mathcal S_{2^l}}\hat f_S\chi_S`";
(iii) identifiability "is no issue" because the features are orthonormal.

**Exact** (all of :math:`\{\pm1\}^d`, rationals), at every level :math:`l` of the network of eq. (14):
(ii-a) :math:`\max_s|\Pr[x^{(l)}=s]-2^{-D}|` (0 iff the :math:`D` coordinates are i.i.d.
Rademacher); (ii-b) :math:`\max|G-I|` with :math:`G=\mathbb E[\Phi\Phi^\top]`, :math:`\Phi=\Phi(x^{(l)})`,
and :math:`\max|w_{\min}-w^\star|` with :math:`w_{\min}=G^+\,\mathbb E[\Phi\,r_l]` the (minimum-norm)
population minimizer -- :math:`G=I` makes it the unique one; (i) :math:`\max_S|\mathbb E[f_*y^{(l)}_S]-\hat f_S|`;
(iii) :math:`\max_{S,T}|\mathbb E[y_Sy_T]-\delta_{ST}|`. Measured: the largest of these (bound 0).
**Negative controls** (Definition 31 (b) fails): :math:`\mathcal S_2\ni\{1,2\},\{2,3\},\{1,3\}`, where
:math:`\chi_{12}\chi_{23}=\chi_{13}` makes the level-2 coordinates dependent ((ii-a) fails; (ii-b) still
holds there); :math:`\mathcal S_2=\{12,34,13,24\}` with :math:`\{1,2,3,4\}`, where two pair features
are both :math:`\chi_{1234}`: :math:`G` is singular, no unique minimizer, and the minimum-norm one
splits :math:`\hat f_{1234}` in half ((ii-a) and (ii-b) fail).
"""
from __future__ import annotations

from fractions import Fraction


from verify.boolean import deep_quadratic as dq
from verify.boolean import layerwise as lw
from verify.boolean import network as nw
from verify.harness.claims import Case, Claim, Measurement



def exact(case: Case) -> Measurement:
    p = case.params
    if "d_values" in p:
        return exact_many(case)
    (f,) = dq.from_params(p)
    return one_function(f, p.get("strict", True))


def one_function(f: dq.DeepQuadratic, strict: bool = True) -> Measurement:
    """The measured maximum of the module docstring for one function (exact, all of {±1}^d)."""
    levels = len(nw.represent(f, strict=strict).levels)
    rows, worst = [], Fraction(0)
    for level in range(1, levels + 1):
        sol = lw.population_least_squares(f, level, strict=strict)
        rows.append({"level": level, "coordinates": len(sol.inputs), "pair_features": len(sol.w_star),
                     "joint_law_deviation": str(sol.joint_law_deviation), "gram_deviation": str(sol.gram_deviation),
                     "minimizer_deviation": str(sol.minimizer_deviation), "unique_minimizer": sol.unique})
        worst = max(worst, sol.joint_law_deviation, sol.gram_deviation, sol.minimizer_deviation)
    cond = lw.principle_conditions(f, strict=strict)
    worst = max(worst, cond["correlation_deviation"], cond["orthonormality_deviation"])
    return Measurement(value=worst, details={
        "f": repr(f), "d": f.d, "levels": rows,
        "condition_i_correlation_deviation": str(cond["correlation_deviation"]),
        "condition_i_min_correlation": str(cond["min_correlation"]),
        "condition_iii_orthonormality_deviation": str(cond["orthonormality_deviation"])})


def exact_many(case: Case) -> Measurement:
    """The measured maximum over every sampled function of ``d_values`` x depths x ``per_shape``."""
    p = case.params
    worst, rows = Fraction(0), []
    for f in dq.from_params(p):
        one = one_function(f, p.get("strict", True))
        worst = max(worst, one.value)
        rows.append({"d": f.d, "levels": len(one.details["levels"]), "support": len(f.support),
                     "deviation": str(one.value)})
    return Measurement(value=worst, details={"functions": len(rows), "per_function": rows})


CLAIM = Claim(
    name="appendix_c_clean_signal",
    paper="A",
    reference="Informal Principle 2 (i)-(iii) for Definition 31's class (App. C)",
    page="p. 42",
    statements=("Principle 2", "Definition 31"),
    alias="Informal Principle 1.2 (inferred), App. C",
    hypotheses=(r"f_*\text{ is a deep quadratic Boolean function (Definition 31)}",
                r"\text{levels }l'<l\text{ learned correctly: }x^{(l)}=(\chi_S(x))_{S\in\mathcal S_{2^{l-1}}}"),
    statement=(r"x^{(l)}\text{ has i.i.d. Rademacher coordinates and }\arg\min_w\mathbb E\big(f_*-\sum_{l'<l}"
               r"f^{(l')}-\langle w,\Phi(x^{(l)})\rangle\big)^2=\sum_{S=S_1\cup S_2\in\mathcal S_{2^l}}"
               r"\hat f_Se_{S_1S_2}\ \text{(unique)};\ \mathbb E[f_*\chi_S]=\hat f_S;\ "
               r"\mathbb E[y_Sy_T]=\delta_{ST}"),
    measured=(r"\max_l\max\big(\max_s|\Pr[x^{(l)}=s]-2^{-D}|,\ \max|G-I|,\ \max|w_{\min}-w^\star|\big)"
              r"\vee\max_S|\mathbb E[f_*y_S]-\hat f_S|\vee\max_{S,T}|\mathbb E[y_Sy_T]-\delta_{ST}|"),
    relation="<=",
    bound=lambda case: 0,
    exact=exact,
    cases=(
        Case("figure3", dict(kind="figure3"), note="Fig. 3's f, d = 12"),
        Case("text_example", dict(kind="text")),
        Case("sampled_d8_depth3", dict(kind="sampled", d=8, depth=3, seed=7)),
        Case("sampled_d12_depth2", dict(kind="sampled", d=12, depth=2, seed=8)),
        Case("product_aliases_a_pair",
             dict(kind="support", d=7, strict=False,
                  support=(((1, 2), 1), ((2, 3), 1), ((1, 3), 1), ((4, 5), 1), ((6, 7), 1), ((4, 5, 6, 7), 1))),
             role="negative_control",
             note="chi_12 chi_23 = chi_13: the level-2 coordinates are dependent, (ii-a) fails"),
        Case("two_pair_features_coincide",
             dict(kind="support", d=4, strict=False,
                  support=(((1, 2), 1), ((3, 4), 1), ((1, 3), 1), ((2, 4), 1), ((1, 2, 3, 4), "1/2"))),
             role="negative_control",
             note="chi_12 chi_34 = chi_13 chi_24: G singular, the min-norm minimizer splits f_1234"),
        Case("sampled_d16_depth3", dict(kind="sampled", d=16, depth=3, seed=9), scale="large",
             note="2^16 points, 120 pair features at level 1"),
        Case("sampled_d20_every_depth", dict(kind="sampled", d_values=(20,), per_shape=1, seed=10), scale="large",
             note="d = 20 (the enumeration limit, 2^20 points, 190 pair features at level 1), one function of "
                  "every depth 1..4"),
    ),
)
