"""Remark 8's comparison (lemmas/training/shallow_comparison.py): the bounds on log(P*_shallow / P*_deep) under
censored searches, the selection of grid points, the t limits over draws, bad inputs, and the plumbing of
``empirical`` (with the P* searches replaced by canned results, so no training runs here)."""
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from verify.experiments import sample_complexity as sc
from verify.harness.claims import Case, decide
from verify.harness.discovery import load_claims
from verify.rhm import enumerate_derivations, sample_grammar

ROOT = Path(__file__).resolve().parents[1]
load_claims(ROOT / "lemmas")
sc_mod = sys.modules["lemmas.shallow_comparison"]
DEEP = sc_mod.DEEP


def res(p, budget=1000):
    return {"P_star": p, "budget": budget}


# -- P* ranges and the log-ratio bounds, against a brute force over the values a censored P* can take -----
def test_p_star_range():
    assert sc_mod.p_star_range(300, 1000) == (300, 300)
    assert sc_mod.p_star_range(math.inf, 1000) == (1000, math.inf)
    assert sc_mod.p_star_range("inf", 512) == (512, math.inf)  # records store infinity as "inf"
    for bad in (0, -3, math.nan):
        with pytest.raises(ValueError, match="p_star"):
            sc_mod.p_star_range(bad, 1000)
    with pytest.raises(ValueError, match="budget"):
        sc_mod.p_star_range(math.inf, math.inf)


def _brute_force(deep, shallow):
    """min and max of log(min_i P_i / P_deep) over a grid of the values each P* can take (a censored one:
    just above its budget, up to 10^12)."""
    def values(r):
        p = float(r["P_star"])
        return [p] if math.isfinite(p) else [r["budget"] * (1 + 1e-12), r["budget"] * 3.7, 1e12]
    out = [math.log(min(c[1:])) - math.log(c[0])
           for c in itertools.product(values(deep), *[values(r) for r in shallow])]
    return min(out), max(out)


@pytest.mark.parametrize("seed", range(40))
def test_log_ratio_bounds_against_brute_force(seed):
    rng = np.random.default_rng(seed)

    def draw():
        b = int(rng.integers(100, 5000))
        return res(math.inf if rng.random() < 0.35 else float(rng.integers(10, b + 1)), b)

    deep, shallow = draw(), [draw() for _ in range(int(rng.integers(1, 4)))]
    lo, hi = sc_mod.log_ratio_bounds(deep, shallow)
    bf_lo, bf_hi = _brute_force(deep, shallow)
    assert lo <= bf_lo + 1e-9 and bf_hi <= hi + 1e-9  # the bounds contain every possible value
    # and are attained (a finite side) or unbounded (the brute force reaches the 10^12 extreme)
    if math.isfinite(lo):
        assert lo == pytest.approx(bf_lo, abs=1e-9)
    else:
        assert bf_lo < -10
    if math.isfinite(hi):
        assert hi == pytest.approx(bf_hi, abs=1e-9)
    else:
        assert bf_hi > 10


def test_log_ratio_bounds_needs_a_shallow_learner():
    with pytest.raises(ValueError, match="shallow"):
        sc_mod.log_ratio_bounds(res(10), [])


# -- the selection: distinct inputs against n_c m^L --------------------------------------------------------
@pytest.mark.parametrize("m,L", [(2, 1), (3, 1), (2, 2), (2, 3), (3, 2)])
def test_selected_matches_enumerated_distinct_inputs(m, L):
    g = sample_grammar(3, 3, m, 2, L, seed=0, sampler="appendix_b")
    inputs = {tuple(x) for x in enumerate_derivations(g).x.tolist()}  # every input, by enumeration
    point = {"distinct_inputs": sc.distinct_inputs(g), "n_c_m_to_L": g.num_classes * m**L}
    assert point["distinct_inputs"] == len(inputs)
    assert sc_mod.selected(point) == (L >= 2)


def _point(m, L, deep, **shallow):
    g_inputs = 4 * m ** ((2**L - 1))
    return {"m": m, "L": L, "distinct_inputs": g_inputs, "n_c_m_to_L": 4 * m**L, "m_to_L": m**L,
            "learners": {DEEP: deep, **shallow}}


