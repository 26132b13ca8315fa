"""pytest collects every lemma module here (they are not named test_*): each case of its ``CLAIM``
becomes a test that asserts the verdict is the one the case expects -- checks hold, negative
controls fail -- and the measured value and the bound are printed at the end of the run.

Large cases carry the ``large`` marker and are skipped without CUDA, unless
``VERIFY_LARGE_ON_CPU=1`` runs them on the CPU at their ``cpu_params`` size.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from verify.harness.claims import Claim, device_name
from verify.harness.stats import CONFIDENCE

HERE = Path(__file__).parent
_VERDICTS = []


def pytest_collect_file(file_path: Path, parent):
    if (file_path.suffix == ".py" and HERE in file_path.parents and not file_path.name.startswith("_")
            and file_path.name != "conftest.py"):
        return LemmaModule.from_parent(parent, path=file_path)
    return None


class LemmaModule(pytest.Module):
    def collect(self):
        yield from super().collect()
        claim = getattr(self.obj, "CLAIM", None)
        if isinstance(claim, Claim):
            for case in claim.cases:
                item = ClaimCaseItem.from_parent(self, name=f"CLAIM[{case.name}]", claim=claim, case=case)
                if case.scale == "large":
                    item.add_marker(pytest.mark.large)
                yield item


class ClaimCaseItem(pytest.Item):
    def __init__(self, *, claim, case, **kwargs):
        super().__init__(**kwargs)
        self.claim, self.case = claim, case

    def runtest(self):
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.case.scale == "large" and device.type != "cuda" and os.environ.get("VERIFY_LARGE_ON_CPU") != "1":
            pytest.skip("large case: needs CUDA (or VERIFY_LARGE_ON_CPU=1 to run its CPU size)")
        v = self.claim.evaluate(self.case, device)
        _VERDICTS.append(v)
        self.user_properties.append(("verdict", v.line()))
        assert v.as_expected, (
            f"{v.line()}\n  {self.claim.reference}: {self.claim.measured}; case note: {self.case.note}")

    def repr_failure(self, excinfo):
        return str(excinfo.value) if isinstance(excinfo.value, AssertionError) else super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.claim.name}[{self.case.name}]"


def pytest_terminal_summary(terminalreporter):
    if not _VERDICTS:
        return
    tr = terminalreporter
    tr.section(f"claims: measured vs the paper's bound ({device_name('cuda' if torch.cuda.is_available() else 'cpu')}; "
               f"verdicts at {CONFIDENCE:.0%} one-sided confidence per case, exact cases exactly)")
    for v in _VERDICTS:
        tr.write_line(("ok   " if v.as_expected else "BAD  ") + v.line())
