"""Fuzz every public function of ``verify.rhm`` (but ``assumptions``), ``verify.features``, ``verify.ptf`` and
``verify.harness.stats`` (issue 13: "no silent wrong answer").

Each public callable (listed from the modules' ``__all__``; :func:`test_every_public_callable_is_fuzzed` checks
that the lists are complete and that each callable has a spec here) gets a :class:`Spec`: a strategy for valid
arguments, pools of invalid values per parameter (``bad``) and of values that may be valid or not (``maybe``:
huge sizes, inconsistent combinations), and an oracle for the result. One example corrupts at most one
parameter, then the call must end in one of two ways:

- a ``ValueError`` whose message names the corrupted parameter (or, for valid arguments, one the spec allows:
  a memory refusal, say), or
- a result that the oracle accepts (shapes, ranges, finiteness, an identity or an independent brute force).

Anything else fails the test: another exception, a ``ValueError`` that does not name the parameter, or a
result for an invalid argument (a silent answer). ``KNOWN`` lists bad calls found by hand (the issue's and
more), checked the same way.

``python tests/test_fuzz_api.py --count N`` counts outcomes (N examples per spec, derandomized, each call under
an alarm) instead of asserting; run with ``PYTHONPATH`` pointing at another copy of ``verify`` to count its
outcomes (how issue 13's before/after numbers were made).
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import itertools
import math
import os
import re
import signal
import sys
from fractions import Fraction
from typing import Any, Callable

import numpy as np
import pytest
import sympy
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

# Requests above this are refused by the memory guards: the fuzzer's huge sizes must never be allocated.
# Set for this module's tests only (an autouse fixture), never for the rest of the session.
FUZZ_MEMORY_LIMIT_GB = "0.5"

from verify.strategies import grammars, ptf_hierarchies, rhm_parameters  # noqa: E402


@pytest.fixture(autouse=True)
def _fuzz_memory_limit(monkeypatch):
    monkeypatch.setenv("VERIFY_MEMORY_LIMIT_GB", FUZZ_MEMORY_LIMIT_GB)

MODULES = ["verify.rhm.grammar", "verify.rhm.sampling", "verify.rhm.exact", "verify.rhm.enumerate",
           "verify.rhm.balls_into_bins", "verify.features.rff", "verify.features.random_neurons",
           "verify.features.clustering", "verify.ptf.polynomial", "verify.ptf.hierarchy", "verify.ptf.generators",
           "verify.ptf.fourier", "verify.ptf.brain_dump", "verify.harness.stats"]
PACKAGES = ["verify.rhm", "verify.ptf"]

# Public classes whose instances are results (records the library builds), not entry points: their
# constructors take whatever the library gives them. Their public methods are fuzzed where they have any.
RECORDS = {"verify.rhm.sampling.Parse", "verify.rhm.enumerate.Derivations", "verify.rhm.exact.FirstPatchLaw",
           "verify.ptf.brain_dump.BrainDump"}


def M(path: str):
    """The attribute ``module.name`` looked up at call time (so that an older copy of the package can be
    counted even where it lacks a name)."""
    mod, _, name = path.rpartition(".")
    return getattr(importlib.import_module(mod), name)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -- the framework -----------------------------------------------------------------------------------------
@dataclasses.dataclass
class Spec:
    call: Callable[..., Any]                 # call(**kwargs)
    valid: st.SearchStrategy                 # draws a dict of valid keyword arguments
    bad: dict = dataclasses.field(default_factory=dict)     # name -> list, or kwargs -> list, of invalid values
    maybe: dict = dataclasses.field(default_factory=dict)   # name -> values that may be valid or not
    oracle: Callable[[dict, Any], bool] = lambda kw, out: True
    refusable: Callable[[dict], bool] = lambda kw: False  # valid arguments that may still be refused
    examples: int = 25
    always_corrupt: bool = False             # valid calls too slow to fuzz (covered by the module's own tests)


SPECS: dict[str, Spec] = {}


def spec(name: str, call, valid, **kw):
    SPECS[name] = Spec(call, valid, **kw)


def _pool(p, kw):
    return list(p(kw)) if callable(p) else list(p)


def names_param(message: str, param: str) -> bool:
    base = param.split(".")[-1]
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(base)}(?![A-Za-z0-9_])", message) is not None


class Hang(Exception):
    pass


TIMEOUT_S = 0  # set by the counting mode: each call under an alarm


def _alarm(signum, frame):
    raise Hang()


def outcome(s: Spec, kw: dict, corrupt: str | None, kind: str | None) -> tuple[str, str]:
    """Run one call: ``("clear"|"accepted"|"silent"|"unclear"|"other"|"refused_valid"|"hang", detail)``."""
    if TIMEOUT_S:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(TIMEOUT_S)
    try:
        try:
            out = s.call(**kw)
        finally:
            if TIMEOUT_S:
                signal.alarm(0)
    except Hang:
        return "hang", f"no answer in {TIMEOUT_S} s"
    except ValueError as err:
        msg = str(err)
        if corrupt is None:
            return ("clear", msg) if s.refusable(kw) else ("refused_valid", msg)
        if names_param(msg, corrupt):
            return "clear", msg
        if kind == "maybe" and s.refusable(kw):
            return "clear", msg
        return "unclear", f"{type(err).__name__}: {msg}"
    except (MemoryError, RecursionError, Exception) as err:  # noqa: BLE001 - the fuzzer's finding
        return "other", f"{type(err).__name__}: {err}"
    if corrupt is not None and kind == "bad":
        return "silent", f"returned {type(out).__name__} for {corrupt}={kw.get(corrupt, '(see the call)')!r}"
    try:
        ok = s.oracle(kw, out)
    except Exception as err:  # noqa: BLE001 - an oracle that cannot read the result rejects it
        return "silent", f"oracle raised {type(err).__name__}: {err}"
    return ("accepted", "") if ok else ("silent", "the oracle rejected the result")


@st.composite
def calls(draw, s: Spec):
    kw = dict(draw(s.valid))
    params = sorted(set(s.bad) | set(s.maybe))
    choices = params if s.always_corrupt else [None, None] + params
    corrupt = draw(st.sampled_from(choices)) if choices else None
    kind = None
    if corrupt is not None:
        bad, maybe = _pool(s.bad.get(corrupt, ()), kw), _pool(s.maybe.get(corrupt, ()), kw)
        pools = ([("bad", v) for v in bad] + [("maybe", v) for v in maybe])
        if not pools:
            corrupt = None
        else:
            kind, value = draw(st.sampled_from(pools))
            kw[corrupt] = value
    return kw, corrupt, kind


FUZZ = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))
RECORD: list | None = None  # the counting mode's outcomes


# Derandomized by default, so CI is deterministic; VERIFY_FUZZ_RANDOM=1 explores fresh examples.
DERANDOMIZE = os.environ.get("VERIFY_FUZZ_RANDOM") != "1"


def run_spec(name: str, examples: int | None = None, derandomize: bool = DERANDOMIZE):
    s = SPECS[name]
    scale = float(os.environ.get("VERIFY_FUZZ_SCALE", "1"))  # more examples for a deeper local run

    @settings(max_examples=examples or max(1, int(s.examples * scale)), derandomize=derandomize, **FUZZ)
    @given(c=calls(s))
    def check(c):
        kw, corrupt, kind = c
        res, detail = outcome(s, kw, corrupt, kind)
        if RECORD is not None:
            RECORD.append((name, res, corrupt, detail))
            return
        assert res in ("clear", "accepted"), f"{name}: {res} ({detail}); corrupt={corrupt} ({kind}); kwargs={kw!r}"

    check()


# -- shared pools ------------------------------------------------------------------------------------------
NAN, INF = float("nan"), float("inf")
BAD_INT = ["3", None, 2.5, NAN, [1], 1 + 1j]
BAD_GEN = [None, 0, "seed", np.random.default_rng(0)]
BAD_RNG = [None, 0, "seed", torch.Generator()]
BAD_DEVICE = ["gpu", 3, "nonsense:0"]
BAD_TENSOR = [None, "x", [[1.0, 2.0]]]
HUGE = [10**12, 2**45]


def bad_ints(lo: int, hi: int | None = None) -> list:
    """Invalid values for an integer parameter in ``[lo, hi]``."""
    return [lo - 1, lo - 7] + ([hi + 1] if hi is not None else []) + BAD_INT + [True]


def close(a, b, tol=1e-9) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=tol, atol=tol))


def finite_tensor(t) -> bool:
    return isinstance(t, torch.Tensor) and bool(torch.isfinite(t).all())


def with_nan(t: torch.Tensor) -> torch.Tensor:
    t = t.clone().to(torch.float64)
    if t.numel():
        t.view(-1)[0] = NAN
    return t


SMALL = dict(max_features=4, max_synonyms=2, max_tuple_size=2, max_layers=2)
small_grammars = grammars(**SMALL)


# -- verify.rhm ----------------------------------------------------------------------------------------------
def params_ok(V, n_c, m, s, L, sampler) -> bool:
    """The RHM parameter constraints, written apart from ``check_parameters``."""
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (V, n_c, m, s, L)):
        return False
    if V < 2 or n_c < 2 or m < 1 or s < 2 or L < 1 or sampler not in ("authors", "appendix_b"):
        return False
    if s * math.log2(V) >= 62 or L * math.log2(s) >= 62:
        return False
    if m * n_c > V**s or (L >= 2 and m * V > V**s):
        return False
    if sampler == "appendix_b" and ((n_c * m) % V or max(n_c * m // V, m if L >= 2 else 0) > V ** (s - 1)):
        return False
    return True


def language(g) -> set:
    """Every (input, label) of a tiny grammar, by top-down recursion over its rule arrays."""
    def words(sym: int, depth: int) -> list:
        if depth == len(g.rules):
            return [(sym,)]
        out = []
        for rule in np.asarray(g.rules[depth][sym]).tolist():
            for parts in itertools.product(*[words(int(c), depth + 1) for c in rule]):
                out.append(sum(parts, ()))
        return out
    return {(w, z) for z in range(g.num_classes) for w in words(z, 0)}


def rules_ok(kw) -> bool:
    """Whether Grammar(**kw) describes a valid grammar (checked apart from the constructor)."""
    rules, V, n_c = kw["rules"], kw["num_features"], kw["num_classes"]
    if not isinstance(rules, tuple) or not rules or kw.get("sampler", "hand") not in ("authors", "appendix_b", "hand"):
        return False
    seed = kw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        return False
    arrays = [np.asarray(r) for r in rules]
    if any(a.ndim != 3 or a.dtype.kind not in "iu" for a in arrays):
        return False
    m, s = arrays[0].shape[1:]
    if (kw["num_synonyms"], kw["tuple_size"], kw["num_layers"]) != (m, s, len(arrays)):
        return False
    if not params_ok(V, n_c, m, s, len(arrays), "authors"):
        return False
    for l, a in enumerate(arrays):
        if a.shape != ((n_c if l == 0 else V), m, s) or a.min() < 0 or a.max() >= V:
            return False
        patches = [tuple(p) for p in a.reshape(-1, s).tolist()]
        if len(set(patches)) != len(patches):
            return False
        if kw.get("sampler") == "appendix_b":
            counts = np.bincount(a[:, :, 0].ravel(), minlength=V)
            if (counts != counts[0]).any():
                return False
    return True


@st.composite
def grammar_kwargs(draw, seed: bool = True):
    V, n_c, m, s, L, sampler = draw(rhm_parameters(**SMALL))
    kw = dict(num_features=V, num_classes=n_c, num_synonyms=m, tuple_size=s, num_layers=L)
    if seed:
        kw.update(seed=draw(st.integers(0, 2**31)), sampler=sampler)
    else:
        kw.update(sampler=sampler)
    return kw


RHM_BAD = dict(num_features=bad_ints(2), num_classes=bad_ints(2), num_synonyms=bad_ints(1),
               tuple_size=bad_ints(2), num_layers=bad_ints(1), sampler=["cagnetta", None, 3, ["authors"]])
RHM_MAYBE = dict(num_features=[3, 5, 2**31, 2**40], num_classes=[3, 5, 7, 100], num_synonyms=[2, 3, 5, 64],
                 tuple_size=[3, 40], num_layers=[3, 40, 70, 10**9])


def check_parameters_ok(kw, out):
    args = [kw[k] for k in ("num_features", "num_classes", "num_synonyms", "tuple_size", "num_layers")]
    return params_ok(*args, kw["sampler"]) and out == tuple(int(a) for a in args)


spec("verify.rhm.grammar.check_parameters", lambda **kw: M("verify.rhm.grammar.check_parameters")(**kw),
     grammar_kwargs(seed=False), bad=RHM_BAD, maybe=RHM_MAYBE, oracle=check_parameters_ok, examples=60)


def sampled_grammar_ok(kw, g):
    args = [kw[k] for k in ("num_features", "num_classes", "num_synonyms", "tuple_size", "num_layers")]
    if not params_ok(*args, kw["sampler"]):
        return False
    fields = dict(num_features=g.num_features, num_classes=g.num_classes, num_synonyms=g.num_synonyms,
                  tuple_size=g.tuple_size, num_layers=g.num_layers, rules=g.rules, sampler=g.sampler, seed=g.seed)
    return rules_ok(fields) and [fields[k] for k in ("num_features", "num_classes", "num_synonyms", "tuple_size",
                                                     "num_layers")] == args and g.seed == kw["seed"]


spec("verify.rhm.grammar.sample_grammar", lambda **kw: M("verify.rhm.grammar.sample_grammar")(**kw),
     grammar_kwargs(), bad={**RHM_BAD, "seed": [-1, 2.5, None, "0", True]}, maybe=RHM_MAYBE,
     oracle=sampled_grammar_ok, refusable=lambda kw: False, examples=50)


@st.composite
def params_dicts(draw):
    kw = draw(grammar_kwargs())
    p = dict(V=kw["num_features"], n_c=kw["num_classes"], m=kw["num_synonyms"], s=kw["tuple_size"],
             L=kw["num_layers"], grammar_seed=kw["seed"])
    if draw(st.booleans()):
        return dict(params={**p, "sampler": kw["sampler"]}, sampler=draw(st.sampled_from([None, "authors"])))
    return dict(params=p, sampler=kw["sampler"])


spec("verify.rhm.grammar.grammar_from_params", lambda **kw: M("verify.rhm.grammar.grammar_from_params")(**kw),
     params_dicts(), bad=dict(params=[None, [], "V=4", {"V": 4}, lambda: 0], sampler=["cagnetta", 3]),
     oracle=lambda kw, g: g.num_features == kw["params"]["V"] and g.seed == kw["params"]["grammar_seed"]
     and g.sampler == kw["params"].get("sampler", kw["sampler"]))


@st.composite
def patch_arrays(draw):
    V, s = draw(st.integers(2, 6)), draw(st.integers(1, 4))
    n = draw(st.integers(1, 5))
    return dict(patches=np.array(draw(st.lists(st.lists(st.integers(0, V - 1), min_size=s, max_size=s),
                                               min_size=n, max_size=n)), dtype=np.int64).reshape(n, s),
                num_features=V)


def code_of(p, V) -> int:
    c = 0
    for t in p:
        c = c * V + int(t)
    return c


spec("verify.rhm.grammar.encode_patches", lambda **kw: M("verify.rhm.grammar.encode_patches")(**kw), patch_arrays(),
     bad=dict(patches=lambda kw: [kw["patches"] + 0.5, kw["patches"] - 1 - kw["patches"], kw["patches"] + kw["num_features"],
                                  "ab", None, 3],
              num_features=[1, 0, -3, 2.5, None, "4", True]),
     maybe=dict(patches=lambda kw: [kw["patches"].astype(float)]),
     oracle=lambda kw, out: [int(c) for c in np.asarray(out).ravel()] ==
     [code_of(p, kw["num_features"]) for p in np.asarray(kw["patches"]).reshape(-1, np.shape(kw["patches"])[-1]).tolist()])


@st.composite
def code_arrays(draw):
    V, s = draw(st.integers(2, 6)), draw(st.integers(1, 4))
    return dict(codes=np.array(draw(st.lists(st.integers(0, V**s - 1), max_size=6)), dtype=np.int64),
                num_features=V, tuple_size=s)


spec("verify.rhm.grammar.decode_patches", lambda **kw: M("verify.rhm.grammar.decode_patches")(**kw), code_arrays(),
     bad=dict(codes=[[-1], [1.5], "3", None, [10**18]], num_features=[1, 0, 2.5, None, True],
              tuple_size=[0, -1, 1.5, None, "2"]),
     maybe=dict(codes=[10**30]),
     oracle=lambda kw, out: np.shape(out) == np.shape(kw["codes"]) + (kw["tuple_size"],)
     and all(code_of(p, kw["num_features"]) == c for p, c in zip(np.asarray(out).reshape(-1, kw["tuple_size"]).tolist(),
                                                                 np.asarray(kw["codes"]).ravel().tolist())))


@st.composite
def grammar_fields(draw):
    g = draw(small_grammars)
    return dict(num_features=g.num_features, num_classes=g.num_classes, num_synonyms=g.num_synonyms,
                tuple_size=g.tuple_size, num_layers=g.num_layers, rules=g.rules, sampler=g.sampler, seed=g.seed)


def _aliased(rules):
    r = [np.array(a) for a in rules]
    flat = r[-1].reshape(-1, r[-1].shape[-1])
    flat[1] = flat[0]  # one patch produced twice
    r[-1] = flat.reshape(r[-1].shape)
    return tuple(r)


def _negative(rules):
    r = [np.array(a) for a in rules]
    r[0].flat[0] = -1
    return tuple(r)


GRAMMAR_BAD = dict(
    num_synonyms=lambda kw: [kw["num_synonyms"] + 1, 0, 2.5, None],
    tuple_size=lambda kw: [kw["tuple_size"] + 1, 1, None],
    num_layers=lambda kw: [kw["num_layers"] + 1, 0, 1.5],
    num_classes=lambda kw: [kw["num_classes"] + 1, 1, None, 2.5],
    rules=lambda kw: [tuple(a.astype(float) for a in kw["rules"]), list(kw["rules"]), _aliased(kw["rules"]),
                      _negative(kw["rules"]), None, (), "rules"],
    sampler=["cagnetta", None, 3], seed=[-1, 2.5, "0", True])
spec("verify.rhm.grammar.Grammar", lambda **kw: M("verify.rhm.grammar.Grammar")(**kw), grammar_fields(),
     bad=GRAMMAR_BAD, maybe=dict(num_features=lambda kw: [kw["num_features"] + 1, kw["num_features"] - 1, 1],
                                 sampler=["appendix_b", "authors", "hand"]),
     oracle=lambda kw, g: rules_ok(kw), examples=40)


@st.composite
def rule_lists(draw):
    g = draw(small_grammars)
    return dict(rules=list(g.rules), num_features=g.num_features, num_classes=g.num_classes)


spec("verify.rhm.grammar.Grammar.from_rules", lambda **kw: M("verify.rhm.grammar.Grammar").from_rules(**kw),
     rule_lists(), bad=dict(rules=lambda kw: [None, [], "abc", [np.zeros((2, 2), dtype=int)], [[[0, 1], [1]]],
                                             [r.astype(float) for r in kw["rules"]]],
                            num_classes=lambda kw: [kw["num_classes"] + 1, 1, None, 2.5]),
     maybe=dict(num_features=lambda kw: [kw["num_features"] + 1, kw["num_features"] - 1, 1, None]),
     oracle=lambda kw, g: rules_ok(dict(rules=tuple(np.asarray(r) for r in kw["rules"]), num_features=kw["num_features"],
                                        num_classes=kw["num_classes"], num_synonyms=g.num_synonyms,
                                        tuple_size=g.tuple_size, num_layers=g.num_layers)))


@st.composite
def grammar_level(draw, lo=1):
    g = draw(small_grammars)
    return dict(grammar=g, level=draw(st.integers(lo, g.num_layers)))


def _levels(lo):
    return lambda kw: [lo - 1, kw["grammar"].num_layers + 1, 1.5, None, "1", True]


spec("verify.rhm.grammar.Grammar.vocabulary_size", lambda grammar, level: grammar.vocabulary_size(level),
     grammar_level(0), bad=dict(level=_levels(0)),
     oracle=lambda kw, v: v == (kw["grammar"].num_classes if kw["level"] == 0 else kw["grammar"].num_features))
spec("verify.rhm.grammar.Grammar.num_patches", lambda grammar, level: grammar.num_patches(level),
     grammar_level(), bad=dict(level=_levels(1)),
     oracle=lambda kw, v: v == len(kw["grammar"].rules[kw["level"] - 1]) * kw["grammar"].num_synonyms)
spec("verify.rhm.grammar.Grammar.patches", lambda grammar, level: grammar.patches(level),
     grammar_level(), bad=dict(level=_levels(1)),
     oracle=lambda kw, p: np.array_equal(p, np.asarray(kw["grammar"].rules[kw["level"] - 1]).reshape(-1, kw["grammar"].tuple_size)))
spec("verify.rhm.grammar.Grammar.parents", lambda grammar, level: grammar.parents(level),
     grammar_level(), bad=dict(level=_levels(1)),
     oracle=lambda kw, p: [int(v) for v in p] == [nu for nu in range(len(kw["grammar"].rules[kw["level"] - 1]))
                                                  for _ in range(kw["grammar"].num_synonyms)])

BAD_GRAMMAR = [None, "grammar", (4, 4, 2, 2, 2)]


@st.composite
def sample_kwargs(draw, batch: bool = True):
    kw = dict(grammar=draw(small_grammars), n=draw(st.integers(0, 12)), generator=gen(draw(st.integers(0, 99))),
              device=draw(st.sampled_from([None, "cpu", torch.device("cpu")])))
    if batch:
        kw["batch_size"] = draw(st.integers(1, 8))
    return kw


def sample_ok(kw, out):
    g, n = kw["grammar"], kw["n"]
    x, y = out
    if tuple(x.shape) != (n, g.input_length) or tuple(y.shape) != (n,) or x.dtype != torch.long:
        return False
    lang = language(g)
    return all((tuple(r), int(z)) in lang for r, z in zip(x.tolist(), y.tolist()))


SAMPLE_BAD = dict(grammar=BAD_GRAMMAR, n=bad_ints(0), generator=BAD_GEN, device=BAD_DEVICE)
spec("verify.rhm.sampling.sample", lambda **kw: M("verify.rhm.sampling.sample")(**kw), sample_kwargs(),
     bad={**SAMPLE_BAD, "batch_size": bad_ints(1)}, maybe=dict(n=HUGE), oracle=sample_ok, examples=40)


def derivations_ok(kw, out):
    g, n = kw["grammar"], kw["n"]
    y, choices = out
    return (tuple(y.shape) == (n,) and len(choices) == g.num_layers
            and all(tuple(c.shape) == (n, g.tuple_size**l) for l, c in enumerate(choices))
            and all(int(c.min()) >= 0 and int(c.max()) < g.num_synonyms for c in choices if c.numel())
            and (n == 0 or (int(y.min()) >= 0 and int(y.max()) < g.num_classes)))


spec("verify.rhm.sampling.sample_derivations", lambda **kw: M("verify.rhm.sampling.sample_derivations")(**kw),
     sample_kwargs(batch=False), bad=SAMPLE_BAD, maybe=dict(n=HUGE), oracle=derivations_ok)


def spine_ok(kw, out):
    g, n = kw["grammar"], kw["n"]
    y, fp = out
    if tuple(y.shape) != (n,) or tuple(fp.shape) != (n, g.num_layers):
        return False
    m = g.num_synonyms
    sym = y.numpy()
    for l in range(g.num_layers):
        idx = fp[:, l].numpy()
        if not (idx // m == sym).all():
            return False
        sym = np.asarray(g.rules[l]).reshape(-1, g.tuple_size)[idx, 0]
    return True


spec("verify.rhm.sampling.sample_spine", lambda **kw: M("verify.rhm.sampling.sample_spine")(**kw),
     sample_kwargs(batch=False), bad=SAMPLE_BAD, maybe=dict(n=HUGE), oracle=spine_ok)


@st.composite
def expand_kwargs(draw):
    g = draw(small_grammars)
    n = draw(st.integers(1, 6))
    y = torch.tensor(draw(st.lists(st.integers(0, g.num_classes - 1), min_size=n, max_size=n)))
    choices = [torch.tensor(draw(st.lists(st.lists(st.integers(0, g.num_synonyms - 1), min_size=g.tuple_size**l,
                                                   max_size=g.tuple_size**l), min_size=n, max_size=n)))
               for l in range(g.num_layers)]
    return dict(grammar=g, labels=y, choices=choices)


def expand_ok(kw, x):
    g = kw["grammar"]
    seqs = []
    for i, z in enumerate(kw["labels"].tolist()):  # top-down, node by node, from the rule arrays
        seq = [z]
        for l in range(g.num_layers):
            seq = [int(t) for k, sym in enumerate(seq)
                   for t in np.asarray(g.rules[l])[sym, int(kw["choices"][l][i, k])]]
        seqs.append(seq)
    return x.tolist() == seqs


spec("verify.rhm.sampling.expand", lambda **kw: M("verify.rhm.sampling.expand")(**kw), expand_kwargs(),
     bad=dict(grammar=BAD_GRAMMAR,
              labels=lambda kw: [kw["labels"] + kw["grammar"].num_classes, kw["labels"] - kw["grammar"].num_classes,
                                 kw["labels"].float(), kw["labels"].numpy(), None],
              choices=lambda kw: [kw["choices"][:-1], [c + kw["grammar"].num_synonyms for c in kw["choices"]],
                                  [c - kw["grammar"].num_synonyms for c in kw["choices"]],
                                  [c.float() for c in kw["choices"]], [c[:, :1] if c.shape[1] > 1 else c[:0]
                                                                       for c in kw["choices"]], None]),
     oracle=expand_ok)


@st.composite
def parse_kwargs(draw):
    g = draw(small_grammars)
    x, _ = M("verify.rhm.sampling.sample")(g, draw(st.integers(1, 6)), gen(draw(st.integers(0, 99))))
    return dict(grammar=g, x=x)


def _flip(kw):
    x = kw["x"].clone()
    if x.numel():
        x.view(-1)[0] = (x.view(-1)[0] + 1) % kw["grammar"].num_features
    return [x]


spec("verify.rhm.sampling.parse", lambda **kw: M("verify.rhm.sampling.parse")(**kw), parse_kwargs(),
     bad=dict(grammar=BAD_GRAMMAR,
              x=lambda kw: [kw["x"] + kw["grammar"].num_features, kw["x"] - kw["grammar"].num_features,
                            kw["x"].float(), kw["x"][:, :-1], kw["x"].numpy(), None]),
     maybe=dict(x=_flip),
     oracle=lambda kw, p: all((tuple(r), int(z)) in language(kw["grammar"])
                              for r, z in zip(kw["x"].tolist(), p.labels.tolist())))


@st.composite
def one_hot_kwargs(draw):
    V = draw(st.integers(1, 6))
    x = torch.tensor(draw(st.lists(st.integers(0, V - 1), min_size=1, max_size=8)), dtype=torch.long)
    return dict(x=x, num_features=V, dtype=draw(st.sampled_from([torch.float32, torch.float64, torch.int64])))


spec("verify.rhm.sampling.one_hot", lambda **kw: M("verify.rhm.sampling.one_hot")(**kw), one_hot_kwargs(),
     bad=dict(x=lambda kw: [kw["x"] + kw["num_features"], kw["x"] - kw["num_features"] - 1, kw["x"].float() + 0.5,
                            None, [[0, 1]]],
              num_features=[0, -1, 2.5, None, True], dtype=["float", None, torch.complex64]),
     maybe=dict(x=[torch.zeros(10**5, dtype=torch.long)], num_features=HUGE),
     oracle=lambda kw, out: tuple(out.shape) == tuple(kw["x"].shape) + (kw["num_features"],)
     and bool((out.sum(-1) == 1).all()) and (kw["x"].numel() == 0 or torch.equal(out.argmax(-1), kw["x"])))



def first_patch_brute(g, level: int) -> dict:
    """Pr[label = z, first level-``level`` patch = mu] by walking every spine of rule choices (exact)."""
    m, out = g.num_synonyms, {}

    def walk(sym, depth, prob, z):
        for r in range(m):
            idx = sym * m + r
            if depth + 1 == level:
                out[(idx, z)] = out.get((idx, z), Fraction(0)) + prob / m
            else:
                walk(int(np.asarray(g.rules[depth])[sym, r, 0]), depth + 1, prob / m, z)
    for z in range(g.num_classes):
        walk(z, 0, Fraction(1, g.num_classes), z)
    return out


@st.composite
def exact_kwargs(draw, level: bool = True):
    g = draw(small_grammars)
    kw = dict(grammar=g, arithmetic=draw(st.sampled_from(["auto", "fraction", "float64"])))
    if level:
        kw["level"] = draw(st.integers(1, g.num_layers))
    return kw


EXACT_BAD = dict(grammar=BAD_GRAMMAR, level=_levels(1), arithmetic=["exact", None, 1, ["fraction"]])


def transition_ok(g, level, P) -> bool:
    r = np.asarray(g.rules[level - 1])
    want = [[sum(1 for k in range(g.num_synonyms) if r[nu, k, 0] == mu) / g.num_synonyms
             for mu in range(g.num_features)] for nu in range(len(r))]
    return np.shape(P) == (len(r), g.num_features) and close(np.asarray(P, dtype=float), want, 1e-12)


spec("verify.rhm.exact.transition_matrix", lambda **kw: M("verify.rhm.exact.transition_matrix")(**kw), exact_kwargs(),
     bad=EXACT_BAD, oracle=lambda kw, P: transition_ok(kw["grammar"], kw["level"], P))
spec("verify.rhm.exact.transition_matrices", lambda **kw: M("verify.rhm.exact.transition_matrices")(**kw),
     exact_kwargs(level=False), bad={k: v for k, v in EXACT_BAD.items() if k != "level"},
     oracle=lambda kw, Ps: len(Ps) == kw["grammar"].num_layers
     and all(transition_ok(kw["grammar"], l + 1, P) for l, P in enumerate(Ps)))


def law_ok(g, level, law) -> bool:
    joint = first_patch_brute(g, level)
    P = g.num_patches(level)
    p = [sum((v for (i, z), v in joint.items() if i == mu), Fraction(0)) for mu in range(P)]
    if not close(np.asarray(law.p, dtype=float), [float(v) for v in p], 1e-12):
        return False
    for mu in range(P):
        q = law.patch_q(mu)
        if (q is None) != (p[mu] == 0):
            return False
        if q is not None and not close(np.asarray(q, dtype=float),
                                       [float(joint.get((mu, z), 0) / p[mu]) for z in range(g.num_classes)], 1e-12):
            return False
    return True


for _name in ("first_patch_law", "conditional_q"):
    spec(f"verify.rhm.exact.{_name}", (lambda f: lambda **kw: M(f"verify.rhm.exact.{f}")(**kw))(_name),
         exact_kwargs(), bad=EXACT_BAD, oracle=lambda kw, law: law_ok(kw["grammar"], kw["level"], law))
spec("verify.rhm.exact.p_first_patch", lambda **kw: M("verify.rhm.exact.p_first_patch")(**kw), exact_kwargs(),
     bad=EXACT_BAD, oracle=lambda kw, p: close(np.asarray(p, dtype=float), [
         float(sum((v for (i, z), v in first_patch_brute(kw["grammar"], kw["level"]).items() if i == mu), Fraction(0)))
         for mu in range(kw["grammar"].num_patches(kw["level"]))], 1e-12))


@st.composite
def patch_q_kwargs(draw):
    kw = draw(exact_kwargs())
    law = M("verify.rhm.exact.first_patch_law")(**kw)
    return dict(law=law, patch=draw(st.integers(0, law.num_patches - 1)), g=kw["grammar"], level=kw["level"])


def patch_q_ok(kw, q):
    joint = first_patch_brute(kw["g"], kw["level"])
    p = sum((v for (i, z), v in joint.items() if i == kw["patch"]), Fraction(0))
    if p == 0:
        return q is None
    return q is not None and close(np.asarray(q, dtype=float),
                                   [float(joint.get((kw["patch"], z), 0) / p) for z in range(kw["g"].num_classes)], 1e-12)


spec("verify.rhm.exact.FirstPatchLaw.patch_q", lambda law, patch, g, level: law.patch_q(patch), patch_q_kwargs(),
     bad=dict(patch=lambda kw: [-1, -kw["law"].num_patches, kw["law"].num_patches, 1.5, None, "0"]), oracle=patch_q_ok)


spec("verify.rhm.enumerate.num_derivations", lambda **kw: M("verify.rhm.enumerate.num_derivations")(**kw),
     st.builds(lambda g: dict(grammar=g), small_grammars), bad=dict(grammar=BAD_GRAMMAR),
     oracle=lambda kw, n: n == len(language(kw["grammar"])))


@st.composite
def enumerate_kwargs(draw):
    g = draw(small_grammars)
    return dict(grammar=g, limit=draw(st.integers(M("verify.rhm.enumerate.num_derivations")(g), 10**6)))


def enumeration_ok(kw, d):
    lang = language(kw["grammar"])
    got = {(tuple(r), int(z)) for r, z in zip(d.x.tolist(), d.labels.tolist())}
    return len(d.x) == len(lang) and got == lang and d.probability == Fraction(1, len(lang))


spec("verify.rhm.enumerate.enumerate_derivations",
     lambda **kw: M("verify.rhm.enumerate.enumerate_derivations")(**kw), enumerate_kwargs(),
     bad=dict(grammar=BAD_GRAMMAR, limit=[0, -1, 2.5, None, "10", True]), maybe=dict(limit=[1, 2, 3]),
     oracle=enumeration_ok, refusable=lambda kw: False)


# -- verify.rhm.balls_into_bins --------------------------------------------------------------------------------
BIB = "verify.rhm.balls_into_bins."


@st.composite
def tables(draw, max_rows=3, max_cols=3, max_entry=3):
    r, c = draw(st.integers(1, max_rows)), draw(st.integers(1, max_cols))
    return np.array(draw(st.lists(st.lists(st.integers(0, max_entry), min_size=c, max_size=c), min_size=r, max_size=r)))


def _brute_table_probability(t) -> Fraction:
    """Pr[N = t]: place the column-sum balls into row slots, every distinct arrangement equally likely."""
    t = np.asarray(t)
    rows, cols = t.sum(1), t.sum(0)
    if t.sum() == 0:
        return Fraction(1)
    balls = [c for c, k in enumerate(cols) for _ in range(k)]
    perms = set(itertools.permutations(balls))
    slot_row = [i for i, a in enumerate(rows) for _ in range(a)]
    hits = 0
    for seq in perms:
        n = np.zeros_like(t)
        for row, col in zip(slot_row, seq):
            n[row, col] += 1
        hits += np.array_equal(n, t)
    return Fraction(hits, len(perms))


TABLE_BAD = [[[1.5, 0]], [[-1, 0]], [1, 2], None, "table", [[NAN]], [[True, False]]]
spec(BIB + "table_probability", lambda **kw: M(BIB + "table_probability")(**kw),
     st.builds(lambda t: dict(table=t), tables(max_rows=2, max_cols=3, max_entry=2)),
     bad=dict(table=TABLE_BAD), maybe=dict(table=[[[10**6]], [[10**30]]]),
     oracle=lambda kw, p: p == _brute_table_probability(kw["table"]))


@st.composite
def seq_hyper_kwargs(draw):
    t = draw(tables())
    cs = None if draw(st.booleans()) else draw(st.lists(st.integers(0, 6), min_size=t.shape[1], max_size=t.shape[1]))
    return dict(table=t, column_sums=cs)


def seq_hyper_ok(kw, p):
    t = np.asarray(kw["table"])
    cs = t.sum(0) if kw["column_sums"] is None else np.asarray(kw["column_sums"])
    if not 0 <= p <= 1:
        return False
    if (cs.sum() != t.sum()) or (t.sum(0) > cs).any() or (t.sum(0) != cs).any():
        return p == 0
    return p == M(BIB + "table_probability")(t) if t.size <= 6 else True


spec(BIB + "sequential_hypergeometric_probability",
     lambda **kw: M(BIB + "sequential_hypergeometric_probability")(**kw), seq_hyper_kwargs(),
     bad=dict(table=TABLE_BAD, column_sums=lambda kw: [[-1] * kw["table"].shape[1], [0] * (kw["table"].shape[1] + 1),
                                                      "ab", [1.5] * kw["table"].shape[1], 3]),
     oracle=seq_hyper_ok)


@st.composite
def tables_kwargs(draw):
    nb, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    nc = draw(st.sampled_from([None] + [c for c in range(1, 4) if (m * nb) % c == 0]))
    return dict(num_bins=nb, m=m, num_colours=nc)


def tables_ok(kw, it):
    items = list(itertools.islice(it, 200))
    nc = kw["num_colours"] or kw["num_bins"]
    col = kw["m"] * kw["num_bins"] // nc
    ok = all(t.shape == (kw["num_bins"], nc) and (t.sum(1) == kw["m"]).all() and (t.sum(0) == col).all()
             and 0 < p <= 1 for t, p in items)
    return ok and (len(items) == 200 or sum(p for _, p in items) == 1)


spec(BIB + "enumerate_tables", lambda **kw: M(BIB + "enumerate_tables")(**kw), tables_kwargs(),
     bad=dict(num_bins=bad_ints(1), m=bad_ints(1), num_colours=[0, -1, 1.5, "2", True]),
     maybe=dict(num_colours=[4, 5, 7], m=[10**6]), oracle=tables_ok)


def placements_ok(kw, it):
    V, m = kw["V"], kw["m"]
    items = list(itertools.islice(it, 200))
    return (all(sorted(seq) == sorted(c for c in range(V) for _ in range(m)) for seq in items)
            and len(set(items)) == len(items)
            and (len(items) == 200 or len(items) == math.factorial(m * V) // math.factorial(m) ** V))


spec(BIB + "enumerate_placements", lambda **kw: M(BIB + "enumerate_placements")(**kw),
     st.fixed_dictionaries(dict(V=st.integers(1, 3), m=st.integers(1, 3))),
     bad=dict(V=bad_ints(1), m=bad_ints(1)), oracle=placements_ok)


@st.composite
def placement_kwargs(draw):
    V, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    seq = draw(st.permutations([c for c in range(V) for _ in range(m)]))
    return dict(seq=seq, V=V, m=m)


def placement_table_ok(kw, t):
    want = np.zeros((kw["V"], kw["V"]), dtype=int)
    for i, c in enumerate(kw["seq"]):
        want[i // kw["m"], c] += 1
    return np.array_equal(t, want)


spec(BIB + "placement_table", lambda **kw: M(BIB + "placement_table")(**kw), placement_kwargs(),
     bad=dict(seq=lambda kw: [list(kw["seq"][:-1]) + [kw["V"]], list(kw["seq"][:-1]) + [-1],
                              [c + 0.5 for c in kw["seq"]], list(kw["seq"]) + [0], "seq", None],
              V=[0, -1, 1.5, None, True], m=[0, -1, 1.5, None]),
     oracle=placement_table_ok)


@st.composite
def bib_sample_kwargs(draw, extra=()):
    kw = dict(V=draw(st.integers(1, 4)), m=draw(st.integers(1, 3)), n=draw(st.integers(0, 6)),
              generator=gen(draw(st.integers(0, 99))), device=draw(st.sampled_from(["cpu", torch.device("cpu")])))
    if "batch" in extra:
        kw["batch"] = draw(st.integers(1, 4))
    return kw


BIB_BAD = dict(V=bad_ints(1), m=bad_ints(1), n=bad_ints(0), generator=BAD_GEN, device=BAD_DEVICE)
# huge values, beyond the memory limit at any n >= 1 (V = 10**7 with n = 6 would be a legitimate 5 GiB sort)
BIB_MAYBE = dict(n=HUGE, V=[10**9], m=[10**9])


def placements_sample_ok(kw, out):
    V, m, n = kw["V"], kw["m"], kw["n"]
    return tuple(out.shape) == (n, m * V) and all(sorted(r) == sorted(c for c in range(V) for _ in range(m))
                                                  for r in out.tolist())


def tables_sample_ok(kw, out, scale=1):
    V, m, n = kw["V"], kw["m"], kw["n"]
    t = out * scale
    one = torch.tensor(float(m), dtype=torch.float64)
    return (tuple(out.shape) == (n, V, V) and bool(torch.isclose(t.sum(-1).double(), one).all())
            and bool(torch.isclose(t.sum(-2).double(), one).all()) and bool((t >= 0).all()))


spec(BIB + "sample_placements", lambda **kw: M(BIB + "sample_placements")(**kw), bib_sample_kwargs(),
     bad=BIB_BAD, maybe=BIB_MAYBE, oracle=placements_sample_ok)
spec(BIB + "sample_tables", lambda **kw: M(BIB + "sample_tables")(**kw), bib_sample_kwargs(extra=("batch",)),
     bad={**BIB_BAD, "batch": bad_ints(1)}, maybe=BIB_MAYBE, oracle=tables_sample_ok)
spec(BIB + "sample_transition_matrices", lambda **kw: M(BIB + "sample_transition_matrices")(**kw),
     bib_sample_kwargs(), bad=BIB_BAD, maybe=BIB_MAYBE,
     oracle=lambda kw, P: P.dtype == torch.float64 and tables_sample_ok(kw, P, kw["m"]))
spec(BIB + "numpy_rng", lambda **kw: M(BIB + "numpy_rng")(**kw),
     st.builds(lambda s: dict(generator=gen(s)), st.integers(0, 99)), bad=dict(generator=BAD_GEN),
     oracle=lambda kw, r: isinstance(r, np.random.Generator))


@st.composite
def numpy_tables_kwargs(draw):
    return dict(V=draw(st.integers(1, 4)), m=draw(st.integers(1, 3)), n=draw(st.integers(0, 6)),
                rng=np.random.default_rng(draw(st.integers(0, 99))))


spec(BIB + "sample_tables_numpy", lambda **kw: M(BIB + "sample_tables_numpy")(**kw), numpy_tables_kwargs(),
     bad=dict(V=bad_ints(1), m=bad_ints(1), n=bad_ints(0), rng=BAD_RNG), maybe=BIB_MAYBE,
     oracle=lambda kw, t: tables_sample_ok(kw, torch.as_tensor(t)))


@st.composite
def ds_kwargs(draw):
    V = draw(st.integers(1, 4))
    if draw(st.booleans()):
        P = M(BIB + "sample_transition_matrices")(V, draw(st.integers(1, 3)), 1, gen(draw(st.integers(0, 99))))[0]
    else:
        P = torch.rand(V, V, generator=gen(draw(st.integers(0, 99))), dtype=torch.float64)
    P = P.numpy() if draw(st.booleans()) else P
    return dict(P=P, atol=draw(st.sampled_from([0.0, 1e-12, 1e-6, 0.1])))


def ds_ok(kw, out):
    P = np.asarray(kw["P"], dtype=float)
    err = max(np.abs(P.sum(-1) - 1).max(initial=0), np.abs(P.sum(-2) - 1).max(initial=0))
    return out is True if err <= kw["atol"] else (out is False if err > kw["atol"] + 1e-12 else out in (True, False))


spec(BIB + "is_doubly_stochastic", lambda **kw: M(BIB + "is_doubly_stochastic")(**kw), ds_kwargs(),
     bad=dict(P=[np.full((2, 2), NAN), "P", None, np.ones(3), np.ones((2, 3)), np.full((2, 2), INF)],
              atol=[-1.0, NAN, "0", None]),
     oracle=ds_ok)


def _M_values():
    return st.one_of(st.integers(-5, 20), st.floats(-5, 20), st.just(sympy.Symbol("M")),
                     st.lists(st.integers(0, 9), min_size=1, max_size=3).map(np.array))


def falling_ok(kw, out):
    M_, k = kw["M"], kw["k"]
    if isinstance(M_, sympy.Basic):
        return sympy.expand(out - sympy.ff(M_, k)) == 0
    want = np.ones_like(np.asarray(M_, dtype=float))
    for i in range(k):
        want = want * (np.asarray(M_, dtype=float) - i)
    return close(out, want, 1e-9)


spec(BIB + "falling", lambda **kw: M(BIB + "falling")(**kw),
     st.fixed_dictionaries(dict(M=_M_values(), k=st.integers(0, 6))),
     bad=dict(M=["5", None, 1 + 1j, NAN, [["a"]]], k=[-1, 1.5, None, "2", True]), maybe=dict(k=[10**9]),
     oracle=falling_ok, examples=40)


@st.composite
def power_sums(draw):
    x = draw(st.lists(st.integers(-3, 3), min_size=0, max_size=5))
    return x, {f"p{k}": sum(v**k for v in x) for k in range(1, 5)}


@st.composite
def distinct_sums_kwargs(draw):
    x, p = draw(power_sums())
    return {**p, "_x": x}


def distinct_sums_ok(kw, d):
    x = kw["_x"]
    idx = range(len(x))
    brute = {"1": sum(x), "2": sum(v * v for v in x), "4": sum(v**4 for v in x),
             "11": sum(x[i] * x[j] for i, j in itertools.permutations(idx, 2)),
             "31": sum(x[i] ** 3 * x[j] for i, j in itertools.permutations(idx, 2)),
             "22": sum(x[i] ** 2 * x[j] ** 2 for i, j in itertools.permutations(idx, 2)),
             "211": sum(x[i] ** 2 * x[j] * x[k] for i, j, k in itertools.permutations(idx, 3)),
             "1111": sum(x[i] * x[j] * x[k] * x[l] for i, j, k, l in itertools.permutations(idx, 4))}
    return all(d[k] == v for k, v in brute.items())


spec(BIB + "distinct_sums", lambda _x, **kw: M(BIB + "distinct_sums")(**kw), distinct_sums_kwargs(),
     bad=dict(p1=["1", None, NAN, 1 + 1j], p2=["1", None], p3=[INF], p4=[[["a"]]]), oracle=distinct_sums_ok)


@st.composite
def draw_moments_kwargs(draw):
    z = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=6))
    m = draw(st.integers(1, min(4, len(z))))
    return dict(T1=sum(z), T2=sum(v**2 for v in z), T3=sum(v**3 for v in z), T4=sum(v**4 for v in z), M=len(z), m=m,
                _z=z)


def moments_brute(z, m) -> dict:
    draws = list(itertools.permutations(range(len(z)), m))
    taus = [Fraction(sum(z[i] for i in d), m) for d in draws]
    E = lambda f: sum(f(t) for t in taus) / len(taus)  # noqa: E731
    return {"tau2": E(lambda t: t * t), "tau4": E(lambda t: t**4), "mean": Fraction(sum(z), len(z))}


def draw_moments_ok(kw, out):
    b = moments_brute(kw["_z"], kw["m"])
    return all(close(float(out[k]), float(b[k]), 1e-9) for k in ("tau2", "tau4", "mean"))


spec(BIB + "draw_moments", lambda _z, **kw: M(BIB + "draw_moments")(**kw), draw_moments_kwargs(),
     bad=dict(M=lambda kw: [kw["m"] - 1, 2.5 + kw["m"], "6", None, NAN], m=lambda kw: [0, 1.5, None, "2", kw["M"] + 1],
              T1=["1", None, NAN], T4=[1 + 1j]), oracle=draw_moments_ok, examples=40)


@st.composite
def conditional_moments_kwargs(draw):
    V = draw(st.integers(1, 4))
    rem = draw(st.lists(st.integers(0, 3), min_size=V, max_size=V).filter(lambda r: sum(r) >= 1))
    z = draw(st.lists(st.integers(-3, 3), min_size=V, max_size=V))
    return dict(remaining=np.array(rem), z=np.array(z, dtype=float), m=draw(st.integers(1, min(3, sum(rem)))))


def conditional_moments_ok(kw, out):
    balls = [int(zv) for zv, r in zip(kw["z"], kw["remaining"]) for _ in range(int(r))]
    b = moments_brute(balls, kw["m"])
    return all(close(float(out[k]), float(b[k]), 1e-9) for k in ("tau2", "tau4", "mean"))


spec(BIB + "conditional_moments", lambda **kw: M(BIB + "conditional_moments")(**kw), conditional_moments_kwargs(),
     bad=dict(remaining=lambda kw: [kw["remaining"] - 10, kw["remaining"] + 0.5, "r", None,
                                    np.append(kw["remaining"], 1)],
              z=lambda kw: [with_nan(torch.as_tensor(kw["z"])).numpy(), np.append(kw["z"], 1.0), "z", None],
              m=lambda kw: [0, 1.5, None, int(np.sum(kw["remaining"])) + 1]),
     oracle=conditional_moments_ok)


@st.composite
def quantile_kwargs(draw):
    return dict(values=draw(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30)),
                level=draw(st.floats(0.01, 0.99)), confidence=draw(st.floats(0.5, 0.999)))


def quantile_ok(kw, out):
    x = np.sort(np.asarray(kw["values"], dtype=float))
    q, up = out
    return q == x[min(len(x) - 1, max(0, math.ceil(kw["level"] * len(x)) - 1))] and up >= q


UNIT_OPEN_BAD = [0, 1, -0.1, 1.5, NAN, "0.5", None, INF]
spec(BIB + "quantile_with_upper_bound", lambda **kw: M(BIB + "quantile_with_upper_bound")(**kw), quantile_kwargs(),
     bad=dict(values=[[], "values", None, [NAN], [[1.0, 2.0], [3.0, 4.0]]], level=UNIT_OPEN_BAD,
              confidence=UNIT_OPEN_BAD), oracle=quantile_ok)


def probe_ok(kw, z):
    V, kind = kw["V"], kw["kind"]
    want = {"pair": lambda: np.eye(V)[0] - np.eye(V)[1], "ramp": lambda: 2.0 * np.arange(V) - (V - 1),
            "pair_plus_mean": lambda: np.eye(V)[0] - np.eye(V)[1] + 1}
    if kind == "gaussian":
        return z.shape == (V,) and abs(z.sum()) < 1e-9
    return close(z, want[kind](), 1e-12)


spec(BIB + "probe_vector", lambda **kw: M(BIB + "probe_vector")(**kw),
     st.fixed_dictionaries(dict(kind=st.sampled_from(["pair", "gaussian", "ramp", "pair_plus_mean"]),
                                V=st.integers(2, 8), seed=st.integers(0, 99))),
     bad=dict(kind=["bogus", None, 1], V=[1, 0, -2, 1.5, None, True], seed=[-1, 1.5, None]), maybe=dict(V=HUGE),
     oracle=probe_ok)


# -- verify.features.rff ------------------------------------------------------------------------------------
RFF = "verify.features.rff."
spec(RFF + "check_sigma", lambda **kw: M(RFF + "check_sigma")(**kw),
     st.fixed_dictionaries(dict(sigma=st.floats(1e-3, 1e3))), bad=dict(sigma=[0, -1.0, NAN, INF, "1", None, True, 1j]),
     oracle=lambda kw, v: v == float(kw["sigma"]) and v > 0)
spec(RFF + "check_width", lambda **kw: M(RFF + "check_width")(**kw),
     st.fixed_dictionaries(dict(num_features=st.integers(1, 10**6))), bad=dict(num_features=bad_ints(1)),
     oracle=lambda kw, v: v == kw["num_features"])


@st.composite
def frequency_kwargs(draw):
    return dict(input_dim=draw(st.integers(1, 5)), num_features=draw(st.integers(1, 6)),
                sigma=draw(st.floats(0.1, 10)), generator=gen(draw(st.integers(0, 99))),
                device=draw(st.sampled_from([None, "cpu"])), dtype=draw(st.sampled_from([torch.float32, torch.float64])),
                batch_shape=tuple(draw(st.lists(st.integers(1, 3), max_size=2))))


FREQ_BAD = dict(input_dim=bad_ints(1), num_features=bad_ints(1), sigma=[0, -1.0, NAN, INF, "1", None],
                generator=BAD_GEN, device=BAD_DEVICE, dtype=[torch.int64, "float64", None, torch.complex64],
                batch_shape=[(0,), (1.5,), 3, "ab", (-1,), None])
FREQ_MAYBE = dict(num_features=HUGE, input_dim=HUGE, batch_shape=[(10**6, 10**6)])


def frequencies_ok(kw, w):
    return (tuple(w.shape) == tuple(kw["batch_shape"]) + (kw["num_features"], kw["input_dim"])
            and w.dtype == kw["dtype"] and finite_tensor(w))


spec(RFF + "sample_frequencies", lambda **kw: M(RFF + "sample_frequencies")(**kw), frequency_kwargs(),
     bad=FREQ_BAD, maybe=FREQ_MAYBE, oracle=frequencies_ok)
spec(RFF + "RandomFourierFeatures.draw", lambda **kw: M(RFF + "RandomFourierFeatures").draw(**kw),
     frequency_kwargs().map(lambda kw: {**kw, "batch_shape": kw["batch_shape"][:1]}),
     bad={**FREQ_BAD, "batch_shape": FREQ_BAD["batch_shape"] + [(1, 1), (2, 3)]}, maybe=FREQ_MAYBE, oracle=lambda kw, phi: frequencies_ok(kw, phi.frequencies))


@st.composite
def points(draw, n_lo=1, n_hi=5, d=None, lo=-3.0, hi=3.0):
    d = d if d is not None else draw(st.integers(1, 4))
    n = draw(st.integers(n_lo, n_hi))
    vals = draw(st.lists(st.floats(lo, hi), min_size=n * d, max_size=n * d))
    return torch.tensor(vals, dtype=torch.float64).reshape(n, d)


@st.composite
def rff_kwargs(draw, prime=False, chunk=False):
    h = draw(points())
    d = h.shape[1]
    w = torch.randn(draw(st.integers(1, 6)), d, generator=gen(draw(st.integers(0, 99))), dtype=torch.float64)
    kw = dict(h=h, frequencies=w)
    if prime:
        kw["h_prime"] = draw(st.one_of(st.none(), points(d=d)))
    if chunk:
        kw["chunk_size"] = draw(st.integers(1, 8))
    return kw


def direct_features(h, w):
    proj = h.double() @ w.double().T
    return torch.cat([torch.cos(proj), torch.sin(proj)], -1) / math.sqrt(w.shape[0])


H_BAD = lambda kw: [with_nan(kw["h"]), kw["h"].long(), None, kw["h"][:, :0] if kw["h"].shape[1] > 1 else kw["h"][:0, :0],  # noqa: E731
                    torch.tensor(1.0, dtype=torch.float64), kw["h"].numpy(), torch.cat([kw["h"], kw["h"][:, :1]], 1)]
W_BAD = lambda kw: [with_nan(kw["frequencies"]), kw["frequencies"].long(), None, kw["frequencies"][0],  # noqa: E731
                    kw["frequencies"][:0], torch.cat([kw["frequencies"], kw["frequencies"][:, :1]], 1)]
spec(RFF + "random_fourier_features", lambda **kw: M(RFF + "random_fourier_features")(**kw), rff_kwargs(),
     bad=dict(h=H_BAD, frequencies=W_BAD),
     oracle=lambda kw, F: close(F, direct_features(kw["h"], kw["frequencies"]), 1e-12)
     and close(F.norm(dim=-1), torch.ones(F.shape[0]), 1e-12))


def gram_ok(kw, G):
    hp = kw["h"] if kw.get("h_prime") is None else kw["h_prime"]
    return close(G, direct_features(kw["h"], kw["frequencies"]) @ direct_features(hp, kw["frequencies"]).T, 1e-10)


HP_BAD = lambda kw: [with_nan(kw["h"]), torch.cat([kw["h"], kw["h"][:, :1]], 1), kw["h"][0], kw["h"].long(), "h"]  # noqa: E731
spec(RFF + "random_features_gram", lambda **kw: M(RFF + "random_features_gram")(**kw),
     rff_kwargs(prime=True, chunk=True),
     bad=dict(h=H_BAD, frequencies=W_BAD, h_prime=HP_BAD, chunk_size=bad_ints(1)),
     maybe=dict(h=[torch.zeros(10**5, 1, dtype=torch.float64)]), oracle=gram_ok)


@st.composite
def rff_object(draw, **kw):
    k = draw(rff_kwargs(**kw))
    k["phi"] = M(RFF + "RandomFourierFeatures")(k.pop("frequencies"), 1.0)
    return k


spec(RFF + "RandomFourierFeatures", lambda **kw: M(RFF + "RandomFourierFeatures")(**kw),
     st.builds(lambda k, s: dict(frequencies=k["frequencies"], sigma=s), rff_kwargs(), st.floats(0.1, 10)),
     bad=dict(frequencies=lambda kw: [with_nan(kw["frequencies"]), None, kw["frequencies"][0], kw["frequencies"].long(),
                                      kw["frequencies"].numpy()],
              sigma=[0, -1.0, NAN, "1", None]),
     oracle=lambda kw, phi: phi.num_features == kw["frequencies"].shape[-2] and phi.sigma == kw["sigma"])
spec(RFF + "RandomFourierFeatures.__call__", lambda phi, h: phi(h), rff_object(),
     bad=dict(h=H_BAD), oracle=lambda kw, F: close(F, direct_features(kw["h"], kw["phi"].frequencies), 1e-12))
spec(RFF + "RandomFourierFeatures.gram", lambda phi, **kw: phi.gram(**kw), rff_object(prime=True, chunk=True),
     bad=dict(h=H_BAD, h_prime=HP_BAD, chunk_size=bad_ints(1)),
     oracle=lambda kw, G: gram_ok({**kw, "frequencies": kw["phi"].frequencies}, G))
spec(RFF + "RandomFourierFeatures.to", lambda phi, device, **kw: phi.to(device),
     st.builds(lambda k, d: {**k, "device": d}, rff_object(), st.sampled_from(["cpu", torch.device("cpu")])),
     bad=dict(device=BAD_DEVICE + [None]),
     oracle=lambda kw, phi: torch.equal(phi.frequencies, kw["phi"].frequencies))


def rbf_direct(h, hp, sigma):
    return torch.tensor([[math.exp(-float(((a - b) ** 2).sum()) / (2 * sigma**2)) for b in hp] for a in h],
                        dtype=torch.float64)


@st.composite
def rbf_kwargs(draw):
    h = draw(points())
    return dict(h=h, h_prime=draw(st.one_of(st.none(), points(d=h.shape[1]))), sigma=draw(st.floats(0.1, 10)))


SIGMA_BAD = [0, -1.0, NAN, INF, "1", None, True]
spec(RFF + "rbf_kernel", lambda **kw: M(RFF + "rbf_kernel")(**kw), rbf_kwargs(),
     bad=dict(h=lambda kw: [with_nan(kw["h"]), kw["h"].long(), None, torch.tensor(1.0, dtype=torch.float64),
                            kw["h"].numpy()], h_prime=HP_BAD, sigma=SIGMA_BAD),
     maybe=dict(h=[torch.zeros(10**5, 2, dtype=torch.float64)]),
     oracle=lambda kw, K: close(K, rbf_direct(kw["h"], kw["h"] if kw["h_prime"] is None else kw["h_prime"],
                                              kw["sigma"]), 1e-12))


@st.composite
def token_kwargs(draw):
    s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    t = draw(points(d=s * d)).reshape(-1, s, d)
    tp = draw(st.one_of(st.none(), points(d=s * d).map(lambda x: x.reshape(-1, s, d))))
    return dict(tokens=t, tokens_prime=tp, sigma=draw(st.floats(0.1, 10)))


spec(RFF + "rbf_kernel_tokenwise", lambda **kw: M(RFF + "rbf_kernel_tokenwise")(**kw), token_kwargs(),
     bad=dict(tokens=lambda kw: [with_nan(kw["tokens"]), kw["tokens"][0], kw["tokens"].long(), None],
              tokens_prime=lambda kw: [with_nan(kw["tokens"]), torch.cat([kw["tokens"], kw["tokens"]], -1), "t"],
              sigma=SIGMA_BAD),
     oracle=lambda kw, K: close(K, rbf_direct(kw["tokens"].flatten(-2), (kw["tokens"] if kw["tokens_prime"] is None
                                                                        else kw["tokens_prime"]).flatten(-2),
                                              kw["sigma"]), 1e-12))
spec(RFF + "concatenate_tokens", lambda **kw: M(RFF + "concatenate_tokens")(**kw),
     st.builds(lambda t: dict(tokens=t.reshape(t.shape[0], 1, -1)), points()),
     bad=dict(tokens=lambda kw: [kw["tokens"][0, 0], with_nan(kw["tokens"]), None, kw["tokens"].long(), "t"]),
     oracle=lambda kw, h: torch.equal(h, kw["tokens"].reshape(kw["tokens"].shape[0], -1)))
spec(RFF + "kernel_limit_derivation", lambda **kw: M(RFF + "kernel_limit_derivation")(**kw),
     st.just(dict(dim=1, tokens=1)), bad=dict(dim=[0, -1, 5, 1.5, None, "2", True], tokens=[0, 9, 1.5, None]),
     always_corrupt=True, examples=12)


# -- verify.features.random_neurons ------------------------------------------------------------------------
RN = "verify.features.random_neurons."
ACTS = ["relu", "abs", "tanh", "erf"]
BAD_ACT = ["bogus", None, 1, ["relu"], "ReLU"]
SECOND_MOMENT = {"relu": 0.5, "abs": 1.0, "erf": 2 / math.pi * math.asin(2 / 3), "tanh": None}  # E sigma(g)^2


def second_moment(act: str) -> float:
    if SECOND_MOMENT[act] is None:
        g, w = np.polynomial.hermite_e.hermegauss(200)
        SECOND_MOMENT[act] = float((w * np.tanh(g) ** 2).sum() / math.sqrt(2 * math.pi))
    return SECOND_MOMENT[act]


spec(RN + "activation_fn", lambda **kw: M(RN + "activation_fn")(**kw),
     st.fixed_dictionaries(dict(activation=st.sampled_from(ACTS))), bad=dict(activation=BAD_ACT),
     oracle=lambda kw, f: float(f(torch.tensor(0.0))) == 0.0 and float(f(torch.tensor(1.0))) > 0)


@st.composite
def xavier_kwargs(draw):
    return dict(in_dim=draw(st.integers(1, 6)), width=draw(st.integers(1, 6)), beta=draw(st.floats(0, 0.99)),
                generator=gen(draw(st.integers(0, 99))), device=draw(st.sampled_from(["cpu", torch.device("cpu")])),
                dtype=draw(st.sampled_from([torch.float32, torch.float64])),
                weight_var=draw(st.one_of(st.none(), st.floats(0.01, 3))))


BETA_BAD = [1, 1.5, -0.1, NAN, INF, "0.5", None, True, 1j]
spec(RN + "beta_xavier", lambda **kw: M(RN + "beta_xavier")(**kw), xavier_kwargs(),
     bad=dict(in_dim=bad_ints(1), width=bad_ints(1), beta=BETA_BAD, generator=BAD_GEN, device=BAD_DEVICE,
              dtype=[torch.int64, "float64", None], weight_var=[0, -1.0, NAN, INF, "1", True]),
     maybe=dict(width=HUGE, in_dim=HUGE),
     oracle=lambda kw, Wb: tuple(Wb[0].shape) == (kw["width"], kw["in_dim"]) and tuple(Wb[1].shape) == (kw["width"],)
     and Wb[0].dtype == kw["dtype"] and all(finite_tensor(t) for t in Wb))


@st.composite
def features_kwargs(draw):
    N, q = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    W, b = M(RN + "beta_xavier")(N, q, 0.3, gen(draw(st.integers(0, 99))))
    return dict(z=draw(points(d=N)), W=W, b=b, activation=draw(st.sampled_from(ACTS)))


def features_ok(kw, F):
    f = {"relu": torch.relu, "abs": torch.abs, "tanh": torch.tanh, "erf": torch.erf}[kw["activation"]]
    return close(F, f(kw["z"] @ kw["W"].T + kw["b"]) / math.sqrt(kw["W"].shape[0]), 1e-12)


spec(RN + "random_features", lambda **kw: M(RN + "random_features")(**kw), features_kwargs(),
     bad=dict(z=lambda kw: [with_nan(kw["z"]), None, torch.cat([kw["z"], kw["z"]], 1), kw["z"].numpy()],
              W=lambda kw: [with_nan(kw["W"]), kw["W"][0], kw["W"].long(), None, kw["W"][:0]],
              b=lambda kw: [with_nan(kw["b"]), kw["b"][:-1], None, kw["b"].float()],
              activation=BAD_ACT),
     oracle=features_ok)


@st.composite
def mc_kwargs(draw):
    x = draw(points())
    return dict(x=x, y=draw(points(d=x.shape[1])), width=draw(st.integers(1, 20)), beta=draw(st.floats(0, 0.9)),
                generator=gen(draw(st.integers(0, 99))), activation=draw(st.sampled_from(ACTS)),
                chunk=draw(st.integers(1, 8)))


spec(RN + "mc_kernel", lambda **kw: M(RN + "mc_kernel")(**kw), mc_kwargs(),
     bad=dict(x=lambda kw: [kw["x"][0], with_nan(kw["x"]), None, kw["x"][:, :0], torch.cat([kw["x"], kw["x"]], 1)],
              y=lambda kw: [with_nan(kw["y"]), torch.cat([kw["y"], kw["y"]], 1), "y"], width=bad_ints(1),
              beta=BETA_BAD, generator=BAD_GEN, activation=BAD_ACT, chunk=bad_ints(1)),
     maybe=dict(x=[torch.zeros(10**5, 2, dtype=torch.float64)], chunk=HUGE),
     oracle=lambda kw, K: tuple(K.shape) == (kw["x"].shape[0], kw["y"].shape[0]) and finite_tensor(K)
     and (kw["activation"] not in ("relu", "abs") or bool((K >= 0).all())))
spec(RN + "dual_activation_sympy", lambda **kw: M(RN + "dual_activation_sympy")(**kw),
     st.fixed_dictionaries(dict(activation=st.sampled_from(["relu", "abs", "erf"]))),
     bad=dict(activation=BAD_ACT + ["tanh"]),
     oracle=lambda kw, lam: close(float(lam(1)), second_moment(kw["activation"]), 1e-9))


@st.composite
def dual_kwargs(draw):
    t = draw(st.one_of(st.floats(-1, 1), st.lists(st.floats(-1, 1), max_size=4).map(np.array)))
    return dict(t=t, activation=draw(st.sampled_from(ACTS)))


spec(RN + "dual_activation", lambda **kw: M(RN + "dual_activation")(**kw), dual_kwargs(),
     bad=dict(t=[5, -1.5, NAN, "0.5", None, 0.5 + 0.5j, [2.0], np.array([0.5, INF])], activation=BAD_ACT),
     oracle=lambda kw, v: bool(np.all(np.isfinite(v)))
     and bool(np.all(np.abs(v) <= second_moment(kw["activation"]) + 1e-9))
     and np.shape(v) == np.shape(kw["t"]))


@st.composite
def cube_rows(draw, n_lo=1, n_hi=4, N=None):
    N = N if N is not None else draw(st.integers(1, 5))
    n = draw(st.integers(n_lo, n_hi))
    return np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n * N, max_size=n * N))).reshape(n, N)


@st.composite
def kernel_kwargs(draw):
    x = draw(cube_rows())
    return dict(x=x, y=draw(cube_rows(N=x.shape[1])), beta=draw(st.floats(0, 0.95)),
                activation=draw(st.sampled_from(ACTS)))


def kernel_ok(kw, K):
    x, y, b = kw["x"], kw["y"], kw["beta"]
    rho = x @ y.T / x.shape[1]
    return K.shape == rho.shape and close(K, M(RN + "dual_activation")((1 - b) * rho + b, kw["activation"]), 1e-12) \
        and bool(np.all(np.abs(K) <= second_moment(kw["activation"]) + 1e-9))


X_BAD = lambda kw: [kw["x"] * 0.5, kw["x"][0], with_nan(torch.as_tensor(kw["x"])).numpy(), None, "x",  # noqa: E731
                    np.concatenate([kw["x"], kw["x"]], 1)]
spec(RN + "kernel", lambda **kw: M(RN + "kernel")(**kw), kernel_kwargs(),
     bad=dict(x=X_BAD, y=lambda kw: [kw["y"] * 2, kw["y"][0], None], beta=BETA_BAD, activation=BAD_ACT),
     oracle=kernel_ok)
spec(RN + "kernel_gram", lambda **kw: M(RN + "kernel_gram")(**kw),
     st.builds(lambda x, b, a: dict(x=x, beta=b, activation=a), cube_rows(), st.floats(0, 0.95), st.sampled_from(ACTS)),
     bad=dict(x=lambda kw: X_BAD(kw)[:-1], beta=BETA_BAD, activation=BAD_ACT),
     oracle=lambda kw, K: kernel_ok({**kw, "y": kw["x"]}, K) and close(K, K.T, 0)
     and float(np.linalg.eigvalsh(K).min()) > -1e-9)

EXACT_ACT_BAD = ["tanh", "bogus", None, 1]
spec(RN + "hermite_coefficient", lambda **kw: M(RN + "hermite_coefficient")(**kw),
     st.fixed_dictionaries(dict(activation=st.sampled_from(["relu", "abs"]), n=st.integers(0, 30))),
     bad=dict(activation=EXACT_ACT_BAD, n=bad_ints(0) + [10**9, np.float64(2.0)]),
     oracle=lambda kw, a: abs(float(a) - M(RN + "hermite_coefficients_float")(kw["activation"], kw["n"])[kw["n"]]) < 5e-3)
spec(RN + "hermite_coefficient_by_integration", lambda **kw: M(RN + "hermite_coefficient_by_integration")(**kw),
     st.just(dict(activation="relu", n=2)), bad=dict(activation=EXACT_ACT_BAD, n=[-1, 1.5, None, "2", 10**6]),
     always_corrupt=True, examples=12)
spec(RN + "hermite_coefficients", lambda **kw: M(RN + "hermite_coefficients")(**kw),
     st.fixed_dictionaries(dict(activation=st.sampled_from(["relu", "abs"]), n_max=st.integers(0, 20))),
     bad=dict(activation=EXACT_ACT_BAD, n_max=bad_ints(0) + [10**9]),
     oracle=lambda kw, a: len(a) == kw["n_max"] + 1 and sum(float(v) ** 2 for v in a) <= second_moment(kw["activation"]) + 1e-12)


def quadrature_second_moment(act: str, nodes: int) -> float:
    """E sigma(g)^2 by the same Gauss-Hermite rule: Bessel's inequality bounds the coefficients' squares by it."""
    g, w = np.polynomial.hermite_e.hermegauss(nodes)
    f = {"relu": lambda v: np.maximum(v, 0), "abs": np.abs, "tanh": np.tanh, "erf": lambda v: torch.erf(
        torch.from_numpy(v)).numpy()}[act]
    return float((w * f(g) ** 2).sum() / math.sqrt(2 * math.pi))


@st.composite
def hermite_float_kwargs(draw):
    nodes = draw(st.integers(2, 250))
    return dict(activation=draw(st.sampled_from(ACTS)), n_max=draw(st.integers(0, nodes)), nodes=nodes)


spec(RN + "hermite_coefficients_float", lambda **kw: M(RN + "hermite_coefficients_float")(**kw),
     hermite_float_kwargs(),
     bad=dict(activation=BAD_ACT, n_max=lambda kw: [-1, 1.5, None, kw["nodes"] + 1, 10**9],
              nodes=lambda kw: [1, 251, 2.5, None, "200"]),
     oracle=lambda kw, a: len(a) == kw["n_max"] + 1 and bool(np.isfinite(a).all())
     and float((a**2).sum()) <= quadrature_second_moment(kw["activation"], kw["nodes"]) + 1e-9)


@st.composite
def kernel_coefficient_kwargs(draw):
    exact = draw(st.booleans())
    act = draw(st.sampled_from(["relu", "abs", "erf"] if exact else ACTS))
    beta = draw(st.one_of(st.floats(0, 0.9), st.sampled_from([Fraction(1, 4), 0, sympy.Rational(1, 3)])))
    return dict(beta=beta, J=draw(st.integers(0, 2 if exact else 20)), activation=act, exact=exact)


def kernel_coefficients_ok(kw, c):
    vals = [float(v) for v in c]
    return (len(c) == kw["J"] + 1 and all(v >= -1e-12 for v in vals)
            and sum(vals) <= second_moment(kw["activation"]) + 1e-6)


spec(RN + "kernel_coefficients", lambda **kw: M(RN + "kernel_coefficients")(**kw), kernel_coefficient_kwargs(),
     bad=dict(beta=BETA_BAD + ["__import__('os').getpid()", sympy.Integer(2), sympy.oo],
              J=[-1, 1.5, None, "2", 61, 10**6], activation=BAD_ACT, exact=["yes", None, 1, 0]),
     oracle=kernel_coefficients_ok, examples=20)


@st.composite
def kraw_kwargs(draw):
    d = draw(st.integers(0, 7))
    return dict(d=d, k=draw(st.integers(0, d)), t=draw(st.integers(0, d)))


def kraw_ok(kw, v):
    d, k, t = kw["d"], kw["k"], kw["t"]
    x = [-1] * t + [1] * (d - t)
    return v == sum(math.prod(x[i] for i in S) for S in itertools.combinations(range(d), k))


spec(RN + "krawtchouk", lambda **kw: M(RN + "krawtchouk")(**kw), kraw_kwargs(),
     bad=dict(d=[-1, 1.5, None, 10**6, True], k=lambda kw: [-1, kw["d"] + 1, 1.5, None],
              t=lambda kw: [-1, kw["d"] + 1, 1.5, None]), oracle=kraw_ok, examples=40)


@st.composite
def cube_eig_kwargs(draw):
    exact = draw(st.booleans())
    return dict(d=draw(st.integers(1, 2 if exact else 8)), beta=draw(st.floats(0, 0.9)),
                activation=draw(st.sampled_from(["relu", "abs", "erf"] if exact else ACTS)), exact=exact)


def cube_eig_ok(kw, lam):
    d = kw["d"]
    vals = [float(v) for v in lam]
    # k(x, x) = sum_S lambda_|S| = kappa(1) = E sigma(g)^2; every eigenvalue of a PSD kernel is >= 0
    return len(vals) == d + 1 and all(v >= -1e-9 for v in vals) and \
        close(sum(math.comb(d, k) * v for k, v in enumerate(vals)), second_moment(kw["activation"]), 1e-6)


spec(RN + "cube_eigenvalues", lambda **kw: M(RN + "cube_eigenvalues")(**kw), cube_eig_kwargs(),
     bad=dict(d=[0, 65, -1, 1.5, True, None], beta=BETA_BAD + ["0.3", sympy.Symbol("b")],
              activation=BAD_ACT, exact=["no", None, 1]), oracle=cube_eig_ok, examples=20)


@st.composite
def rkhs_kwargs(draw):
    d = draw(st.integers(0, 4))
    sets = draw(st.lists(st.lists(st.integers(0, max(d - 1, 0)), max_size=d, unique=True).map(lambda S: tuple(sorted(S))),
                         max_size=5, unique=True))
    four = {S: draw(st.one_of(st.floats(-3, 3), st.integers(-3, 3), st.just(Fraction(1, 3)))) for S in sets}
    lam = draw(st.lists(st.floats(0.01, 2), min_size=d + 1, max_size=d + 1))
    return dict(fourier=four, eigenvalues=lam, tol=draw(st.sampled_from([0.0, 1e-12])))


def rkhs_ok(kw, v):
    want = sum(float(c) ** 2 / kw["eigenvalues"][len(S)] for S, c in kw["fourier"].items() if c != 0)
    return close(v, want, 1e-9) and v >= 0


spec(RN + "rkhs_norm_sq", lambda **kw: M(RN + "rkhs_norm_sq")(**kw), rkhs_kwargs(),
     bad=dict(fourier=[None, [((0,), 1.0)], {"a": 1.0}, {(0,): "1"}, {(0,): NAN}, {(0,): "__import__('os')"}],
              eigenvalues=lambda kw: [[-1.0] * len(kw["eigenvalues"]), [NAN] * len(kw["eigenvalues"]), "e", None,
                                      [1.0] * len(kw["eigenvalues"]) + ["x"]],
              tol=[-1.0, NAN, "0", None]),
     maybe=dict(eigenvalues=[[], [1.0]]), oracle=rkhs_ok)


# -- verify.features.clustering ----------------------------------------------------------------------------
CL = "verify.features.clustering.NearestCentreFeatures"


@st.composite
def centre_kwargs(draw):
    k, d = draw(st.integers(2, 4)), draw(st.integers(1, 3))
    return dict(centres=draw(points(n_lo=k, n_hi=k, d=d)))


spec(CL, lambda **kw: M(CL)(**kw), centre_kwargs(),
     bad=dict(centres=lambda kw: [kw["centres"][:1], kw["centres"][0], with_nan(kw["centres"]), kw["centres"].long(),
                                  None, kw["centres"].numpy(), kw["centres"][:, :0]]),
     oracle=lambda kw, phi: phi.num_centres == kw["centres"].shape[0])


@st.composite
def codes_kwargs(draw, patch=False):
    c = draw(centre_kwargs())["centres"]
    obj = M(CL)(c)
    s = draw(st.integers(1, 3))
    tokens = draw(points(d=c.shape[1], n_hi=4))
    if patch:
        tokens = torch.stack([tokens] * s, dim=1)
    if draw(st.booleans()):
        tokens = with_nan(tokens)
    return dict(obj=obj, tokens=tokens)


def codes_ok(kw, idx):
    c, t = kw["obj"].centres, kw["tokens"]
    d2 = ((t.unsqueeze(-2) - c) ** 2).sum(-1)
    fin = torch.isfinite(t).all(-1)
    chosen = d2.gather(-1, idx.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    return bool(((idx == -1) == ~fin).all()) and bool((chosen[fin] <= d2[fin].min(-1).values + 1e-12).all())


TOKENS_BAD = lambda kw: [kw["tokens"].long(), kw["tokens"].numpy(), None,  # noqa: E731
                         torch.cat([kw["tokens"], kw["tokens"]], -1)]
spec(CL + ".codes", lambda obj, tokens: obj.codes(tokens), codes_kwargs(), bad=dict(tokens=TOKENS_BAD),
     oracle=codes_ok)
spec(CL + ".__call__", lambda obj, tokens: obj(tokens), codes_kwargs(patch=True),
     bad=dict(tokens=lambda kw: TOKENS_BAD(kw) + [kw["tokens"][0, 0]]),
     maybe=dict(tokens=lambda kw: [torch.zeros(1, 40, kw["obj"].centres.shape[1], dtype=torch.float64)]),
     oracle=lambda kw, X: tuple(X.shape) == tuple(kw["tokens"].shape[:-2]) + (kw["obj"].num_centres ** kw["tokens"].shape[-2],)
     and bool(((X == 0) | (X == 1)).all())
     and bool((X.sum(-1) == torch.isfinite(kw["tokens"]).all(-1).all(-1).to(X.dtype)).all()))


# -- verify.ptf ----------------------------------------------------------------------------------------------
PTF = "verify.ptf."


@st.composite
def poly_dicts(draw, num_vars=None):
    k = num_vars if num_vars is not None else draw(st.integers(0, 4))
    monos = draw(st.lists(st.lists(st.integers(0, max(k - 1, 0)), max_size=k, unique=True).map(tuple), max_size=5))
    coefs = {mono: draw(st.one_of(st.integers(-3, 3), st.floats(-2, 2), st.just(Fraction(1, 3)))) for mono in monos}
    return dict(coefficients=coefs, num_vars=k)


def poly_value(coefs: dict, z) -> list:
    return [sum(float(c) * math.prod(row[i] for i in mono) for mono, c in coefs.items()) for row in np.asarray(z).tolist()]


COEF_BAD = [None, [((0,), 1)], {(0,): "1"}, {(0, 0): 1}, {(1.5,): 1}, {(0,): NAN}, {(-1,): 1}, {"a": 1}, {(0,): True}]
spec(PTF + "polynomial.Polynomial.from_dict", lambda **kw: M(PTF + "polynomial.Polynomial").from_dict(**kw),
     poly_dicts(num_vars=None).filter(lambda kw: kw["num_vars"] >= 1),
     bad=dict(coefficients=COEF_BAD, num_vars=[-1, 1.5, None, "2", True]),
     oracle=lambda kw, p: p.num_vars == kw["num_vars"] and close(
         p(M(PTF + "polynomial.all_points")(kw["num_vars"])),
         poly_value(kw["coefficients"], M(PTF + "polynomial.all_points")(kw["num_vars"])), 1e-12))


@st.composite
def poly_fields(draw):
    kw = draw(poly_dicts().filter(lambda kw: kw["num_vars"] >= 1))
    p = M(PTF + "polynomial.Polynomial").from_dict(kw["coefficients"], kw["num_vars"])
    return dict(num_vars=p.num_vars, terms=p.terms)


def terms_ok(kw, p):
    n, seen = kw["num_vars"], set()
    for mono, c in kw["terms"]:
        if mono in seen or list(mono) != sorted(set(mono)) or any(not 0 <= i < n for i in mono):
            return False
        seen.add(mono)
    return p.num_vars == n


spec(PTF + "polynomial.Polynomial", lambda **kw: M(PTF + "polynomial.Polynomial")(**kw), poly_fields(),
     bad=dict(num_vars=[-1, 1.5, None, True],
              terms=lambda kw: [list(kw["terms"]), ((("a",), 1),), (((0, 0), 1),), (((kw["num_vars"],), 1),),
                                (((0,), "1"),), (((0,), NAN),), ((0, 1),), None, (((), 1), ((), 2))]),
     maybe=dict(terms=lambda kw: [(((1, 0), 1),)]), oracle=terms_ok)


@st.composite
def poly_objects(draw):
    kw = draw(poly_dicts().filter(lambda kw: kw["num_vars"] >= 1))
    return dict(p=M(PTF + "polynomial.Polynomial").from_dict(kw["coefficients"], kw["num_vars"]), coefs=kw["coefficients"])


def norm_ok(kw, v):
    c = [float(c) for m, c in kw["p"].terms if kw["include_constant"] or m]
    return close(v, float(np.linalg.norm(c, kw["ord"])) if c else 0.0, 1e-12)


spec(PTF + "polynomial.Polynomial.coefficient_norm", lambda p, coefs, **kw: p.coefficient_norm(**kw),
     st.builds(lambda d, o, i: {**d, "ord": o, "include_constant": i}, poly_objects(), st.sampled_from([1, 2, np.inf]),
               st.booleans()),
     bad=dict(ord=[3, "1", None, 0, True, NAN], include_constant=["yes", None, 2]), oracle=norm_ok)


@st.composite
def poly_eval_kwargs(draw):
    d = draw(poly_objects())
    z = draw(cube_rows(N=d["p"].num_vars))
    return {**d, "z": z, "exact": draw(st.booleans())}


def eval_ok(kw, out):
    want = poly_value(kw["coefs"], kw["z"])
    if kw["exact"]:
        return all(isinstance(v, Fraction) for v in out) and close([float(v) for v in out], want, 1e-12)
    return close(out, want, 1e-12)


spec(PTF + "polynomial.Polynomial.__call__", lambda p, coefs, **kw: p(**kw), poly_eval_kwargs(),
     bad=dict(z=lambda kw: [kw["z"] * 0.5, kw["z"][:, :0] if kw["z"].shape[1] else kw["z"][:, :1].repeat(2, 1), kw["z"][0],
                            with_nan(torch.as_tensor(kw["z"])).numpy(), "z", None, np.zeros_like(kw["z"])],
              exact=["yes", None, 1]),
     oracle=eval_ok)
def merged(coefs: dict) -> dict:
    acc: dict = {}
    for k, v in coefs.items():
        acc[tuple(sorted(k))] = acc.get(tuple(sorted(k)), 0) + v
    return {k: v for k, v in acc.items() if v != 0}


spec(PTF + "polynomial.Polynomial.as_dict", lambda p, coefs: p.as_dict(), poly_objects(),
     oracle=lambda kw, d: d == merged(kw["coefs"]))
spec(PTF + "polynomial.sign", lambda **kw: M(PTF + "polynomial.sign")(**kw),
     st.fixed_dictionaries(dict(values=st.one_of(st.floats(-1e9, 1e9), st.lists(st.floats(-5, 5), max_size=5),
                                                 st.just([INF, -INF])))),
     bad=dict(values=[NAN, [1.0, NAN], "a", None, [1j], [[1], [2, 3]]]),
     oracle=lambda kw, s: np.array_equal(s, np.where(np.asarray(kw["values"], dtype=float) >= 0, 1, -1)))
spec(PTF + "polynomial.all_points", lambda **kw: M(PTF + "polynomial.all_points")(**kw),
     st.fixed_dictionaries(dict(k=st.integers(0, 10))), bad=dict(k=[-1, 25, 1.5, True, None, "3"]),
     oracle=lambda kw, P: P.shape == (2 ** kw["k"], kw["k"]) and len({tuple(r) for r in P.tolist()}) == 2 ** kw["k"]
     and bool(np.isin(P, (-1, 1)).all()))
spec(PTF + "polynomial.monomials_up_to", lambda **kw: list(M(PTF + "polynomial.monomials_up_to")(**kw)),
     st.fixed_dictionaries(dict(num_vars=st.integers(0, 7), degree=st.integers(0, 8))),
     bad=dict(num_vars=[-1, 1.5, None, "3", True], degree=[-1, 1.5, None, "2"]),
     oracle=lambda kw, ms: len(ms) == sum(math.comb(kw["num_vars"], j) for j in range(min(kw["degree"], kw["num_vars"]) + 1))
     and len(set(ms)) == len(ms) and all(list(m) == sorted(set(m)) and len(m) <= kw["degree"] for m in ms))


@st.composite
def label_kwargs(draw):
    k = draw(st.integers(0, 4))
    inputs = tuple(draw(st.lists(st.integers(0, 8), min_size=k, max_size=k, unique=True)))
    d = draw(poly_dicts(num_vars=k))
    return dict(inputs=inputs, poly=M(PTF + "polynomial.Polynomial").from_dict(d["coefficients"], k),
                kind=draw(st.sampled_from(["ptf", "majority", "junta"])))


spec(PTF + "hierarchy.PTFLabel", lambda **kw: M(PTF + "hierarchy.PTFLabel")(**kw), label_kwargs(),
     bad=dict(inputs=lambda kw: [(-1,) * max(1, len(kw["inputs"])), (1.5,), (0, 0), None, 3, "ab",
                                 kw["inputs"] + (99,)],
              poly=[None, "p", {(0,): 1}], kind=[None, 3]),
     oracle=lambda kw, lab: lab.inputs == tuple(kw["inputs"]) and lab.poly is kw["poly"])


@st.composite
def label_eval_kwargs(draw):
    kw = draw(label_kwargs())
    lab = M(PTF + "hierarchy.PTFLabel")(**kw)
    w = max(kw["inputs"], default=-1) + 1 + draw(st.integers(0, 2))
    return dict(lab=lab, z=draw(cube_rows(N=max(w, 1))))


def label_eval_ok(kw, out, signed=False):
    lab, z = kw["lab"], kw["z"]
    vals = poly_value(dict(lab.poly.terms), z[:, list(lab.inputs)])
    return np.array_equal(out, np.where(np.asarray(vals) >= 0, 1, -1)) if signed else close(out, vals, 1e-12)


Z_BAD = lambda kw: [kw["z"][:, :max(kw["lab"].inputs)] if kw["lab"].inputs else kw["z"][:0, :0][None],  # noqa: E731
                    kw["z"] * 0.5, kw["z"][0], with_nan(torch.as_tensor(kw["z"])).numpy(), None, "z"]
spec(PTF + "hierarchy.PTFLabel.preactivation", lambda lab, z: lab.preactivation(z), label_eval_kwargs(),
     bad=dict(z=Z_BAD), oracle=label_eval_ok)
spec(PTF + "hierarchy.PTFLabel.__call__", lambda lab, z: lab(z), label_eval_kwargs(),
     bad=dict(z=Z_BAD), oracle=lambda kw, out: label_eval_ok(kw, out, signed=True))
spec(PTF + "hierarchy.PTFLabel.local_margin", lambda lab: lab.local_margin(),
     st.builds(lambda kw: dict(lab=M(PTF + "hierarchy.PTFLabel")(**kw)), label_kwargs()),
     oracle=lambda kw, v: close(v, min(abs(x) for x in poly_value(dict(kw["lab"].poly.terms), M(PTF + "polynomial.all_points")(
         len(kw["lab"].inputs)))), 1e-12))

small_hierarchies = ptf_hierarchies(max_d=5, max_levels=2, max_width=3, max_fan_in=3)


@st.composite
def hierarchy_fields(draw):
    h = draw(small_hierarchies)
    return dict(d=h.d, levels=h.levels)


def hierarchy_ok(kw, h):
    width = kw["d"]
    for level in kw["levels"]:
        if not level or any(not isinstance(lab, M(PTF + "hierarchy.PTFLabel")) or max(lab.inputs, default=-1) >= width
                            for lab in level):
            return False
        width = len(level)
    return h.d == kw["d"] and h.level_sizes == tuple(len(level) for level in kw["levels"])


HIER_BAD = dict(d=[0, -1, 1.5, True, None, "5"],
                levels=lambda kw: [(), ((),), None, "abc", ((1,),), 3, (kw["levels"][0] + ("x",),)])
for _name, _call in (("hierarchy.Hierarchy", lambda **kw: M(PTF + "hierarchy.Hierarchy")(**kw)),
                     ("hierarchy.hierarchy_from_labels", lambda **kw: M(PTF + "hierarchy.hierarchy_from_labels")(**kw))):
    spec(PTF + _name, _call, hierarchy_fields(), bad=HIER_BAD, maybe=dict(d=lambda kw: [kw["d"] - 1, 1]),
         oracle=hierarchy_ok)


@st.composite
def hierarchy_x(draw, allow_none=False):
    h = draw(small_hierarchies)
    x = None if allow_none and draw(st.booleans()) else draw(cube_rows(N=h.d))
    return dict(h=h, x=x)


def forward_direct(h, x):
    z, labels = np.asarray(x), []
    for level in h.levels:
        z = np.stack([np.where(np.asarray(poly_value(dict(lab.poly.terms), z[:, list(lab.inputs)])) >= 0, 1, -1)
                      for lab in level], axis=1)
        labels.append(z)
    return labels


X_H_BAD = lambda kw: [np.zeros((1, kw["h"].d)), np.ones((1, kw["h"].d + 1)), np.ones(kw["h"].d), None, "x",  # noqa: E731
                      np.full((1, kw["h"].d), NAN)]
spec(PTF + "hierarchy.Hierarchy.forward", lambda h, x: h.forward(x), hierarchy_x(), bad=dict(x=X_H_BAD),
     oracle=lambda kw, out: all(np.array_equal(a, b) for a, b in zip(out[0], forward_direct(kw["h"], kw["x"]))))
spec(PTF + "hierarchy.Hierarchy.labels", lambda h, x: h.labels(x), hierarchy_x(), bad=dict(x=X_H_BAD),
     oracle=lambda kw, out: np.array_equal(out, np.concatenate(forward_direct(kw["h"], kw["x"]), axis=1)))


def margins_direct(h, x):
    x = M(PTF + "polynomial.all_points")(h.d) if x is None else np.asarray(x)
    z, out = x, []
    for level in h.levels:
        pre = [np.asarray(poly_value(dict(lab.poly.terms), z[:, list(lab.inputs)])) for lab in level]
        out += [float(np.abs(p).min()) for p in pre]
        z = np.stack([np.where(p >= 0, 1, -1) for p in pre], axis=1)
    return out


X_H_BAD_OR_NONE = lambda kw: [v for v in X_H_BAD(kw) if v is not None]  # noqa: E731 - None: all of the cube
spec(PTF + "hierarchy.Hierarchy.margins", lambda h, x: h.margins(x), hierarchy_x(allow_none=True), bad=dict(x=X_H_BAD_OR_NONE),
     oracle=lambda kw, m: close(m, margins_direct(kw["h"], kw["x"]), 1e-12))
spec(PTF + "hierarchy.Hierarchy.xi", lambda h, x: h.xi(x), hierarchy_x(allow_none=True), bad=dict(x=X_H_BAD_OR_NONE),
     oracle=lambda kw, v: close(v, min(margins_direct(kw["h"], kw["x"])), 1e-12))
spec(PTF + "hierarchy.Hierarchy.summary", lambda h, x: h.summary(x), hierarchy_x(allow_none=True), bad=dict(x=X_H_BAD_OR_NONE),
     oracle=lambda kw, s: s["d"] == kw["h"].d and close(s["xi"], min(margins_direct(kw["h"], kw["x"])), 1e-12))
spec(PTF + "hierarchy.Hierarchy.label_levels", lambda h: h.label_levels(),
     st.builds(lambda h: dict(h=h), small_hierarchies),
     oracle=lambda kw, lv: list(lv) == [i + 1 for i, level in enumerate(kw["h"].levels) for _ in level])


@st.composite
def hierarchy_norm(draw):
    return dict(h=draw(small_hierarchies), ord=draw(st.sampled_from([1, 2, np.inf])),
                include_constant=draw(st.booleans()))


def norms_direct(kw):
    out = []
    for level in kw["h"].levels:
        for lab in level:
            c = [float(c) for m, c in lab.poly.terms if kw["include_constant"] or m]
            out.append(float(np.linalg.norm(c, kw["ord"])) if c else 0.0)
    return out


NORM_BAD = dict(ord=[3, "1", None, 0, True], include_constant=["yes", None, 2])
spec(PTF + "hierarchy.Hierarchy.coefficient_norms", lambda h, **kw: h.coefficient_norms(**kw), hierarchy_norm(),
     bad=NORM_BAD, oracle=lambda kw, v: close(v, norms_direct(kw), 1e-12))
spec(PTF + "hierarchy.Hierarchy.M", lambda h, **kw: h.M(**kw), hierarchy_norm(), bad=NORM_BAD,
     oracle=lambda kw, v: close(v, max(norms_direct(kw)), 1e-12))


# generators
def table_of(lab):
    k = len(lab.inputs)
    return [int(v) for v in np.where(np.asarray(poly_value(dict(lab.poly.terms),
                                                          M(PTF + "polynomial.all_points")(k))) >= 0, 1, -1)]


@st.composite
def majority_kwargs(draw):
    k = draw(st.sampled_from([1, 3, 5]))
    inputs = tuple(draw(st.lists(st.integers(0, 9), min_size=k, max_size=k, unique=True)))
    neg = None if draw(st.booleans()) else draw(st.lists(st.sampled_from([-1, 1]), min_size=k, max_size=k))
    return dict(inputs=inputs, negations=neg)


def majority_ok(kw, lab):
    k = len(kw["inputs"])
    s = kw["negations"] or [1] * k
    pts = M(PTF + "polynomial.all_points")(k)
    return lab.inputs == tuple(kw["inputs"]) and table_of(lab) == [1 if sum(a * b for a, b in zip(s, p)) > 0 else -1
                                                                  for p in pts.tolist()]


INPUTS_BAD = [(), (-1,), (1.5,), None, (0, 0), "ab", 3]
spec(PTF + "generators.majority_label", lambda **kw: M(PTF + "generators.majority_label")(**kw), majority_kwargs(),
     bad=dict(inputs=INPUTS_BAD + [(0, 1)],
              negations=lambda kw: [[0] * len(kw["inputs"]), [2] * len(kw["inputs"]), "ab", [1] * (len(kw["inputs"]) + 1),
                                    [0.5] * len(kw["inputs"])]),
     oracle=majority_ok)


@st.composite
def inputs_strategy(draw, lo=1, hi=4):
    k = draw(st.integers(lo, hi))
    return tuple(draw(st.lists(st.integers(0, 9), min_size=k, max_size=k, unique=True)))


spec(PTF + "generators.parity_label", lambda **kw: M(PTF + "generators.parity_label")(**kw),
     st.builds(lambda i: dict(inputs=i), inputs_strategy()), bad=dict(inputs=INPUTS_BAD),
     oracle=lambda kw, lab: table_of(lab) == [int(np.prod(p)) for p in
                                              M(PTF + "polynomial.all_points")(len(kw["inputs"])).tolist()])


@st.composite
def junta_kwargs(draw):
    inputs = draw(inputs_strategy())
    return dict(inputs=inputs, truth_table=draw(st.lists(st.sampled_from([-1, 1]), min_size=2 ** len(inputs),
                                                         max_size=2 ** len(inputs))))


spec(PTF + "generators.junta_label", lambda **kw: M(PTF + "generators.junta_label")(**kw), junta_kwargs(),
     bad=dict(inputs=INPUTS_BAD + [tuple(range(21))],
              truth_table=lambda kw: [[0] * len(kw["truth_table"]), list(kw["truth_table"]) + [1], "t",
                                      [NAN] * len(kw["truth_table"]), None]),
     oracle=lambda kw, lab: table_of(lab) == list(kw["truth_table"]))
RNG = st.integers(0, 99).map(np.random.default_rng)


def ptf_label_ok(kw, lab):
    vals = poly_value(dict(lab.poly.terms), M(PTF + "polynomial.all_points")(len(lab.inputs)))
    return lab.degree <= kw["K"] and min(abs(v) for v in vals) >= 1 and len(set(np.sign(vals))) == 2


spec(PTF + "generators.random_ptf_label", lambda **kw: M(PTF + "generators.random_ptf_label")(**kw),
     st.fixed_dictionaries(dict(inputs=inputs_strategy(), K=st.integers(1, 3), rng=RNG, coef_range=st.integers(1, 3))),
     bad=dict(inputs=INPUTS_BAD + [tuple(range(21))], K=[0, -1, 1.5, None, True], rng=BAD_RNG,
              coef_range=[0, -1, 1.5, None]),
     maybe=dict(coef_range=[10**12]), oracle=ptf_label_ok)
spec(PTF + "generators.random_junta_label", lambda **kw: M(PTF + "generators.random_junta_label")(**kw),
     st.fixed_dictionaries(dict(inputs=inputs_strategy(), rng=RNG)),
     bad=dict(inputs=INPUTS_BAD + [tuple(range(21))], rng=BAD_RNG),
     oracle=lambda kw, lab: len(set(table_of(lab))) == 2 and lab.inputs == tuple(kw["inputs"]))


@st.composite
def make_label_kwargs(draw):
    kind = draw(st.sampled_from(["majority", "parity", "junta", "ptf"]))
    inputs = draw(inputs_strategy().filter(lambda i: kind != "majority" or len(i) % 2))
    return dict(kind=kind, inputs=inputs, rng=draw(RNG), K=draw(st.integers(1, 3)))


spec(PTF + "generators.make_label", lambda **kw: M(PTF + "generators.make_label")(**kw), make_label_kwargs(),
     bad=dict(kind=["bogus", None, 1], inputs=[(), None, (-1,)]), maybe=dict(rng=[None], K=[0, None]),
     oracle=lambda kw, lab: lab.kind == kw["kind"] and lab.inputs == tuple(kw["inputs"])
     and (kw["kind"] != "ptf" or lab.degree <= kw["K"]))


@st.composite
def random_hierarchy_kwargs(draw):
    d = draw(st.integers(2, 6))
    fan_in = draw(st.integers(1, min(3, d)))
    levels = draw(st.integers(1, 3))
    sizes = [draw(st.integers(fan_in if i < levels - 1 else 1, 4)) for i in range(levels)]
    allowed = [k for k in ("majority", "parity", "junta", "ptf") if k != "majority" or fan_in % 2]
    kind = draw(st.one_of(st.sampled_from(allowed), st.lists(st.sampled_from(allowed), min_size=levels, max_size=levels)))
    return dict(d=d, level_sizes=sizes, fan_in=fan_in, kind=kind, wiring="random", K=draw(st.integers(1, 3)),
                rng=draw(RNG))


def random_hierarchy_ok(kw, h):
    kinds = [kw["kind"]] * len(kw["level_sizes"]) if isinstance(kw["kind"], str) else kw["kind"]
    return (h.d == kw["d"] and list(h.level_sizes) == list(kw["level_sizes"])
            and all(len(lab.inputs) == kw["fan_in"] and lab.kind == kd for level, kd in zip(h.levels, kinds) for lab in level))


spec(PTF + "generators.random_hierarchy", lambda **kw: M(PTF + "generators.random_hierarchy")(**kw),
     random_hierarchy_kwargs(),
     bad=dict(d=[0, -1, 1.5, None, True], level_sizes=[[], [0], [1.5], None, "3", 3],
              fan_in=lambda kw: [0, 1.5, None, kw["d"] + 1, True], kind=["bogus", None, 3, ["majority"] * 9],
              wiring=["star", None, 1], rng=BAD_RNG),
     maybe=dict(level_sizes=[[10**7], [10**12]], K=[0, 1.5, None], wiring=["tree"]),
     oracle=random_hierarchy_ok)
spec(PTF + "generators.brain_dump_circuit", lambda **kw: M(PTF + "generators.brain_dump_circuit")(**kw),
     st.fixed_dictionaries(dict(d=st.integers(3, 6), width=st.integers(3, 5), depth=st.integers(1, 3),
                                fan_in=st.sampled_from([1, 3]), rng=RNG)),
     bad=dict(d=[0, 1.5, None], width=[0, 1.5, True, None], depth=[0, -1, None], fan_in=[2, 0, 1.5, None], rng=BAD_RNG),
     maybe=dict(width=[10**7, 10**12], depth=[10**9]),
     oracle=lambda kw, h: h.level_sizes == (kw["width"],) * kw["depth"]
     and all(lab.kind == "majority" and len(lab.inputs) == kw["fan_in"] for level in h.levels for lab in level))


def majority_hat(n, S) -> Fraction:
    pts = M(PTF + "polynomial.all_points")(n)
    return Fraction(sum((1 if row.sum() > 0 else -1) * int(np.prod(row[list(S)])) for row in pts), 2**n)


spec(PTF + "generators.alpha_majority", lambda **kw: M(PTF + "generators.alpha_majority")(**kw),
     st.fixed_dictionaries(dict(k=st.sampled_from([1, 3, 5, 7, 9]))), bad=dict(k=[0, 2, -1, 1.5, None, "3", 10**6 + 1]),
     oracle=lambda kw, a: a == majority_hat(kw["k"], (0,)))


# fourier
FOU = "verify.ptf.fourier."


@st.composite
def cube_values(draw, d_hi=4, kinds=("int", "float", "fraction")):
    d = draw(st.integers(0, d_hi))
    kind = draw(st.sampled_from(kinds))
    elem = {"int": st.integers(-3, 3), "float": st.floats(-3, 3), "fraction": st.just(Fraction(1, 3))}[kind]
    return draw(st.lists(elem, min_size=2**d, max_size=2**d))


def wh_direct(v):
    n = len(v)
    return [sum(v[t] * (-1) ** bin(t & s).count("1") for t in range(n)) for s in range(n)]


VALUES_BAD = [[1, 2, 3], [], "abcd", None, [NAN, 1.0], 5, ["1", "2"], [1 + 1j, 0]]
spec(FOU + "walsh_hadamard", lambda **kw: M(FOU + "walsh_hadamard")(**kw),
     st.builds(lambda v: dict(values=np.array(v, dtype=float if any(isinstance(x, float) for x in v) else np.int64)),
               cube_values(kinds=("int", "float"))),
     bad=dict(values=VALUES_BAD), oracle=lambda kw, w: close(w, wh_direct(list(kw["values"])), 1e-9))
spec(FOU + "mask_to_set", lambda **kw: M(FOU + "mask_to_set")(**kw),
     st.fixed_dictionaries(dict(mask=st.integers(0, 2**70))), bad=dict(mask=[-1, -5, 1.5, None, "3", True]),
     oracle=lambda kw, S: sum(2**i for i in S) == kw["mask"] and list(S) == sorted(set(S)))
spec(FOU + "set_to_mask", lambda **kw: M(FOU + "set_to_mask")(**kw),
     st.fixed_dictionaries(dict(S=st.lists(st.integers(0, 70), unique=True).map(tuple))),
     bad=dict(S=[(0, 0), (-1,), (1.5,), None, "ab", (2**21,), 3, (True,)]),
     oracle=lambda kw, m: m == sum(2**i for i in kw["S"]))
spec(FOU + "fourier_coefficients", lambda **kw: M(FOU + "fourier_coefficients")(**kw),
     st.builds(lambda v: dict(values=v), cube_values(kinds=("int", "float"))), bad=dict(values=VALUES_BAD),
     oracle=lambda kw, c: close(c, [w / len(kw["values"]) for w in wh_direct(list(kw["values"]))], 1e-9))


def expansion_ok(kw, coefs):
    v = list(kw["values"])
    d = len(v).bit_length() - 1
    pts = M(PTF + "polynomial.all_points")(d)
    return all(isinstance(c, Fraction) for c in coefs.values()) and all(
        sum(Fraction(c) * int(np.prod(p[list(S)])) for S, c in coefs.items()) == Fraction(val) for p, val in zip(pts, v))


spec(FOU + "fourier_expansion", lambda **kw: M(FOU + "fourier_expansion")(**kw),
     st.builds(lambda v: dict(values=v), cube_values()), bad=dict(values=VALUES_BAD + [[[1, 2], [3, 4]], [True, False]]),
     oracle=expansion_ok)
spec(FOU + "expansion_polynomial", lambda **kw: M(FOU + "expansion_polynomial")(**kw),
     st.builds(lambda v: dict(values=v), cube_values()), bad=dict(values=VALUES_BAD),
     oracle=lambda kw, p: close(p(M(PTF + "polynomial.all_points")(p.num_vars)), [float(x) for x in kw["values"]], 1e-12))


@st.composite
def expansion_eval_kwargs(draw):
    x = draw(cube_rows())
    d = x.shape[1]
    sets = draw(st.lists(st.lists(st.integers(0, d - 1), max_size=d, unique=True).map(tuple), max_size=5, unique=True))
    return dict(coefficients={S: draw(st.one_of(st.floats(-2, 2), st.integers(-2, 2))) for S in sets}, x=x)


spec(FOU + "evaluate_expansion", lambda **kw: M(FOU + "evaluate_expansion")(**kw), expansion_eval_kwargs(),
     bad=dict(coefficients=lambda kw: [None, {(0,): "1"}, {(kw["x"].shape[1],): 1}, {(0, 0): 1}, [((0,), 1)],
                                       {(0,): NAN}],
              x=lambda kw: [kw["x"][0], with_nan(torch.as_tensor(kw["x"])).numpy(), None, "x"]),
     oracle=lambda kw, v: close(v, poly_value(kw["coefficients"], kw["x"]), 1e-9))


@st.composite
def label_index_kwargs(draw):
    h = draw(small_hierarchies)
    return dict(hierarchy=h, index=draw(st.integers(0, h.num_labels - 1)))


INDEX_BAD = dict(hierarchy=[None, "h", 3],
                 index=lambda kw: [-1, kw["hierarchy"].num_labels, 1.5, None, "0", True])
spec(FOU + "label_values", lambda **kw: M(FOU + "label_values")(**kw), label_index_kwargs(), bad=INDEX_BAD,
     oracle=lambda kw, v: list(v) == [int(r) for r in np.concatenate(
         forward_direct(kw["hierarchy"], M(PTF + "polynomial.all_points")(kw["hierarchy"].d)), axis=1)[:, kw["index"]]])
spec(FOU + "label_fourier", lambda **kw: M(FOU + "label_fourier")(**kw), label_index_kwargs(), bad=INDEX_BAD,
     oracle=lambda kw, c: expansion_ok(dict(values=[int(r) for r in np.concatenate(
         forward_direct(kw["hierarchy"], M(PTF + "polynomial.all_points")(kw["hierarchy"].d)), axis=1)[:, kw["index"]]]), c))
COEFS_BAD = [None, [1], {"a": 1}, {(0,): "x"}, {(-1,): 1}, {(0,): NAN}]
spec(FOU + "fourier_degree", lambda **kw: M(FOU + "fourier_degree")(**kw),
     st.builds(lambda kw: dict(coefficients=kw["coefficients"]), expansion_eval_kwargs()),
     bad=dict(coefficients=COEFS_BAD), oracle=lambda kw, k: k == max((len(S) for S in kw["coefficients"]), default=0))


@st.composite
def weight_kwargs(draw):
    kw = draw(expansion_eval_kwargs())
    return dict(coefficients=kw["coefficients"], d=kw["x"].shape[1] + draw(st.integers(0, 2)))


spec(FOU + "weight_by_degree", lambda **kw: M(FOU + "weight_by_degree")(**kw), weight_kwargs(),
     bad=dict(coefficients=COEFS_BAD + [{(0, 1, 2, 3, 4, 5, 6, 7, 8): 1}], d=[-1, 1.5, None, "3", True]),
     oracle=lambda kw, w: len(w) == kw["d"] + 1 and close(float(sum(w)), sum(float(c) ** 2 for c in kw["coefficients"].values()), 1e-9))


@st.composite
def majority_fourier_kwargs(draw):
    n = draw(st.sampled_from([1, 3, 5, 7]))
    return dict(n=n, k=draw(st.integers(0, n)))


spec(FOU + "majority_fourier", lambda **kw: M(FOU + "majority_fourier")(**kw), majority_fourier_kwargs(),
     bad=dict(n=[2, 0, -1, 1.5, None, 3.0, 10**6 + 1], k=lambda kw: [-1, kw["n"] + 1, 1.5, None]),
     oracle=lambda kw, c: c == majority_hat(kw["n"], tuple(range(kw["k"]))))
spec(FOU + "polynomial_on_cube", lambda poly, coefs: M(FOU + "polynomial_on_cube")(poly),
     st.builds(lambda d: dict(poly=d["p"], coefs=d["coefs"]), poly_objects()),
     bad=dict(poly=[None, "p", {(0,): 1}]),
     oracle=lambda kw, v: close(v, poly_value(kw["coefs"], M(PTF + "polynomial.all_points")(kw["poly"].num_vars)), 1e-12))


# -- verify.harness.stats -----------------------------------------------------------------------------------
STATS = "verify.harness.stats."
CONF = st.floats(0.5, 0.999)
CONF_BAD = [0, 1, 1.5, -0.2, NAN, "0.99", None, True]


@st.composite
def counts(draw):
    n = draw(st.integers(1, 60))
    return dict(k=draw(st.integers(0, n)), n=n, confidence=draw(CONF))


COUNT_BAD = dict(k=lambda kw: [-1, kw["n"] + 1, 1.5, None, "1", True], n=[0, -1, 2.5, None, "10"], confidence=CONF_BAD)


def limits_ok(kw, out):
    lo, hi = out
    return 0 <= lo <= kw["k"] / kw["n"] <= hi <= 1


spec(STATS + "bonferroni", lambda **kw: M(STATS + "bonferroni")(**kw),
     st.fixed_dictionaries(dict(k=st.integers(0, 100), confidence=CONF)),
     bad=dict(k=[-1, 1.5, None, "3", True], confidence=CONF_BAD),
     oracle=lambda kw, c: close(c, 1 - (1 - kw["confidence"]) / max(kw["k"], 1), 1e-15) and kw["confidence"] <= c < 1)
spec(STATS + "rate_limits", lambda **kw: M(STATS + "rate_limits")(**kw), counts(), bad=COUNT_BAD, oracle=limits_ok)
spec(STATS + "clopper_pearson", lambda **kw: M(STATS + "clopper_pearson")(**kw), counts(), bad=COUNT_BAD,
     oracle=limits_ok)


@st.composite
def decide_kwargs(draw):
    kw = draw(counts())
    return {**kw, "bound": draw(st.floats(0, 1)), "max_n": draw(st.integers(kw["n"], 10**5))}


def decide_ok(kw, r):
    if r is None:
        return True
    if not 1 <= r <= kw["max_n"]:
        return False
    rate = kw["k"] / kw["n"]
    k2 = min(r, max(0, round(rate * r)))
    lo, hi = M(STATS + "rate_limits")(k2, r, kw["confidence"])
    return hi <= kw["bound"] if rate < kw["bound"] else lo > kw["bound"]


spec(STATS + "repetitions_to_decide", lambda **kw: M(STATS + "repetitions_to_decide")(**kw), decide_kwargs(),
     bad={**COUNT_BAD, "bound": [NAN, "0.1", None, INF, True], "max_n": lambda kw: [kw["n"] - 1, 0, 1.5, None, 10**13]},
     oracle=decide_ok, examples=15)


@st.composite
def quantile_limit_kwargs(draw):
    return dict(samples=draw(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(INF)), min_size=1, max_size=40)),
                q=draw(st.floats(0.01, 0.99)), confidence=draw(CONF))


def quantile_limits_ok(kw, out):
    lo, hi = out
    x = sorted(kw["samples"])
    return lo <= hi and (lo == -INF or lo in x) and (hi == INF or hi in x)


spec(STATS + "quantile_limits", lambda **kw: M(STATS + "quantile_limits")(**kw), quantile_limit_kwargs(),
     bad=dict(samples=[[], "s", None, [NAN], [1.0, NAN], [1j]], q=UNIT_OPEN_BAD, confidence=CONF_BAD),
     oracle=quantile_limits_ok)


@st.composite
def inside_kwargs(draw):
    lo = draw(st.one_of(st.floats(0, 10), st.just(-INF), st.just(0.0)))
    hi = draw(st.one_of(st.floats(0, 10), st.just(INF)).filter(lambda h: h >= lo))
    return dict(value=draw(st.floats(1e-3, 10)), lower=lo, upper=hi)


def inside_ok(kw, r):
    v, lo, hi = kw["value"], kw["lower"], kw["upper"]
    inside = lo <= v <= hi and hi > 0
    return r >= 0 and ((r <= 1) == inside or (r == 1 and (v == hi or v == lo)))


spec(STATS + "inside_ratio", lambda **kw: M(STATS + "inside_ratio")(**kw), inside_kwargs(),
     bad=dict(value=[0, -1.0, NAN, INF, "1", None, True],
              lower=lambda kw: [NAN, "0", None] + ([kw["upper"] + 1] if math.isfinite(kw["upper"]) else []),
              upper=lambda kw: [NAN, "1", None] + ([kw["lower"] - 1] if math.isfinite(kw["lower"]) else [])),
     oracle=inside_ok)
spec(STATS + "mean_limits", lambda **kw: M(STATS + "mean_limits")(**kw),
     st.fixed_dictionaries(dict(samples=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30), confidence=CONF)),
     bad=dict(samples=[[1.0], [], [NAN, 1.0], "s", None, [INF, 1.0]], confidence=CONF_BAD),
     oracle=lambda kw, out: out[0] <= float(np.mean(kw["samples"])) + 1e-6 <= out[1] + 2e-6)


@st.composite
def pearson_kwargs(draw):
    k = draw(st.integers(1, 6))
    w = draw(st.lists(st.integers(0, 5), min_size=k, max_size=k).filter(lambda w: sum(w) > 0))
    law = np.array(w, dtype=float) / sum(w)
    obs = [draw(st.integers(0, 20)) if law[i] > 0 else 0 for i in range(k)]
    obs[int(np.argmax(law))] += 1
    return dict(observed=obs, expected_prob=law)


def pearson_ok(kw, out):
    o, p = np.asarray(kw["observed"], dtype=float), kw["expected_prob"]
    e = o.sum() * p
    stat = sum((oi - ei) ** 2 / ei for oi, ei in zip(o, e) if ei > 0)
    return close(out[0], stat, 1e-9) and out[1] == int((e > 0).sum()) - 1


spec(STATS + "pearson_statistic", lambda **kw: M(STATS + "pearson_statistic")(**kw), pearson_kwargs(),
     bad=dict(observed=lambda kw: [[-1] * len(kw["observed"]), [NAN] * len(kw["observed"]), "o", None,
                                   list(kw["observed"]) + [1]],
              expected_prob=lambda kw: [kw["expected_prob"] * 2, -kw["expected_prob"], [NAN] * len(kw["observed"]),
                                        "p", None]),
     oracle=pearson_ok)
spec(STATS + "chi2_pvalue", lambda **kw: M(STATS + "chi2_pvalue")(**kw),
     st.fixed_dictionaries(dict(statistic=st.one_of(st.floats(0, 1e3), st.just(INF)), dof=st.integers(0, 20))),
     bad=dict(statistic=[-1.0, NAN, "1", None, True], dof=[-1, 1.5, None, "2"]),
     oracle=lambda kw, p: 0 <= p <= 1 and (kw["statistic"] != INF or p == 0))


# -- bad calls found by hand (the issue's and more): (parameter the error must name, call) ------------------------
def _g(**kw):
    return M("verify.rhm.grammar.sample_grammar")(**{**dict(num_features=4, num_classes=4, num_synonyms=2, tuple_size=2,
                                                          num_layers=2, seed=0), **kw})


def _law():
    return M("verify.rhm.exact.first_patch_law")(_g(), 2)


def _deep_grammar():  # 2**40 leaves: valid parameters, far beyond any enumeration
    return M("verify.rhm.grammar.Grammar")(num_features=2, num_classes=2, num_synonyms=2, tuple_size=2, num_layers=40,
                                          rules=tuple([np.array([[[0, 0], [1, 1]], [[0, 1], [1, 0]]])] * 40))


def _appendix_b_mislabelled():
    g = _g(sampler="authors", seed=3)
    r = [np.array(a) for a in g.rules]
    r[1] = np.array([[[0, 0], [0, 1]], [[0, 2], [0, 3]], [[1, 0], [1, 1]], [[2, 2], [3, 3]]])
    return M("verify.rhm.grammar.Grammar")(num_features=4, num_classes=4, num_synonyms=2, tuple_size=2, num_layers=2,
                                          rules=tuple(r), sampler="appendix_b")


X4 = torch.tensor([[1.0, -1, 1, -1], [1, 1, -1, -1]], dtype=torch.float64)
POLY1 = lambda: M(PTF + "polynomial.Polynomial").from_dict({(0,): 1}, 1)  # noqa: E731
KNOWN = [
    # the issue's examples
    ("x", lambda: M("verify.rhm.sampling.parse")(_g(), torch.tensor([[1, 7, 3, 0]]))),
    ("x", lambda: M("verify.rhm.sampling.parse")(_g(), torch.tensor([[1, -1, 3, 0]]))),
    ("num_layers", lambda: M("verify.rhm.grammar.Grammar")(num_features=4, num_classes=4, num_synonyms=2, tuple_size=2,
                                                          num_layers=9, rules=_g().rules)),
    ("num_synonyms", lambda: M("verify.rhm.grammar.Grammar")(num_features=4, num_classes=4, num_synonyms=3, tuple_size=2,
                                                            num_layers=2, rules=_g().rules)),
    ("batch_size", lambda: M("verify.rhm.sampling.sample")(_g(), 10, gen(), batch_size=-1)),
    ("frequencies", lambda: M(RFF + "RandomFourierFeatures")(torch.full((8, 4), NAN, dtype=torch.float64), 1.0)),
    ("weight_var", lambda: M(RN + "beta_xavier")(4, 8, 0.2, gen(), weight_var=NAN)),
    ("weight_var", lambda: M(RN + "beta_xavier")(4, 8, 0.2, gen(), weight_var=INF)),
    ("x", lambda: M(RN + "mc_kernel")(with_nan(X4), X4, 8, 0.2, gen())),
    ("width", lambda: M(RN + "mc_kernel")(X4, X4, 0, 0.2, gen())),
    ("n", lambda: M(RN + "hermite_coefficient")("relu", 2.5)),
    ("t", lambda: M(RN + "dual_activation")(5)),
    ("inputs", lambda: M(PTF + "hierarchy.PTFLabel")(inputs=(-1,), poly=POLY1())),
    ("beta", lambda: M(RN + "kernel_coefficients")("__import__('os').getpid()", 2)),
    ("beta", lambda: M(RN + "cube_eigenvalues")(3, "1/4", exact=True)),
    # found while fuzzing (silent answers, raw errors, hangs, unbounded allocations)
    ("level", lambda: _g().parents(3)),
    ("labels", lambda: M("verify.rhm.sampling.expand")(_g(), torch.tensor([-1]), [torch.zeros(1, 1, dtype=torch.long),
                                                                             torch.zeros(1, 2, dtype=torch.long)])),
    ("choices", lambda: M("verify.rhm.sampling.expand")(_g(), torch.tensor([0]), [torch.full((1, 1), 5),
                                                                             torch.zeros(1, 2, dtype=torch.long)])),
    ("x", lambda: M("verify.rhm.sampling.one_hot")(torch.tensor([-1, 2]), 4)),
    ("patch", lambda: _law().patch_q(-1)),
    ("patches", lambda: M("verify.rhm.grammar.encode_patches")(np.array([[1.5, 0.0]]), 4)),
    ("codes", lambda: M("verify.rhm.grammar.decode_patches")([-3], 4, 2)),
    ("sampler", lambda: _appendix_b_mislabelled()),
    ("sampler", lambda: M("verify.rhm.grammar.grammar_from_params")(dict(V=4, n_c=4, m=2, s=2, L=2, grammar_seed=0,
                                                                        sampler="authors"), sampler="cagnetta")),
    ("grammar", lambda: M("verify.rhm.enumerate.num_derivations")(_deep_grammar())),
    ("n", lambda: M("verify.rhm.sampling.sample")(_g(), 10**12, gen())),
    ("limit", lambda: M("verify.rhm.enumerate.enumerate_derivations")(_g(), limit=0)),
    ("grammar", lambda: M("verify.rhm.exact.transition_matrix")("grammar", 1)),
    ("table", lambda: M(BIB + "table_probability")([[1.5, 0.5]])),
    ("seq", lambda: M(BIB + "placement_table")([0, -1], 2, 1)),
    ("column_sums", lambda: M(BIB + "sequential_hypergeometric_probability")([[1, 0]], [-1, 2])),
    ("num_bins", lambda: M(BIB + "enumerate_tables")(-1, 2)),
    ("k", lambda: M(BIB + "falling")(5, 10**9)),
    ("values", lambda: M(BIB + "quantile_with_upper_bound")([], 0.5)),
    ("V", lambda: M(BIB + "probe_vector")("pair", 1)),
    ("n", lambda: M(BIB + "sample_tables")(4, 2, 10**12, gen())),
    ("M", lambda: M(BIB + "draw_moments")(1, 1, 1, 1, 1, 3)),
    ("degree", lambda: list(M(PTF + "polynomial.monomials_up_to")(3, -1))),
    ("num_vars", lambda: list(M(PTF + "polynomial.monomials_up_to")(-2, 2))),
    ("inputs", lambda: M(PTF + "generators.random_junta_label")((), np.random.default_rng(0))),
    ("S", lambda: M(FOU + "set_to_mask")((1, 1))),
    ("mask", lambda: M(FOU + "mask_to_set")(-5)),
    ("values", lambda: M(PTF + "polynomial.sign")([NAN])),
    ("terms", lambda: M(PTF + "polynomial.Polynomial")(2, ((("a",), 1),))),
    ("coefficients", lambda: M(PTF + "polynomial.Polynomial").from_dict({(1.5,): 1}, 2)),
    ("z", lambda: POLY1()(np.array([[0.5]]), exact=True)),
    ("level_sizes", lambda: M(PTF + "generators.random_hierarchy")(4, [2.7], 1, "parity", rng=np.random.default_rng(0))),
    ("k", lambda: M(PTF + "generators.alpha_majority")(10**7 + 1)),
    ("n", lambda: M(FOU + "majority_fourier")(3.0, 1)),
    ("values", lambda: M(FOU + "walsh_hadamard")(5)),
    ("values", lambda: M(FOU + "fourier_expansion")(["1/2", "1"])),
    ("value", lambda: M(STATS + "inside_ratio")(-1.0, 0.0, 1.0)),
    ("observed", lambda: M(STATS + "pearson_statistic")([-5, 10], [0.5, 0.5])),
    ("expected_prob", lambda: M(STATS + "pearson_statistic")([5, 10], [0.5, 1.5])),
    ("k", lambda: M(STATS + "bonferroni")(2.7)),
    ("bound", lambda: M(STATS + "repetitions_to_decide")(3, 10, NAN)),
    ("statistic", lambda: M(STATS + "chi2_pvalue")(NAN, 3)),
    ("n", lambda: M(RN + "hermite_coefficient")("relu", [2])),
    ("n", lambda: M(RN + "hermite_coefficient")("relu", 10**9)),
    ("n_max", lambda: M(RN + "hermite_coefficients_float")("relu", 400, 200)),
    ("J", lambda: M(RN + "kernel_coefficients")(0.3, 70, exact=False)),
    ("d", lambda: M(RN + "cube_eigenvalues")(True, 0.2)),
    ("eigenvalues", lambda: M(RN + "rkhs_norm_sq")({(0,): 1.0}, [1.0, -0.5])),
    ("fourier", lambda: M(RN + "rkhs_norm_sq")({(0,): "__import__('os').getpid()"}, [1.0, sympy.Rational(1, 2)])),
    ("in_dim", lambda: M(RN + "beta_xavier")(True, 4, 0.2, gen())),
    ("dtype", lambda: M(RN + "beta_xavier")(4, 4, 0.2, gen(), dtype=torch.int64)),
    ("x", lambda: M(RN + "kernel")(np.ones(4), np.ones((2, 4)), 0.2)),
    ("t", lambda: M(RN + "dual_activation")(0.5 + 0.5j)),
    ("batch_shape", lambda: M(RFF + "sample_frequencies")(4, 8, 1.0, gen(), batch_shape=(2.5,))),
    ("h", lambda: M(RFF + "rbf_kernel")(torch.zeros(10**5, 3, dtype=torch.float64))),
    ("dim", lambda: M(RFF + "kernel_limit_derivation")(dim=12)),
    ("tokens", lambda: M(CL)(torch.eye(3, dtype=torch.float64)).codes(np.zeros((2, 3)))),
    ("tokens", lambda: M(CL)(torch.eye(3, dtype=torch.float64))(torch.zeros(1, 40, 3, dtype=torch.float64))),
]


# -- issue 15: the fast sampler and the laws of every level ------------------------------------------------
def fast_sample_ok(kw, out):
    return sample_ok(kw, out)


spec("verify.rhm.sampling.sample_fast", lambda **kw: M("verify.rhm.sampling.sample_fast")(**kw), sample_kwargs(),
     bad={**SAMPLE_BAD, "batch_size": bad_ints(1)}, maybe=dict(n=HUGE), oracle=fast_sample_ok, examples=40)


def _batches(**kw):
    return [(x.clone(), y.clone()) for x, y in M("verify.rhm.sampling.sample_batches")(**kw)]


@st.composite
def batches_kwargs(draw):
    kw = draw(sample_kwargs())
    kw.update(one_hot=draw(st.booleans()), channels_first=draw(st.booleans()))
    return kw


def batches_ok(kw, out):
    g = kw["grammar"]
    if sum(len(y) for _, y in out) != kw["n"]:
        return False
    for x, y in out:
        if kw["one_hot"]:
            if x.dtype != torch.float32 or not bool((x.sum(1 if kw["channels_first"] else -1) == 1).all()):
                return False
            x = x.argmax(1 if kw["channels_first"] else -1)
        if not sample_ok(dict(grammar=g, n=len(y)), (x, y)):
            return False
    return True


spec("verify.rhm.sampling.sample_batches", _batches, batches_kwargs(),
     bad={**SAMPLE_BAD, "batch_size": bad_ints(1), "one_hot": [None, 1, "yes"], "channels_first": [None, 0, "no"],
          "dtype": [None, torch.long, "float32"]},
     maybe=dict(n=HUGE), oracle=batches_ok, examples=30)
spec("verify.rhm.sampling.uniform_choices", lambda **kw: M("verify.rhm.sampling.uniform_choices")(**kw),
     st.fixed_dictionaries(dict(k=st.integers(0, 50), m=st.integers(1, 400), generator=st.integers(0, 99).map(gen))),
     bad=dict(k=bad_ints(0), m=bad_ints(1), generator=BAD_GEN),
     maybe=dict(k=HUGE),
     oracle=lambda kw, r: tuple(r.shape) == (kw["k"],) and r.dtype == torch.long
     and (kw["k"] == 0 or (int(r.min()) >= 0 and int(r.max()) < kw["m"])))
spec("verify.rhm.exact.first_patch_laws", lambda **kw: M("verify.rhm.exact.first_patch_laws")(**kw),
     exact_kwargs(level=False), bad={k: v for k, v in EXACT_BAD.items() if k != "level"},
     oracle=lambda kw, laws: len(laws) == kw["grammar"].num_layers
     and all(law_ok(kw["grammar"], l, law) for l, law in enumerate(laws, start=1)))


# -- issue 16: the nested form, the brain-dump votes, and the exact PTF margin -----------------------------------
spec(PTF + "hierarchy.Hierarchy.fan_in", lambda h: h.fan_in(), st.builds(lambda h: dict(h=h), small_hierarchies),
     oracle=lambda kw, f: f == max(len(lab.inputs) for level in kw["h"].levels for lab in level))


@st.composite
def hierarchy_level(draw):
    h = draw(small_hierarchies)
    return dict(h=h, level=draw(st.integers(1, h.r)))


spec(PTF + "hierarchy.Hierarchy.variables_of_level", lambda h, level: h.variables_of_level(level), hierarchy_level(),
     bad=dict(level=lambda kw: [0, -1, kw["h"].r + 1, 1.5, None, "1"]),
     oracle=lambda kw, n: n == (kw["h"].d if kw["level"] == 1 else kw["h"].level_sizes[kw["level"] - 2]))


@st.composite
def nested_kwargs(draw):
    return dict(h=draw(small_hierarchies), reads=draw(st.sampled_from(["lower", "lower_and_input"])))


def nested_ok(kw, nested):
    pts = M(PTF + "polynomial.all_points")(kw["h"].d)
    return nested.reads == kw["reads"] and np.array_equal(nested.labels(pts), np.concatenate(forward_direct(kw["h"], pts), axis=1))


spec(PTF + "hierarchy.Hierarchy.as_nested", lambda h, reads: h.as_nested(reads), nested_kwargs(),
     bad=dict(reads=["previous", "bogus", None, 3]), oracle=nested_ok)

BD = "verify.ptf.brain_dump."


@st.composite
def brain_dump_kwargs(draw):
    width, d = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    return dict(d=d, width=width, depth=draw(st.integers(1, 3)), votes=draw(st.integers(1, 3)),
                vote_size=draw(st.sampled_from([k for k in (1, 3) if k <= width])),
                gate_fan_in=draw(st.integers(1, min(2, width, d))),
                gate_kind=draw(st.sampled_from(["junta", "parity", "ptf"])), rng=draw(RNG))


def brain_dump_ok(kw, b):
    return (b.circuit.level_sizes == (kw["width"],) * kw["depth"] and b.level_sizes == (kw["votes"],) * kw["depth"]
            and all(lab.kind == "majority" and len(lab.inputs) == kw["vote_size"] for layer in b.votes for lab in layer))


spec(BD + "brain_dump_votes", lambda **kw: M(BD + "brain_dump_votes")(**kw), brain_dump_kwargs(),
     bad=dict(width=[0, 1.5, None, True], depth=[0, -1, None], votes=[0, 1.5, None],
              vote_size=lambda kw: [2, 0, kw["width"] + 2, None], gate_kind=["bogus", None, 3], rng=BAD_RNG),
     maybe=dict(votes=[10**7], depth=[10**6], d=[0, 1.5, None], gate_fan_in=[0, 9, None, 1.5]), oracle=brain_dump_ok)


@st.composite
def brain_dump_x(draw):
    b = M(BD + "brain_dump_votes")(**draw(brain_dump_kwargs()))
    return dict(b=b, x=draw(cube_rows(N=b.d)))


def votes_direct(b, x):
    gates = forward_direct(b.circuit, x)
    return np.concatenate([np.stack([np.where(np.asarray(poly_value(dict(lab.poly.terms), g[:, list(lab.inputs)])) >= 0,
                                              1, -1) for lab in layer], axis=1) for g, layer in zip(gates, b.votes)], axis=1)


X_B_BAD = lambda kw: [np.zeros((1, kw["b"].d)), np.ones((1, kw["b"].d + 1)), None, "x"]  # noqa: E731
spec(BD + "BrainDump.gates", lambda b, x: b.gates(x), brain_dump_x(), bad=dict(x=X_B_BAD),
     oracle=lambda kw, g: all(np.array_equal(a, c) for a, c in zip(g, forward_direct(kw["b"].circuit, kw["x"]))))
spec(BD + "BrainDump.labels", lambda b, x: b.labels(x), brain_dump_x(), bad=dict(x=X_B_BAD),
     oracle=lambda kw, out: np.array_equal(out, votes_direct(kw["b"], kw["x"])))
spec(BD + "BrainDump.label_levels", lambda b: b.label_levels(),
     st.builds(lambda kw: dict(b=M(BD + "brain_dump_votes")(**kw)), brain_dump_kwargs()),
     oracle=lambda kw, lv: list(lv) == [i + 1 for i, layer in enumerate(kw["b"].votes) for _ in layer])


@st.composite
def margin_kwargs(draw):
    k = draw(st.integers(1, 4))
    z = draw(cube_rows(N=k))
    K = draw(st.integers(0, k))
    mono = draw(st.lists(st.integers(0, k - 1), unique=True, max_size=K))  # a monomial of degree <= K: margin 1
    y = np.prod(z[:, mono], axis=1) if mono else np.ones(z.shape[0])
    if draw(st.booleans()):
        y = np.where(draw(st.lists(st.booleans(), min_size=len(y), max_size=len(y))), 1.0, -1.0)
        return dict(z=z, y=y, K=K)
    return dict(z=z, y=y.astype(float), K=K)


def margin_ok(kw, v):
    z, y, K = np.asarray(kw["z"], dtype=float), np.asarray(kw["y"], dtype=float), kw["K"]
    if not -1 - 1e-9 <= v <= 1 + 1e-9:
        return False
    for S in M(PTF + "polynomial.monomials_up_to")(z.shape[1], K):  # a single monomial is one feasible c
        if np.all(y * (np.prod(z[:, list(S)], axis=1) if S else 1.0) == 1) and v < 1 - 1e-7:
            return False
    return True


spec(BD + "best_ptf_margin", lambda **kw: M(BD + "best_ptf_margin")(**kw), margin_kwargs(),
     bad=dict(z=lambda kw: [np.zeros_like(kw["z"]), kw["z"][0], None, "z"], y=lambda kw: [np.zeros(len(kw["y"])),
              np.ones(len(kw["y"]) + 1), None], K=[-1, 1.5, None]), oracle=margin_ok)


# -- the tests -----------------------------------------------------------------------------------------------
def public_callables() -> dict:
    """Every public function, class and public method of the fuzzed modules, as ``module.name[.method]``."""
    out = {}
    for modname in MODULES:
        mod = importlib.import_module(modname)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if not callable(obj) or isinstance(obj, type(sys)):
                continue
            out[f"{modname}.{name}"] = obj
            if isinstance(obj, type):
                for meth, f in vars(obj).items():
                    if (not meth.startswith("_") or meth == "__call__") and (inspect.isfunction(f)
                                                                               or isinstance(f, classmethod)):
                        out[f"{modname}.{name}.{meth}"] = f
    return out


def test_every_public_callable_is_listed_and_fuzzed():
    for modname in MODULES:
        mod = importlib.import_module(modname)
        defined = {n for n, o in vars(mod).items() if not n.startswith("_") and (inspect.isfunction(o) or isinstance(o, type))
                   and getattr(o, "__module__", None) == modname}
        assert defined <= set(mod.__all__), f"{modname}.__all__ misses {sorted(defined - set(mod.__all__))}"
        assert all(hasattr(mod, n) for n in mod.__all__), f"{modname}.__all__ names something it does not define"
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj) and not isinstance(obj, type(sys)):
                assert any(getattr(importlib.import_module(m), name, None) is obj for m in MODULES), \
                    f"{pkg}.{name} is not from a fuzzed module"
    missing = sorted(set(public_callables()) - set(SPECS) - RECORDS)
    assert not missing, f"public callables without a fuzz spec: {missing}"
    assert not sorted(set(SPECS) - set(public_callables())), "specs for callables that are not public"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fuzz(name):
    run_spec(name)


@pytest.mark.parametrize("param, call", KNOWN, ids=[f"{i}-{p}" for i, (p, _) in enumerate(KNOWN)])
def test_known_bad_call(param, call):
    with pytest.raises(ValueError) as err:
        call()
    assert names_param(str(err.value), param), str(err.value)


def test_memory_limit_is_configurable(monkeypatch):
    from verify.validate import MemoryLimitError, check_memory
    monkeypatch.setenv("VERIFY_MEMORY_LIMIT_GB", "1")
    check_memory("a small request", 2**29)
    with pytest.raises(MemoryLimitError, match=r"2 GiB.*1 GiB"):
        check_memory("a request", 2**31)
    monkeypatch.setenv("VERIFY_MEMORY_LIMIT_GB", "0")
    with pytest.raises(ValueError, match="VERIFY_MEMORY_LIMIT_GB"):
        check_memory("anything", 1)
    monkeypatch.delenv("VERIFY_MEMORY_LIMIT_GB")
    check_memory("7 GiB under the default 8", 7 * 2**30)
    with pytest.raises(MemoryLimitError):
        check_memory("9 GiB", 9 * 2**30)


# -- counting mode -------------------------------------------------------------------------------------------
def count(examples: int, timeout_s: int = 20) -> dict:
    """Outcomes of ``examples`` derandomized examples per spec and of every KNOWN call."""
    global RECORD, TIMEOUT_S
    import collections
    RECORD, TIMEOUT_S = [], timeout_s
    for name in sorted(SPECS):
        try:
            run_spec(name, examples, derandomize=True)
        except Exception as err:  # noqa: BLE001 - a strategy that cannot run on this copy
            RECORD.append((name, "not_run", None, f"{type(err).__name__}: {err}"))
    fuzz = list(RECORD)
    known = []
    for param, call in KNOWN:
        s = Spec(lambda call=call: call(), st.just({}))
        res, detail = outcome(s, {}, param, "bad")
        known.append((param, res, detail))
    RECORD = None

    def table(rows, corrupt_index):
        bad = [r for r in rows if r[corrupt_index] is not None]
        return dict(collections.Counter(r[1] for r in bad)), len(bad)
    return {"fuzz_bad_inputs": table(fuzz, 2), "fuzz_valid_inputs": dict(collections.Counter(
        r[1] for r in fuzz if r[2] is None)), "known": dict(collections.Counter(r[1] for r in known)),
            "known_rows": known, "fuzz_rows": fuzz}


if __name__ == "__main__":
    import json
    n = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 20
    res = count(n)
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    if out:
        with open(out, "w") as fh:
            json.dump(res, fh, default=str, indent=1)
    print(json.dumps({k: v for k, v in res.items() if not k.endswith("_rows")}, indent=1))