def test_draw_bounds_is_the_min_over_selected_points():
    pts = [_point(3, 3, res(100), kernel_gaussian=res(400), mlp2=res(300)),      # log 3
           _point(2, 3, res(100), kernel_gaussian=res(150), mlp2=res(math.inf)),  # log 1.5
           _point(3, 1, res(100), kernel_gaussian=res(1), mlp2=res(1))]           # L = 1: not compared
    lo, hi = sc_mod.draw_bounds(pts, ["kernel_gaussian", "mlp2"])
    assert lo == pytest.approx(math.log(1.5)) and hi == pytest.approx(math.log(1.5))
    lo, hi = sc_mod.draw_bounds(pts, ["mlp2"])  # the second point is censored for mlp2: log 3 <= ... <= inf
    assert lo == pytest.approx(math.log(3)) and hi == pytest.approx(math.log(3))
    with pytest.raises(ValueError, match="grid"):
        sc_mod.draw_bounds(pts[2:], ["mlp2"])


# -- the measurement over draws ---------------------------------------------------------------------------
def test_ratio_measurement_t_limits():
    d = [0.3, 0.5, 0.2, 0.9, 0.4]
    m = sc_mod.ratio_measurement([(x, x) for x in d])
    n, mean, sd = len(d), np.mean(d), np.std(d, ddof=1)
    t = stats.t.ppf(0.99, n - 1)
    assert m.value == pytest.approx(math.exp(mean))
    assert m.lower == pytest.approx(math.exp(mean - t * sd / math.sqrt(n)))
    assert m.upper == pytest.approx(math.exp(mean + t * sd / math.sqrt(n)))
    assert m.confidence == 0.99
    assert decide(m, 1, ">=", "empirical") == ("holds", "confidence")


def test_ratio_measurement_censored_draws():
    m = sc_mod.ratio_measurement([(-math.inf, -0.5), (-math.inf, -0.6), (-math.inf, -0.7)])  # deep censored
    assert m.lower == 0 and m.upper < 1 and m.value == pytest.approx(math.exp(-0.6))
    assert decide(m, 1, ">=", "empirical")[0] == "fails"
    m = sc_mod.ratio_measurement([(0.5, math.inf), (0.6, 0.6), (0.7, math.inf)])  # shallow censored
    assert m.upper == math.inf and m.lower > 1
    assert decide(m, 1, ">=", "empirical")[0] == "holds"
    m = sc_mod.ratio_measurement([(-math.inf, math.inf), (0.6, 0.6)])  # nothing known about one draw
    assert math.isnan(m.value) and decide(m, 1, ">=", "empirical")[0] == "inconclusive"


def test_ratio_measurement_one_draw_is_a_seeded_draw():
    for (lo, hi), want in [((0.4, 0.4), "holds"), ((0.4, math.inf), "holds"), ((-0.4, -0.4), "fails"),
                           ((-math.inf, -0.4), "fails"), ((-math.inf, math.inf), "inconclusive")]:
        m = sc_mod.ratio_measurement([(lo, hi)])
        assert m.lower is None and m.upper is None
        assert decide(m, 1, ">=", "empirical") == (want, "seeded draw" if want != "inconclusive" else "nan")


@pytest.mark.parametrize("bad", [[], [(0.5, 0.1)], [(math.nan, 1.0)]])
def test_ratio_measurement_bad_inputs(bad):
    with pytest.raises(ValueError, match="bounds"):
        sc_mod.ratio_measurement(bad)


# -- parameters --------------------------------------------------------------------------------------------
GOOD = dict(V=4, grid=[(3, 3)], shallow=["kernel_gaussian"], seeds=2, M=64, budget=1024)


