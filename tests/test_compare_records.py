"""benchmarks/compare_records.py: two folders of records compared value by value, with the relative and absolute
difference of every number and how far each record's measured value moved."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import compare_records  # noqa: E402


def _record(folder: Path, name: str, measured, details, status="holds"):
    path = folder / "claim_x" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"claim": "claim_x", "case": name, "status": status, "measured": measured,
                                "details": details, "seconds": 1.0,
                                "provenance": {"git_commit": folder.name, "device": "cpu"}}))


def test_identical_noise_and_moved_records(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    for folder, noise, value, status in ((before, 1.2e-14, 1.0010487357129803, "holds"),
                                         (after, 8.0e-15, 1.0010487357129798, "fails")):
        _record(folder, "same", 2.5, {"n": 3})
        _record(folder, "noise", value, {"distance": noise, "n": 3})
        _record(folder, "verdict", 0.5, {}, status=status)
    out = compare_records.compare(before, after)
    assert out["records_compared"] == 3 and out["records_identical"] == 1
    rows = {r["record"]: r for r in out["differing"]}
    noise = rows["claim_x/noise.json"]
    assert noise["fields_differing"] == 2
    assert noise["max_relative_difference"] == pytest.approx(1 - 8.0 / 12.0)
    assert noise["max_absolute_difference"] == pytest.approx(1.2e-14 - 8.0e-15, rel=1e-9, abs=0)  # the noise field
    assert noise["measured_relative_difference"] == pytest.approx(
        (1.0010487357129803 - 1.0010487357129798) / 1.0010487357129803, rel=1e-6, abs=0)
    assert rows["claim_x/verdict.json"]["non_numeric"] == ["/status: 'holds' vs 'fails'"]
    assert out["non_numeric_differences"] == 1
    assert out["max_measured_relative_difference"] == noise["measured_relative_difference"]


def test_the_timing_and_provenance_are_not_compared(tmp_path):
    before, after = tmp_path / "b", tmp_path / "a"
    _record(before, "c", 1.0, {})
    _record(after, "c", 1.0, {})
    out = compare_records.compare(before, after)
    assert out["records_identical"] == 1 and out["differing"] == []
