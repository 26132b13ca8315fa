r"""Eq. (14) (Paper A, Appendix C, p. 42): the quadratic network represents a deep quadratic Boolean
function exactly, level by level.

The paper: with :math:`x^{(1)}=x`, :math:`y^{(l)}=(\langle e_{S_1S_2},\Phi(x^{(l)})\rangle)_{S\in\mathcal
S_{2^l}}`, :math:`f^{(l)}=\sum_{S\in\mathcal S_{2^l}}\hat f_Sy^{(l)}_S` and :math:`x^{(l+1)}=y^{(l)}`,
by induction :math:`y^{(l)}_S=\chi_S(x)`, so :math:`f^{(l)}` is the degree-:math:`2^l` part of
:math:`f` and :math:`f=\sum_{l=1}^{\log d}f^{(l)}`.

**Exact** (every point of :math:`\{\pm1\}^d`, :math:`d\le16`, rational arithmetic): the network is
built by :func:`verify.boolean.represent` and run layer by layer through :math:`\Phi`
(:func:`verify.boolean.pair_features`); :math:`f`, its degree-:math:`2^l` parts and the monomials
:math:`\chi_S` are evaluated directly from the Fourier expansion (products of coordinates). Measured:
the largest of :math:`\max_x|\sum_lf^{(l)}(x)-f(x)|`,
:math:`\max_l\max_x|f^{(l)}(x)-f_{=2^l}(x)|` and :math:`\max_{l,S}\max_x|y^{(l)}_S(x)-\chi_S(x)|`
(bound 0).
**Negative controls** (Definition 31 fails; the construction is built anyway, ``strict=False``,
routing what it can): :math:`x_1x_2+x_1x_2x_3x_4` ((c): :math:`x_3x_4` is no level-1 output, so
:math:`\chi_{1234}` cannot be formed) and :math:`x_1x_2+x_1x_2x_3` ((a): no level carries degree 3).
**Finding** (a check case beyond the hypothesis): overlapping supports alone, Definition 31 (b)
failing with (a) and (c) intact, do not stop the construction from representing :math:`f` -- (b) is
needed for learning (the clean signal), not for eq. (14).
"""
from __future__ import annotations

from fractions import Fraction


from verify.boolean import deep_quadratic as dq
from verify.boolean import network as nw
from verify.harness.claims import Case, Claim, Measurement



def deviations(f: dq.DeepQuadratic, strict: bool = True) -> dict:
    """The three maxima of the module docstring, exactly, over all of {±1}^d."""
    net = nw.represent(f, strict=strict)
    X = dq.all_inputs(f.d)
    outs = net.forward(X)
    values = dq.evaluate(f, X)
    total = dq.zeros(len(X))
    level_dev, y_dev, rows = Fraction(0), 0, []
    for out, lev in zip(outs, net.levels):
        total = total + out.f
        part = dq.evaluate(f.degree_part(2 ** lev.level), X)
        dev = (out.f - part).max_abs()
        ydev = max((int(abs(out.y[:, k].astype(int) - dq.monomial(X, S)).max()) for k, S in enumerate(lev.outputs)),
                   default=0)
        level_dev, y_dev = max(level_dev, dev), max(y_dev, ydev)
        rows.append({"level": lev.level, "width_in": lev.width, "outputs": len(lev.outputs),
                     "pair_features": nw.num_pairs(lev.width), "max_f_level_minus_part": str(dev),
                     "max_y_minus_chi": ydev})
    sum_dev = (total - values).max_abs()
    return {"sum": sum_dev, "levels": level_dev, "y": Fraction(y_dev), "rows": rows,
            "unrepresented": [sorted(S) for S in net.unrepresented], "points": len(X)}


def exact(case: Case) -> Measurement:
    p = case.params
    if "d_values" in p:
        return exact_many(case)
    (f,) = dq.from_params(p)
    dev = deviations(f, strict=p.get("strict", True))
    value = max(dev["sum"], dev["levels"], dev["y"])
    return Measurement(value=value, details={
        "f": repr(f), "d": f.d, "points": dev["points"], "max_sum_minus_f": str(dev["sum"]),
        "max_level_minus_part": str(dev["levels"]), "max_y_minus_chi": str(dev["y"]), "levels": dev["rows"],
        "unrepresented": dev["unrepresented"]})


