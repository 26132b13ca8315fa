"""`verify results`: every record in one table, --failing lists exactly the cases that are not a pass,
--stale the records whose code changed, and exports to CSV or a pandas DataFrame."""
import csv
import textwrap

import pytest

from verify import cli
from verify.harness.results import COLUMNS, to_frame

TOY = textwrap.dedent('''
    from verify.harness.claims import Case, Claim, Measurement
    CLAIM = Claim(name="toyq", paper="A", page="p. 0", reference="Lemma 10", statement="x", measured="x",
                  relation="<=", bound=lambda c: 1, exact=lambda c: Measurement(value=c.params["x"]),
                  cases=(Case("ok", {"x": 0.5}), Case("wrong", {"x": 3.0}),
                         Case("control", {"x": 2.0}, role="negative_control"),
                         Case("weak_control", {"x": 0.1}, role="negative_control")))
''')


def _setup(tmp_path):
    lem = tmp_path / "lemmas"
    lem.mkdir()
    (lem / "toyq.py").write_text(TOY)
    assert cli.main(["--lemmas", str(lem), "run", "--results", str(tmp_path / "r")]) == 1  # two not as expected
    return lem


def test_failing_lists_exactly_the_cases_that_are_not_a_pass(tmp_path, capsys):
    lem = _setup(tmp_path)
    capsys.readouterr()
    assert cli.main(["--lemmas", str(lem), "results", "--failing", "--results", str(tmp_path / "r")]) == 0
    lines = [l.split()[1] for l in capsys.readouterr().out.splitlines() if l.startswith("toyq ")]
    assert sorted(lines) == ["weak_control", "wrong"]


def test_stale_lists_records_whose_code_changed(tmp_path, capsys):
    lem = _setup(tmp_path)
    args = ["--lemmas", str(lem), "results", "--stale", "--results", str(tmp_path / "r")]
    capsys.readouterr()
    assert cli.main(args) == 0 and "0 record(s)" in capsys.readouterr().out
    (lem / "toyq.py").write_text(TOY.replace('c.params["x"]', 'c.params["x"] * 1'))
    assert cli.main(args) == 0 and "4 record(s)" in capsys.readouterr().out


def test_csv_and_frame(tmp_path):
    _setup(tmp_path)
    lem = tmp_path / "lemmas"
    out = tmp_path / "all.csv"
    assert cli.main(["--lemmas", str(lem), "results", "--results", str(tmp_path / "r"), "--to", "csv",
                     "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4 and set(COLUMNS) <= set(rows[0])
    pd = pytest.importorskip("pandas")
    df = to_frame([tmp_path / "r"])
    assert isinstance(df, pd.DataFrame) and sorted(df[~df.as_expected].case) == ["weak_control", "wrong"]


def test_bad_arguments(tmp_path, capsys):
    lem = _setup(tmp_path)
    assert cli.main(["--lemmas", str(lem), "results", "--results", str(tmp_path / "nosuch")]) == 2
    assert cli.main(["--lemmas", str(lem), "results", "--results", str(tmp_path / "r"), "--claim", "nosuch"]) == 2
    assert cli.main(["--lemmas", str(lem), "results", "--results", str(tmp_path / "r"), "--to", "csv"]) == 2
    assert "--output" in capsys.readouterr().err