@pytest.mark.parametrize("change,match", [
    (dict(V=1), "V"), (dict(grid=[]), "grid"), (dict(grid=[(3, 1)]), "L >= 2"), (dict(grid=[(0, 3)]), "m"),
    (dict(grid=[(3,)]), "grid"), (dict(shallow=["cnn"]), "shallow"), (dict(shallow=[DEEP]), "shallow"),
    (dict(shallow=[]), "shallow"), (dict(seeds=0), "seeds"), (dict(M=0), "M"), (dict(budget=0), "budget"),
    (dict(budget={DEEP: 1024}), "missing"), (dict(sigma_scale=0), "sigma_scale"), (dict(s=1), "s"),
])
def test_check_params_bad_inputs(change, match):
    with pytest.raises(ValueError, match=match):
        sc_mod.check_params({**GOOD, **change})


def test_check_params_defaults():
    p = sc_mod.check_params(GOOD)
    assert p["budget"] == {DEEP: 1024, "kernel_gaussian": 1024} and p["s"] == 2 and p["refine"] == 3


# -- empirical's plumbing, with canned P* searches ---------------------------------------------------------
def test_empirical_with_canned_searches(monkeypatch):
    calls = []

    def fake_grid(V, grid, learners, budget, trials, seed, device, refine, num_test, s, hyper, progress):
        calls.append(dict(seed=seed, learners=list(learners), hyper=hyper, budget=budget))
        deep = 100 + 10 * (seed % 1000)  # a different P* per draw
        pts = [_point(m, L, res(deep, budget[DEEP]), kernel_gaussian=res(2 * deep, budget["kernel_gaussian"]))
               | {"learners": {DEEP: res(deep, budget[DEEP]) | {"curve": [(deep, 0.9)]},
                               "kernel_gaussian": res(2 * deep, budget["kernel_gaussian"]) | {"curve": []}}}
               for m, L in grid]
        return {"points": pts}

    monkeypatch.setattr(sc_mod.sc, "sample_complexity_grid", fake_grid)
    case = Case("x", {**GOOD, "seeds": 3}, method="empirical", seed=7)
    m = sc_mod.empirical(case, "cpu", None)
    assert [c["seed"] for c in calls] == [7000, 7001, 7002]  # independent draws
    assert calls[0]["learners"] == [DEEP, "kernel_gaussian"] and calls[0]["hyper"][DEEP]["num_features"] == 64
    assert m.value == pytest.approx(2.0) and m.lower == pytest.approx(2.0) and m.upper == pytest.approx(2.0)
    rows = sc_mod.point_table(m.details)
    assert rows[0]["P_star"][DEEP] == [100, 110, 120]
    header, table = sc_mod.p_star_rows(m.details)
    assert len(header) == len(table[0]) == 6 and "`kernel_gaussian`" in table[0][2]


def test_slopes_recover_a_power_law():
    pts = [{"distinct_inputs": x, "P_star": {DEEP: [3 * x**0.5] * 2, "mlp2": [x**0.8, math.inf, x**0.8]}}
           for x in (100, 1000, 10**5)]
    out = sc_mod.slopes(pts)
    assert out[DEEP]["slope"] == pytest.approx(0.5) and out["mlp2"]["slope"] == pytest.approx(0.8)
    assert math.isnan(sc_mod.slopes(pts[:1])[DEEP]["slope"])
    twice = sc_mod.slopes(pts[:1] + pts[:1])  # the same grid point from two cases: one abscissa
    assert twice[DEEP]["points"] == 1 and math.isnan(twice[DEEP]["slope"])


def test_findings_sentence_from_records():
    rec = {"role": "check", "status": "holds", "measured": 2.0, "lower": 1.5, "upper": None,
           "details": {"selected": [[3, 3]], "V": 4, "shallow": ["kernel_gaussian"]}}
    ctrl = dict(rec, role="negative_control", status="fails")
    lines = sc_mod.findings({"a": rec, "b": dict(rec, lower=None, measured=None, status="inconclusive"), "c": ctrl})
    assert len(lines) == 1 and "`a`" in lines[0] and "`b`" in lines[0] and "`c`" not in lines[0]
    assert "99% limits [1.5, n/a]" in lines[0] and "$\\rho$ = n/a, one seeded draw" in lines[0]
    assert sc_mod.findings({"c": ctrl}) == []
