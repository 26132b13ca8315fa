r"""Remark 8 and Theorem 1 (Paper A, p. 11 and p. 2): the layerwise learner against shallow learners, on the
same samples. **A heuristic of the paper, not a theorem.**

**As printed.** Remark 8 (p. 11): in Proposition 19's regime
:math:`\mathrm{poly}(K_\rho^{-1},\kappa,m,V,s,L)=d^{o(1)}`, so Theorem 7's sample complexity is dominated by
:math:`m^L=\mathrm{poly}(d)`; this matches the heuristic deep bound of Cagnetta et al., while the *heuristic*
for shallow models is :math:`\Omega(m^{s^L})`. Theorem 1 (p. 2, informal): the layerwise-trained CNN learns the
RHM with :math:`O(m^{(1+o(1))L})` samples. Neither statement prints a constant, and the shallow
:math:`\Omega(m^{s^L})` is a heuristic the paper quotes, not something it proves.

**The package's reading** (a falsifiable finite-size form, no constant invented): wherever the shallow
reference exceeds the deep one -- the number of distinct inputs :math:`n_cm^{(s^L-1)/(s-1)}` (every
derivation gives a distinct input; :math:`\Omega(m^{s^L})`-type) is larger than :math:`n_cm^L` -- the paper's
layerwise learner needs **no more** samples to reach 90% test accuracy than the best of the shallow learners,
trained on the same samples and scored on the same test set:

.. math:: \rho:=\min_{(m,L)\ \text{selected}}\ \frac{\min_{\text{shallow}}P^*}{P^*_{\text{layerwise}}}\ \ge\ 1.

**Measured** (:func:`verify.experiments.sample_complexity.sample_complexity_grid`): per grid point, the first
grammar seed satisfying Assumption 6 (Appendix B sampler), and each learner's :math:`P^*` (doubling from
:math:`n_cm`, three bisection steps; the accuracy at each :math:`P` is the mean over ``trials`` training draws):
the layerwise ridge learner
(:func:`~verify.learners.layerwise_ridge.practical_parameters`, width ``M``) and the shallow learners of the
case (:mod:`verify.learners.baselines`: Gaussian/Laplace kernel ridge, a 2-layer net), each on exactly the
samples the layerwise learner saw. The whole search is repeated for ``seeds`` independent draws (training
samples, random features, SGD initialisation, test set; the grammar is fixed); the claim's value is the
geometric mean over draws of :math:`\rho`, with one-sided 99% Student-t limits on the mean of
:math:`\log\rho` (normal approximation). A search that reaches its budget gives :math:`P^*>` budget: the
draw's :math:`\log\rho` is then only bounded on one side, and the limits use the bound (a censored layerwise
:math:`P^*` leaves no lower limit; a censored shallow one no upper limit). With one draw the verdict is that
draw's (basis "seeded draw").

**Negative control:** the same check with the layerwise learner width-starved (``M`` tiny): it cannot reach
90% within its budget, while the shallow learners do, so :math:`\rho<1`.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

from verify.experiments import sample_complexity as sc
from verify.harness.claims import Case, Claim, Measurement
from verify.harness.stats import CONFIDENCE, mean_limits
from verify.validate import int_at_least, real_in

DEEP = "layerwise_ridge"
SHALLOW = ("mlp2", "kernel_gaussian", "kernel_laplace")

STATEMENT = (r"\text{deep: }\mathrm{poly}(K_\rho^{-1},\kappa,m,V,s,L)\,m^L=d^{o(1)}m^L;\ "
             r"\text{shallow (heuristic): }\Omega(m^{s^L})\ \overset{\text{package's reading}}{\Longrightarrow}\ "
             r"\rho=\min_{(m,L)}\frac{\min_{\text{shallow}}P^*}{P^*_{\text{layerwise}}}\ge1")
HYPOTHESES = (
    r"\text{Assumption 6: CFG-induced, }(V,m)\text{-uniform, non-ambiguous; }\kappa<\infty,\ K_\rho>0",
    r"\text{Proposition 19's regime: }m,V=\Theta(\log d),\ L=O(\log d/\log\log d)",
    r"\text{learner (1)-(2), RBF features (6), layerwise training (3)}",
)


# -- the comparison, from P* and budgets -------------------------------------------------------------
def p_star_range(p_star, budget) -> tuple[float, float]:
    r"""The values :math:`P^*` can take given one search: ``(P*, P*)`` when it was found, ``(budget, inf)`` when
    the search reached its budget first (censored: :math:`P^*>` budget). Accepts the records' ``"inf"``."""
    p = float(p_star)
    if math.isnan(p) or p <= 0:
        raise ValueError(f"p_star must be a number > 0 or inf; got {p_star!r}")
    if math.isfinite(p):
        return p, p
    b = float(budget)
    if not math.isfinite(b) or b <= 0:
        raise ValueError(f"budget must be a finite number > 0 when p_star is censored; got {budget!r}")
    return b, math.inf


