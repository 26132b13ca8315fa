r"""Theorem 7 (Paper A, p. 10; proof p. 30), part (a): the proof's chain of Lemma 11 with its explicit
constants, at :math:`C=1`.

**Statement (proof of Theorem 7, App. A.3).** With :math:`\varepsilon^{(l)}_*=K_\rho m^{-l/2}/\sqrt{CV^2m^2sL\log m}`
and :math:`N^{(l)}\ge20(\kappa\vee(\varepsilon^{(l)}_*)^{-2})\log(Vm/\delta_P)` (eq. 10, Lemma 11, p. 13), training
levels :math:`L,\dots,1` gives, with probability :math:`\ge1-O(\delta_P)`, at every level and for every patch
:math:`\|W^{(l)}x_\mu/\langle\mathbf 1,W^{(l)}x_\mu\rangle-q^{(l)}_\mu\|\le\varepsilon^{(l)}_*`, so the top recovers every
label (the output is :math:`e_\zeta\pm_2\varepsilon^{(1)}_*`). The :math:`O(\delta_P)` is read as :math:`\delta_P`
(the package's reading: Lemma 11's union over :math:`L` levels would allow :math:`L\delta_P`; the cases report the
rate, so a reader can apply either).

**Measured:** the failure rate over :math:`R` seeded runs of the event "some level misses its
:math:`\varepsilon^{(l)}_*`, or some label is not recovered", with one-sided 99% Clopper--Pearson limits, against
:math:`\delta_P` (:mod:`verify.experiments.theorem7`). Every run uses the **oracle embedding** in place of the RBF
features (Lemma 10's width for the chain's :math:`\varepsilon_O,\varepsilon_S` is :math:`\sim10^{20}` and more);
``method``: ``learner`` trains :class:`LayerwiseRidge` on the :math:`N^{(l)}` fresh samples of each stage (GD,
Lemma 17's :math:`T^{(l)}`) and measures on a test set; ``counts`` draws each stage's sufficient statistic
(multinomial counts of (first patch, label); the same law) and measures over every patch, which reaches the
:math:`10^8`--:math:`10^{10}` samples per stage the chain asks for at :math:`|P_l|\ge64`.

**As printed and repaired.** Lemma 11's :math:`N^{(l)}` gives the rarest patch only
:math:`\approx N^{(l)}/(\kappa|P_l|)` samples: where :math:`|P_l|` exceeds about :math:`20\log(Vm/\delta_P)` the
error of :math:`\hat q_\mu` exceeds :math:`\varepsilon^{(l)}_*` (the Lemma 17/18 pages find the same). A failure
there refutes the chain as written; the same runs with the per-patch
:math:`N^{(l)}=2\kappa|P_l|\varepsilon_*^{-2}\log(4|P_l|/\delta_P)` test the repaired chain.

**Negative control:** :math:`N^{(l)}=|P_l|` samples per stage.
"""
from __future__ import annotations

import numpy as np
import torch

from verify.experiments import theorem7 as t7
from verify.experiments.sample_complexity import grammar_with_signal
from verify.harness.claims import Case, Claim, Measurement
from verify.harness.stats import CONFIDENCE, rate_limits, repetitions_to_decide

STATEMENT = (r"N^{(l)}\ge20\big(\kappa\vee(\varepsilon^{(l)}_*)^{-2}\big)\log\tfrac{Vm}{\delta_P}\ \forall l"
             r"\ \Rightarrow\ \Pr\Big[\forall l,\mu,x_\mu:\ \Big\|\tfrac{W^{(l)}x_\mu}{\langle\mathbf 1,W^{(l)}x_\mu\rangle}"
             r"-q^{(l)}_\mu\Big\|\le\varepsilon^{(l)}_*\ \text{and every label recovered}\Big]\ge1-\delta_P")
