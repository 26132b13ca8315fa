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


def test_replace_block_needs_its_markers():
    with pytest.raises(ValueError, match="findings block"):
        findings.replace_block("no markers here", "x\n")
    text = f"a\n{findings.BEGIN}\nold\n{findings.END}\nb\n"
    assert findings.current_block(findings.replace_block(text, "new\n")) == "new\n"