def log_ratio_bounds(deep: Mapping, shallow: Sequence[Mapping]) -> tuple[float, float]:
    r"""Bounds on :math:`\log(\min_i P^*_i/P^*_{\text{deep}})` for one grid point: ``deep`` and each of ``shallow``
    a mapping with ``P_star`` and ``budget`` (as :func:`~verify.experiments.sample_complexity.sample_complexity_grid`
    returns them). Equal bounds when no search was censored; ``-inf``/``inf`` where nothing bounds that side."""
    if not shallow:
        raise ValueError("shallow must hold at least one learner's result")
    d_lo, d_hi = p_star_range(deep["P_star"], deep["budget"])
    ranges = [p_star_range(r["P_star"], r["budget"]) for r in shallow]
    s_lo, s_hi = min(r[0] for r in ranges), min(r[1] for r in ranges)
    lo = -math.inf if math.isinf(d_hi) else math.log(s_lo) - math.log(d_hi)
    hi = math.inf if math.isinf(s_hi) else math.log(s_hi) - math.log(d_lo)
    return lo, hi


def selected(point: Mapping) -> bool:
    r"""The grid points the reading compares: the shallow reference, the number of distinct inputs
    :math:`n_cm^{(s^L-1)/(s-1)}`, exceeds the deep one, :math:`n_cm^L` (false exactly when :math:`L=1`)."""
    return int(point["distinct_inputs"]) > int(point["n_c_m_to_L"])


def draw_bounds(points: Sequence[Mapping], shallow: Sequence[str]) -> tuple[float, float]:
    r"""Bounds on one draw's :math:`\log\rho=\min_{\text{selected}}\log(\min_{\text{shallow}}P^*/P^*_{\text{deep}})`
    over the grid points of one :func:`~verify.experiments.sample_complexity.sample_complexity_grid` result."""
    pts = [p for p in points if selected(p)]
    if not pts:
        raise ValueError("grid must hold a point (m, L) whose distinct inputs n_c m^((s^L-1)/(s-1)) exceed "
                         "n_c m^L (any L >= 2)")
    b = [log_ratio_bounds(p["learners"][DEEP], [p["learners"][n] for n in shallow]) for p in pts]
    return min(x[0] for x in b), min(x[1] for x in b)


def ratio_measurement(bounds: Sequence[tuple[float, float]], confidence: float = CONFIDENCE,
                      details: Mapping | None = None) -> Measurement:
    r"""The claim's measurement from each draw's bounds ``(lo, hi)`` on :math:`\log\rho`.

    Value: :math:`\exp` of the mean over draws of a point estimate per draw (``lo`` when finite -- the
    draw's value when no search was censored --, else ``hi``; NaN when neither is finite, which makes the
    verdict inconclusive). With two draws or more, one-sided
    Student-t limits at ``confidence``: the lower one from the ``lo``'s, the upper one from the ``hi``'s (valid
    since :math:`lo\le\log\rho\le hi` draw by draw), 0 or ``inf`` when a draw leaves that side unbounded.
    With one draw: no limits ("seeded draw"); the value is the bound that decides (``lo`` if
    :math:`\ge0`, ``hi`` if :math:`<0`), else NaN (inconclusive)."""
    bounds = [(float(lo), float(hi)) for lo, hi in bounds]
    if not bounds:
        raise ValueError("bounds must hold at least one draw")
    for lo, hi in bounds:
        if math.isnan(lo) or math.isnan(hi) or lo > hi:
            raise ValueError(f"each draw's bounds must satisfy lo <= hi (no NaN); got ({lo}, {hi})")
    real_in("confidence", confidence, 0, 1, lo_open=True, hi_open=True)
    details = dict(details or {})
    details["log_ratio_bounds"] = [[lo, hi] for lo, hi in bounds]

    if len(bounds) == 1:
        lo, hi = bounds[0]
        return Measurement(value=math.exp(lo if lo >= 0 else (hi if hi < 0 else math.nan)), details=details)
    est = [lo if math.isfinite(lo) else (hi if math.isfinite(hi) else math.nan) for lo, hi in bounds]
    value = math.exp(float(np.mean(est))) if all(math.isfinite(e) for e in est) else math.nan
    los, his = [b[0] for b in bounds], [b[1] for b in bounds]
    lower = math.exp(mean_limits(los, confidence)[0]) if all(math.isfinite(x) for x in los) else 0.0
    upper = math.exp(mean_limits(his, confidence)[1]) if all(math.isfinite(x) for x in his) else math.inf
    return Measurement(value=value, lower=lower, upper=upper, confidence=confidence, details=details,
                       to_decide=f"more independent draws (now {len(bounds)}): the t limits narrow as 1/sqrt(draws)")


