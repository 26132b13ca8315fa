"""Every claim can fail: for every claim, at least one realistic library bug, injected with
``monkeypatch`` into the function the claim measures, makes a ``check`` case of it fail or go
inconclusive (the bugs are listed per chapter in ``tests/catch_bugs/``)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from verify.harness.discovery import load_claims

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = load_claims(ROOT / "lemmas")


def _bugs():
    """Every ``BUGS`` list of every module in tests/catch_bugs/ (one or more per chapter), in file order."""
    out = []
    for path in sorted((Path(__file__).parent / "catch_bugs").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        try:
            mod = importlib.import_module(f"catch_bugs.{path.stem}")
        except ModuleNotFoundError:
            mod = importlib.import_module(f"tests.catch_bugs.{path.stem}")
        out += list(mod.BUGS)
    return out


BUGS = _bugs()


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_injected_bug_moves_the_claim(bug, monkeypatch):
    claim = CLAIMS[bug.claim]
    case = claim.case(bug.case)
    assert case.role == "check" and case.scale == "small", "a bug is caught by a small check case"
    # a claim module that memoises its runs keeps them in RUNS_MEMO: the bug must recompute, not read a run made
    # without it
    for mod in list(sys.modules.values()):
        if isinstance(getattr(mod, "RUNS_MEMO", None), dict) and ROOT / "lemmas" in Path(
                getattr(mod, "__file__", None) or "/").resolve().parents:
            monkeypatch.setattr(mod, "RUNS_MEMO", {})
    bug.inject(monkeypatch)
    try:
        v = claim.evaluate(case, "cpu")
    except ValueError as err:
        # the library's input checks refused what the bug produced (a law that does not sum to 1, negative
        # counts): caught before any verdict, by a check of verify/ itself, not by the injection going wrong
        assert _raised_by_library(err), f"the bug '{bug.description}' raised outside the library: {err}"
        return
    assert v.status in ("fails", "inconclusive"), f"the bug '{bug.description}' went unnoticed: {v.line()}"


def _raised_by_library(err: BaseException) -> bool:
    tb = err.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    path = Path(tb.tb_frame.f_code.co_filename).resolve()
    return (ROOT / "verify") in path.parents and "catch_bugs" not in path.parts


# Claims with no small check case that a bug could move, each with the reason; the test below
# insists that this list is exactly the set of claims without a bug, so the gap stays visible.
NOT_YET_MOVABLE: dict[str, str] = {}


def test_every_claim_has_an_injected_bug():
    missing = set(CLAIMS) - {b.claim for b in BUGS}
    assert missing == set(NOT_YET_MOVABLE), (
        f"claims no injected bug moves: {sorted(missing - set(NOT_YET_MOVABLE))}; "
        f"listed as not yet movable but now have a bug: {sorted(set(NOT_YET_MOVABLE) - missing)}")
