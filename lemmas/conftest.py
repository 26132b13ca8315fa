"""pytest collects every lemma module here (they are not named test_*): each case of its ``CLAIM``
becomes a test that asserts the verdict is the one the case expects -- checks hold, negative
controls fail -- and the measured value and the bound are printed at the end of the run.

Large cases carry the ``large`` marker and are skipped without CUDA, unless
``VERIFY_LARGE_ON_CPU=1`` runs them on the CPU at their ``cpu_params`` size.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

# The package (torch, sympy, scipy: 1.8 s) is imported where it is first needed, not here: with pytest-xdist the
# controller loads this file before it starts the workers, and only the workers collect and run claims (issue 15).

HERE = Path(__file__).parent
_VERDICTS = []
# A verdict travels to the summary in its test report's user_properties, as plain values: with pytest-xdist the
# case runs in a worker process and only the report reaches the controller that prints the summary. The worker
# also renders the row and names the device and the confidence, so the controller never imports the package
# (torch, scipy and sympy would cost it 1.5 s of CPU beside two busy workers, issue 15).
_VERDICT_KEY = "verdict_summary"


def pytest_collect_file(file_path: Path, parent):
    if (file_path.suffix == ".py" and HERE in file_path.parents and not file_path.name.startswith("_")
            and file_path.name != "conftest.py"):
        return LemmaModule.from_parent(parent, path=file_path)
    return None


# With pytest-xdist (``-n auto --dist loadgroup``, the README's command) the cases of one claim module run in one
# worker, so the runs a module memoises are computed once; loss_decay and depth_requirement share their training
# runs (``cached_experiment``), so they form one group.
_SHARED_GROUPS = {"loss_decay": "paper_b_resnet", "depth_requirement": "paper_b_resnet"}


class LemmaModule(pytest.Module):
    def collect(self):
        from verify.harness.claims import Claim
        yield from super().collect()
        claim = getattr(self.obj, "CLAIM", None)
        if isinstance(claim, Claim):
            group = _SHARED_GROUPS.get(self.path.stem, f"lemma:{self.path.stem}")
            for case in claim.cases:
                item = ClaimCaseItem.from_parent(self, name=f"CLAIM[{case.name}]", claim=claim, case=case)
                item.add_marker(pytest.mark.xdist_group(group))
                if case.scale == "large":
                    item.add_marker(pytest.mark.large)
                yield item


class ClaimCaseItem(pytest.Item):
    def __init__(self, *, claim, case, **kwargs):
        super().__init__(**kwargs)
        self.claim, self.case = claim, case

    def runtest(self):
        import torch

        from verify.threads import limit
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.case.scale == "large" and device.type != "cuda" and os.environ.get("VERIFY_LARGE_ON_CPU") != "1":
            pytest.skip("large case: needs CUDA (or VERIFY_LARGE_ON_CPU=1 to run its CPU size)")
        # one torch thread (VERIFY_TEST_THREADS overrides): a busy machine then slows a case by its load,
        # not many times over (issue 15)
        with limit(int(os.environ.get("VERIFY_TEST_THREADS", "1"))):
            v = self.claim.evaluate(self.case, device)
        self.user_properties.append(("verdict", v.line()))
        self.user_properties.append((_VERDICT_KEY, _summary_fields(v)))
        assert v.as_expected, (
            f"{v.line()}\n  {self.claim.reference}: {self.claim.measured}; case note: {self.case.note}")

    def repr_failure(self, excinfo):
        return str(excinfo.value) if isinstance(excinfo.value, AssertionError) else super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.claim.name}[{self.case.name}]"


def _summary_fields(v) -> dict:
    """What the summary needs of a verdict, as plain values: its row, its grouping, the device, the confidence."""
    from verify.harness.stats import CONFIDENCE
    return {"claim": v.claim, "role": v.role, "status": v.status, "as_expected": v.as_expected, "row": _row(v),
            "device": v.device, "confidence": CONFIDENCE}


def pytest_runtest_logreport(report):
    """Collect the verdict of every claim case that ran, in this process or in an xdist worker."""
    if report.when != "call":
        return
    for key, value in getattr(report, "user_properties", ()):
        if key == _VERDICT_KEY:
            _VERDICTS.append(_Summary(**value))


@dataclasses.dataclass(frozen=True)
class _Summary:
    """A verdict as the summary sees it (:func:`_summary_fields`)."""
    claim: str
    role: str
    status: str
    as_expected: bool
    row: list
    device: str
    confidence: float


def _row(v) -> list[str]:
    rel = {"<=": "<=", ">=": ">="}[v.relation]
    return [f"{v.claim}[{v.case}]", f"{v.measured:.4g}", v.interval_str().replace(" one-sided 99% each", ""),
            f"{rel} {v.bound:.4g}", "equal (0 = 0)" if v.slack != v.slack else f"{v.slack:.3g}", v.status]


def _table(rows: list[list[str]]) -> list[str]:
    header = ["claim[case]", "measured", "interval (99% one-sided)", "bound", "slack", "verdict"]
    widths = [min(60, max(len(r[i]) for r in rows + [header])) for i in range(len(header))]
    fmt = "  ".join(f"{{:{w}.{w}s}}" for w in widths)
    return [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows]


def _groups(verdicts) -> list[tuple[str, list]]:
    """The verdicts by outcome: a reader first sees what is unexpected, then what holds, what fails as printed
    (with the corrected form's checks beside), the negative controls, and what is inconclusive."""
    unexpected = [v for v in verdicts if not v.as_expected and v.status != "inconclusive"]
    ok = [v for v in verdicts if v.as_expected]
    checks_of: dict[str, list] = {}
    for v in verdicts:
        if v.role == "check":
            checks_of.setdefault(v.claim, []).append(v)
    printed_fail = [v for v in ok if v.role == "as_printed" and v.status == "fails"]
    return [
        ("UNEXPECTED (a check that does not hold, a negative control that does not fail)", unexpected),
        ("checks that hold", [v for v in ok if v.role == "check"]),
        ("statements that fail as printed (the corrected form: the claim's checks, beside)", printed_fail),
        ("as printed, and holding", [v for v in ok if v.role == "as_printed" and v.status == "holds"]),
        ("negative controls (built to fail; they do)", [v for v in ok if v.role == "negative_control"]),
        ("INCONCLUSIVE (never a pass: each of these fails its test)",
         [v for v in verdicts if v.status == "inconclusive"]),
    ], checks_of


def pytest_terminal_summary(terminalreporter):
    if not _VERDICTS:
        return
    tr = terminalreporter
    devices = ", ".join(sorted({v.device for v in _VERDICTS}))
    confidence = _VERDICTS[0].confidence
    tr.section(f"claims: measured vs the paper's bound ({devices}; "
               f"verdicts at {confidence:.0%} one-sided confidence per case, exact cases exactly)")
    groups, checks_of = _groups(_VERDICTS)
    for title, vs in groups:
        if not vs:
            continue
        tr.write_line("")
        tr.write_line(f"{title}: {len(vs)}", bold=True, red=title.startswith(("UNEXPECTED", "INCONCLUSIVE")))
        rows = [list(v.row) for v in vs]
        if title.startswith("statements that fail as printed"):
            for r, v in zip(rows, vs):
                cs = checks_of.get(v.claim, [])
                r[-1] += (f"; corrected form: {sum(c.status == 'holds' for c in cs)}/{len(cs)} checks hold"
                          if cs else "; corrected form: no check run")
        for line in _table(rows):
            tr.write_line("  " + line)
