"""The claim harness: exact comparisons, case validation, atomic records with provenance, the CLI."""
import json
import textwrap
from fractions import Fraction

import pytest
import numpy as np
import sympy

from verify import cli
from verify.harness.claims import Case, Claim, Measurement, compare
from verify.harness.discovery import load_claims
from verify.harness.results import load_records, write_record


def test_compare_is_exact_on_exact_numbers():
    assert compare(sympy.sqrt(2) / 2, Fraction(7071, 10000), ">=")
    assert not compare(Fraction(1, 3), sympy.Rational(1, 3) - sympy.Rational(1, 10**40), "<=")
    assert compare(Fraction(1, 3), sympy.Rational(1, 3), "<=") and compare(Fraction(1, 3), sympy.Rational(1, 3), ">=")
    assert compare(0.5, 1, "<=") and not compare(float("nan"), 1, "<=")
    assert not compare(sympy.oo, 10**9, "<=")
    with pytest.raises(ValueError, match="relation"):
        compare(1, 2, "<")


def test_case_validation():
    for bad in ("beta1/4", "", ".hidden"):
        with pytest.raises(ValueError, match="Case.name"):
            Case(bad, {})
    with pytest.raises(ValueError, match="scale"):
        Case("x", {}, scale="huge")
    with pytest.raises(ValueError, match="negative control"):
        Case("x", {}, role="negative_control", expect=True)
    with pytest.raises(ValueError, match="note"):
        Case("x", {}, role="as_printed", expect=False)
    assert Case("x", {}, role="negative_control").expect is False
    c = Case("x", {"n": 10**7}, scale="large", cpu_params={"n": 10**5})
    assert c.params_for("cpu")["n"] == 10**5


def _toy(value):
    return Claim(name="toy", paper="A", page="p. 0", reference="Lemma 0", statement="x \\le 1", measured="x",
                 relation="<=", bound=lambda c: 1, exact=lambda c: Measurement(value=c.params["x"]),
                 cases=(Case("ok", {"x": Fraction(1, 2)}), Case("bad", {"x": 2}, role="negative_control")))


def test_claim_requires_a_negative_control():
    with pytest.raises(ValueError, match="negative control"):
        Claim(name="t", paper="A", page="p. 0", reference="", statement="", measured="", relation="<=", bound=lambda c: 1,
              exact=lambda c: Measurement(0), cases=(Case("ok", {}),))


def test_evaluate_and_record(tmp_path):
    claim = _toy(None)
    ok, bad = claim.evaluate("ok"), claim.evaluate("bad")
    assert ok.holds and ok.as_expected and ok.margin == 0.5 and ok.measured_exact == "1/2"
    assert not bad.holds and bad.as_expected
    path = write_record(ok, tmp_path)
    rec = json.loads(path.read_text())
    assert rec["measured"] == 0.5 and rec["bound"] == 1 and rec["holds"] is True
    for key in ("git_commit", "device", "torch", "numpy", "seed", "wall_seconds", "date", "package_version"):
        assert key in rec["provenance"]
    assert list(load_records("toy", tmp_path)) == ["ok"]
    assert not list(tmp_path.glob("toy/.*tmp"))  # no temporary file left behind


TOY_MODULE = textwrap.dedent('''
    from verify.harness.claims import Case, Claim, Measurement
    CLAIM = Claim(name="toy", paper="A", page="p. 0", reference="Lemma 0", statement="x \\\\le 1", measured="x",
                  relation="<=", bound=lambda c: 1, exact=lambda c: Measurement(value=c.params["x"]),
                  cases=(Case("ok", {"x": 0.5}), Case("bad", {"x": 2.0}, role="negative_control")))
''')


def test_cli_list_and_run(tmp_path, capsys):
    lemmas = tmp_path / "lemmas"
    lemmas.mkdir()
    (lemmas / "toy_claim.py").write_text(TOY_MODULE)
    assert "toy" in load_claims(lemmas)
    assert cli.main(["--lemmas", str(lemmas), "list"]) == 0
    assert "toy" in capsys.readouterr().out
    rc = cli.main(["--lemmas", str(lemmas), "run", "--device", "cpu", "--results", str(tmp_path / "res")])
    out = capsys.readouterr().out
    assert rc == 0 and "fails" in out and "holds" in out and "0 not as expected" in out
    assert (tmp_path / "res" / "toy" / "ok.json").exists() and (tmp_path / "res" / "toy" / "bad.json").exists()
    assert cli.main(["--lemmas", str(lemmas), "run", "nosuch"]) == 2


# -- the verdict at a stated confidence (issue "Verdicts a referee can trust") ---------------------
from verify.harness.claims import decide, slack  # noqa: E402
from verify.harness import stats as hstats  # noqa: E402


