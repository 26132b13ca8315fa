"""Injected library bugs, one or more modules per book chapter (``paper_a.py``, ``training.py``,
``appendix_b.py``, ``paper_b.py``), run by ``tests/test_claims_catch_bugs.py``.

A :class:`Bug` is a realistic mistake in the library quantity a claim measures (a wrong constant, a
wrong bandwidth, a skipped step, a wrong normalisation), injected with ``monkeypatch``; the test
asserts that the named ``check`` case then fails or goes inconclusive. A claim no injected bug can
move is a defect of the claim.
"""
from __future__ import annotations

import dataclasses
import sys
from typing import Callable

import pytest


@dataclasses.dataclass(frozen=True)
class Bug:
    claim: str                      # the claim name (``Claim.name``)
    case: str                       # a ``check`` case of it (small scale: runs in CI)
    description: str                # what the bug is, in a maintainer's words
    inject: Callable[[pytest.MonkeyPatch], None]

    @property
    def id(self) -> str:
        return f"{self.claim}[{self.case}]:{self.description}"


def lemma_module(stem: str):
    """The loaded claim module ``lemmas/<chapter>/<stem>.py`` (after ``load_claims``)."""
    return sys.modules[f"lemmas.{stem}"]
