r"""Baselines for Paper A's learner, trained on the same RHM data (int tokens ``x`` ``(n, s^L)``, labels ``y``).

* :class:`DeepCNN` -- end-to-end SGD on a deep CNN whose filters have size :math:`s` and stride :math:`s`
  (non-overlapping, matching the :math:`s`-ary tree), :math:`L` layers, ReLU, a linear read-out: the
  architecture of Cagnetta et al. (2024), whose sample complexity scales like :math:`n_cm^L`. A convolution
  with filter = stride is a linear map of each patch, so each layer is a reshape and a ``Linear``
  (:class:`PatchLinear`) on channels-last tokens: the same function, with the same initial weights as
  ``Conv1d`` from the same seed, without the convolution's im2col.

The SGD nets run on ``threads`` CPU threads (default 1, :mod:`verify.threads`): their operations are small,
and a second thread only waits when the machine is busy. The previous setting is restored after each call.
* :class:`TwoLayerNet` -- a shallow fully connected network on the flattened one-hot input, SGD.
* :class:`KernelRidge` -- Gaussian or Laplace kernel ridge regression on the flattened one-hot input
  (shallow kernel learners; sample complexity :math:`\sim m^{s^L}`-type in the RHM literature).

Every learner takes explicit ``torch.Generator`` seeds (no global RNG) and exposes ``fit(x, y, generator)``,
``predict(x)`` and ``accuracy(x, y)``; each checks its inputs (int tokens ``(n, s^L)`` in ``[0, V)``, one int
label in ``[0, n_c)`` per input, ``n >= 1``) and raises a ``ValueError`` naming the parameter.
"""
from __future__ import annotations

import math
import numbers

import torch
from tqdm.auto import tqdm

from .. import threads as _threads
from ..rhm import Grammar
from ..validate import device as _device, generator as _generator, int_at_least as _int_at_least
from ..validate import int_tokens as _int_tokens

__all__ = ["BASELINES", "DeepCNN", "KernelRidge", "PatchLinear", "TwoLayerNet", "make_baseline"]


