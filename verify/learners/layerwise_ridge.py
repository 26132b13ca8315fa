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

Parameters. :func:`proof_parameters` returns the proof's choices (Theorem 7's
:math:`\varepsilon^{(l)}_*`, Lemma 11's :math:`\sigma^{(l)}` and :math:`N^{(l)}`, Lemma 10's :math:`M^{(l)}`,
Lemma 17's :math:`T^{(l)}`) from the grammar's exact :math:`K_\rho` and :math:`\kappa`
(:mod:`verify.rhm.assumptions`), with every unspecified universal constant a named argument;
:func:`practical_parameters` a preset that trains in seconds on a CPU.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from verify.features import rff
from verify.features.clustering import NearestCentreFeatures
from verify.rhm import Grammar, assumptions, sample
from verify.validate import int_at_least as _int_at_least, int_tokens as _int_tokens

__all__ = ["FEATURES", "SOLVERS", "LevelParams", "LayerwiseRidge", "proof_parameters", "practical_parameters",
           "level_generator", "sample_allocation", "stage_samples", "tensor_features", "training_samples"]

SOLVERS = ("gd", "closed_form", "dual")
#: ``"cluster"``: Construction 2's nearest-centre codes, tensored (:mod:`verify.features.clustering`); the learner
#: needs the level's centres (``LayerwiseRidge(..., centres={level: tensor})``).
FEATURES = ("rff", "tensor", "cluster")


