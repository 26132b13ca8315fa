"""Lemma 30's exact failure probability (lemmas/appendix_b/appendix_b_multistep_contraction.py) against brute
force: every equally likely placement of colour sequences (not the library's table law), every pair."""
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.harness.discovery import load_claims
from verify.rhm import balls_into_bins as bb

load_claims(Path(__file__).resolve().parents[1] / "lemmas")
multistep = sys.modules["lemmas.appendix_b_multistep_contraction"]


def _tables_by_placement(V, m):
    out = []
    for seq in bb.enumerate_placements(V, m):
        t = np.zeros((V, V), dtype=np.int64)
        for slot, colour in enumerate(seq):
            t[slot // m, colour] += 1
        out.append(t)
    return out


@pytest.mark.parametrize("c", [1, Fraction(3, 2), 20])
def test_exact_failure_probability_matches_brute_force(c):
    V, m = 3, 2
    tabs = _tables_by_placement(V, m)
    fails = 0
    for t1 in tabs:
        for t2 in tabs:
            v = (t1 @ t2)[:, 0] - (t1 @ t2)[:, 1]            # m^2 P1 P2 (e1 - e2)
            fails += Fraction(int(v @ v), m**4) < Fraction(1) / (Fraction(c) * m) ** 2
    assert multistep.exact_failure_probability(V, m, c) == Fraction(fails, len(tabs) ** 2)