def exact_many(case: Case) -> Measurement:
    """The measured maximum over every sampled function of ``d_values`` x depths x ``per_shape``."""
    p = case.params
    worst, rows = Fraction(0), []
    for f in dq.from_params(p):
        dev = deviations(f, strict=p.get("strict", True))
        value = max(dev["sum"], dev["levels"], dev["y"])
        worst = max(worst, value)
        rows.append({"d": f.d, "levels": len(dev["rows"]), "support": len(f.support), "deviation": str(value),
                     "unrepresented": len(dev["unrepresented"])})
    return Measurement(value=worst, details={"functions": len(rows), "points_per_function": {
        str(d): 2 ** d for d in p["d_values"]}, "per_function": rows})


CLAIM = Claim(
    name="appendix_c_eq14_network",
    paper="A",
    reference="eq. (14) (App. C)",
    page="p. 42",
    statements=("eq. (14)",),
    hypotheses=(r"f\text{ is a deep quadratic Boolean function (Definition 31)}",
                r"\Phi_D(x)=(x_ix_j)_{1\le i<j\le D}"),
    statement=(r"y^{(l)}_S=\chi_S(x),\quad f^{(l)}=\sum_{S\in\mathcal S_{2^l}}\hat f_S\chi_S,\quad "
               r"f=\sum_{l=1}^{\log d}f^{(l)}"),
    measured=(r"\max\big(\max_x|\textstyle\sum_lf^{(l)}-f|,\ \max_{l,x}|f^{(l)}-f_{=2^l}|,\ "
              r"\max_{l,S,x}|y^{(l)}_S-\chi_S|\big)\text{ over }\{\pm1\}^d"),
    relation="<=",
    bound=lambda case: 0,
    exact=exact,
    cases=(
        Case("figure3", dict(kind="figure3"), note="Fig. 3's f, d = 12, three levels"),
        Case("text_example", dict(kind="text"), note="x1x2 + x3x4 + x1x2x3x4 + x5x6 (p. 41)"),
        Case("sampled_d12_depth3", dict(kind="sampled", d=12, depth=3, seed=3)),
        Case("sampled_d10_depth2", dict(kind="sampled", d=10, depth=2, seed=4)),
        Case("overlap_only_still_represented",
             dict(kind="support", d=6, strict=False,
                  support=(((1, 2), 1), ((3, 4), 1), ((1, 3), 1), ((2, 4), 1), ((5, 6), "1/2"), ((1, 2, 3, 4), 1))),
             note="finding: Definition 31 (b) fails (overlapping degree-2 supports) but (a), (c) hold; "
                  "eq. (14) still represents f exactly"),
        Case("degree_4_without_its_halves",
             dict(kind="support", d=4, strict=False, support=(((1, 2), 1), ((1, 2, 3, 4), 1))),
             role="negative_control", note="(c) fails: x3x4 is not a level-1 output; chi_1234 cannot be formed"),
        Case("degree_3_term", dict(kind="support", d=4, strict=False, support=(((1, 2), 1), ((1, 2, 3), "1/2"))),
             role="negative_control", note="(a) fails: no level of the network carries degree 3"),
        Case("sampled_d16_depth4", dict(kind="sampled", d=16, depth=4, seed=5), scale="large",
             note="2^16 points; a full binary forest of depth 4"),
        Case("sampled_d16_depth3", dict(kind="sampled", d=16, depth=3, seed=6), scale="large"),
        Case("sampled_d18_d20_every_depth", dict(kind="sampled", d_values=(18, 20), per_shape=12, seed=7),
             scale="large",
             note="every point of {±1}^d at d = 18 and 20 (the enumeration limit), every depth 1..4, 12 functions "
                  "each: 96 networks, 2^20 points each at d = 20"),
    ),
)