HYPOTHESES = (
    r"\text{Assumption 6: CFG-induced, }(V,m)\text{-uniform, non-ambiguous RHM; (a) }p_\mu\ge(\kappa|P_l|)^{-1}"
    r"\text{; (b) }\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|\ge K_\rho m^{-l/2}",
    r"\varepsilon^{(l)}_*=K_\rho m^{-l/2}/\sqrt{CV^2m^2sL\log m},\ C\ge1\ (\text{here }C=1)",
    r"N^{(l)}\ge20(\kappa\vee(\varepsilon^{(l)}_*)^{-2})\log(Vm/\delta_P)\ \text{(eq. 10)}",
    r"M^{(l)},T^{(l)}\ \text{large universal polynomials (here: oracle embedding, }\varepsilon_O=\varepsilon_S=0;"
    r"\ T^{(l)}=\lceil|P_l|\log(100|P_l|\kappa\sqrt{d_y}/\varepsilon^{(l)}_*)\rceil\text{, Lemma 17)}",
    r"\lambda_W=1/|P_l|,\ \eta=2|P_l|/(|P_l|+1)\ \text{(Lemma 15)}",
)


def grammar_of(p):
    return grammar_with_signal(p["V"], p["m"], p["L"], p.get("s", 2))


def runs(case: Case, generator: torch.Generator, device="cpu") -> tuple[object, list[dict], list[dict]]:
    """The case's grammar, chain parameters and its ``repetitions`` runs."""
    p = case.params
    g = grammar_of(p)
    params = t7.chain_parameters(g, p["delta"], p.get("C", 1.0), p["N_rule"], p.get("N"))
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    if p["method"] == "counts":
        rng = np.random.default_rng(seed)
        out = [t7.run_chain_counts(g, params, rng) for _ in range(p["repetitions"])]
    else:
        out = [t7.run_chain(g, params, seed + r, p.get("num_test", 2000), device, test_seed=seed + 10**6 + r)
               for r in range(p["repetitions"])]
    return g, params, out


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    g, params, out = runs(case, generator, device)
    R = len(out)
    fails = sum(not r["success"] for r in out)
    lo, hi = rate_limits(fails, R)
    need = repetitions_to_decide(fails, R, p["delta"])
    errs = np.array([r["level_errors"] for r in out])                       # (R, L), level l in column l-1
    levels = [{"level": q["level"], "num_patches": q["num_patches"], "N": q["N"], "N_lemma11": q["N_lemma11"],
               "N_per_patch": q["N_per_patch"], "eps_star": q["eps_star"], "rho": q["rho"],
               "error_median": float(np.median(errs[:, i])), "error_max": float(errs[:, i].max()),
               "runs_within_eps": int((errs[:, i] <= q["eps_star"]).sum())} for i, q in enumerate(params)]
    details = {"grammar": repr(g), "method": p["method"], "N_rule": p["N_rule"], "repetitions": R, "failures": fails,
               "kappa": params[0]["kappa"], "K_rho": params[0]["K_rho"], "delta_P": p["delta"], "levels": levels,
               "total_samples": int(sum(q["N"] for q in params)),
               # both success notions, per run
               "labels_recovered_runs": int(sum(r["labels_recovered"] for r in out)),
               "top_within_eps1_runs": int(sum(r["top_deviation"] <= params[0]["eps_star"] for r in out)),
               "chain_broken_runs": int(sum(r.get("chain_broken", False) for r in out))}
    return Measurement(value=fails / R, lower=lo, upper=hi, confidence=CONFIDENCE, details=details,
                       to_decide=None if need is None else f"about {need} runs at the observed rate {fails / R:.3g}")


def bound(case: Case):
    return case.params["delta"]


_BASE = dict(delta=0.1, s=2)

