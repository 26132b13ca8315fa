"""Statement verdicts (verify.harness.blueprint), the dependency graph's SVG (graph), the referee's report
(referee) and `verify report` / `verify run`'s run folder."""
import json
import re

import pytest

from verify import cli
from verify.harness.blueprint import CaseRecord, _decide, assess
from verify.harness.claims import Case, Claim, Measurement
from verify.harness.freshness import Freshness
from verify.harness.graph import layers, svg
from verify.harness.statements import Statement, find_cycle, statements


def _cr(role, status, stale=False, scale="small"):
    rec = None if status is None else {"status": status}
    fresh = None if rec is None else Freshness("c", False, 0, stale)
    return CaseRecord("x", f"{role}-{status}", scale, role, role != "negative_control", rec, fresh)


@pytest.mark.parametrize("cases,expected", [
    ([_cr("check", "holds"), _cr("negative_control", "fails")], "holds"),
    ([_cr("check", "fails"), _cr("negative_control", "fails")], "fails"),
    ([_cr("check", "holds"), _cr("negative_control", "holds")], "fails"),  # a control that does not fail
    ([_cr("check", "inconclusive"), _cr("negative_control", "fails")], "inconclusive"),
    ([_cr("check", "holds"), _cr("as_printed", "fails"), _cr("negative_control", "fails")], "fails as printed"),
    ([_cr("check", "holds"), _cr("negative_control", "fails"), _cr("check", None, scale="large")],
     "not recorded or stale"),
    ([_cr("check", "holds", stale=True), _cr("negative_control", "fails")], "not recorded or stale"),
])
def test_statement_status_order(cases, expected):
    assert _decide(cases)[0] == expected


def _stmts():
    return {s.key: s for s in (Statement("Definition 1", "A", "definition", "a model", "p. 1"),
                               Statement("Lemma 2", "A", "lemma", "a bound", "p. 2", uses=("Definition 1",)),
                               Statement("Theorem 3", "A", "theorem", "the result", "p. 3",
                                         uses=("Lemma 2", "Definition 1")))}


def _claim(statements_=("Lemma 2",)):
    return Claim(name="toy", paper="A", page="p. 2", reference="Lemma 2", statement="x", measured="x",
                 relation="<=", bound=lambda c: 1, exact=lambda c: Measurement(value=c.params["x"]),
                 cases=(Case("ok", {"x": 0.5}), Case("bad", {"x": 2.0}, role="negative_control")),
                 statements=statements_)


def test_assess_colours_covered_and_uncovered_statements():
    claim = _claim()
    rows = {"toy": [CaseRecord("toy", "ok", "small", "check", True, {"status": "holds"}, None),
                    CaseRecord("toy", "bad", "small", "negative_control", False, {"status": "fails"}, None)]}
    v = assess(_stmts(), {"toy": claim}, rows)
    assert v["A:Lemma 2"].status == "holds" and v["A:Lemma 2"].claims == ["toy"]
    assert v["A:Theorem 3"].status == "not covered" and v["A:Definition 1"].status == "not covered"


def test_layers_and_svg():
    st = _stmts()
    assert layers(st) == {"A:Definition 1": 0, "A:Lemma 2": 1, "A:Theorem 3": 2}
    text = svg(st, {"A:Lemma 2": "#8fd19e"}, links={"A:Lemma 2": "paper_a/toy.html"},
               tooltips={"A:Lemma 2": "Lemma 2 holds"})
    assert text.startswith("<svg") and text.count("marker-end") == 3  # one arrow per use
    assert 'href="paper_a/toy.html"' in text and "<title>Lemma 2 holds</title>" in text
    assert 'fill="#8fd19e"' in text


def test_a_cycle_is_refused():
    st = {s.key: s for s in (Statement("Lemma 1", "A", "lemma", "a", uses=("Lemma 2",)),
                             Statement("Lemma 2", "A", "lemma", "b", uses=("Lemma 1",)))}
    assert find_cycle({k: [f"A:{u}" for u in s.uses] for k, s in st.items()})
    with pytest.raises(ValueError, match="cycle"):
        layers(st)


def test_bad_statements_are_refused():
    with pytest.raises(ValueError, match="kind"):
        Statement("Lemma 1", "A", "lemmma", "typo")
    with pytest.raises(ValueError, match="uses itself"):
        Statement("Lemma 1", "A", "lemma", "x", uses=("Lemma 1",))
    with pytest.raises(ValueError, match="paper"):
        statements("C")


TOY = '''
from verify.harness.claims import Case, Claim, Measurement
CLAIM = Claim(name="toy", paper="A", page="p. 0", reference="Lemma 10", statement="x", measured="x",
              relation="<=", bound=lambda c: 1, exact=lambda c: Measurement(value=c.params["x"]),
              statements=("Lemma 10",),
              cases=(Case("ok", {"x": 0.5}), Case("printed", {"x": 3.0}, role="as_printed", expect=False,
                     note="the printed constant is too small"), Case("bad", {"x": 2.0}, role="negative_control")))
'''


def test_run_goes_to_a_run_folder_and_report_reads_it(tmp_path, capsys):
    lemmas = tmp_path / "lemmas"
    lemmas.mkdir()
    (lemmas / "toy_claim.py").write_text(TOY)
    assert cli.main(["--lemmas", str(lemmas), "run", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1 and (runs[0] / "toy" / "ok.json").exists() and str(runs[0]) in out
    assert (tmp_path / "runs" / "LATEST").read_text().strip() == runs[0].name
    assert not (tmp_path / "results").exists()  # the committed records are not touched
    rec = json.loads((runs[0] / "toy" / "ok.json").read_text())
    assert re.fullmatch(r"[0-9a-f]{16}", rec["provenance"]["code_hash"])
    assert cli.main(["--lemmas", str(lemmas), "report", "--paper", "A", "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    row = next(r for r in rep["statements"] if r["statement"] == "Lemma 10")
    assert row["status"] == "fails as printed" and row["claims"] == ["toy"] and row["checks_hold"] == 1
    assert [e["case"] for e in rep["errata"]] == ["printed"] and rep["errata"][0]["measured"] == 3.0
    assert cli.main(["--lemmas", str(lemmas), "report", "--paper", "A"]) == 0
    text = capsys.readouterr().out
    assert "Errata" in text and "toy[printed] measured 3" in text
    assert cli.main(["--lemmas", str(lemmas), "report", "--format", "markdown"]) == 0
    assert "| statement | verdict | checks | slack |" in capsys.readouterr().out
    assert cli.main(["--lemmas", str(lemmas), "report", "--results", str(tmp_path / "nosuch")]) == 2


def test_the_newest_record_of_a_case_wins_whatever_its_folder(tmp_path):
    from verify.harness.blueprint import newest_records
    for folder, date, value in (("old_run", "2026-01-01T00:00:00+00:00", 1.0), ("results", "2026-02-01T00:00:00+00:00", 2.0)):
        (tmp_path / folder / "c").mkdir(parents=True)
        (tmp_path / folder / "c" / "k.json").write_text(json.dumps({"claim": "c", "case": "k", "measured": value,
                                                                     "provenance": {"date": date}}))
    for order in (["results", "old_run"], ["old_run", "results"]):
        rec = newest_records("c", [tmp_path / o for o in order])["k"]
        assert rec["measured"] == 2.0 and rec["_source"].endswith("results")