@pytest.mark.parametrize("lower,upper,relation,expected", [
    (0.0, 0.05, "<=", "holds"), (0.0, 0.2, "<=", "inconclusive"), (0.15, 0.3, "<=", "fails"),
    (0.15, 0.3, ">=", "holds"), (0.05, 0.3, ">=", "inconclusive"), (0.0, 0.05, ">=", "fails"),
    (None, 0.05, "<=", "holds"), (0.2, None, "<=", "fails"), (None, 0.2, "<=", "inconclusive"),
])
def test_decide_uses_the_limit_on_each_side(lower, upper, relation, expected):
    m = Measurement(value=0.07, lower=lower, upper=upper, confidence=0.99)
    assert decide(m, 0.1, relation, "empirical")[0] == expected


def test_decide_exact_point_and_nan():
    assert decide(Measurement(Fraction(1, 10)), Fraction(1, 10), "<=") == ("holds", "exact")
    assert decide(Measurement(Fraction(1, 10) + Fraction(1, 10**30)), Fraction(1, 10), "<=") == ("fails", "exact")
    assert decide(Measurement(0.3), 0.5, "<=", "empirical") == ("holds", "seeded draw")
    assert decide(Measurement(float("nan")), 0.5, "<=")[0] == "inconclusive"
    assert decide(Measurement(0.1, lower=float("nan"), upper=0.2, confidence=0.99), 0.5, "<=")[0] == "inconclusive"


def test_measurement_validation():
    with pytest.raises(ValueError, match="confidence"):
        Measurement(0.1, upper=0.2)
    with pytest.raises(ValueError, match="exceeds"):
        Measurement(0.1, lower=0.3, upper=0.2, confidence=0.99)
    with pytest.raises(ValueError, match="confidence"):
        Measurement(0.1, upper=0.2, confidence=1.5)


def test_zero_failures_in_two_repetitions_is_inconclusive_not_a_pass():
    """The issue's example: 0/2 failures against delta = 0.1 has a one-sided 99% upper limit of 0.9."""
    lo, hi = hstats.rate_limits(0, 2)
    assert lo == 0 and hi == pytest.approx(1 - 0.01 ** 0.5)
    claim = Claim(name="rate", paper="A", page="p. 0", reference="L", statement="", measured="", relation="<=",
                  bound=lambda c: 0.1,
                  empirical=lambda c, d, g: Measurement(0.0, *hstats.rate_limits(0, c.params["n"]), confidence=0.99),
                  cases=(Case("few", {"n": 2}, method="empirical"), Case("many", {"n": 60}, method="empirical"),
                         Case("nc", {"n": 2}, method="empirical", role="negative_control")))
    few, many, nc = (claim.evaluate(c) for c in ("few", "many", "nc"))
    assert few.status == "inconclusive" and not few.as_expected and few.to_decide
    assert many.status == "holds" and many.as_expected
    assert nc.status == "inconclusive" and not nc.as_expected  # an inconclusive control is no success either
    assert "INCONCLUSIVE" in few.line() and "slack" in few.line()


def test_slack_is_bound_over_measured():
    assert slack(0.02, 0.1, "<=") == pytest.approx(5) and slack(3, 1.5, ">=") == pytest.approx(2)
    assert slack(0, 0.1, "<=") == float("inf")


def test_rate_limits_are_exact_clopper_pearson():
    from scipy import stats
    for k, n in [(0, 10), (3, 20), (20, 20), (7, 1000)]:
        lo, hi = hstats.rate_limits(k, n, 0.99)
        # the defining equations of the one-sided exact limits
        if k < n:
            assert stats.binom.cdf(k, n, hi) == pytest.approx(0.01, rel=1e-6)
        if k > 0:
            assert stats.binom.sf(k - 1, n, lo) == pytest.approx(0.01, rel=1e-6)


def test_repetitions_to_decide_decides():
    n = hstats.repetitions_to_decide(0, 20, 0.1)
    assert n == 44  # (0.9)^44 < 0.01 <= (0.9)^43
    assert hstats.rate_limits(0, n)[1] <= 0.1 < hstats.rate_limits(0, n - 1)[1]
    assert hstats.repetitions_to_decide(1, 10, 0.1) is None


