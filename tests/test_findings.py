"""The README's findings are generated from the records, never typed: its block must equal
``verify findings`` over the committed ``results/`` (run ``verify findings --write README.md`` after
recording)."""
from pathlib import Path

import pytest

from verify.harness import findings
from verify.harness.discovery import load_claims

ROOT = Path(__file__).resolve().parents[1]


def test_readme_findings_block_matches_the_records():
    claims = load_claims(ROOT / "lemmas")
    block = findings.markdown(claims, ROOT / "results")
    assert findings.current_block((ROOT / "README.md").read_text()) == block, (
        "README.md's findings differ from results/: run `verify findings --write README.md`")


def test_readme_timing_block_matches_its_record():
    from verify.harness import timings
    text = (ROOT / "README.md").read_text()
    assert findings.current_block(text, timings.BEGIN, timings.END) == timings.markdown(ROOT / "results"), (
        "README.md's timing sentence differs from results/timings/ci.json: run `verify findings --write README.md`")


def test_timing_record_from_the_ci_lines(tmp_path):
    from verify.harness import timings
    f = tmp_path / "t.txt"
    f.write_text("load 0.10\nsetup 61.5\ntest 120.25\nrun 70\nbook 200.5\nload 1.5\n")
    out = timings.record(f, "a" * 40, tmp_path / "timings" / "ci.json")
    text = timings.markdown(tmp_path)
    assert out.exists() and "main command 4.5 min" in text and "test command 2.0 min" in text
    assert "0.10, 1.50" in text and "`aaaaaaaaaaaa`" in text
    f.write_text("setup 1\n")
    with pytest.raises(ValueError, match="no time for step"):
        timings.record(f, "a" * 40, tmp_path / "x.json")


def test_replace_block_needs_its_markers():
    with pytest.raises(ValueError, match="findings block"):
        findings.replace_block("no markers here", "x\n")
    text = f"a\n{findings.BEGIN}\nold\n{findings.END}\nb\n"
    assert findings.current_block(findings.replace_block(text, "new\n")) == "new\n"