# -- parameters --------------------------------------------------------------------------------------
def check_params(p: Mapping) -> dict:
    """The case's parameters, validated: ValueError naming the parameter and its valid range."""
    out = dict(p)
    out["V"] = int_at_least("V (vocabulary size = n_c)", p["V"], 2)
    out["s"] = int_at_least("s (tuple size)", p.get("s", 2), 2)
    grid = [tuple(x) for x in p["grid"]]
    if not grid:
        raise ValueError("grid must hold at least one (m, L) pair; got []")
    for x in grid:
        if len(x) != 2:
            raise ValueError(f"grid must hold (m, L) pairs; got {x!r}")
        int_at_least("m (rules per symbol, in grid)", x[0], 1)
        int_at_least("L (levels, in grid)", x[1], 1)
    if not any(L >= 2 for _, L in grid):
        raise ValueError("grid must hold a point with L >= 2 (distinct inputs n_c m^((s^L-1)/(s-1)) > n_c m^L)")
    out["grid"] = [(int(m), int(L)) for m, L in grid]
    shallow = list(p["shallow"])
    bad = [n for n in shallow if n not in SHALLOW]
    if not shallow or bad:
        raise ValueError(f"shallow must be a non-empty list of {SHALLOW}; got {shallow!r}")
    out["shallow"] = shallow
    out["seeds"] = int_at_least("seeds (independent draws of the whole search)", p["seeds"], 1)
    out["M"] = int_at_least("M (random features of the layerwise learner)", p["M"], 1)
    out["sigma_scale"] = real_in("sigma_scale", p.get("sigma_scale", 0.5), 0, math.inf, lo_open=True)
    budget = p["budget"]
    names = [DEEP] + shallow
    if isinstance(budget, Mapping):
        missing = [n for n in names if n not in budget]
        if missing:
            raise ValueError(f"budget must name every learner when it is a mapping; missing {missing}")
        out["budget"] = {n: int_at_least(f"budget[{n!r}]", budget[n], 1) for n in names}
    else:
        out["budget"] = {n: int_at_least("budget", budget, 1) for n in names}
    out["num_test"] = int_at_least("num_test", p.get("num_test", 2000), 1)
    out["refine"] = int_at_least("refine", p.get("refine", 3), 0)
    out["trials"] = int_at_least("trials (training draws averaged at each P)", p.get("trials", 1), 1)
    return out


