r"""Paper A's learner: a layerwise ridge-regression CNN on RBF random features, trained bottom-up.

Architecture (eqs. 1-2). Level :math:`l\in[L]` reads tokens :math:`h^{(l)}_1,\dots,h^{(l)}_{s^l}\in\mathbb R^{d_e}`
(one-hot at level :math:`L`, the normalized outputs of level :math:`l+1` above), embeds each patch by
concatenation and a random feature map,

.. math:: x_{\mu^{(l)}_k}=\Phi^{(l)}\big(h^{(l)}_{(k-1)s+1}\circ\cdots\circ h^{(l)}_{ks}\big)\in\mathbb R^{2M^{(l)}}
          \qquad\text{(eq. 1)},\qquad
          h^{(l-1)}_k=\frac{W^{(l)}x_{\mu^{(l)}_k}}{\langle\mathbf 1,W^{(l)}x_{\mu^{(l)}_k}\rangle}\qquad\text{(eq. 2)},

with :math:`\Phi^{(l)}=\Phi_{\sigma^{(l)},M^{(l)}}` the RBF random Fourier features of eq. (6), drawn through
:mod:`verify.features.rff`, and :math:`W^{(l)}\in\mathbb R^{d_y\times 2M^{(l)}}`. The prediction is
:math:`\arg\max_i [h^{(0)}_1]_i`.

Training (§2.3, eq. 3). Stages :math:`l=L,L-1,\dots,1`; stage :math:`l` draws **fresh** samples, freezes the
levels below, ignores those above, and fits :math:`W^{(l)}` on the **first patch only**:

.. math:: \mathcal L^{(l)}(W)=\tfrac12\hat E\|e_\zeta-Wx_{\mu^{(l)}_1}\|^2+\tfrac{\lambda_W}2\|W\|_F^2,
          \qquad \lambda_W=1/|P_l|,\quad W_0=0,\quad \eta=2|P_l|/(|P_l|+1).

Three solvers give the same minimizer (``tests/test_layerwise_ridge.py``):

* ``"gd"`` -- the paper's gradient descent, :math:`W_{t+1}=W_t-\eta\,(W_t(\hat C+\lambda_WI)-\hat B)` with
  :math:`\hat C=\hat E[xx^\top]`, :math:`\hat B=\hat E[e_\zeta x^\top]` (full-batch GD on (3) only needs these
  moments, so the iterates are exact while the features are formed batch by batch);
* ``"closed_form"`` -- :math:`W_{N,*}=\hat B(\hat C+\lambda_WI)^{-1}`;
* ``"dual"`` -- eq. (11), :math:`W_{N,*}=Y^\top(XX^\top+\lambda_WNI_N)^{-1}X` (an :math:`N\times N` solve).

Cost (issue 15). :math:`\hat x_{\hat\mu}` depends only on the leftmost :math:`s^{L-l+1}` input tokens, so the
moments are sums over the *distinct* such subtrees weighted by their counts
(:meth:`LayerwiseRidge.distinct_first_patches`; at level :math:`L` at most :math:`|P_L|` of them, whatever
:math:`N`), and the trained levels below are applied once per distinct patch. ``"closed_form"`` then solves the
smaller of the primal (:math:`d_x\times d_x`, Gram matrix by a symmetric rank-:math:`k` update) and the dual over
distinct rows (:math:`U\times U`), by Cholesky. The minimizer is the same; the numbers agree with the
every-sample sums up to rounding (``tests/test_perf_fast_paths.py``).

Parameters. :func:`proof_parameters` returns the proof's choices (Theorem 7's
:math:`\varepsilon^{(l)}_*`, Lemma 11's :math:`\sigma^{(l)}` and :math:`N^{(l)}`, Lemma 10's :math:`M^{(l)}`,
Lemma 17's :math:`T^{(l)}`) from the grammar's exact :math:`K_\rho` and :math:`\kappa`
(:mod:`verify.rhm.assumptions`), with every unspecified universal constant a named argument;
:func:`practical_parameters` a preset that trains in seconds on a CPU.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import numbers
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from verify.features import rff
from verify.features.clustering import NearestCentreFeatures
from verify.rhm import Grammar, assumptions, exact, sample
from verify.validate import device as _device, generator as _generator, int_at_least as _int_at_least
from verify.validate import int_tokens as _int_tokens

#: The format tag of :meth:`LayerwiseRidge.state` (a checkpoint): plain containers, strings, numbers and tensors
#: only, so that ``torch.load(..., weights_only=True)`` reads it and never unpickles code.
CHECKPOINT_FORMAT = "verify.layerwise_ridge/2"

__all__ = ["CHECKPOINT_FORMAT", "FEATURES", "SOLVERS", "LevelParams", "LayerwiseRidge", "proof_parameters",
           "practical_parameters", "grammar_fingerprint", "level_generator", "read_checkpoint", "sample_allocation",
           "stage_samples", "tensor_features", "training_samples"]

SOLVERS = ("gd", "closed_form", "dual")
#: ``"cluster"``: Construction 2's nearest-centre codes, tensored (:mod:`verify.features.clustering`); the learner
#: needs the level's centres (``LayerwiseRidge(..., centres={level: tensor})``).
FEATURES = ("rff", "tensor", "cluster")


def _pos_real(name, value, allow_zero=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite real number {'>= 0' if allow_zero else '> 0'}; got {value!r}")
    return float(value)


def _check_grammar_type(grammar) -> Grammar:
    if not isinstance(grammar, Grammar):
        raise ValueError(f"grammar must be a verify.rhm.Grammar; got {type(grammar).__name__}")
    return grammar


def _float_tensor(name: str, x, ndim: int | None = None) -> torch.Tensor:
    """A finite floating-point torch tensor (of ``ndim`` dimensions), or a ValueError naming ``name``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor; got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions; got shape {list(x.shape)}")
    if x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must hold finite numbers (no NaN or infinity)")
    return x


def _callable_or_none(name: str, f):
    if f is not None and not callable(f):
        raise ValueError(f"{name} must be callable or None; got {type(f).__name__}")
    return f


def grammar_fingerprint(grammar: Grammar) -> dict:
    """What a checkpoint stores of the grammar it was trained on: the shapes, the sampler and its seed, the
    rules themselves (int64 tensors) and their SHA-256 (``rules_sha256``), which names the grammar."""
    _check_grammar_type(grammar)
    h = hashlib.sha256()
    for r in grammar.rules:
        a = np.ascontiguousarray(r, dtype=np.int64)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return {"num_features": grammar.num_features, "num_classes": grammar.num_classes,
            "num_synonyms": grammar.num_synonyms, "tuple_size": grammar.tuple_size, "num_layers": grammar.num_layers,
            "sampler": grammar.sampler, "seed": grammar.seed, "rules_sha256": h.hexdigest(),
            "rules": [torch.tensor(np.array(r, dtype=np.int64)) for r in grammar.rules]}


def _transform_name(transform) -> str | None:
    if transform is None:
        return None
    return f"{getattr(transform, '__module__', '?')}.{getattr(transform, '__qualname__', type(transform).__name__)}"


