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
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import time
from fractions import Fraction
from typing import Any, Callable, Mapping

import sympy
import torch

RELATIONS = ("<=", ">=")
SCALES = ("small", "large")
METHODS = ("exact", "empirical")
ROLES = ("check", "negative_control", "as_printed")


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
    """What ``exact``/``empirical`` return: the value compared with the bound, optionally exact
    (``Fraction`` or sympy number), its uncertainty (half-width at ``confidence``), and tables or
    series for the book in ``details`` (JSON-serializable)."""
    value: Any
    uncertainty: float | None = None
    confidence: float | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


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


def _exact_str(x) -> str | None:
    if isinstance(x, Fraction):
        return str(x)
    if isinstance(x, sympy.Basic):
        return sympy.sstr(x)
    return None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One claim on one case: measured value, bound, margin, holds/fails, uncertainty, provenance-free
    (``verify.results`` adds provenance when it writes the record)."""
    claim: str
    case: str
    scale: str
    method: str
    role: str
    expect: bool
    relation: str
    measured: float
    bound: float
    holds: bool
    measured_exact: str | None
    bound_exact: str | None
    uncertainty: float | None
    confidence: float | None
    params: Mapping[str, Any]
    seed: int
    device: str
    seconds: float
    details: Mapping[str, Any]

    @property
    def margin(self) -> float:
        """How far inside the bound the measured value lies (negative: the bound is violated)."""
        return self.bound - self.measured if self.relation == "<=" else self.measured - self.bound

    @property
    def as_expected(self) -> bool:
        return self.holds == self.expect

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["margin"] = self.margin
        return out

    def line(self) -> str:
        unc = f" ± {self.uncertainty:.3g} ({self.confidence:.0%})" if self.uncertainty is not None else ""
        return (f"{self.claim}[{self.case}] measured {self.measured:.6g}{unc} {self.relation} bound "
                f"{self.bound:.6g}: {'holds' if self.holds else 'FAILS'} "
                f"(expected {'holds' if self.expect else 'fails'}, {self.role})")


@dataclasses.dataclass(frozen=True)
class Claim:
    """One lemma or assumption of a paper, as a checkable statement (see module docstring)."""
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

    def __post_init__(self):
        if self.paper not in ("A", "B"):
            raise ValueError(f"Claim.paper must be 'A' or 'B'; got {self.paper!r}")
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

    def case(self, name: str) -> Case:
        for c in self.cases:
            if c.name == name:
                return c
        raise ValueError(f"claim {self.name!r} has no case {name!r}; cases: {[c.name for c in self.cases]}")

    def cases_at(self, scale: str | None = None) -> list[Case]:
        return [c for c in self.cases if scale in (None, "all") or c.scale == scale]

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
        holds = compare(m.value, bound, self.relation)
        return Verdict(
            claim=self.name, case=case.name, scale=case.scale, method=case.method, role=case.role,
            expect=bool(case.expect), relation=self.relation, measured=float(m.value), bound=float(bound),
            holds=bool(holds), measured_exact=_exact_str(m.value), bound_exact=_exact_str(bound),
            uncertainty=m.uncertainty, confidence=m.confidence, params=params, seed=case.seed,
            device=device_name(device), seconds=seconds, details=dict(m.details))


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