def empirical(case: Case, device, generator) -> Measurement:
    p = check_params(case.params)
    names = [DEEP] + p["shallow"]
    hyper = {DEEP: {"num_features": p["M"], "sigma_scale": p["sigma_scale"]}, **p.get("hyper", {})}
    draws, bounds = [], []
    for r in range(p["seeds"]):  # independent draws: training seeds 1000 * seed, test set 10_000 + seed
        res = sc.sample_complexity_grid(p["V"], p["grid"], names, budget=p["budget"], trials=p["trials"],
                                        seed=1000 * case.seed + r, device=device, refine=p["refine"],
                                        num_test=p["num_test"], s=p["s"], hyper=hyper,
                                        progress=p.get("progress", False))
        b = draw_bounds(res["points"], p["shallow"])
        bounds.append(b)
        draws.append([{k: pt[k] for k in ("m", "L", "distinct_inputs", "n_c_m_to_L", "m_to_L")}
                      | {"selected": selected(pt), "log_ratio": log_ratio_bounds(
                          pt["learners"][DEEP], [pt["learners"][n] for n in p["shallow"]]),
                         "learners": {n: {"P_star": pt["learners"][n]["P_star"], "budget": pt["learners"][n]["budget"],
                                          "curve": pt["learners"][n]["curve"]} for n in names}}
                      for pt in res["points"]])
    details = {"draws": draws, "V": p["V"], "s": p["s"], "shallow": p["shallow"], "target_accuracy": 0.9,
               "selected": [list(pt) for pt, x in zip(p["grid"], draws[0]) if x["selected"]]}
    return ratio_measurement(bounds, details=details)


def bound(case: Case):
    return 1


# -- presentation (the book's page): descriptive only, from a verdict's or record's details ----------
def _f(x) -> float:
    return float(x)  # records store infinity as the string "inf"


def point_table(details: Mapping) -> list[dict]:
    """Per grid point, over the draws: each learner's P* (all draws, sorted), the references, the log-ratio bounds."""
    out = []
    for k, pt in enumerate(details["draws"][0]):
        row = {key: pt[key] for key in ("m", "L", "distinct_inputs", "n_c_m_to_L", "selected")}
        row["P_star"] = {n: sorted(_f(d[k]["learners"][n]["P_star"]) for d in details["draws"])
                         for n in pt["learners"]}
        row["budget"] = {n: pt["learners"][n]["budget"] for n in pt["learners"]}
        row["log_ratio"] = [[_f(x) for x in d[k]["log_ratio"]] for d in details["draws"]]
        out.append(row)
    return out


def _median(xs) -> float:
    """Median over draws; a censored P* counts as infinite (so the median is a lower bound when it is)."""
    return float(np.median(xs))


def p_star_rows(details: Mapping) -> tuple[list[str], list[list]]:
    """A narrow table: per grid point, the layerwise and the best shallow learner's median P* over draws, the
    range of the ratio, and the two references."""
    header = ["$(m,L)$", "layerwise $P^*$", "best shallow $P^*$ (learner)", "ratio range", "$n_cm^L$",
              "distinct inputs"]
    rows = []
    for row in point_table(details):
        deep = _median(row["P_star"][DEEP])
        sh = {n: _median(v) for n, v in row["P_star"].items() if n != DEEP}
        best = min(sh, key=sh.get)

        def fmt(x, budget):
            return f"{x:.0f}" if math.isfinite(x) else f"> {budget}"

        lo = min(x[0] for x in row["log_ratio"])
        hi = max(x[1] for x in row["log_ratio"])
        rng = f"[{math.exp(lo):.2f}, {math.exp(hi):.2f}]" if math.isfinite(lo) and math.isfinite(hi) else (
            f"≥ {math.exp(lo):.2f}" if math.isfinite(lo) else (f"≤ {math.exp(hi):.2f}" if math.isfinite(hi) else "?"))
        rows.append([f"({row['m']},{row['L']})" + ("" if row["selected"] else " (not compared)"),
                     fmt(deep, row["budget"][DEEP]), f"{fmt(sh[best], row['budget'][best])} (`{best}`)", rng,
                     row["n_c_m_to_L"], row["distinct_inputs"]])
    return header, rows


def slopes(points: Sequence[Mapping]) -> dict[str, dict]:
    r"""Descriptive least-squares slopes of :math:`\log P^*` against :math:`\log(\text{distinct inputs})`, per
    learner, over ``points`` (rows of :func:`point_table`, possibly of several cases): one value per number of
    distinct inputs, the median :math:`P^*` over every draw there (finite medians only). A slope near 1 is the
    :math:`\Omega(m^{s^L})`-type growth. ``points`` counts the distinct abscissae; the slope is ``nan`` below 2."""
    names = sorted({n for pt in points for n in pt["P_star"]}, key=lambda n: ([DEEP] + list(SHALLOW)).index(n))
    out = {}
    for n in names:
        by_x: dict[int, list] = {}
        for pt in points:
            if n in pt["P_star"]:
                by_x.setdefault(int(pt["distinct_inputs"]), []).extend(pt["P_star"][n])
        xy = [(math.log(x), math.log(_median(ps))) for x, ps in sorted(by_x.items()) if math.isfinite(_median(ps))]
        if len(xy) < 2:
            out[n] = {"slope": math.nan, "points": len(xy)}
            continue
        res = stats.linregress([a for a, _ in xy], [b for _, b in xy])
        out[n] = {"slope": float(res.slope), "points": len(xy)}
    return out