def _pos(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite real number > 0; got {value!r}")
    return float(value)


def _nonneg(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite real number >= 0; got {value!r}")
    return float(value)


def _one_hot_float(x: torch.Tensor, v: int) -> torch.Tensor:
    """float32 one-hot ``(..., v)`` by a scatter (the same zeros and ones as ``one_hot(...).float()``)."""
    return torch.zeros(*x.shape, v, device=x.device).scatter_(-1, x.unsqueeze(-1), 1.0)


class _Accuracy:
    V: int
    n_c: int

    def _width(self) -> int | None:  # pragma: no cover - overridden
        return None

    def check_inputs(self, x, y=None, min_n: int = 1) -> None:
        """ValueError unless ``x`` is an int tensor ``[n, width]`` of tokens in ``[0, V)`` with ``n >= min_n`` and
        ``y`` (if given) an int tensor ``[n]`` of labels in ``[0, n_c)``: one label per input."""
        width = self._width()
        _int_tokens(f"x (input tokens, shape [n, {width if width else 'd'}])", x, self.V, (None, width))
        if x.shape[0] < min_n:
            raise ValueError(f"x must hold at least {min_n} sample(s) (n >= {min_n}); got n = {x.shape[0]}")
        if y is not None:
            _int_tokens(f"y (labels, shape [n = {x.shape[0]}], one per row of x)", y, self.n_c, (x.shape[0],))

    def _check_trained(self):
        if not self.trained:
            raise ValueError(f"{type(self).__name__} is not trained yet: call fit first")

    def accuracy(self, x, y) -> float:
        self.check_inputs(x, y)
        return float((self.predict(x).cpu() == y.cpu()).double().mean())


class _SGDNet(_Accuracy):
    """Shared SGD loop (cross-entropy, mini-batches, momentum)."""

    def __init__(self, epochs=100, batch_size=128, lr=0.1, momentum=0.9, weight_decay=0.0, device="cpu",
                 min_steps=0, threads=_threads.SMALL_OP_THREADS):
        self.epochs = _int_at_least("epochs", epochs, 1)
        if threads is not None:
            _int_at_least("threads (CPU threads of fit and predict, or None)", threads, 1)
        self.threads = threads
        # a small training set gets as many SGD steps as a large one: more epochs, not fewer updates
        self.min_steps = _int_at_least("min_steps (least number of SGD steps)", min_steps, 0)
        self.batch_size = _int_at_least("batch_size", batch_size, 1)
        self.lr = _pos("lr (SGD learning rate)", lr)
        if (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not math.isfinite(momentum)
                or not 0 <= momentum < 1):
            raise ValueError(f"momentum must be a real number in [0, 1); got {momentum!r}")
        self.momentum = float(momentum)
        self.weight_decay = _nonneg("weight_decay", weight_decay)
        self.device = _device("device", device)
        self.net = None
        self.history = []

    @property
    def trained(self) -> bool:
        return self.net is not None

    def _build(self, generator):  # pragma: no cover - abstract
        raise NotImplementedError

    def _inputs(self, x):
        raise NotImplementedError

    def fit(self, x, y, generator: torch.Generator, progress: bool = False, test=None):
        """SGD for ``max(epochs, ceil(min_steps / batches per epoch))`` epochs; ``history`` holds
        (epoch, train loss[, test accuracy]) per epoch. ``generator`` (required) seeds the initialisation and
        the mini-batch order."""
        self.check_inputs(x, y)
        _generator("generator", generator)
        if test is not None:
            if not isinstance(test, (tuple, list)) or len(test) != 2:
                raise ValueError(f"test must be a pair (x, y); got {type(test).__name__}")
            try:
                self.check_inputs(*test)
            except ValueError as e:
                raise ValueError(f"test: {e}") from None
        with _threads.limit(self.threads):
            return self._fit(x, y, generator, progress, test)

    def _fit(self, x, y, generator, progress, test):
        self._build(generator)
        opt = torch.optim.SGD(self.net.parameters(), lr=self.lr, momentum=self.momentum,
                              weight_decay=self.weight_decay)
        n = x.shape[0]
        epochs = max(self.epochs, math.ceil(self.min_steps / math.ceil(n / self.batch_size)))
        for epoch in tqdm(range(epochs), desc=type(self).__name__, disable=not progress, leave=False):
            perm = torch.randperm(n, generator=generator)
            tot = 0.0
            for i in range(0, n, self.batch_size):
                idx = perm[i:i + self.batch_size]
                logits = self.net(self._inputs(x[idx]))
                loss = torch.nn.functional.cross_entropy(logits, y[idx].to(self.device, torch.long))
                opt.zero_grad()
                loss.backward()
                opt.step()
                tot += float(loss.detach()) * len(idx)
            rec = {"epoch": epoch + 1, "train_loss": tot / n}
            if test is not None:
                rec["test_accuracy"] = self.accuracy(*test)
            self.history.append(rec)
        return self

    @torch.no_grad()
    def predict(self, x, batch_size: int = 8192):
        self._check_trained()
        self.check_inputs(x)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        with _threads.limit(self.threads):
            return torch.cat([self.net(self._inputs(x[i:i + batch_size])).argmax(-1)
                              for i in range(0, len(x), batch_size)])


class PatchLinear(torch.nn.Module):
    r"""``Conv1d(in_channels, out_channels, s, stride=s)`` on channels-last tokens ``(n, T, c)`` → ``(n, T/s, o)``:
    a ``Linear`` on each patch of :math:`s` consecutive tokens, read as one vector of :math:`sc` numbers (a view,
    no copy). Initialised as ``Conv1d`` is from the same global seed (the same draws, rearranged from the
    convolution's ``(o, c, s)`` layout to the patch's ``(s, c)`` order), so it computes the same function."""

    def __init__(self, in_channels: int, out_channels: int, tuple_size: int):
        super().__init__()
        self.s = _int_at_least("tuple_size (s)", tuple_size, 1)
        c, o = _int_at_least("in_channels", in_channels, 1), _int_at_least("out_channels", out_channels, 1)
        conv = torch.nn.Conv1d(c, o, self.s, stride=self.s)  # Conv1d's own draws (and no others), rearranged
        with torch.no_grad():
            self.weight = torch.nn.Parameter(conv.weight.permute(0, 2, 1).reshape(o, self.s * c).clone())
            self.bias = torch.nn.Parameter(conv.bias.clone())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        n, t, c = h.shape
        return torch.nn.functional.linear(h.reshape(n, t // self.s, self.s * c), self.weight, self.bias)


class DeepCNN(_SGDNet):
    r""":math:`L` convolutions with filter size = stride = :math:`s` (non-overlapping), ``width`` channels, ReLU,
    then a linear map to :math:`n_c` logits; each convolution a :class:`PatchLinear`. Input: one-hot
    ``(n, s^L, V)`` (channels last)."""

    def __init__(self, num_features, num_classes, tuple_size, num_layers, width=64, **kw):
        super().__init__(**kw)
        self.V = _int_at_least("num_features (V)", num_features, 2)
        self.n_c = _int_at_least("num_classes (n_c)", num_classes, 2)
        self.s = _int_at_least("tuple_size (s)", tuple_size, 2)
        self.L = _int_at_least("num_layers (L)", num_layers, 1)
        self.width = _int_at_least("width", width, 1)

    def _width(self) -> int:
        return self.s ** self.L

    def _build(self, generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # parameter init from the explicit generator's draw, no global side effect
            layers, c = [], self.V
            for _ in range(self.L):
                layers += [PatchLinear(c, self.width, self.s), torch.nn.ReLU()]
                c = self.width
            layers += [torch.nn.Flatten(), torch.nn.Linear(self.width, self.n_c)]
            self.net = torch.nn.Sequential(*layers).to(self.device)

    def _inputs(self, x):
        return _one_hot_float(x.to(self.device, torch.long), self.V)


class TwoLayerNet(_SGDNet):
    """Flattened one-hot input → ``width`` ReLU units → :math:`n_c` logits."""

    def __init__(self, num_features, num_classes, input_length, width=256, **kw):
        super().__init__(**kw)
        self.V = _int_at_least("num_features (V)", num_features, 2)
        self.n_c = _int_at_least("num_classes (n_c)", num_classes, 2)
        self.d = _int_at_least("input_length (s^L)", input_length, 1)
        self.width = _int_at_least("width", width, 1)

    def _width(self) -> int:
        return self.d

    def _build(self, generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = torch.nn.Sequential(torch.nn.Linear(self.V * self.d, self.width), torch.nn.ReLU(),
                                           torch.nn.Linear(self.width, self.n_c)).to(self.device)

    def _inputs(self, x):
        return _one_hot_float(x.to(self.device, torch.long), self.V).flatten(1)


class KernelRidge(_Accuracy):
    r"""Kernel ridge regression on one-hot targets, flattened one-hot inputs :math:`u\in\{0,1\}^{Vs^L}`:
    ``kernel="gaussian"``: :math:`\exp(-\|u-u'\|^2/(2\,\mathrm{bandwidth}^2))`; ``"laplace"``:
    :math:`\exp(-\|u-u'\|/\mathrm{bandwidth})`. :math:`\alpha=(K+\lambda nI)^{-1}Y` (float64)."""
    KERNELS = ("gaussian", "laplace")

    def __init__(self, num_features, num_classes, kernel="gaussian", bandwidth=None, ridge=1e-6, device="cpu"):
        if kernel not in self.KERNELS:
            raise ValueError(f"kernel must be one of {self.KERNELS}; got {kernel!r}")
        self.V = _int_at_least("num_features (V)", num_features, 2)
        self.n_c = _int_at_least("num_classes (n_c)", num_classes, 2)
        self.kernel = kernel
        self.bandwidth = None if bandwidth is None else _pos("bandwidth", bandwidth)
        self.ridge = _nonneg("ridge", ridge)
        self.device = _device("device", device)
        self.u = None

    @property
    def trained(self) -> bool:
        return self.u is not None

    def _width(self) -> int | None:
        return None if self.u is None else self.u.shape[1] // self.V

    def _u(self, x):
        return torch.nn.functional.one_hot(x.to(self.device, torch.long), self.V).double().flatten(1)

    def _k(self, a, b):
        # in place on one n x n' buffer: at n = 3000 every fresh buffer is 72 MB of page faults (issue 15); the
        # values are those of exp(-(|a|^2 + |b|^2 - 2 a.b) / 2 bw^2), computed in the same order
        d2 = a.pow(2).sum(1)[:, None] + b.pow(2).sum(1)[None, :]
        d2.sub_(torch.mm(a, b.T).mul_(2)).clamp_min_(0)
        bw = self.bandwidth if self.bandwidth is not None else math.sqrt(a.shape[1] / self.V)  # sqrt(s^L)
        if self.kernel == "gaussian":
            return d2.neg_().div_(2 * bw**2).exp_()
        return d2.sqrt_().neg_().div_(bw).exp_()

    def fit(self, x, y, generator: torch.Generator | None = None, **_):
        """Kernel ridge on ``(x, y)`` (deterministic: ``generator`` is accepted for a common interface, unused)."""
        self.u = None  # a new fit: any width
        self.check_inputs(x, y)
        if generator is not None:
            _generator("generator", generator)
        if x.shape[0] > 20000:
            raise ValueError(f"KernelRidge stores an n x n Gram matrix: n must be <= 20000; got {x.shape[0]}")
        self.u = self._u(x)
        K = self._k(self.u, self.u)
        Y = torch.nn.functional.one_hot(y.to(self.device, torch.long), self.n_c).double()
        n = x.shape[0]
        A = K
        A.diagonal().add_(self.ridge * n)  # K + ridge n I, in place
        # symmetric positive definite when ridge > 0: Cholesky, half the work of LU (issue 15); LU if the
        # factorisation fails (ridge = 0 and a singular Gram)
        chol, info = torch.linalg.cholesky_ex(A)
        self.alpha = torch.cholesky_solve(Y, chol) if int(info) == 0 else torch.linalg.solve(A, Y)
        return self

    @torch.no_grad()
    def predict(self, x, batch_size: int = 4096):
        self._check_trained()
        self.check_inputs(x)
        batch_size = _int_at_least("batch_size", batch_size, 1)
        return torch.cat([(self._k(self._u(x[i:i + batch_size]), self.u) @ self.alpha).argmax(-1)
                          for i in range(0, len(x), batch_size)])


BASELINES = ("cnn", "mlp2", "kernel_gaussian", "kernel_laplace")


def make_baseline(name: str, grammar, **kw):
    """A baseline for ``grammar``'s shapes: ``cnn``, ``mlp2``, ``kernel_gaussian``, ``kernel_laplace``."""
    if not isinstance(grammar, Grammar):
        raise ValueError(f"grammar must be a verify.rhm.Grammar; got {type(grammar).__name__}")
    g = grammar
    if name == "cnn":
        return DeepCNN(g.num_features, g.num_classes, g.tuple_size, g.num_layers, **kw)
    if name == "mlp2":
        return TwoLayerNet(g.num_features, g.num_classes, g.input_length, **kw)
    if name in ("kernel_gaussian", "kernel_laplace"):
        return KernelRidge(g.num_features, g.num_classes, kernel=name.split("_")[1], **kw)
    raise ValueError(f"baseline must be one of {BASELINES}; got {name!r}")