def read_checkpoint(path: str | os.PathLike) -> dict:
    """A checkpoint file's state, read with ``torch.load(weights_only=True)`` (tensors and plain containers only:
    a file that holds any other object is refused, never unpickled); a ValueError naming the file otherwise."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"checkpoint {str(path)!r} is a folder, not a checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - UnpicklingError, RuntimeError (not a zip), EOFError, OSError ...
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ValueError(f"checkpoint {str(path)!r} is not a safe checkpoint of the layerwise learner (it holds "
                         f"something other than tensors and plain data, or is damaged): {type(e).__name__}: "
                         f"{first[:200]}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        got = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"checkpoint {str(path)!r} is not a layerwise-learner checkpoint of format "
                         f"{CHECKPOINT_FORMAT!r}; got {got!r}")
    return state


@dataclasses.dataclass(frozen=True)
class LevelParams:
    r"""Hyper-parameters of stage :math:`l`: feature map (``sigma`` :math:`\sigma^{(l)}`, ``num_features``
    :math:`M^{(l)}`, ``features`` ``"rff"`` or ``"tensor"`` -- Construction 1's
    :math:`h_1\otimes\cdots\otimes h_s`), samples ``num_samples`` :math:`N^{(l)}`, solver, GD steps
    ``num_steps`` :math:`T^{(l)}`; ``lambda_w``/``step_size`` default to :math:`1/|P_l|` and
    :math:`2|P_l|/(|P_l|+1)` (``None``)."""
    level: int
    sigma: float
    num_features: int
    num_samples: int
    solver: str = "closed_form"
    num_steps: int = 0
    lambda_w: float | None = None
    step_size: float | None = None
    features: str = "rff"

    def __post_init__(self):
        _int_at_least("level", self.level, 1)
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}; got {self.features!r}")
        if self.features == "rff":
            rff.check_sigma(self.sigma)
            rff.check_width(self.num_features)
        _int_at_least("num_samples (N, samples of this stage)", self.num_samples, 1)
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}; got {self.solver!r}")
        _int_at_least("num_steps (T, gradient steps)", self.num_steps, 0)
        if self.solver == "gd" and self.num_steps < 1:
            raise ValueError(f"num_steps (T) must be an integer >= 1 with solver='gd'; got {self.num_steps}")
        if self.lambda_w is not None:
            _pos_real("lambda_w (ridge penalty)", self.lambda_w, allow_zero=True)
        if self.step_size is not None:
            _pos_real("step_size (GD step eta)", self.step_size)


STREAMS = ("features", "samples")


def level_generator(seed: int, level: int, device="cpu", stream: str = "features") -> torch.Generator:
    """The generator of stage ``level``'s random features (``stream="features"``) or of its fresh samples
    (``stream="samples"``). Independent of the other stages' draws, so a run resumed from a checkpoint is
    identical to an uninterrupted one; the samples do not depend on the width, so a baseline can be
    trained on exactly the samples the layerwise learner saw (:func:`training_samples`)."""
    seed = _int_at_least("seed", seed, 0)
    level = _int_at_least("level", level, 0)
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {STREAMS}; got {stream!r}")
    key = [seed, level] if stream == "features" else [seed, level, 1]
    state = int(np.random.SeedSequence(key).generate_state(1, dtype=np.uint64)[0] >> 1)
    return torch.Generator(device=device).manual_seed(state)


def stage_samples(grammar: Grammar, level: int, num_samples: int, seed: int, device="cpu"):
    r"""The fresh samples ``(x, y)`` of stage ``level`` (eq. 3's :math:`\hat E^{(l)}`), as :meth:`LayerwiseRidge.fit`
    draws them."""
    _check_grammar_type(grammar)
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not 1 <= level <= grammar.num_layers:
        raise ValueError(f"level must be an integer in [1, {grammar.num_layers}] (a stage); got {level!r}")
    num_samples = _int_at_least("num_samples (N, samples of this stage)", num_samples, 0)
    return sample(grammar, num_samples, level_generator(seed, level, stream="samples"), device)


def training_samples(grammar: Grammar, total: int, seed: int, device="cpu"):
    r"""All ``total`` samples that the layerwise learner sees under :func:`practical_parameters` (the stages'
    fresh samples, :math:`N^{(l)}\propto m^l`, concatenated from level :math:`L` down): the same data for a
    baseline trained on the whole set."""
    alloc = sample_allocation(total, grammar)
    parts = [stage_samples(grammar, l, alloc[l], seed, device) for l in range(grammar.num_layers, 0, -1)]
    return torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts])


def tensor_features(h: torch.Tensor) -> torch.Tensor:
    r"""Construction 1: :math:`h_1\otimes\cdots\otimes h_s` of tokens ``(..., s, d_e)`` → ``(..., d_e^s)``.
    For one-hot tokens the patch embeddings are orthonormal: :math:`\langle x_\mu,x_{\mu'}\rangle=\mathbb 1\{\mu=\mu'\}`.
    NaN tokens (a level's 0/0 output on a patch it never saw) give NaN features, on purpose: the claims count
    them as failures."""
    if not isinstance(h, torch.Tensor):
        raise ValueError(f"h (tokens, shape (..., s, d_e)) must be a torch.Tensor; got {type(h).__name__}")
    if h.ndim < 2 or h.shape[-2] < 1:
        raise ValueError(f"h (tokens) must have shape (..., s, d_e) with s >= 1; got {list(h.shape)}")
    out = h[..., 0, :]
    for i in range(1, h.shape[-2]):
        out = (out.unsqueeze(-1) * h[..., i, :].unsqueeze(-2)).flatten(-2)
    return out


class LayerwiseRidge:
    r"""The learner of eqs. (1)-(3). ``levels``: one :class:`LevelParams` per level :math:`1..L`.

    ``input_dim`` is :math:`V` (one-hot level-:math:`L` tokens), ``output_dim`` :math:`d_y=n_c`; above
    level :math:`L` tokens are normalized outputs, :math:`d_e=d_y`.
    """

    def __init__(self, num_features: int, num_classes: int, tuple_size: int, num_layers: int,
                 levels, dtype: torch.dtype = torch.float64, device="cpu", max_features: int = 1 << 14,
                 centres: dict | None = None):
        self.num_features = _int_at_least("num_features (V)", num_features, 2)
        self.num_classes = _int_at_least("num_classes (n_c = d_y)", num_classes, 2)
        self.tuple_size = _int_at_least("tuple_size (s)", tuple_size, 2)
        self.num_layers = _int_at_least("num_layers (L)", num_layers, 1)
        max_features = _int_at_least("max_features", max_features, 1)
        if isinstance(levels, (str, bytes, dict)) or not hasattr(levels, "__iter__"):
            raise ValueError(f"levels must be a list of LevelParams, one per level 1..{num_layers}; got "
                             f"{type(levels).__name__}")
        levels = list(levels)
        bad = [type(p).__name__ for p in levels if not isinstance(p, LevelParams)]
        if bad:
            raise ValueError(f"levels must hold LevelParams only; got {bad}")
        if sorted(p.level for p in levels) != list(range(1, num_layers + 1)):
            raise ValueError(f"levels must hold one LevelParams for each level 1..{num_layers}; got levels "
                             f"{[p.level for p in levels]}")
        self.levels = {p.level: p for p in levels}
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype}")
        self.dtype, self.device = dtype, _device("device", device)
        if centres is not None and not isinstance(centres, dict):
            raise ValueError(f"centres must be a dict {{level: tensor (k, d_e)}} or None; got {type(centres).__name__}")
        self.centres = {}
        for l, c in (centres or {}).items():
            if not isinstance(c, (torch.Tensor, np.ndarray, list, tuple)):
                raise ValueError(f"centres[{l!r}] must be a tensor (k, d_e); got {type(c).__name__}")
            try:
                c = torch.as_tensor(c, dtype=dtype)
            except (TypeError, ValueError, RuntimeError) as e:
                raise ValueError(f"centres[{l!r}] must be a real tensor (k, d_e): {e}") from None
            self.centres[int(l)] = _float_tensor(f"centres[{l!r}]", c, 2)
        for p in levels:
            if p.features == "cluster":
                if p.level not in self.centres:
                    raise ValueError(f"features='cluster' at level {p.level} needs centres[{p.level}] (k, d_e)")
                c = self.centres[p.level]
                if c.ndim != 2 or c.shape[1] != self.input_dim(p.level):
                    raise ValueError(f"centres[{p.level}] must have shape (k, d_e = {self.input_dim(p.level)}); "
                                     f"got {tuple(c.shape)}")
                if c.shape[0] ** self.tuple_size > max_features:
                    raise ValueError(f"cluster features at level {p.level} have k^s = {c.shape[0] ** self.tuple_size}"
                                     f" > max_features = {max_features}")
            if p.features == "rff" and p.num_features > max_features:
                raise ValueError(f"num_features (M^({p.level}) = {p.num_features}) must be <= max_features = "
                                 f"{max_features} (the 2M x 2M moment matrix is stored); raise max_features or "
                                 f"lower the constants of proof_parameters")
            if p.features == "tensor" and self.input_dim(p.level) ** self.tuple_size > max_features:
                raise ValueError(f"tensor features at level {p.level} have d_e^s = "
                                 f"{self.input_dim(p.level) ** self.tuple_size} > max_features = {max_features}")
        self.feature_maps: dict[int, rff.RandomFourierFeatures | None] = {}
        self.weights: dict[int, torch.Tensor] = {}
        self.history: dict[int, dict] = {}
        #: per trained level, what it was trained on: {"seed", "grammar" (rules_sha256), "transform"} (None: unknown,
        #: e.g. a level fitted by hand with :meth:`fit_level`)
        self.trained_on: dict[int, dict] = {}
        self.grammar_info: dict | None = None  # grammar_fingerprint of the grammar of the last fit

    @classmethod
    def for_grammar(cls, grammar: Grammar, levels=None, proof_kwargs: dict | None = None, **kw) -> "LayerwiseRidge":
        """The learner for ``grammar``'s shapes. ``levels=None``: the proof's choices
        (:func:`proof_parameters` with ``proof_kwargs``), the width capped at ``max_features`` with a warning
        (the proof's :math:`M^{(l)}` is astronomically large)."""
        _check_grammar_type(grammar)
        if levels is None:
            cap = kw.get("max_features", 1 << 14)
            levels, info = proof_parameters(grammar, **{"max_features": cap, **(proof_kwargs or {})})
            capped = [i["level"] for i in info if i["M_capped"]]
            if capped:
                warnings.warn(f"proof_parameters: M^(l) capped at max_features = {cap} at levels {capped} "
                              f"(the proof asks for {max(i['M_proof'] for i in info):.3g})", stacklevel=2)
        return cls(grammar.num_features, grammar.num_classes, grammar.tuple_size, grammar.num_layers, levels, **kw)

    # -- shapes --------------------------------------------------------------------------------
    def input_dim(self, level: int) -> int:
        """:math:`d_e` of level-``level`` tokens: :math:`V` at level :math:`L`, :math:`d_y` above."""
        return self.num_features if level == self.num_layers else self.num_classes

    def feature_dim(self, level: int) -> int:
        p = self.levels[level]
        if p.features == "cluster":
            return self.centres[level].shape[0] ** self.tuple_size
        return 2 * p.num_features if p.features == "rff" else self.input_dim(level) ** self.tuple_size

    @property
    def trained_levels(self) -> list[int]:
        return sorted(self.weights)

    def _check_level(self, level, lo: int = 1) -> int:
        """``level`` as an int in ``[lo, L]`` (bools refused), or a ValueError naming it."""
        if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not lo <= level <= self.num_layers:
            raise ValueError(f"level must be an integer in [{lo}, {self.num_layers}]; got {level!r}")
        return int(level)

    def _check_tokens(self, name: str, x, level: int = 0, min_n: int = 0) -> torch.Tensor:
        """``x``: int tokens ``(n, w)`` in ``[0, V)`` whose width is a multiple of :math:`s^{L-level}` (a full input,
        ``w = s^L``, or leftmost subtrees), ``n >= min_n``."""
        _int_tokens(f"{name} (input tokens, shape [n, w])", x, self.num_features, (None, None))
        unit = self.tuple_size ** (self.num_layers - level)
        if x.shape[1] < unit or x.shape[1] % unit:
            raise ValueError(f"{name} (input tokens) must have a width that is a multiple of s^(L-level) = {unit} "
                             f"to reach level {level}; got shape {list(x.shape)}")
        if x.shape[0] < min_n:
            raise ValueError(f"{name} must hold at least {min_n} sample(s) (n >= {min_n}); got n = {x.shape[0]}")
        return x

    # -- forward -------------------------------------------------------------------------------
    def draw_features(self, level: int, generator: torch.Generator) -> None:
        """Draw :math:`\\Phi^{(l)}` (eq. 6) through :mod:`verify.features.rff`."""
        level = self._check_level(level)
        p = self.levels[level]
        if p.features == "tensor":
            self.feature_maps[level] = None
            return
        if p.features == "cluster":
            self.feature_maps[level] = NearestCentreFeatures(self.centres[level].to(self.device))
            return
        self.feature_maps[level] = rff.RandomFourierFeatures.draw(
            self.tuple_size * self.input_dim(level), p.num_features, p.sigma, generator,
            device=self.device, dtype=self.dtype)

    def patch_features(self, h: torch.Tensor, level: int) -> torch.Tensor:
        """Eq. (1): tokens ``(n, s*k, d_e)`` → patch embeddings ``(n, k, d_x)``."""
        level = self._check_level(level)
        if not isinstance(h, torch.Tensor) or not h.is_floating_point():
            raise ValueError(f"h (level-{level} tokens, shape (n, s*k, d_e)) must be a floating-point tensor; got "
                             f"{type(h).__name__ if not isinstance(h, torch.Tensor) else h.dtype}")
        d_e = self.input_dim(level)
        if h.ndim != 3 or h.shape[1] % self.tuple_size or h.shape[2] != d_e:
            raise ValueError(f"h (level-{level} tokens) must have shape (n, s*k, d_e = {d_e}) with s = "
                             f"{self.tuple_size}; got {list(h.shape)}")
        if level not in self.feature_maps:
            raise ValueError(f"level {level}'s feature map is not drawn yet (trained: {self.trained_levels})")
        n, t, d = h.shape
        tokens = h.reshape(n, t // self.tuple_size, self.tuple_size, d)
        if self.levels[level].features == "tensor":
            return tensor_features(tokens)
        if self.levels[level].features == "cluster":
            return self.feature_maps[level](tokens)
        return self.feature_maps[level](rff.concatenate_tokens(tokens))

    def level_output(self, x: torch.Tensor, level: int, normalize: bool = True) -> torch.Tensor:
        """Eq. (2): :math:`Wx/\\langle\\mathbf 1,Wx\\rangle` (or :math:`Wx` with ``normalize=False``)."""
        level = self._check_level(level)
        if level not in self.weights:
            raise ValueError(f"level {level} is not trained yet (trained: {self.trained_levels})")
        W = self.weights[level]
        if not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[-1] != W.shape[1]:
            raise ValueError(f"x (level-{level} patch embeddings) must be a tensor (..., d_x = {W.shape[1]}); got "
                             f"{list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
        out = x @ W.T
        return out / out.sum(-1, keepdim=True) if normalize else out

    def _embed(self, x: torch.Tensor, level: int) -> torch.Tensor:
        r"""Level-``level`` tokens of int inputs ``x`` ``(n, w)``. A token is a function of the subtree below it,
        so every trained level is applied once per *distinct* patch (of ids into the previous level's table of
        distinct tokens) and the result gathered: the same tokens as level by level over every patch, up to
        rounding, at the cost of the distinct subtrees (at level :math:`L` at most :math:`V^s`)."""
        x = x.to(self.device, torch.long)
        if level == self.num_layers:
            return torch.nn.functional.one_hot(x, self.num_features).to(self.dtype)
        n, s = x.shape[0], self.tuple_size
        ids = x  # (n, k): ids into `table`, the distinct tokens of the current level
        table = torch.eye(self.num_features, dtype=self.dtype, device=self.device)  # one-hot level-L tokens
        for l in range(self.num_layers, level, -1):
            if l not in self.weights:
                raise ValueError(f"level {l} is not trained yet (trained: {self.trained_levels})")
            patches, inverse = _distinct_rows(ids.reshape(-1, s), table.shape[0])
            h = table[patches]  # (U, s, d_e): the distinct patches' tokens
            table = self.level_output(self.patch_features(h, l), l)[:, 0]
            ids = inverse.reshape(n, -1)
        return table[ids]

    def embed(self, x: torch.Tensor, level: int) -> torch.Tensor:
        r"""Level-``level`` tokens :math:`h^{(level)}` of inputs ``x`` (int ``(n, s^k)``, a full input
        or the leftmost subtree): one-hot, then the trained levels :math:`L,\dots,level+1`."""
        level = self._check_level(level, lo=0)
        return self._embed(self._check_tokens("x", x, level), level)

    def first_patch_features(self, x: torch.Tensor, level: int, batch_size: int = 4096) -> torch.Tensor:
        r""":math:`\hat x_{\hat\mu}`, the embedding of the first level-``level`` patch, ``(n, d_x)``, batch by batch
        (only the leftmost :math:`s^{L-l+1}` input tokens are read)."""
        level = self._check_level(level)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        width = self.tuple_size ** (self.num_layers - level + 1)
        self._check_tokens("x", x, level - 1)
        out = [self.patch_features(self._embed(x[i:i + batch_size, :width], level), level)[:, 0]
               for i in range(0, x.shape[0], batch_size)]
        return torch.cat(out) if out else torch.empty(0, self.feature_dim(level), dtype=self.dtype)

    def check_inputs(self, x: torch.Tensor, y: torch.Tensor | None = None, min_n: int = 0) -> None:
        """ValueError unless ``x`` is an int tensor ``[n, s**L]`` of tokens in ``[0, V)`` with ``n >= min_n``
        and ``y`` (if given) an int tensor ``[n]`` of labels in ``[0, n_c)``."""
        width = self.tuple_size ** self.num_layers
        _int_tokens(f"x (input tokens, shape [n, s**L = {width}])", x, self.num_features, (None, width))
        if x.shape[0] < min_n:
            raise ValueError(f"x must hold at least {min_n} sample(s) (n >= {min_n}); got n = {x.shape[0]}")
        if y is not None:
            _int_tokens(f"y (labels, shape [n = {x.shape[0]}], one per row of x)", y, self.num_classes, (x.shape[0],))

    def forward(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """:math:`h^{(0)}_1` for full inputs ``x`` ``(n, s^L)``, batch by batch."""
        self.check_inputs(x, min_n=1)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        return torch.cat([self._embed(x[i:i + batch_size], 0)[:, 0] for i in range(0, x.shape[0], batch_size)])

    __call__ = forward

    def predict(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        return self.forward(x, batch_size).argmax(-1)

    def accuracy(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 4096) -> float:
        self.check_inputs(x, y, min_n=1)
        return float((self.predict(x, batch_size).cpu() == y.cpu()).double().mean())

    # -- training ------------------------------------------------------------------------------
    def regularization(self, level: int, num_patches: int) -> tuple[float, float]:
        r""":math:`(\lambda_W,\eta)`: the level's values, else :math:`1/|P_l|` and :math:`2|P_l|/(|P_l|+1)`."""
        p = self.levels[self._check_level(level)]
        num_patches = _int_at_least("num_patches (|P_l|)", num_patches, 1)
        lam = 1.0 / num_patches if p.lambda_w is None else p.lambda_w
        eta = 2.0 * num_patches / (num_patches + 1) if p.step_size is None else p.step_size
        return lam, eta

    def distinct_first_patches(self, x: torch.Tensor, y: torch.Tensor, level: int
                               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""The distinct leftmost subtrees that feed the first level-``level`` patch, with their counts.

        :math:`\hat x_{\hat\mu}` is a function of the leftmost :math:`s^{L-l+1}` input tokens only, so the
        moments of eq. (3) are sums over the *distinct* subtrees :math:`u` weighted by how often each occurs:
        :math:`\hat C=\frac1N\sum_u c_u\hat x_u\hat x_u^\top`, :math:`\hat B=\frac1N\sum_u k_u\hat x_u^\top`
        (:math:`k_u\in\mathbb N^{d_y}`, the labels counted). Returns the subtrees ``(U, s^{L-l+1})`` (int64,
        sorted), ``counts`` ``(U,)`` and ``label_counts`` ``(U, d_y)`` (both in the learner's dtype: integers,
        exactly). At level :math:`L` there are at most :math:`|P_L|` of them, whatever :math:`N`."""
        level = self._check_level(level)
        self.check_inputs(x, y, min_n=1)
        width = self.tuple_size ** (self.num_layers - level + 1)
        uniq, inverse = _distinct_rows(x[:, :width].to(self.device, torch.long), self.num_features)
        y = y.to(self.device, torch.long)
        label_counts = torch.zeros(uniq.shape[0], self.num_classes, dtype=self.dtype, device=self.device)
        label_counts.index_put_((inverse, y), torch.ones((), dtype=self.dtype, device=self.device).expand(len(y)),
                                accumulate=True)
        return uniq, label_counts.sum(1), label_counts

    def _distinct_features(self, uniq: torch.Tensor, level: int, start: int, stop: int) -> torch.Tensor:
        return self.patch_features(self._embed(uniq[start:stop], level), level)[:, 0]

    def moments(self, x: torch.Tensor, y: torch.Tensor, level: int, batch_size: int = 4096,
                progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        r""":math:`\hat C=\hat E[\hat x\hat x^\top]` and :math:`\hat B=\hat E[e_{\hat\zeta}\hat x^\top]`, over the
        distinct first-patch subtrees with their counts (:meth:`distinct_first_patches`; equal to the sums
        over every sample up to rounding), batch by batch."""
        level = self._check_level(level)
        self.check_inputs(x, y, min_n=1)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        if level not in self.feature_maps:
            raise ValueError(f"level {level}'s feature map is not drawn yet (draw_features or fit first)")
        uniq, counts, label_counts = self.distinct_first_patches(x, y, level)
        return self._moments_of_distinct(uniq, counts, label_counts, level, x.shape[0], batch_size, progress)

    def _moments_of_distinct(self, uniq, counts, label_counts, level, n, batch_size, progress, symmetric=True):
        """:meth:`moments` from :meth:`distinct_first_patches`; ``symmetric=False``: C's lower triangle only (all
        that :meth:`closed_form` reads)."""
        d = self.feature_dim(level)
        C = torch.zeros(d, d, dtype=self.dtype, device=self.device)
        B = torch.zeros(self.num_classes, d, dtype=self.dtype, device=self.device)
        batch_size = _feature_rows(batch_size, d)
        for i in tqdm(range(0, uniq.shape[0], batch_size), desc=f"level {level}: features", unit="batch",
                      disable=not progress, leave=False):
            feats = self._distinct_features(uniq, level, i, i + batch_size)
            _add_weighted_gram(C, feats, counts[i:i + batch_size])  # sum_u c_u x_u x_u^T, in place
            B.addmm_(label_counts[i:i + batch_size].T, feats)
        if symmetric:
            _mirror_lower(C)
        return C.div_(n), B.div_(n)

    def _dual_of_distinct(self, uniq, counts, label_counts, level, n, lambda_w, batch_size) -> torch.Tensor:
        r"""The ridge minimizer of eq. (3) from the :math:`U` distinct subtrees, when :math:`U<d_x`: with
        :math:`F` their features, :math:`D=\mathrm{diag}(c_u)`, :math:`K` the label counts and
        :math:`G=D^{1/2}F`, :math:`W=\big(D^{1/2}(GG^\top+N\lambda_WI_U)^{-1}D^{-1/2}K\big)^\top F` -- eq. (11)
        over distinct rows (push-through identity), a :math:`U\times U` Cholesky solve."""
        rows = _feature_rows(batch_size, self.feature_dim(level))
        F = torch.empty(uniq.shape[0], self.feature_dim(level), dtype=self.dtype, device=self.device)
        for i in range(0, uniq.shape[0], rows):
            F[i:i + rows] = self._distinct_features(uniq, level, i, i + rows)
        root = counts.sqrt()
        G = F * root[:, None]
        S = G @ G.T
        S.diagonal().add_(lambda_w * n)
        Z = _spd_solve(S, label_counts / root[:, None])
        return (Z * root[:, None]).T @ F

    @staticmethod
    def _check_moments(C, B) -> None:
        _float_tensor("C (second moment, d_x x d_x)", C, 2)
        _float_tensor("B (label moment, d_y x d_x)", B, 2)
        if C.shape[0] != C.shape[1] or B.shape[1] != C.shape[0]:
            raise ValueError(f"C must be square (d_x, d_x) and B (d_y, d_x) with the same d_x; got C "
                             f"{list(C.shape)}, B {list(B.shape)}")
        if C.dtype != B.dtype or C.device != B.device:
            raise ValueError(f"C and B must have one dtype and device; got {C.dtype}/{C.device} and "
                             f"{B.dtype}/{B.device}")

    @staticmethod
    def closed_form(C: torch.Tensor, B: torch.Tensor, lambda_w: float) -> torch.Tensor:
        r""":math:`W_{N,*}=\hat B(\hat C+\lambda_WI)^{-1}` (Cholesky; :math:`\hat C` symmetric, and only its lower
        triangle is read)."""
        LayerwiseRidge._check_moments(C, B)
        lambda_w = _pos_real("lambda_w (ridge penalty)", lambda_w, allow_zero=True)
        A = C.clone()
        A.diagonal().add_(lambda_w)
        return _spd_solve(A, B.T).T  # A symmetric positive (semi-)definite

    @staticmethod
    def gradient_descent(C: torch.Tensor, B: torch.Tensor, lambda_w: float, step_size: float, num_steps: int,
                         W0: torch.Tensor | None = None, progress: bool = False, desc: str = "GD",
                         record_every: int = 0, reference: torch.Tensor | None = None):
        r"""GD on (3) from :math:`W_0` (default 0): :math:`W\leftarrow W-\eta(W(\hat C+\lambda_WI)-\hat B)`.
        With ``reference`` and ``record_every``, also returns :math:`\|W_t-W_{ref}\|_F` along the way."""
        LayerwiseRidge._check_moments(C, B)
        lambda_w = _pos_real("lambda_w (ridge penalty)", lambda_w, allow_zero=True)
        step_size = _pos_real("step_size (GD step eta)", step_size)
        num_steps = _int_at_least("num_steps (T, gradient steps)", num_steps, 0)
        record_every = _int_at_least("record_every", record_every, 0)
        if W0 is not None and (_float_tensor("W0", W0, 2).shape != B.shape):
            raise ValueError(f"W0 must have B's shape {list(B.shape)}; got {list(W0.shape)}")
        if reference is not None and (_float_tensor("reference", reference, 2).shape != B.shape):
            raise ValueError(f"reference must have B's shape {list(B.shape)}; got {list(reference.shape)}")
        W = torch.zeros_like(B) if W0 is None else W0.clone()
        A = C + lambda_w * torch.eye(C.shape[0], dtype=C.dtype, device=C.device)
        trace = []
        for t in tqdm(range(num_steps), desc=desc, unit="step", disable=not progress, leave=False):
            if record_every and t % record_every == 0 and reference is not None:
                trace.append((t, float(torch.linalg.norm(W - reference))))
            W = W - step_size * (W @ A - B)
        if record_every and reference is not None:
            trace.append((num_steps, float(torch.linalg.norm(W - reference))))
        return (W, trace) if record_every else W

    @staticmethod
    def dual(X: torch.Tensor, y: torch.Tensor, num_classes: int, lambda_w: float) -> torch.Tensor:
        r"""Eq. (11): :math:`W_{N,*}=Y^\top(XX^\top+\lambda_WNI_N)^{-1}X` (``X`` ``(N, d_x)``)."""
        _float_tensor("X (first-patch embeddings, N x d_x)", X, 2)
        num_classes = _int_at_least("num_classes (n_c = d_y)", num_classes, 1)
        _int_tokens(f"y (labels, shape [N = {X.shape[0]}], one per row of X)", y, num_classes, (X.shape[0],))
        lambda_w = _pos_real("lambda_w (ridge penalty)", lambda_w, allow_zero=True)
        n = X.shape[0]
        Y = torch.nn.functional.one_hot(y.to(X.device, torch.long), num_classes).to(X.dtype)
        G = X @ X.T + lambda_w * n * torch.eye(n, dtype=X.dtype, device=X.device)
        return _spd_solve(G, Y).T @ X

    def fit_level(self, level: int, x: torch.Tensor, y: torch.Tensor, num_patches: int,
                  generator: torch.Generator | None = None, batch_size: int = 4096, progress: bool = False
                  ) -> torch.Tensor:
        """Stage ``level`` on samples ``(x, y)``: draw :math:`\\Phi^{(l)}` if needed, fit :math:`W^{(l)}`."""
        level = self._check_level(level)
        p = self.levels[level]
        self.check_inputs(x, y, min_n=1)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        lam, eta = self.regularization(level, num_patches)
        if generator is not None:
            _generator("generator", generator)
        if level not in self.feature_maps:
            if generator is None:
                raise ValueError("generator is required to draw the random features of an untrained level")
            self.draw_features(level, generator)
        if p.solver == "dual":
            X = self.first_patch_features(x, level, batch_size)
            W = self.dual(X, y, self.num_classes, lam)
        else:
            uniq, counts, label_counts = self.distinct_first_patches(x, y, level)
            if p.solver == "closed_form" and uniq.shape[0] < self.feature_dim(level):
                # fewer distinct subtrees than features: the dual over distinct rows (U x U) is the smaller solve
                W = self._dual_of_distinct(uniq, counts, label_counts, level, x.shape[0], lam, batch_size)
            else:
                C, B = self._moments_of_distinct(uniq, counts, label_counts, level, x.shape[0], batch_size, progress,
                                                 symmetric=p.solver != "closed_form")
                if p.solver == "closed_form":
                    W = self.closed_form(C, B, lam)
                else:
                    W = self.gradient_descent(C, B, lam, eta, p.num_steps, progress=progress,
                                              desc=f"level {level}: GD")
        self.weights[level] = W
        self.trained_on[level] = {"seed": None, "grammar": None, "transform": None}  # fitted by hand: unknown
        return W

    def fit(self, grammar: Grammar, seed: int = 0, batch_size: int = 4096, progress: bool = True,
            checkpoint: str | os.PathLike | None = None, test: tuple | None = None, callback=None,
            transform=None) -> "LayerwiseRidge":
        r"""Train stages :math:`L,\dots,1` on fresh samples (:math:`N^{(l)}` each, :func:`stage_samples`) from the
        stage's own generators (:func:`level_generator`). With ``checkpoint``, trained levels are saved after each
        stage (:meth:`save`) and a run finds and skips the levels already there -- only if the file was written
        for this very configuration (grammar, seed, every :class:`LevelParams`, ``transform``, dtype): anything
        else is refused with a ValueError naming what differs, before any training. ``test=(x, y)``
        records the test accuracy once level 1 is trained (``history``). ``transform(x, y, generator)``
        may alter each stage's samples (e.g. shuffle the labels: a negative control)."""
        self._check_grammar(grammar)
        seed = _int_at_least("seed (training seed)", seed, 0)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        _callable_or_none("callback", callback)
        _callable_or_none("transform", transform)
        if test is not None:
            if not isinstance(test, (tuple, list)) or len(test) != 2:
                raise ValueError(f"test must be a pair (x, y) of test inputs and labels; got {type(test).__name__}")
            try:
                self.check_inputs(test[0], test[1], min_n=1)
            except ValueError as e:
                raise ValueError(f"test: {e}") from None
        info = grammar_fingerprint(grammar)
        trained_on = {"seed": seed, "grammar": info["rules_sha256"], "transform": _transform_name(transform)}
        if checkpoint is not None:
            checkpoint = Path(checkpoint)
            if checkpoint.is_dir():
                raise ValueError(f"checkpoint {str(checkpoint)!r} is a folder, not a checkpoint file")
            if checkpoint.parent.exists() and not checkpoint.parent.is_dir():
                raise ValueError(f"checkpoint {str(checkpoint)!r}: its folder is a file")
            if checkpoint.exists():
                self.load_state(read_checkpoint(checkpoint), grammar=grammar, seed=seed, transform=transform,
                                source=f"checkpoint {str(checkpoint)!r}")
        self.grammar_info = info
        bar = tqdm(range(self.num_layers, 0, -1), desc="layerwise ridge", unit="level", disable=not progress)
        for level in bar:
            if level in self.weights:
                continue
            p = self.levels[level]
            gen = level_generator(seed, level)
            self.draw_features(level, gen)
            xs, ys = stage_samples(grammar, level, p.num_samples, seed, self.device)
            if transform is not None:
                xs, ys = transform(xs, ys, gen)
            self.fit_level(level, xs, ys, grammar.num_patches(level), batch_size=batch_size, progress=progress)
            self.trained_on[level] = dict(trained_on)
            rec = {"num_samples": p.num_samples}
            if test is not None and level == 1:
                rec["test_accuracy"] = self.accuracy(*test, batch_size=batch_size)
            self.history[level] = rec
            if callback is not None:
                callback(self, level)
            if checkpoint is not None:
                self.save(checkpoint)
        return self

    def _check_grammar(self, g: Grammar):
        _check_grammar_type(g)
        if (g.num_features, g.num_classes, g.tuple_size, g.num_layers) != (
                self.num_features, self.num_classes, self.tuple_size, self.num_layers):
            raise ValueError(f"grammar (V, n_c, s, L) = {(g.num_features, g.num_classes, g.tuple_size, g.num_layers)} "
                             f"does not match the learner's {(self.num_features, self.num_classes, self.tuple_size, self.num_layers)}")

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self) -> dict:
        """The learner as plain data (a checkpoint): format, shapes, dtype, every level's :class:`LevelParams`,
        the grammar of the last fit (:func:`grammar_fingerprint`), cluster centres, and per trained level its
        weights, frequencies, history and what it was trained on (seed, grammar hash, transform). Tensors,
        dicts, lists, strings, numbers and None only: ``torch.load(weights_only=True)`` reads it."""
        return {"format": CHECKPOINT_FORMAT,
                "shape": [self.num_features, self.num_classes, self.tuple_size, self.num_layers],
                "dtype": str(self.dtype).replace("torch.", ""),
                "levels": {l: dataclasses.asdict(p) for l, p in self.levels.items()},
                "grammar": self.grammar_info,
                "centres": {l: c.cpu() for l, c in self.centres.items()},
                "trained": {l: {"W": self.weights[l].cpu(),
                                "frequencies": (self.feature_maps[l].frequencies.cpu()
                                                if isinstance(self.feature_maps.get(l), rff.RandomFourierFeatures)
                                                else None),
                                "history": dict(self.history.get(l, {})),
                                **self.trained_on.get(l, {"seed": None, "grammar": None, "transform": None})}
                            for l in self.weights}}

    def _state_differences(self, state: dict, grammar, seed, transform) -> list[str]:
        """What makes ``state`` another configuration than this learner's (with ``grammar``, ``seed``,
        ``transform`` where given)."""
        diffs = []
        shape = [self.num_features, self.num_classes, self.tuple_size, self.num_layers]
        if list(state["shape"]) != shape:
            diffs.append(f"shapes (V, n_c, s, L) {tuple(state['shape'])} in the checkpoint, {tuple(shape)} here")
        want_dtype = str(self.dtype).replace("torch.", "")
        if state.get("dtype", want_dtype) != want_dtype:
            diffs.append(f"dtype {state['dtype']} in the checkpoint, {want_dtype} here")
        levels = state["levels"]
        if sorted(levels) != sorted(self.levels):
            diffs.append(f"levels {sorted(levels)} in the checkpoint, {sorted(self.levels)} here")
        for l, p in self.levels.items():
            theirs, ours = levels.get(l), dataclasses.asdict(p)
            if theirs is None or theirs == ours:
                continue
            if not isinstance(theirs, dict):
                diffs.append(f"level {l}: parameters not readable ({type(theirs).__name__})")
                continue
            changed = [f"{k} {theirs.get(k)!r} in the checkpoint, {v!r} here" for k, v in ours.items()
                       if theirs.get(k) != v]
            diffs.append(f"level {l}: " + "; ".join(changed))
        for l, c in self.centres.items():
            theirs = state.get("centres", {}).get(l)
            if theirs is None or theirs.shape != c.shape or not torch.equal(theirs.to(c.dtype), c.cpu()):
                diffs.append(f"the cluster centres of level {l}")
        trained = state["trained"]
        if grammar is not None and trained:
            info = grammar_fingerprint(grammar)
            if any(r.get("grammar") != info["rules_sha256"] for r in trained.values()):
                g = state.get("grammar") or {}
                fields = [f"{k} {g.get(k)!r} in the checkpoint, {info[k]!r} here"
                          for k in ("num_features", "num_classes", "num_synonyms", "tuple_size", "num_layers",
                                    "sampler", "seed", "rules_sha256") if g.get(k) != info[k]]
                diffs.append("the grammar: " + ("; ".join(fields) if fields else
                                                "a level was trained on another grammar (or on an unrecorded one)"))
        if seed is not None:
            seeds = sorted({str(r.get("seed")) for r in trained.values()})
            if any(r.get("seed") != seed for r in trained.values()):
                diffs.append(f"the training seed: {', '.join(seeds)} in the checkpoint, {seed} here")
        if transform is not _UNSET:
            name = _transform_name(transform)
            theirs = sorted({str(r.get("transform")) for r in trained.values()})
            if any(r.get("transform") != name for r in trained.values()):
                diffs.append(f"the transform of the samples: {', '.join(theirs)} in the checkpoint, {name} here")
        return diffs

    def _check_state_structure(self, state, tensors: bool = True) -> None:
        if not isinstance(state, dict):
            raise ValueError(f"state must be a dict (LayerwiseRidge.state() or a checkpoint); got "
                             f"{type(state).__name__}")
        missing = [k for k in ("shape", "levels", "trained") if k not in state]
        if missing:
            raise ValueError(f"state is not a layerwise-learner state: missing {missing}")
        if not isinstance(state["levels"], dict) or not isinstance(state["trained"], dict):
            raise ValueError("state['levels'] and state['trained'] must be dicts keyed by level")
        try:
            list(state["shape"])
        except TypeError:
            raise ValueError(f"state['shape'] must be (V, n_c, s, L); got {state['shape']!r}") from None
        for l, rec in state["trained"].items():
            if isinstance(l, bool) or not isinstance(l, int) or l not in self.levels:
                raise ValueError(f"state['trained'] has level {l!r}, not one of this learner's {sorted(self.levels)}")
            if not tensors:
                continue
            if not isinstance(rec, dict) or not isinstance(rec.get("W"), torch.Tensor):
                raise ValueError(f"state['trained'][{l}] must be a dict with the weights W (a tensor); got "
                                 f"{type(rec.get('W') if isinstance(rec, dict) else rec).__name__}")
            want = (self.num_classes, self.feature_dim(l))
            W = _float_tensor(f"state['trained'][{l}]['W'] (the level's weights W)", rec["W"], 2)
            if tuple(W.shape) != want:
                raise ValueError(f"state['trained'][{l}]['W'] (the level's weights W) must have shape {list(want)}; "
                                 f"got {list(W.shape)}")
            f = rec.get("frequencies")
            if self.levels[l].features == "rff":
                want_f = (self.levels[l].num_features, self.tuple_size * self.input_dim(l))
                if not isinstance(f, torch.Tensor) or tuple(f.shape) != want_f:
                    raise ValueError(f"state['trained'][{l}]['frequencies'] must be a tensor of shape {list(want_f)}; "
                                     f"got {list(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__}")
                _float_tensor(f"state['trained'][{l}]['frequencies']", f, 2)

    def load_state(self, state: dict, grammar: Grammar | None = None, seed: int | None = None, transform=None,
                   source: str = "state") -> None:
        """Load :meth:`state` (e.g. a checkpoint read by :func:`read_checkpoint`). Refused with a ValueError that
        names what differs if it was made for another learner (shapes, dtype, any level's :class:`LevelParams`)
        or -- where given -- another ``grammar``, training ``seed`` or ``transform``; nothing is changed then."""
        self._check_state_structure(state, tensors=False)
        if grammar is not None:
            self._check_grammar(grammar)
        if seed is not None:
            seed = _int_at_least("seed (training seed)", seed, 0)
        if any(not isinstance(r, dict) for r in state["trained"].values()):
            raise ValueError("state['trained'] must map each level to a dict (W, frequencies, history, ...)")
        diffs = self._state_differences(state, grammar, seed, transform if grammar is not None else _UNSET)
        if diffs:
            raise ValueError(f"{source} was made for another configuration, refused: " + " | ".join(diffs))
        self._check_state_structure(state)
        for l, rec in state["trained"].items():
            self.weights[l] = rec["W"].to(self.device, self.dtype)
            f = rec.get("frequencies")
            if self.levels[l].features == "cluster":
                self.draw_features(l, None)
            else:
                self.feature_maps[l] = None if f is None else rff.RandomFourierFeatures(
                    f.to(self.device, self.dtype), self.levels[l].sigma)
            self.history[l] = dict(rec.get("history") or {})
            self.trained_on[l] = {k: rec.get(k) for k in ("seed", "grammar", "transform")}
        if state.get("grammar") is not None and self.grammar_info is None:
            self.grammar_info = state["grammar"]

    def save(self, path: str | os.PathLike) -> Path:
        """Save :meth:`state` to ``path`` (``torch.save``) atomically: a uniquely named temporary file in the same
        folder, then ``os.replace``, so two writers never publish a half-written file; the temporary file is
        removed if anything fails."""
        path = Path(path)
        if path.is_dir():
            raise ValueError(f"path {str(path)!r} is a folder; a checkpoint needs a file name")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(self.state(), f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


_UNSET = object()


def _distinct_rows(a: torch.Tensor, base: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct rows of an int tensor ``a`` ``(n, w)`` with entries in ``[0, base)``, sorted, and the index of
    each row among them: ``a == uniq[inverse]``. One int64 code a row (a 1-d sort) when ``base**w < 2**62``."""
    w = a.shape[1]
    if w * math.log2(max(base, 2)) < 62:
        powers = base ** torch.arange(w - 1, -1, -1, device=a.device, dtype=torch.long)
        codes, inverse = torch.unique((a * powers).sum(1), return_inverse=True)
        return (codes[:, None] // powers) % base, inverse
    return torch.unique(a, dim=0, return_inverse=True)


def _feature_rows(batch_size: int, d: int) -> int:
    """Rows of features formed at once: at most ``batch_size`` and about 16 MiB of float64 (an allocation that
    the allocator reuses instead of mapping fresh pages each time)."""
    return max(1, min(batch_size, (1 << 21) // max(d, 1)))


def _add_weighted_gram(C: torch.Tensor, feats: torch.Tensor, counts: torch.Tensor) -> None:
    r""":math:`C \mathrel{+}= F^\top\mathrm{diag}(c)F` in place, into C's lower triangle at least (the rest is
    filled by :func:`_mirror_lower`): on the CPU a symmetric rank-k update (BLAS ``syrk``, half a GEMM) of
    :math:`\sqrt{c}\odot F`, elsewhere a GEMM."""
    if C.device.type == "cpu" and C.is_contiguous() and C.dtype in (torch.float32, torch.float64):
        from scipy.linalg import blas
        syrk = blas.dsyrk if C.dtype == torch.float64 else blas.ssyrk
        a = (feats * counts.sqrt()[:, None]).contiguous().numpy()
        # C's numpy transpose is Fortran-ordered: syrk updates its upper triangle, C's lower one, in place
        out = syrk(1.0, a.T, beta=1.0, c=C.numpy().T, trans=0, lower=0, overwrite_c=1)
        if not np.shares_memory(out, C.numpy()):  # pragma: no cover - scipy copied: write it back
            C.copy_(torch.from_numpy(np.ascontiguousarray(out.T)))
        return
    C.addmm_(feats.T, feats * counts[:, None])


def _mirror_lower(C: torch.Tensor) -> torch.Tensor:
    """C made symmetric from its lower triangle (diagonal included), in place (by blocks of rows when large)."""
    d, step = C.shape[0], 256
    if d <= 4 * step and C.device.type == "cpu" and C.is_contiguous():  # small: numpy, one thread, no team to wait on
        a = C.numpy()
        upper = np.triu_indices(d, 1)
        a[upper] = a.T[upper]
        return C
    for i in range(0, d, step):
        C[i:i + step, i + step:] = C[i + step:, i:i + step].T  # rows i.., right of the diagonal block
        block = C[i:i + step, i:i + step]
        block.copy_(torch.tril(block) + torch.tril(block, -1).T)
    return C


def _spd_solve(A: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    r""":math:`A^{-1}\,\mathrm{rhs}` for a symmetric :math:`A` given by its lower triangle (a ridge system): Cholesky when :math:`A` is
    positive definite (half the work of LU), else the LU solve of earlier versions (e.g. :math:`\lambda_W=0`
    with a singular moment matrix), so that no input that solved before fails now."""
    L, info = torch.linalg.cholesky_ex(A)  # reads A's lower triangle
    if int(info) == 0:
        return torch.cholesky_solve(rhs, L)
    return torch.linalg.solve(_mirror_lower(A.clone()), rhs)


# -- parameter choices -----------------------------------------------------------------------------
def _instance_constants(grammar: Grammar):
    _check_grammar_type(grammar)
    laws = exact.first_patch_laws(grammar, "float64")  # the products once, shared by kappa and the gaps
    kappa, _ = assumptions.kappa(grammar, "float64", laws=laws)
    gaps = assumptions.signal_gaps(grammar, "float64", laws=laws)
    k_rho = float(assumptions.instance_k_rho(gaps, grammar.num_synonyms))
    kappa = float(kappa)
    if not math.isfinite(kappa) or k_rho <= 0:
        raise ValueError(f"the grammar violates Assumption 6 (kappa = {kappa}, K_rho = {k_rho}): the proof's "
                         f"parameters need a finite kappa and K_rho > 0")
    return kappa, k_rho, gaps


def proof_parameters(grammar: Grammar, delta_p: float = 0.1, C: float = 1.0, C_M: float = 1.0,
                     solver: str = "gd", max_features: int | None = None) -> tuple[list[LevelParams], list[dict]]:
    r"""The proof's choices for every level, from the grammar's exact :math:`\kappa` and :math:`K_\rho`.

    * :math:`\varepsilon^{(l)}_*=K_\rho m^{-l/2}/\sqrt{C V^2m^2sL\log m}` (proof of Theorem 7; ``C`` its
      "sufficiently large universal" constant; :math:`\log m` is replaced by :math:`\log\max(m,2)`);
    * :math:`\tilde\rho^{(l)}`: :math:`\sqrt2` at level :math:`L` (one-hot), else :math:`\rho^{(l+1)}/2`
      with :math:`\rho^{(l+1)}=K_\rho m^{-(l+1)/2}` (Lemma 11's proof);
    * :math:`\varepsilon_O=\varepsilon_*/(600|P_l|^2\kappa\sqrt{d_y})`, :math:`\varepsilon_S=1/(4|P_l|)`;
      :math:`(\sigma^{(l)})^2=2\tilde\rho^2/\log(2/\varepsilon_O)` (Lemma 10 at equality);
    * :math:`M^{(l)}=\lceil C_M\,\frac{sd_e}{\varepsilon_O^2\wedge\varepsilon_S^4}\log\frac{sd_e\log(2/\varepsilon_O)}
      {\tilde\rho^2(\varepsilon_O^2\wedge\varepsilon_S^4)\delta_P}\rceil` (Lemma 10; ``C_M`` its :math:`\gtrsim`);
    * :math:`N^{(l)}=\lceil20(\kappa\vee\varepsilon_*^{-2})\log(Vm/\delta_P)\rceil` (Lemma 11, eq. 10);
    * :math:`T^{(l)}=\lceil|P_l|\log(100|P_l|\kappa\sqrt{d_y}/\varepsilon_*)\rceil` (Lemma 17);
    * recorded beside :math:`N^{(l)}`: Theorem 7's :math:`20C\kappa V^2m^2sL\log^2(Vm\kappa/\delta_P)K_\rho^{-2}m^l`.

    Returns the :class:`LevelParams` and, per level, the intermediate quantities. :math:`M^{(l)}` is
    astronomically large at any size (:math:`\varepsilon_S^4=(4|P_l|)^{-4}`); ``max_features`` caps it
    (the cap is recorded) so that the other choices can be used with a feasible width.
    """
    delta_p = _pos_real("delta_p", delta_p)
    if not 0 < delta_p < 1:
        raise ValueError(f"delta_p must lie in (0, 1); got {delta_p}")
    C = _pos_real("C (Theorem 7's universal constant)", C)
    C_M = _pos_real("C_M (Lemma 10's universal constant in M >~ ...)", C_M)
    kappa, k_rho, _ = _instance_constants(grammar)
    V, m, s, L, d_y = grammar.num_features, grammar.num_synonyms, grammar.tuple_size, grammar.num_layers, grammar.num_classes
    params, info = [], []
    for l in range(1, L + 1):
        P = grammar.num_patches(l)
        eps = k_rho * m ** (-l / 2) / math.sqrt(C * V**2 * m**2 * s * L * math.log(max(m, 2)))
        rho_t = math.sqrt(2) if l == L else k_rho * m ** (-(l + 1) / 2) / 2
        d_e = V if l == L else d_y
        eps_o = eps / (600 * P**2 * kappa * math.sqrt(d_y))
        eps_s = 1 / (4 * P)
        sigma = math.sqrt(2 * rho_t**2 / math.log(2 / eps_o))
        e2 = min(eps_o**2, eps_s**4)
        M = C_M * s * d_e / e2 * math.log(s * d_e * math.log(2 / eps_o) / (rho_t**2 * e2 * delta_p))
        M_int = int(min(math.ceil(M), 2**62))
        capped = max_features is not None and M_int > max_features
        N = math.ceil(20 * max(kappa, eps**-2) * math.log(V * m / delta_p))
        T = math.ceil(P * math.log(100 * P * kappa * math.sqrt(d_y) / eps))
        params.append(LevelParams(level=l, sigma=sigma, num_features=max_features if capped else M_int,
                                  num_samples=N, solver=solver, num_steps=T))
        # Theorem 7's proof (App. A.3) bounds the stage's samples by this (main text: without the 20)
        N_thm7 = 20 * C * kappa * V**2 * m**2 * s * L * math.log(V * m * kappa / delta_p) ** 2 * k_rho**-2 * m**l
        info.append(dict(level=l, num_patches=P, eps_star=eps, rho_tilde=rho_t, eps_O=eps_o, eps_S=eps_s,
                         sigma=sigma, M_proof=M, M_capped=capped, N=N, N_theorem7=N_thm7, T=T, kappa=kappa,
                         K_rho=k_rho))
    return params, info


def sample_allocation(total: int, grammar: Grammar) -> dict[int, int]:
    r"""Split a budget of ``total`` samples over the stages as the proof does, :math:`N^{(l)}\propto m^l`."""
    _check_grammar_type(grammar)
    total = _int_at_least("total (number of training samples)", total, grammar.num_layers)
    w = np.array([grammar.num_synonyms ** l for l in range(1, grammar.num_layers + 1)], dtype=float)
    n = np.maximum(1, np.floor(total * w / w.sum())).astype(int)
    return {l: int(n[l - 1]) for l in range(1, grammar.num_layers + 1)}


def practical_parameters(grammar: Grammar, total_samples: int, num_features: int = 512, sigma_scale: float = 0.5,
                         solver: str = "closed_form", num_steps: int = 0, lambda_w: float | None = None
                         ) -> list[LevelParams]:
    r"""A preset that trains in seconds: :math:`M` ``num_features`` at every level, samples split
    :math:`N^{(l)}\propto m^l` (:func:`sample_allocation`), and :math:`\sigma^{(l)}=`
    ``sigma_scale`` :math:`\cdot\tilde\rho^{(l)}`, where :math:`\tilde\rho^{(L)}=\sqrt2` and, above,
    :math:`\tilde\rho^{(l)}` is the grammar's exact level-:math:`(l+1)` gap :math:`\rho_{l+1}` (the distance
    between the :math:`q`-vectors that the trained level :math:`l+1` outputs)."""
    sigma_scale = _pos_real("sigma_scale", sigma_scale)
    _, _, gaps = _instance_constants(grammar)
    alloc = sample_allocation(total_samples, grammar)
    L = grammar.num_layers
    out = []
    for l in range(1, L + 1):
        rho_t = math.sqrt(2) if l == L else float(gaps[l].gap)  # gaps[l] is level l+1
        out.append(LevelParams(level=l, sigma=sigma_scale * rho_t, num_features=num_features,
                               num_samples=alloc[l], solver=solver, num_steps=num_steps, lambda_w=lambda_w))
    return out