CLAIM = Claim(
    name="theorem7_chain",
    paper="A",
    reference="Theorem 7 (a): the proof's chain of Lemma 11, C = 1",
    page="p. 10, proof p. 30 (Theorem 7); p. 13 (Lemma 11, eq. 10)",
    statements=("Theorem 7", "Lemma 11"),
    alias="Theorem 4.2 (inferred)",
    hypotheses=HYPOTHESES,
    statement=STATEMENT,
    measured=r"\text{failure rate of the chain over }R\text{ runs (oracle embedding)}",
    relation="<=",
    bound=bound,
    empirical=empirical,
    cases=(
        Case("counts_lemma11_V4_m2_L3", dict(_BASE, V=4, m=2, L=3, N_rule="lemma11", method="counts", repetitions=300),
             method="empirical", seed=1,
             note="|P_l| = 8: Lemma 11's N gives every patch ~N/8 samples, enough"),
        Case("counts_per_patch_V16_m8_L2", dict(_BASE, V=16, m=8, L=2, N_rule="per_patch", method="counts",
                                                repetitions=100),
             method="empirical", seed=2, note="the repaired chain at |P_l| = 128 (N^(2) ~ 3e9 samples)"),
        Case("counts_lemma11_V16_m8_L2", dict(_BASE, V=16, m=8, L=2, N_rule="lemma11", method="counts",
                                              repetitions=100),
             method="empirical", seed=3, role="as_printed", expect=False,
             note="|P_l| = 128 > 20 log(Vm/delta_P) = 143 x (1 - ||q||^2): the rarest level-2 patch gets "
                  "~N/128 samples and q-hat misses eps_* -- the chain as written"),
        Case("counts_N_equals_P_V4_m2_L3", dict(_BASE, V=4, m=2, L=3, N_rule="fixed", N=8, method="counts",
                                                repetitions=50),
             method="empirical", seed=4, role="negative_control",
             note="N^(l) = |P_l| = 8 samples per stage: patches go unseen, q-hat is far from q"),
        Case("learner_lemma11_V4_m2_L3", dict(_BASE, V=4, m=2, L=3, N_rule="lemma11", method="learner",
                                              repetitions=44, num_test=2000),
             method="empirical", seed=5, scale="large",
             note="LayerwiseRidge.fit itself (oracle embedding, GD with Lemma 17's T, 47k + 93k + 187k fresh "
                  "samples), 44 runs: the fewest at which 0 failures can hold at 99% against delta_P = 0.1"),
        Case("counts_lemma11_V32_m8_L2", dict(_BASE, V=32, m=8, L=2, N_rule="lemma11", method="counts",
                                              repetitions=100),
             method="empirical", seed=6, role="as_printed", expect=False,
             note="|P_l| = 256: the chain as written, further from enough (N^(2) ~ 9e8 samples)"),
        Case("counts_per_patch_V32_m8_L2", dict(_BASE, V=32, m=8, L=2, N_rule="per_patch", method="counts",
                                                repetitions=100),
             method="empirical", seed=7, note="the repaired chain at |P_l| = 256 (N^(2) ~ 3e10 samples)"),
        Case("counts_lemma11_V16_m4_L4", dict(_BASE, V=16, m=4, L=4, N_rule="lemma11", method="counts",
                                              repetitions=100),
             method="empirical", seed=8, role="as_printed", expect=False,
             note="four levels at |P_l| = 64: the chain as written misses eps_* at level 2 and below"),
        Case("counts_per_patch_V16_m4_L4", dict(_BASE, V=16, m=4, L=4, N_rule="per_patch", method="counts",
                                                repetitions=100),
             method="empirical", seed=9, note="four levels, the repaired chain (N^(4) ~ 1.2e10 samples)"),
    ),
)


def findings(records: dict) -> list[str]:
    """The chain's verdicts, as printed and repaired, from the records (:mod:`verify.harness.findings`)."""
    out = []
    for rule, word in (("lemma11", "as written (Lemma 11's $N^{(l)}$)"), ("per_patch", "repaired (per-patch $N^{(l)}$)")):
        recs = [r for r in records.values() if r["details"].get("N_rule") == rule]
        if not recs:
            continue
        parts = []
        for r in sorted(recs, key=lambda r: max(lv["num_patches"] for lv in r["details"]["levels"])):
            d = r["details"]
            worst = max(lv["error_max"] / lv["eps_star"] for lv in d["levels"])
            parts.append(f"{d['grammar'].split('(')[1].split(', sampler')[0]}: {d['failures']}/{d['repetitions']} runs fail "
                         f"({r['status']}; largest error {worst:.2f} × ε*)")
        out.append(f"**Theorem 7's chain {word}**, $C=1$, oracle embedding: " + "; ".join(parts) + ".")
    return out