def test_quantile_limits_match_scipy_and_cover():
    from scipy import stats
    rng = np.random.default_rng(0)
    x = rng.exponential(size=400)
    lo, hi = hstats.quantile_limits(x, 0.9)
    st = float(np.quantile(x, 0.9))
    assert hi == pytest.approx(stats.quantile_test(x, q=st, p=0.9, alternative="less").confidence_interval(0.99).high)
    assert lo == pytest.approx(stats.quantile_test(x, q=st, p=0.9, alternative="greater").confidence_interval(0.99).low)
    # coverage over repeated draws: the true 0.9-quantile of Exp(1) is log 10
    misses = sum(hstats.quantile_limits(rng.exponential(size=200), 0.9)[1] < np.log(10) for _ in range(300))
    assert misses <= 12  # expected 3 (1%); P[Bin(300, 0.01) > 12] < 1e-5
    assert hstats.quantile_limits(np.r_[np.ones(5), np.inf], 0.9)[1] == np.inf


def test_old_records_render_as_point_estimates():
    from verify.harness.report import verdict_rows
    old = {"case": "c", "method": "empirical", "role": "check", "measured": 0.1, "bound": 0.2, "holds": True,
           "expect": True, "relation": "<=", "uncertainty": 0.3, "confidence": 0.95}
    row = verdict_rows([old])[0]
    assert "old record" in row[2] and "holds" in row[1]


def test_verdict_table_renders_exact_values_and_infinities_as_words():
    from verify.harness.report import VERDICT_HEADER, markdown_table, verdict_rows
    exact = {"case": "a_b", "method": "exact", "role": "negative_control", "measured": 1 / 3, "measured_exact": "1/3",
             "bound": 2 ** 0.5 * 3, "bound_exact": "3*sqrt(2)", "status": "holds", "expect": True, "relation": "<=",
             "lower": None, "upper": None, "basis": "exact"}
    case, verdict, measured, bound, slack = verdict_rows([exact])[0]
    assert len(VERDICT_HEADER) == 5
    assert r"$\frac{1}{3}$" in measured and "exact" in measured and "*" not in measured
    assert r"$3 \sqrt{2}$" in bound and "*" not in bound and "negative control" in case
    censored = {**exact, "method": "empirical", "role": "check", "measured": float("inf"), "measured_exact": "oo",
                "lower": 5.0, "upper": float("inf"), "status": "inconclusive", "expect": True}
    row = verdict_rows([censored], infinity="no P* within budget")[0]
    assert row[2].startswith("∞: no P* within budget") and "[5, ∞]" in row[2] and "inf" not in row[2]
    assert "oo" not in markdown_table(["x"], [[float("inf")]]) and "∞" in markdown_table(["x"], [[float("inf")]])


def test_cli_runs_one_case(tmp_path, capsys):
    lemmas = tmp_path / "lemmas"
    lemmas.mkdir()
    (lemmas / "toy_claim.py").write_text(TOY_MODULE)
    rc = cli.main(["--lemmas", str(lemmas), "run", "--case", "ok", "--device", "cpu", "--results", str(tmp_path / "r")])
    assert rc == 0 and [p.name for p in (tmp_path / "r" / "toy").iterdir()] == ["ok.json"]
    assert oct((tmp_path / "r" / "toy" / "ok.json").stat().st_mode & 0o777) == "0o644"
    assert cli.main(["--lemmas", str(lemmas), "run", "--case", "nosuch", "--results", str(tmp_path / "r")]) == 2


def test_pearson_statistic_by_hand():
    stat, dof = hstats.pearson_statistic([30, 70, 0], [0.5, 0.5, 0])
    assert dof == 1 and stat == pytest.approx((30 - 50) ** 2 / 50 * 2)
    assert hstats.pearson_statistic([1, 1], [1.0, 0.0])[0] == float("inf")  # an impossible outcome observed


def test_limit_free_verdicts_say_what_they_rest_on():
    from verify.harness.claims import basis_text
    assert basis_text("exact") == "exact"
    assert basis_text("seeded draw") == "one seeded draw, no interval"
    assert basis_text("seeded draw", {"test_level": 0.01}) == "test at level 1% (seeded draw)"


def test_inside_ratio():
    assert hstats.inside_ratio(2.0, 1.0, 4.0) == 0.5          # inside
    assert hstats.inside_ratio(5.0, 1.0, 4.0) == 1.25         # above the upper limit
    assert hstats.inside_ratio(0.5, 1.0, 4.0) == 2.0          # below the lower limit
    assert hstats.inside_ratio(1.0, 0.0, 0.0) == float("inf")


def test_bonferroni():
    assert hstats.bonferroni(1) == pytest.approx(0.99) and hstats.bonferroni(4) == pytest.approx(0.9975)
    assert hstats.bonferroni(2, 0.9) == pytest.approx(0.95)


def test_a_paper_a_claim_must_cite_its_page():
    with pytest.raises(ValueError, match="page"):
        Claim(name="nopage", paper="A", reference="Lemma 0", statement="", measured="", relation="<=",
              bound=lambda c: 1, exact=lambda c: Measurement(0),
              cases=(Case("c", {}), Case("n", {}, role="negative_control")))