_STYLE = {DEEP: ("C0", "o"), "mlp2": ("C2", "D"), "kernel_gaussian": ("C3", "v"), "kernel_laplace": ("C4", "^")}


def plot_p_star(points: Sequence[Mapping], ax) -> None:
    r"""Log-log: every learner's :math:`P^*` (each draw; open markers at the budget when censored) against the number
    of distinct inputs, with the references :math:`P=\text{distinct inputs}` and :math:`n_cm^L` (crosses)."""
    seen = set()
    for pt in points:
        x = pt["distinct_inputs"]
        for n, ps in pt["P_star"].items():
            c, mk = _STYLE[n]
            fin = [p for p in ps if math.isfinite(p)]
            jitter = 1.0 + 0.06 * (list(_STYLE).index(n) - 1.5)
            ax.loglog([x * jitter] * len(fin), fin, mk, color=c, ms=5, alpha=0.8,
                      label=None if n in seen else n)
            cens = len(ps) - len(fin)
            if cens:
                ax.loglog([x * jitter], [pt["budget"][n]], mk, mfc="none", color=c, ms=9)
            seen.add(n)
        ax.loglog([x], [pt["n_c_m_to_L"]], "x", color="k", ms=7,
                  label=None if "ref" in seen else "$n_cm^L$ (deep reference)")
        seen.add("ref")
    xs = np.array([pt["distinct_inputs"] for pt in points], float)
    grid = np.geomspace(xs.min() / 2, xs.max() * 2, 10)
    ax.loglog(grid, grid, "k--", lw=1, label="$P$ = distinct inputs")
    ax.set_xlabel("distinct inputs $n_cm^{(s^L-1)/(s-1)}$")
    ax.set_ylabel("$P^*$ (90% test accuracy)")
    ax.legend(fontsize=7)


def reading(details: Mapping) -> str:
    """What a verdict's or record's details say about the shallow learners against the distinct inputs."""
    parts = []
    for row in point_table(details):
        sh = {n: _median(v) for n, v in row["P_star"].items() if n != DEEP}
        fin = [v for v in sh.values() if math.isfinite(v)]
        if fin:
            parts.append(f"$({row['m']},{row['L']})$: best shallow $P^*$ = {min(fin) / row['distinct_inputs']:.2g} "
                         f"of the distinct inputs")
    return "; ".join(parts) + "." if parts else ""


def _num(x) -> str:
    try:
        return f"{float(x):.3g}"
    except (TypeError, ValueError):  # records store non-finite numbers as null
        return "n/a"


def findings(records: dict) -> list[str]:
    """One sentence over the recorded checks and as-printed cases (:mod:`verify.harness.findings`)."""
    parts = []
    for name, r in sorted(records.items()):
        if r["role"] == "negative_control":
            continue
        d = r["details"]
        pts = ", ".join(f"({m},{L})" for m, L in d["selected"])
        lim = (f", 99% limits [{_num(r['lower'])}, {_num(r['upper'])}]" if r.get("lower") is not None
               else ", one seeded draw")
        parts.append(f"`{name}` ($V={d['V']}$, $(m,L)$ = {pts}, against {', '.join(d['shallow'])}): "
                     f"$\\rho$ = {_num(r['measured'])}{lim}, **{r['status']}**")
    if not parts:
        return []
    return ["**Remark 8 and Theorem 1** (a heuristic of the paper, no constant printed), in the package's "
            "finite-size reading $\\rho=\\min_{\\text{shallow}}P^*/P^*_{\\text{layerwise}}\\ge1$ (90% test "
            "accuracy, same samples): " + "; ".join(parts) + ". The remark is asymptotic: a failure at these "
            "sizes does not refute it."]