def _pos_real(name, value, allow_zero=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite real number {'>= 0' if allow_zero else '> 0'}; got {value!r}")
    return float(value)


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
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {STREAMS}; got {stream!r}")
    key = [seed, level] if stream == "features" else [seed, level, 1]
    state = int(np.random.SeedSequence(key).generate_state(1, dtype=np.uint64)[0] >> 1)
    return torch.Generator(device=device).manual_seed(state)


def stage_samples(grammar: Grammar, level: int, num_samples: int, seed: int, device="cpu"):
    r"""The fresh samples ``(x, y)`` of stage ``level`` (eq. 3's :math:`\hat E^{(l)}`), as :meth:`LayerwiseRidge.fit`
    draws them."""
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
    For one-hot tokens the patch embeddings are orthonormal: :math:`\langle x_\mu,x_{\mu'}\rangle=\mathbb 1\{\mu=\mu'\}`."""
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
        levels = list(levels)
        if sorted(p.level for p in levels) != list(range(1, num_layers + 1)):
            raise ValueError(f"levels must hold one LevelParams for each level 1..{num_layers}; got levels "
                             f"{[p.level for p in levels]}")
        self.levels = {p.level: p for p in levels}
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype}")
        self.dtype, self.device = dtype, torch.device(device)
        self.centres = {int(l): torch.as_tensor(c, dtype=dtype) for l, c in (centres or {}).items()}
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

    @classmethod
    def for_grammar(cls, grammar: Grammar, levels=None, proof_kwargs: dict | None = None, **kw) -> "LayerwiseRidge":
        """The learner for ``grammar``'s shapes. ``levels=None``: the proof's choices
        (:func:`proof_parameters` with ``proof_kwargs``), the width capped at ``max_features`` with a warning
        (the proof's :math:`M^{(l)}` is astronomically large)."""
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

    # -- forward -------------------------------------------------------------------------------
    def draw_features(self, level: int, generator: torch.Generator) -> None:
        """Draw :math:`\\Phi^{(l)}` (eq. 6) through :mod:`verify.features.rff`."""
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
        n, t, d = h.shape
        tokens = h.reshape(n, t // self.tuple_size, self.tuple_size, d)
        if self.levels[level].features == "tensor":
            return tensor_features(tokens)
        if self.levels[level].features == "cluster":
            return self.feature_maps[level](tokens)
        return self.feature_maps[level](rff.concatenate_tokens(tokens))

    def level_output(self, x: torch.Tensor, level: int, normalize: bool = True) -> torch.Tensor:
        """Eq. (2): :math:`Wx/\\langle\\mathbf 1,Wx\\rangle` (or :math:`Wx` with ``normalize=False``)."""
        out = x @ self.weights[level].T
        return out / out.sum(-1, keepdim=True) if normalize else out

    def embed(self, x: torch.Tensor, level: int) -> torch.Tensor:
        r"""Level-``level`` tokens :math:`h^{(level)}` of inputs ``x`` (int ``(n, s^k)``, a full input
        or the leftmost subtree): one-hot, then the trained levels :math:`L,\dots,level+1`."""
        h = torch.nn.functional.one_hot(x.to(self.device), self.num_features).to(self.dtype)
        for l in range(self.num_layers, level, -1):
            if l not in self.weights:
                raise ValueError(f"level {l} is not trained yet (trained: {self.trained_levels})")
            h = self.level_output(self.patch_features(h, l), l)
        return h

    def first_patch_features(self, x: torch.Tensor, level: int, batch_size: int = 4096) -> torch.Tensor:
        r""":math:`\hat x_{\hat\mu}`, the embedding of the first level-``level`` patch, ``(n, d_x)``, batch by batch
        (only the leftmost :math:`s^{L-l+1}` input tokens are read)."""
        width = self.tuple_size ** (self.num_layers - level + 1)
        out = [self.patch_features(self.embed(x[i:i + batch_size, :width], level), level)[:, 0]
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
            _int_tokens(f"y (labels, shape [n = {x.shape[0]}])", y, self.num_classes, (x.shape[0],))

    def forward(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """:math:`h^{(0)}_1` for full inputs ``x`` ``(n, s^L)``, batch by batch."""
        self.check_inputs(x, min_n=1)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        return torch.cat([self.embed(x[i:i + batch_size], 0)[:, 0] for i in range(0, x.shape[0], batch_size)])

    __call__ = forward

    def predict(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        return self.forward(x, batch_size).argmax(-1)

    def accuracy(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 4096) -> float:
        self.check_inputs(x, y, min_n=1)
        return float((self.predict(x, batch_size).cpu() == y.cpu()).double().mean())

    # -- training ------------------------------------------------------------------------------
    def regularization(self, level: int, num_patches: int) -> tuple[float, float]:
        r""":math:`(\lambda_W,\eta)`: the level's values, else :math:`1/|P_l|` and :math:`2|P_l|/(|P_l|+1)`."""
        p = self.levels[level]
        lam = 1.0 / num_patches if p.lambda_w is None else p.lambda_w
        eta = 2.0 * num_patches / (num_patches + 1) if p.step_size is None else p.step_size
        return lam, eta

    def moments(self, x: torch.Tensor, y: torch.Tensor, level: int, batch_size: int = 4096,
                progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        r""":math:`\hat C=\hat E[\hat x\hat x^\top]` and :math:`\hat B=\hat E[e_{\hat\zeta}\hat x^\top]`, batch by batch."""
        d = self.feature_dim(level)
        C = torch.zeros(d, d, dtype=self.dtype, device=self.device)
        B = torch.zeros(self.num_classes, d, dtype=self.dtype, device=self.device)
        width = self.tuple_size ** (self.num_layers - level + 1)
        for i in tqdm(range(0, x.shape[0], batch_size), desc=f"level {level}: features", unit="batch",
                      disable=not progress, leave=False):
            feats = self.patch_features(self.embed(x[i:i + batch_size, :width], level), level)[:, 0]
            C += feats.T @ feats
            B.index_add_(0, y[i:i + batch_size].to(self.device), feats)
        n = x.shape[0]
        return C / n, B / n

    @staticmethod
    def closed_form(C: torch.Tensor, B: torch.Tensor, lambda_w: float) -> torch.Tensor:
        r""":math:`W_{N,*}=\hat B(\hat C+\lambda_WI)^{-1}`."""
        A = C + lambda_w * torch.eye(C.shape[0], dtype=C.dtype, device=C.device)
        return torch.linalg.solve(A, B.T).T  # A symmetric

    @staticmethod
    def gradient_descent(C: torch.Tensor, B: torch.Tensor, lambda_w: float, step_size: float, num_steps: int,
                         W0: torch.Tensor | None = None, progress: bool = False, desc: str = "GD",
                         record_every: int = 0, reference: torch.Tensor | None = None):
        r"""GD on (3) from :math:`W_0` (default 0): :math:`W\leftarrow W-\eta(W(\hat C+\lambda_WI)-\hat B)`.
        With ``reference`` and ``record_every``, also returns :math:`\|W_t-W_{ref}\|_F` along the way."""
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
        n = X.shape[0]
        Y = torch.nn.functional.one_hot(y.to(X.device), num_classes).to(X.dtype)
        G = X @ X.T + lambda_w * n * torch.eye(n, dtype=X.dtype, device=X.device)
        return torch.linalg.solve(G, Y).T @ X

    def fit_level(self, level: int, x: torch.Tensor, y: torch.Tensor, num_patches: int,
                  generator: torch.Generator | None = None, batch_size: int = 4096, progress: bool = False
                  ) -> torch.Tensor:
        """Stage ``level`` on samples ``(x, y)``: draw :math:`\\Phi^{(l)}` if needed, fit :math:`W^{(l)}`."""
        if level not in self.levels:
            raise ValueError(f"level must be an integer in [1, {self.num_layers}]; got {level!r}")
        p = self.levels[level]
        self.check_inputs(x, y, min_n=1)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        if level not in self.feature_maps:
            if generator is None:
                raise ValueError("generator is required to draw the random features of an untrained level")
            self.draw_features(level, generator)
        lam, eta = self.regularization(level, num_patches)
        if p.solver == "dual":
            X = self.first_patch_features(x, level, batch_size)
            W = self.dual(X, y, self.num_classes, lam)
        else:
            C, B = self.moments(x, y, level, batch_size, progress)
            if p.solver == "closed_form":
                W = self.closed_form(C, B, lam)
            else:
                W = self.gradient_descent(C, B, lam, eta, p.num_steps, progress=progress, desc=f"level {level}: GD")
        self.weights[level] = W
        return W

    def fit(self, grammar: Grammar, seed: int = 0, batch_size: int = 4096, progress: bool = True,
            checkpoint: str | os.PathLike | None = None, test: tuple | None = None, callback=None,
            transform=None) -> "LayerwiseRidge":
        r"""Train stages :math:`L,\dots,1` on fresh samples (:math:`N^{(l)}` each, :func:`stage_samples`) from the
        stage's own generators (:func:`level_generator`). With ``checkpoint``, trained levels are saved after each
        stage (``torch.save``) and a run finds and skips the levels already there. ``test=(x, y)``
        records the test accuracy once level 1 is trained (``history``). ``transform(x, y, generator)``
        may alter each stage's samples (e.g. shuffle the labels: a negative control)."""
        self._check_grammar(grammar)
        if checkpoint is not None and Path(checkpoint).exists():
            self.load_state(torch.load(checkpoint, weights_only=False))
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
        if (g.num_features, g.num_classes, g.tuple_size, g.num_layers) != (
                self.num_features, self.num_classes, self.tuple_size, self.num_layers):
            raise ValueError(f"grammar (V, n_c, s, L) = {(g.num_features, g.num_classes, g.tuple_size, g.num_layers)} "
                             f"does not match the learner's {(self.num_features, self.num_classes, self.tuple_size, self.num_layers)}")

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self) -> dict:
        return {"shape": (self.num_features, self.num_classes, self.tuple_size, self.num_layers),
                "levels": {l: dataclasses.asdict(p) for l, p in self.levels.items()},
                "trained": {l: {"W": self.weights[l].cpu(),
                                "frequencies": (self.feature_maps[l].frequencies.cpu()
                                                if isinstance(self.feature_maps[l], rff.RandomFourierFeatures) else None),
                                "history": self.history.get(l, {})} for l in self.weights}}

    def load_state(self, state: dict) -> None:
        if tuple(state["shape"]) != (self.num_features, self.num_classes, self.tuple_size, self.num_layers):
            raise ValueError(f"checkpoint shape {state['shape']} does not match this learner")
        for l, rec in state["trained"].items():
            if dataclasses.asdict(self.levels[l]) != state["levels"][l]:
                raise ValueError(f"checkpoint level {l} was trained with {state['levels'][l]}, not {self.levels[l]}")
            self.weights[l] = rec["W"].to(self.device, self.dtype)
            f = rec["frequencies"]
            if self.levels[l].features == "cluster":
                self.draw_features(l, None)
            else:
                self.feature_maps[l] = None if f is None else rff.RandomFourierFeatures(
                    f.to(self.device, self.dtype), self.levels[l].sigma)
            self.history[l] = rec.get("history", {})

    def save(self, path: str | os.PathLike) -> Path:
        """``torch.save`` of the trained levels, atomically (temporary file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        torch.save(self.state(), tmp)
        os.replace(tmp, path)
        return path


# -- parameter choices -----------------------------------------------------------------------------
def _instance_constants(grammar: Grammar):
    kappa, _ = assumptions.kappa(grammar, "float64")
    gaps = assumptions.signal_gaps(grammar, "float64")
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
