"""The claim harness: exact comparisons, case validation, atomic records with provenance, the CLI."""
import json
import textwrap
from fractions import Fraction

import pytest
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
    return Claim(name="toy", paper="A", reference="Lemma 0", statement="x \\le 1", measured="x",
                 relation="<=", bound=lambda c: 1, exact=lambda c: Measurement(value=c.params["x"]),
                 cases=(Case("ok", {"x": Fraction(1, 2)}), Case("bad", {"x": 2}, role="negative_control")))


def test_claim_requires_a_negative_control():
    with pytest.raises(ValueError, match="negative control"):
        Claim(name="t", paper="A", reference="", statement="", measured="", relation="<=", bound=lambda c: 1,
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
    CLAIM = Claim(name="toy", paper="A", reference="Lemma 0", statement="x \\\\le 1", measured="x",
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
    assert rc == 0 and "FAILS" in out and "holds" in out and "0 not as expected" in out
    assert (tmp_path / "res" / "toy" / "ok.json").exists() and (tmp_path / "res" / "toy" / "bad.json").exists()
    assert cli.main(["--lemmas", str(lemmas), "run", "nosuch"]) == 2