# -- cases -------------------------------------------------------------------------------------------
# V = n_c = 4, (m, L) = (3, 3): 8748 distinct inputs against n_c m^L = 108. The accuracy of one training draw is not
# monotone in P (fresh samples and features at every P), so every P is scored as the mean of two draws (trials=2).
_V4 = dict(V=4, grid=[(3, 3)], shallow=["kernel_gaussian", "kernel_laplace"], M=512, sigma_scale=0.5, trials=2,
           budget={DEEP: 1 << 13, "kernel_gaussian": 1 << 13, "kernel_laplace": 1 << 13})
_ALL = ["mlp2", "kernel_gaussian", "kernel_laplace"]

CLAIM = Claim(
    name="shallow_comparison",
    paper="A",
    reference="Remark 8; Theorem 1 (informal)",
    page="p. 11 (Remark 8), p. 2 (Theorem 1)",
    statements=("Remark 8", "Theorem 1"),
    alias="Remark 4.3 (inferred); Theorem 1.1 (inferred)",
    hypotheses=HYPOTHESES,
    statement=STATEMENT,
    measured=(r"\rho=\exp\,\mathrm{mean}_{\text{draws}}\min_{(m,L)}\log\frac{\min_{\text{shallow}}P^*}"
              r"{P^*_{\text{layerwise}}}\ \ (P^*:\ 90\%\ \text{test accuracy, same samples})"),
    relation=">=",
    bound=bound,
    empirical=empirical,
    cases=(
        Case("V4_m3_L3_gaussian_kernel", dict(_V4, seeds=1, shallow=["kernel_gaussian"]), method="empirical",
             seed=1, note="one seeded draw (no interval; the large case V4_m3_L3_kernels_6draws decides at 99%): "
                          "the layerwise learner (M = 512) against Gaussian kernel ridge"),
        Case("V4_m3_L3_width_starved", dict(_V4, M=2, trials=1, seeds=3, shallow=["kernel_gaussian"],
                                            budget={DEEP: 1 << 12, "kernel_gaussian": 1 << 13}),
             method="empirical", seed=2, role="negative_control",
             note="the layerwise learner with M = 2 random frequencies (4 features for |P_l| = 12 patches, so "
                  "no near-orthogonal patch embedding exists): it stays near chance up to 4096 samples, while "
                  "the Gaussian kernel reaches 90% near 2000"),
        Case("V4_m3_L3_kernels_6draws", dict(_V4, seeds=6), scale="large", method="empirical", seed=3,
             note="the small check's setting, six independent draws: Student-t limits at 99%"),
        Case("V4_m2_L4_all_shallow",
             dict(V=4, grid=[(2, 4)], shallow=_ALL, seeds=4, trials=1, M=512, sigma_scale=0.5,
                  budget={DEEP: 1 << 13, "mlp2": 1 << 13, "kernel_gaussian": 1 << 13, "kernel_laplace": 1 << 13}),
             scale="large", method="empirical", seed=4, role="as_printed", expect=False,
             note="m = 2 with the 2-layer net: in every exploratory run (V = 4 and V = 8) the 2-layer net reached "
                  "90% with fewer samples than the layerwise learner, so the package's reading is expected to "
                  "fail here (a finite-size observation; the remark is asymptotic). Four draws, on every device "
                  "(about a minute on a 2-core CPU since the learner works on distinct patches)"),
        Case("V8_m3-4_L3-4_all_shallow",
             dict(V=8, grid=[(4, 3), (3, 4)], shallow=_ALL, seeds=5, trials=1, M=4096, sigma_scale=0.5,
                  budget={DEEP: 1 << 20, "mlp2": 1 << 20, "kernel_gaussian": 1 << 14, "kernel_laplace": 1 << 14}),
             scale="large", method="empirical", seed=5,
             cpu_params=dict(grid=[(4, 3)], seeds=6, M=2048,
                             budget={DEEP: 1 << 15, "mlp2": 1 << 15, "kernel_gaussian": 1 << 13,
                                     "kernel_laplace": 1 << 13}),
             note="all three shallow learners where the layerwise learner is expected to win (V = 8, m^L >= 64); "
                  "on a CPU six draws at (m, L) = (4, 3), M = 2048 (Student-t limits at 99%; three left it inconclusive)"),
    ),
)
