r"""The small vocabulary every lemma module speaks: :class:`Claim`, :class:`Case`, :class:`Verdict`.

A lemma module defines one ``CLAIM = Claim(...)``. For a :class:`Case` (named parameters at scale
``small`` or ``large``), the claim computes the paper's **bound** and a **measured** quantity --
``exact`` (rational/symbolic or float64 by an exact algorithm) or ``empirical`` (sampled, with its
uncertainty) -- and the harness compares them with the claim's relation (``<=``: the measured
quantity must not exceed the bound, e.g. a deviation; ``>=``: it must reach it, e.g. a gap).

Every case states what it expects: ``role="check"`` cases must hold; ``role="negative_control"``
cases are built so that the assumption or bound fails, and the check must then report failure;
``role="as_printed"`` cases test a statement as the paper prints it where the digest or a
measurement shows it to be off, and record which way it goes (``expect`` says which, with a reason).

**The verdict** is decided at the package's confidence (:data:`verify.harness.stats.CONFIDENCE`,
99 %, one-sided, per case) by :func:`decide`, the one path every case -- check, negative control
or as printed -- goes through:

- exact measurements (``Fraction``, integers, sympy numbers, or float64 by an exact algorithm with
  no interval) are compared with the bound exactly: *holds* or *fails*;
- a measurement with one-sided confidence limits ``lower``/``upper`` *holds* when the limit on the
  far side is within the bound (``upper <= bound`` for ``<=``), *fails* when the limit on the near
  side is beyond it (``lower > bound``), and is otherwise **inconclusive**, which is never a pass;
- a measurement of one seeded draw with no sampling interval is compared on its value, and the
  verdict says so (``basis="seeded draw"``);
- a NaN anywhere is inconclusive.

The **slack** is bound ÷ measured (``<=``) or measured ÷ bound (``>=``): above 1 the bound is met
with room, below 1 it is violated.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import numbers
import re
import time
from fractions import Fraction
from typing import Any, Callable, Mapping

import sympy
import torch

from .stats import CONFIDENCE

RELATIONS = ("<=", ">=")
SCALES = ("small", "large")
METHODS = ("exact", "empirical")
ROLES = ("check", "negative_control", "as_printed")
STATUSES = ("holds", "fails", "inconclusive")
#: The alphabet of case names (they name files: ``results/<claim>/<case>.json``).
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclasses.dataclass(frozen=True)
class Case:
    """Named parameters of one evaluation of a claim.

    ``cpu_params`` override ``params`` when a ``large`` case runs on a CPU (the largest size that
    fits in minutes there); the record says which parameters were used.
    """
    name: str
    params: Mapping[str, Any]
    scale: str = "small"
    method: str = "exact"
    seed: int = 0
    role: str = "check"
    expect: bool | None = None
    note: str = ""
    cpu_params: Mapping[str, Any] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not _SAFE_NAME.fullmatch(self.name) or self.name.startswith("."):
            raise ValueError(f"Case.name must be a non-empty name of the letters A-Z, a-z, digits, '_', '.' and '-' "
                             f"(not starting with '.'): it names the record results/<claim>/<case>.json; "
                             f"got {self.name!r}")
        if self.scale not in SCALES:
            raise ValueError(f"Case.scale must be one of {SCALES}; got {self.scale!r}")
        if self.method not in METHODS:
            raise ValueError(f"Case.method must be one of {METHODS}; got {self.method!r}")
        if self.role not in ROLES:
            raise ValueError(f"Case.role must be one of {ROLES}; got {self.role!r}")
        if self.expect is None:
            object.__setattr__(self, "expect", self.role != "negative_control")
        if self.role == "negative_control" and self.expect:
            raise ValueError(f"case {self.name!r}: a negative control must expect failure (expect=False)")
        if self.role == "as_printed" and not self.note:
            raise ValueError(f"case {self.name!r}: an as_printed case must say in `note` why it expects "
                             f"{'success' if self.expect else 'failure'}")

    def params_for(self, device: torch.device | str) -> dict:
        """The parameters used on ``device`` (``cpu_params`` applied on a CPU)."""
        params = dict(self.params)
        if self.cpu_params and torch.device(device).type == "cpu":
            params.update(self.cpu_params)
        return params


@dataclasses.dataclass(frozen=True)
class Measurement:
    r"""What ``exact``/``empirical`` return.

    ``value``: the quantity compared with the bound (``Fraction`` or sympy number when exact).
    ``lower``/``upper``: one-sided confidence limits of the quantity, each at ``confidence`` on its
    own side (the verdict uses the one the relation needs; give both so that failure can be decided
    too); ``None`` for an exact value, or for one seeded draw with no sampling interval.
    ``to_decide``: when the limits straddle the bound, what would decide it (e.g. "≥ 459
    repetitions at the observed rate"). ``details``: tables or series for the book (JSON-serializable).
    """
    value: Any
    lower: float | None = None
    upper: float | None = None
    confidence: float | None = None
    to_decide: str | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        has_limits = self.lower is not None or self.upper is not None
        if has_limits and self.confidence is None:
            raise ValueError("Measurement: confidence limits need their `confidence` "
                             f"(the package's is {CONFIDENCE})")
        if self.confidence is not None and not 0 < self.confidence < 1:
            raise ValueError(f"Measurement.confidence must be in (0, 1); got {self.confidence}")
        if self.lower is not None and self.upper is not None and float(self.lower) > float(self.upper):
            raise ValueError(f"Measurement: lower limit {self.lower} exceeds upper limit {self.upper}")


def _is_exact(x) -> bool:
    return isinstance(x, (Fraction, numbers.Integral, sympy.Basic)) and not isinstance(x, bool)


def _to_sympy(x):
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    return sympy.sympify(x)


def compare(measured, bound, relation: str) -> bool:
    """``measured <= bound`` or ``>=``, exactly when both are exact numbers, else in float64."""
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}; got {relation!r}")
    if _is_exact(measured) and _is_exact(bound):
        a, b = _to_sympy(measured), _to_sympy(bound)
        if a.is_infinite or b.is_infinite:
            return bool(a <= b) if relation == "<=" else bool(a >= b)
        diff = a - b  # no nsimplify: it can round a tiny exact difference to 0
        sign = diff.is_nonnegative if relation == ">=" else diff.is_nonpositive
        if sign is not None:
            return bool(sign)
        d = sympy.N(diff, 50)  # undecided symbolically: 50 significant digits
        return bool(d >= 0) if relation == ">=" else bool(d <= 0)
    a, b = float(measured), float(bound)
    if math.isnan(a) or math.isnan(b):
        return False
    return a <= b if relation == "<=" else a >= b


def decide(measurement: Measurement, bound, relation: str, method: str = "exact") -> tuple[str, str]:
    """The verdict of ``measurement`` against ``bound``: ``(status, basis)`` with status in
    :data:`STATUSES` and basis ``"exact"``, ``"confidence"`` or ``"seeded draw"`` (module docstring)."""
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}; got {relation!r}")
    m = measurement
    try:
        if any(math.isnan(float(x)) for x in (m.value, bound, m.lower, m.upper) if x is not None):
            return "inconclusive", "nan"
    except TypeError:
        pass
    if m.lower is None and m.upper is None:
        basis = "exact" if method == "exact" else "seeded draw"
        return ("holds" if compare(m.value, bound, relation) else "fails"), basis
    lo = m.lower if m.lower is not None else -math.inf
    hi = m.upper if m.upper is not None else math.inf
    far, near = (hi, lo) if relation == "<=" else (lo, hi)  # the limit farthest from / nearest to the bound's side
    if compare(far, bound, relation):
        return "holds", "confidence"
    if not compare(near, bound, relation):
        return "fails", "confidence"
    return "inconclusive", "confidence"


def slack(measured: float, bound: float, relation: str) -> float:
    """bound ÷ measured for ``<=``, measured ÷ bound for ``>=`` (> 1: met with room; inf when the
    denominator is 0 and the numerator positive; NaN when undefined)."""
    num, den = (bound, measured) if relation == "<=" else (measured, bound)
    num, den = float(num), float(den)
    if den == 0:
        return math.inf if num > 0 else (math.nan if num == 0 else -math.inf)
    return num / den


def as_expected(status: str, expect: bool) -> bool:
    """Checks must hold, negative controls must fail; inconclusive is never as expected."""
    return status == ("holds" if expect else "fails")


def basis_text(basis: str | None, details: Mapping | None = None) -> str:
    """What a limit-free verdict rests on: ``exact``; a test at its stated level (``details["test_level"]``:
    a statistic over its critical value, decided on one seeded draw); or one seeded draw."""
    level = (details or {}).get("test_level")
    if basis == "seeded draw" and isinstance(level, (int, float)):
        return f"test at level {100 * level:.3g}% (seeded draw)"
    return {"exact": "exact", "seeded draw": "one seeded draw, no interval"}.get(basis, str(basis))


def _exact_str(x) -> str | None:
    if isinstance(x, Fraction):
        return str(x)
    if isinstance(x, sympy.Basic):
        return sympy.sstr(x)
    return None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One claim on one case: measured value and its one-sided limits, bound, status at the stated
    confidence, slack; provenance-free (``verify.harness.results`` adds provenance to the record)."""
    claim: str
    case: str
    scale: str
    method: str
    role: str
    expect: bool
    relation: str
    measured: float
    bound: float
    status: str
    basis: str
    lower: float | None
    upper: float | None
    confidence: float | None
    to_decide: str | None
    measured_exact: str | None
    bound_exact: str | None
    params: Mapping[str, Any]
    seed: int
    device: str
    seconds: float
    details: Mapping[str, Any]

    @property
    def holds(self) -> bool:
        return self.status == "holds"

    @property
    def margin(self) -> float:
        """How far inside the bound the measured value lies (negative: the bound is violated)."""
        return self.bound - self.measured if self.relation == "<=" else self.measured - self.bound

    @property
    def slack(self) -> float:
        """bound ÷ measured (``<=``) or measured ÷ bound (``>=``)."""
        return slack(self.measured, self.bound, self.relation)

    @property
    def as_expected(self) -> bool:
        return as_expected(self.status, self.expect)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["margin"] = self.margin
        out["slack"] = self.slack
        out["holds"] = self.holds
        return out

    def interval_str(self) -> str:
        """The one-sided limits with their confidence, or the basis of a limit-free verdict."""
        if self.lower is None and self.upper is None:
            return basis_text(self.basis, self.details)
        lo = "-inf" if self.lower is None else f"{self.lower:.4g}"
        hi = "inf" if self.upper is None else f"{self.upper:.4g}"
        return f"[{lo}, {hi}] one-sided {self.confidence:.0%} each"

    def line(self) -> str:
        word = {"holds": "holds", "fails": "FAILS", "inconclusive": "INCONCLUSIVE"}[self.status]
        decide = f"; to decide: {self.to_decide}" if self.status == "inconclusive" and self.to_decide else ""
        return (f"{self.claim}[{self.case}] measured {self.measured:.6g} ({self.interval_str()}) "
                f"{self.relation} bound {self.bound:.6g}, slack {self.slack:.3g}: {word}"
                f" (expected {'holds' if self.expect else 'fails'}, {self.role}){decide}")


@dataclasses.dataclass(frozen=True)
class Claim:
    """One lemma or assumption of a paper, as a checkable statement (see module docstring).

    ``reference`` names the statement(s) by the paper's numbers, ``page`` cites the PDF page(s)
    (Paper A: the PMLR 336 camera-ready, pp. 1-42; required), ``hypotheses`` lists the statement's
    hypotheses as the paper prints them (LaTeX), and ``statement`` its conclusion.

    ``statements`` names the numbered statements the claim checks, by their ids in
    :mod:`verify.harness.statements` (e.g. ``("Lemma 18",)``); :attr:`uses` is what their proofs use."""
    name: str
    paper: str
    reference: str
    statement: str
    measured: str
    relation: str
    bound: Callable[[Case], Any]
    cases: tuple
    exact: Callable[[Case], Measurement] | None = None
    empirical: Callable[[Case, torch.device, torch.Generator], Measurement] | None = None
    alias: str = ""
    page: str = ""
    hypotheses: tuple = ()
    statements: tuple = ()

    def __post_init__(self):
        if self.paper not in ("A", "B"):
            raise ValueError(f"Claim.paper must be 'A' or 'B'; got {self.paper!r}")
        if self.paper == "A" and not self.page:
            raise ValueError(f"claim {self.name!r}: a Paper A claim must cite its PDF page(s) in `page` "
                             f"(e.g. 'p. 13; proof p. 29')")
        if isinstance(self.hypotheses, str) or not all(isinstance(h, str) for h in self.hypotheses):
            raise ValueError(f"claim {self.name!r}: hypotheses must be a tuple of strings (one per hypothesis)")
        if isinstance(self.statements, str) or not all(isinstance(h, str) for h in self.statements):
            raise ValueError(f"claim {self.name!r}: statements must be a tuple of statement ids, e.g. ('Lemma 18',)")
        if self.relation not in RELATIONS:
            raise ValueError(f"Claim.relation must be one of {RELATIONS}; got {self.relation!r}")
        names = [c.name for c in self.cases]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.name!r} has duplicate case names: {names}")
        for c in self.cases:
            if (c.method == "exact" and self.exact is None) or (c.method == "empirical" and self.empirical is None):
                raise ValueError(f"claim {self.name!r}, case {c.name!r}: no {c.method} method defined")
        if not any(c.role == "negative_control" for c in self.cases):
            raise ValueError(f"claim {self.name!r} has no negative control")

    @property
    def uses(self) -> tuple[str, ...]:
        """The statements (ids, same paper) that the proofs of :attr:`statements` use, from
        :mod:`verify.harness.statements`, excluding the checked statements themselves."""
        # by name, not an import statement: the papers' statement lists are data about the papers, not
        # code a verdict depends on, and stay out of a claim's code closure (verify.harness.freshness)
        known = importlib.import_module("verify.harness.statements").statements(self.paper)
        out: list[str] = []
        for sid in self.statements:
            st = known.get(f"{self.paper}:{sid}")
            for u in (st.uses if st else ()):
                if u not in out and u not in self.statements:
                    out.append(u)
        return tuple(out)

    def case(self, name: str) -> Case:
        for c in self.cases:
            if c.name == name:
                return c
        raise ValueError(f"claim {self.name!r} has no case {name!r}; cases: {[c.name for c in self.cases]}")

    def cases_at(self, scale: str | None = None) -> list[Case]:
        return [c for c in self.cases if scale in (None, "all") or c.scale == scale]

    def family_confidence(self, scale: str | None = None, confidence: float = CONFIDENCE) -> float:
        """Union bound: every empirical case of the claim (at ``scale``) is decided right with at
        least this probability when each is decided at ``confidence``."""
        k = sum(c.method == "empirical" for c in self.cases_at(scale))
        return max(0.0, 1 - k * (1 - confidence))

    def evaluate(self, case: Case | str, device: torch.device | str = "cpu") -> Verdict:
        """Compute bound and measurement for ``case`` on ``device``; return the :class:`Verdict`."""
        case = self.case(case) if isinstance(case, str) else case
        device = torch.device(device)
        params = case.params_for(device)
        run_case = dataclasses.replace(case, params=params, cpu_params=None)
        t0 = time.perf_counter()
        bound = self.bound(run_case)
        if case.method == "exact":
            m = self.exact(run_case)
        else:
            gen = torch.Generator(device="cpu").manual_seed(case.seed)
            m = self.empirical(run_case, device, gen)
        seconds = time.perf_counter() - t0
        if not isinstance(m, Measurement):
            raise TypeError(f"claim {self.name!r}, case {case.name!r}: {case.method} returned "
                            f"{type(m).__name__}, not a Measurement")
        status, basis = decide(m, bound, self.relation, case.method)
        to_decide = m.to_decide
        if status == "inconclusive" and not to_decide:
            to_decide = "more samples (the method gives no estimate of how many)"
        return Verdict(
            claim=self.name, case=case.name, scale=case.scale, method=case.method, role=case.role,
            expect=bool(case.expect), relation=self.relation, measured=float(m.value), bound=float(bound),
            status=status, basis=basis, lower=None if m.lower is None else float(m.lower),
            upper=None if m.upper is None else float(m.upper), confidence=m.confidence,
            to_decide=to_decide if status == "inconclusive" else None,
            measured_exact=_exact_str(m.value), bound_exact=_exact_str(bound),
            params=params, seed=case.seed, device=device_name(device), seconds=seconds, details=dict(m.details))


def device_name(device: torch.device | str) -> str:
    """Human-readable device: the GPU's name, or the CPU model."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"cpu: {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    import platform
    return f"cpu: {platform.processor() or platform.machine()}"


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without CUDA is a ValueError."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be one of 'auto', 'cpu', 'cuda'; got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but torch.cuda.is_available() is False on this machine")
    return torch.device(device)
