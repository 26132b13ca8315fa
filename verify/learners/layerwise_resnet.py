r"""Layerwise ResNet of frozen β-Xavier random blocks with trained read-outs (Paper B, Algorithm 4.2,
as reconstructed).

**Which form.** Algorithm 4.2 was not seen (``papers/ptf.md`` §2). Its steps come from the summary's
"critical path" [SUMMARY-ONLY]: "initialize all :math:`W^1_k, b_k` with β-Xavier distribution";
"initialize all :math:`W^2_k = 0`, :math:`W^D` as orthogonal matrix"; "for k = 1 to D-1: train
:math:`W^2_k` to minimize loss until gradient norm ≤ :math:`\epsilon_{opt}`"; "output final predictor
sign(:math:`\hat W^D\Gamma_{D-1}(x)`)"; and its component map "Input → Proximity Mapping :math:`E_g` →
Random Feature Blocks (1 to D-1) → Output Layer :math:`W^D` → Final Predictor". Every choice below is
a parameter of :class:`ResNetConfig`; the **defaults follow the summary**, the package's earlier
choices are kept as variants:

- residual stream :math:`\Gamma_0(x)=(E_g(x),\mathbf 0_n)\in\mathbb R^{N}`, :math:`N=d+n`;
- block :math:`k`: :math:`\Gamma_k=\Gamma_{k-1}+W^2_k\,\sigma(W^1_kE(\Gamma_{k-1})+b_k)/\sqrt q`, with
  :math:`W^1_k,b_k` β-Xavier (Def. 4.1 as reconstructed) and frozen, :math:`W^2_k` initialised at 0;
- **read-out** ``readout``: ``"orthogonal"`` (default, the summary's): :math:`W^D\in\mathbb R^{n\times N}`,
  the first n rows of a Haar-random orthogonal matrix drawn at initialisation and kept fixed; the
  label estimates are :math:`\hat y=W^D\Gamma` and the predictor :math:`\mathrm{sign}(W^D\Gamma_{D-1}(x))`.
  ``"identity"`` (the package's earlier form): :math:`W^D=[0\ I_n]`, one stream coordinate per label.
  With :math:`W^D` of orthonormal rows, a block's minimum-norm :math:`W^2_k` achieving per-label
  read-outs :math:`v_j` is :math:`\sum_jw_jv_j^\top` with :math:`\|W^2_k\|_F^2=\sum_j\|v_j\|^2`, so the
  per-label problems below (Lemma 5.2) are the same for both read-outs; the block adds
  :math:`(W^D)^\top V^\top\phi` to the stream;
- **proximity mapping** :math:`E` of width :math:`w` (``proximity_width``; the summary's
  :math:`E_g` and "proximity width w", meaning unknown), reconstructed as
  :math:`E_w(t)=\mathrm{clip}(t/(1-w),-1,1)` per coordinate (:math:`w=0`: the clip to :math:`[-1,1]`;
  values within :math:`w` of ±1 are mapped to ±1). ``input_map`` says where it acts: ``"input"``
  (default, the summary's place: once, right after the input), ``"every_block"`` (the package's
  earlier form: on the stream every block reads), ``"none"``;
- **all labels of all levels are supervised** at every block ("strong supervision", summary);
- loss per label: ``"square"`` :math:`\tfrac12(1-y\hat y)^2` (default) or ``"logistic"``
  :math:`\log(1+e^{-y\hat y})`, plus :math:`\tfrac\lambda2\|W^2_k\|_F^2`. The summary speaks of "a hybrid
  loss function combining margin-based components", whose formula was not seen: neither is it;
- each block is trained once, by **full-batch accelerated gradient descent** (the summary and the
  abstract say "layerwise SGD"), **until the gradient norm of every label's problem is**
  :math:`\le\epsilon_{opt}` (the summary's stopping rule), then frozen.
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
import torch

from verify.features import random_neurons as rn
from verify.validate import device as _device, generator as _generator, int_at_least as _int_at_least

__all__ = ["INPUT_MAPS", "LOSSES", "MODELS", "READOUTS", "LayerwiseResNet", "ResNetConfig", "blocks_until_margin",
           "cached_experiment", "hierarchy_experiment", "loss_derivatives", "loss_values", "make_labels", "objective",
           "orthogonal_rows", "proximity_map", "train_readout"]

LOSSES = ("square", "logistic")
READOUTS = ("orthogonal", "identity")
"""``W^D``: the summary's orthogonal matrix (default) or the package's earlier identity on label coordinates."""
INPUT_MAPS = ("input", "every_block", "none")
"""Where the proximity mapping acts: once after the input (the summary's place, default), on every block's input, nowhere."""
MODELS = ("random", "brain_dump_gates", "brain_dump_votes")
"""The label models of :func:`hierarchy_experiment`."""


@dataclasses.dataclass(frozen=True)
class ResNetConfig:
    """Hyper-parameters of Algorithm 4.2 (reconstructed); see the module docstring."""
    width: int = 256          # q, neurons per block
    beta: float = 0.25        # bias variance of the beta-Xavier neurons
    activation: str = "relu"
    loss: str = "square"
    reg: float = 1e-3         # lambda, the l2 regulariser of each read-out
    eps_opt: float = 1e-4     # gradient-norm stopping threshold per label
    max_iter: int = 5000
    readout: str = "orthogonal"   # W^D: READOUTS
    input_map: str = "input"      # where E acts: INPUT_MAPS
    proximity_width: float = 0.0  # w of E_w(t) = clip(t / (1 - w), -1, 1)

    def __post_init__(self):
        _int_at_least("width (q, neurons per block)", self.width, 1)
        if not _is_real(self.beta) or not 0 <= self.beta < 1:
            raise ValueError(f"beta must be in [0, 1); got {self.beta!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}; got {self.loss!r}")
        _positive("reg (lambda, > 0 for strong convexity)", self.reg)
        _positive("eps_opt", self.eps_opt)
        _int_at_least("max_iter", self.max_iter, 1)
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}; got {self.readout!r}")
        if self.input_map not in INPUT_MAPS:
            raise ValueError(f"input_map must be one of {INPUT_MAPS}; got {self.input_map!r}")
        if not _is_real(self.proximity_width) or not 0 <= self.proximity_width < 1:
            raise ValueError(f"proximity_width (w) must be in [0, 1); got {self.proximity_width!r}")
        rn._check_activation(self.activation)


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _positive(name: str, value) -> float:
    if not _is_real(value) or value <= 0:
        raise ValueError(f"{name} must be a finite real number > 0; got {value!r}")
    return float(value)


def _real_matrix(name: str, x, dtype=torch.float64, device="cpu", cols: int | None = None,
                 rows: int | None = None) -> torch.Tensor:
    """``x`` (tensor or array-like of finite reals, ``(rows, cols)``) as a tensor, or a ValueError naming ``name``."""
    if isinstance(x, (str, bytes)) or x is None:
        raise ValueError(f"{name} must be a real matrix; got {type(x).__name__}")
    try:
        t = torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ValueError(f"{name} must be a real matrix: {e}") from None
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"{name} must hold real numbers; got dtype {t.dtype}")
    if t.ndim != 2 or (cols is not None and t.shape[1] != cols) or (rows is not None and t.shape[0] != rows):
        want = f"({'m' if rows is None else rows}, {'n' if cols is None else cols})"
        raise ValueError(f"{name} must have shape {want}; got {list(t.shape)}")
    t = t.to(device=device, dtype=dtype)
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must hold finite numbers (no NaN or infinity)")
    return t


def _labels(name: str, y, rows: int, cols: int, dtype, device) -> torch.Tensor:
    """``y`` as a ``(rows, cols)`` tensor of labels in {-1, +1}, or a ValueError naming ``name``."""
    Y = _real_matrix(name, y, dtype, device, cols=cols, rows=rows)
    if Y.numel() and not bool(((Y == 1) | (Y == -1)).all()):
        raise ValueError(f"{name} must hold labels -1 or +1 (one column per label)")
    return Y


def _check_loss(loss) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    return loss


# --- the per-block convex problem (Lemma 5.2) -------------------------------------------------------
def loss_values(margin: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-example loss of the margin y*yhat."""
    if loss == "square":
        return 0.5 * (1 - margin) ** 2
    if loss == "logistic":
        return torch.nn.functional.softplus(-margin)
    raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")


def loss_derivatives(margin: torch.Tensor, loss: str):
    """First and second derivative of the loss in the margin."""
    _check_loss(loss)
    if loss == "square":
        return margin - 1, torch.ones_like(margin)
    s = torch.sigmoid(-margin)
    return -s, s * (1 - s)


def objective(V: torch.Tensor, Phi: torch.Tensor, Yhat: torch.Tensor, Y: torch.Tensor, loss: str, reg: float):
    r"""Per label j: :math:`F_j(v)=\frac1m\sum_i\ell(y_{ij}(\hat y_{ij}+\langle\Phi_i,v\rangle))+\frac\lambda2\|v\|^2`
    (``V`` is ``(q, n)``, one column per label); returns the ``(n,)`` vector of values."""
    m = Y * (Yhat + Phi @ V)
    return loss_values(m, loss).mean(0) + 0.5 * reg * (V ** 2).sum(0)


def gradient(V, Phi, Yhat, Y, loss: str, reg: float) -> torch.Tensor:
    r"""Every label's :math:`\nabla F_j(v_j)=\frac1m\Phi^\top(\ell'(y_j\odot(\hat y_j+\Phi v_j))\odot y_j)+\lambda v_j`,
    column by column (so columns of ``V`` may be any points, with ``Yhat`` and ``Y`` the matching columns)."""
    _check_loss(loss)
    # The arithmetic of Y * (Yhat + Phi @ V), loss_derivatives(., loss)[0] * Y, Phi.T @ (.) / m + reg * V, operation
    # by operation, in two buffers instead of eleven (issue 15): the same values to the bit.
    D = Phi @ V
    D.add_(Yhat).mul_(Y)  # the margins
    if loss == "square":
        D.sub_(1)
    else:
        D.neg_().sigmoid_().neg_()  # -sigmoid(-margin)
    G = Phi.T @ D.mul_(Y)
    return G.div_(Phi.shape[0]).add_(reg * V)


def hessian(v: torch.Tensor, Phi, yhat, y, loss: str, reg: float) -> torch.Tensor:
    r"""Hessian of one label's :math:`F_j` at ``v``: :math:`\frac1m\Phi^\top\mathrm{diag}(\ell'')\Phi+\lambda I`."""
    m = y * (yhat + Phi @ v)
    _, d2 = loss_derivatives(m, loss)
    return Phi.T @ (d2[:, None] * Phi) / Phi.shape[0] + reg * torch.eye(Phi.shape[1], dtype=Phi.dtype, device=Phi.device)


def smoothness(Phi: torch.Tensor, loss: str, reg: float) -> float:
    r"""An upper bound L on every label's Hessian eigenvalues (l'' <= 1 square, <= 1/4 logistic):
    :math:`c_\ell\,\sigma_{\max}(\Phi)^2/m+\lambda`. :math:`\sigma_{\max}^2` is the largest eigenvalue of the
    smaller Gram matrix (:math:`\Phi^\top\Phi` or :math:`\Phi\Phi^\top`): half the time of the SVD of
    :math:`\Phi` at 500 x 128 and 1000 x 256, equal to it within 1e-15 (issue 15)."""
    gram = Phi.T @ Phi if Phi.shape[0] >= Phi.shape[1] else Phi @ Phi.T
    top = torch.linalg.eigvalsh(gram)[-1].item() / Phi.shape[0]
    return (1.0 if loss == "square" else 0.25) * top + reg


def train_readout(Phi, Yhat, Y, loss: str = "square", reg: float = 1e-3, eps_opt: float = 1e-4,
                  max_iter: int = 5000, V0=None) -> tuple[torch.Tensor, dict]:
    r"""Minimise every label's :math:`F_j` by accelerated gradient descent (step 1/L, momentum
    :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`), each label stopped as soon as
    :math:`\|\nabla F_j\|\le\epsilon_{opt}`. Returns ``V`` and a dict with the iterations and final
    gradient norms per label."""
    _check_loss(loss)
    reg = _positive("reg (lambda, > 0 for strong convexity)", reg)
    eps_opt = _positive("eps_opt", eps_opt)
    max_iter = _int_at_least("max_iter", max_iter, 0)
    if not isinstance(Phi, torch.Tensor) or not Phi.is_floating_point() or Phi.ndim != 2:
        raise ValueError(f"Phi (features, m x q) must be a floating-point matrix; got "
                         f"{list(Phi.shape) if isinstance(Phi, torch.Tensor) else type(Phi).__name__}")
    m_, q_ = Phi.shape
    _real_matrix("Phi (features, m x q)", Phi, Phi.dtype, Phi.device)
    Y = _labels("Y (labels, m x n, +-1)", Y, m_, None, Phi.dtype, Phi.device)
    Yhat = _real_matrix("Yhat (current label estimates, m x n)", Yhat, Phi.dtype, Phi.device, cols=Y.shape[1],
                        rows=m_)
    if V0 is not None:
        V0 = _real_matrix("V0 (initial read-out, q x n)", V0, Phi.dtype, Phi.device, cols=Y.shape[1], rows=q_)
    q, n = Phi.shape[1], Y.shape[1]
    V = torch.zeros(q, n, dtype=Phi.dtype, device=Phi.device) if V0 is None else V0.clone()
    L = smoothness(Phi, loss, reg)
    kappa = L / reg
    mom = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    iters = torch.zeros(n, dtype=torch.long, device=Phi.device)
    # Only the labels still running are computed (``idx``): a label stops for good once its gradient is small,
    # and the labels stop hundreds of iterations apart, so this skips most of the arithmetic (issue 15). Their
    # iterates live side by side in one buffer, VZ = [V | Z] (the running labels' V, then their momentum points Z),
    # so the gradients at V (the stopping rule) and at Z (the step) come from one call, and nothing is gathered or
    # scattered until a label stops. Each label's iterates are the same as when every label is computed, up to the
    # GEMM's summation order on fewer columns.
    idx = torch.arange(n, device=Phi.device)
    VZ = torch.cat([V, V], 1)
    Yhat2, Y2 = torch.cat([Yhat, Yhat], 1), torch.cat([Y, Y], 1)
    # the loop's small operations without autograd's bookkeeping (version counters, views): 3-5 % of its time
    with torch.inference_mode():
        for it in range(max_iter):
            k = idx.numel()
            g_both = gradient(VZ, Phi, Yhat2, Y2, loss, reg)
            # Tensor.norm(dim=0) is this call behind a Python dispatcher that cost as much as the norm (issue 15)
            keep = torch.linalg.vector_norm(g_both[:, :k], 2, 0) > eps_opt
            g = g_both[:, k:]
            if not bool(keep.all()):
                stop = ~keep
                iters[idx[stop]] = it
                V[:, idx[stop]] = VZ[:, :k][:, stop]
                idx, g = idx[keep], g[:, keep]
                if idx.numel() == 0:
                    break
                VZ = torch.cat([VZ[:, :k][:, keep], VZ[:, k:][:, keep]], 1)
                k = idx.numel()
                Yhat2, Y2 = torch.cat([Yhat[:, idx], Yhat[:, idx]], 1), torch.cat([Y[:, idx], Y[:, idx]], 1)
            V_a, Z_a = VZ[:, :k], VZ[:, k:]
            # V_new = Z - g / L; Z = V_new + mom (V_new - V); V = V_new: the same operations, two fewer buffers
            V_new = torch.div(g, L)
            torch.sub(Z_a, V_new, out=V_new)
            step = torch.sub(V_new, V_a).mul_(mom)
            torch.add(V_new, step, out=Z_a)
            V_a.copy_(V_new)
        else:  # max_iter iterations: the labels still running keep their last iterate
            iters[idx] = max_iter
            V[:, idx] = VZ[:, :idx.numel()]
    gn = gradient(V, Phi, Yhat, Y, loss, reg).norm(dim=0)
    return V, {"iterations": iters.cpu().tolist(), "grad_norm": gn.tolist(), "converged": bool((gn <= eps_opt).all()),
               "L": L, "kappa": kappa}


def proximity_map(z: torch.Tensor, width: float = 0.0) -> torch.Tensor:
    r"""The proximity mapping as reconstructed: :math:`E_w(t)=\mathrm{clip}(t/(1-w),-1,1)` per coordinate
    (``width`` :math:`w\in[0,1)`; :math:`w=0` is the clip to :math:`[-1,1]`)."""
    if not _is_real(width) or not 0 <= width < 1:
        raise ValueError(f"width (w) must be in [0, 1); got {width!r}")
    return (z / (1 - width)).clamp(-1, 1) if width else z.clamp(-1, 1)


def orthogonal_rows(n: int, N: int, generator: torch.Generator, device="cpu", dtype=torch.float64) -> torch.Tensor:
    """The first ``n`` rows of a Haar-random ``N x N`` orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    A = torch.randn(N, N, generator=generator, dtype=torch.float64)
    Q, R = torch.linalg.qr(A)
    Q = Q * torch.sign(torch.diagonal(R))[None, :]
    return Q[:n].to(device=device, dtype=dtype)


# --- the network ---------------------------------------------------------------------------------
class LayerwiseResNet:
    """Frozen random β-Xavier blocks with trained read-outs into the label coordinates."""

    def __init__(self, in_dim: int, num_labels: int, config: ResNetConfig, generator: torch.Generator,
                 device="cpu", dtype=torch.float64):
        self.d = _int_at_least("in_dim (d, input width)", in_dim, 1)
        self.n = _int_at_least("num_labels (n)", num_labels, 1)
        if not isinstance(config, ResNetConfig):
            raise ValueError(f"config must be a ResNetConfig; got {type(config).__name__}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")
        self.config = config
        self.N = self.d + self.n
        self.generator, self.device, self.dtype = _generator("generator", generator), _device("device", device), dtype
        self.blocks: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        # W^D: drawn first (orthogonal), so the blocks' draws follow it; the identity draws nothing
        self.WD = (orthogonal_rows(self.n, self.N, self.generator, self.device, dtype)
                   if config.readout == "orthogonal" else None)

    def stream0(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        r""":math:`\Gamma_0(x)=(E(x),0)` (``input_map="input"``) or :math:`(x,0)`."""
        x = _real_matrix(f"{name} (inputs, m x d = {self.d})", x, self.dtype, self.device, cols=self.d)
        if self.config.input_map == "input":
            x = proximity_map(x, self.config.proximity_width)
        return torch.cat([x, torch.zeros(x.shape[0], self.n, dtype=self.dtype, device=self.device)], 1)

    def read(self, G: torch.Tensor) -> torch.Tensor:
        r"""What a block's neurons read: :math:`E(\Gamma)` (``input_map="every_block"``) or :math:`\Gamma`."""
        return proximity_map(G, self.config.proximity_width) if self.config.input_map == "every_block" else G

    def estimates(self, G: torch.Tensor) -> torch.Tensor:
        r"""The label estimates :math:`\hat y=W^D\Gamma` (the label coordinates for the identity read-out)."""
        return G[:, self.d:] if self.WD is None else G @ self.WD.T

    def new_block(self):
        W, b = rn.beta_xavier(self.N, self.config.width, self.config.beta, self.generator, self.device, self.dtype)
        return W, b

    def features(self, G: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return rn.random_features(self.read(G), W, b, self.config.activation)

    def apply_block(self, G, block, features: torch.Tensor | None = None) -> torch.Tensor:
        r""":math:`\Gamma+W^2\phi` with :math:`W^2=(W^D)^\top V^\top` (identity read-out: added to the label coordinates).
        ``features``: the block's :meth:`features` of ``G`` when the caller has them (training computes them to
        fit ``V``), else computed here."""
        W, b, V = block
        phi = self.features(G, W, b) if features is None else features
        if self.WD is None:
            out = G.clone()
            out[:, self.d:] += phi @ V
            return out
        return G + (phi @ V) @ self.WD

    def _check_blocks(self, blocks) -> int:
        if blocks is None:
            return len(self.blocks)
        if isinstance(blocks, bool) or not isinstance(blocks, numbers.Integral) or not 0 <= blocks <= len(self.blocks):
            raise ValueError(f"blocks must be None or an integer in [0, {len(self.blocks)}] (the trained blocks); "
                             f"got {blocks!r}")
        return int(blocks)

    def streams(self, x, blocks: int | None = None):
        """The streams after 0, 1, ..., ``blocks`` blocks (all by default), one pass: a generator."""
        blocks = self._check_blocks(blocks)
        G = self.stream0(x)
        yield G
        for block in self.blocks[:blocks]:
            G = self.apply_block(G, block)
            yield G

    def forward(self, x, blocks: int | None = None) -> torch.Tensor:
        """The stream after the first ``blocks`` blocks (all by default)."""
        for G in self.streams(x, blocks):
            pass
        return G

    def predict(self, x, blocks: int | None = None) -> torch.Tensor:
        r"""Label estimates :math:`\hat y=W^D\Gamma`; sign gives the predictor."""
        return self.estimates(self.forward(x, blocks))

    def fit(self, x, y, blocks: int, x_test=None, y_test=None, callback=None) -> dict:
        """Algorithm 4.2 (reconstructed): train ``blocks`` blocks one after the other on (x, y),
        every label supervised; record per block and label the train/test loss and margins."""
        c = self.config
        blocks = _int_at_least("blocks (number of blocks to train)", blocks, 0)
        if callback is not None and not callable(callback):
            raise ValueError(f"callback must be callable or None; got {type(callback).__name__}")
        if (x_test is None) != (y_test is None):
            raise ValueError("x_test and y_test must be given together (test inputs and their labels) or not at all")
        G = self.stream0(x)
        Y = _labels(f"y (labels, m = {G.shape[0]} x n = {self.n}, +-1)", y, G.shape[0], self.n, self.dtype, self.device)
        if G.shape[0] < 1:
            raise ValueError("x must hold at least one example (m >= 1)")
        Gt = self.stream0(x_test, "x_test") if x_test is not None else None
        Yt = (_labels(f"y_test (labels, m_test x n = {self.n}, +-1)", y_test, Gt.shape[0], self.n, self.dtype,
                      self.device) if y_test is not None else None)
        hist = {k: [] for k in ("train_loss", "test_loss", "train_margin", "test_error", "iterations",
                                "grad_norm", "objective")}

        def record(G, Gt):
            m = Y * self.estimates(G)
            hist["train_loss"].append(loss_values(m, c.loss).mean(0).tolist())
            hist["train_margin"].append(m.min(0).values.tolist())
            if Gt is not None:
                mt = Yt * self.estimates(Gt)
                hist["test_loss"].append(loss_values(mt, c.loss).mean(0).tolist())
                hist["test_error"].append((mt <= 0).double().mean(0).tolist())

        record(G, Gt)
        for k in range(blocks):
            W, b = self.new_block()
            Phi = self.features(G, W, b)
            Yhat = self.estimates(G)
            V, info = train_readout(Phi, Yhat, Y, c.loss, c.reg, c.eps_opt, c.max_iter)
            hist["iterations"].append(info["iterations"])
            hist["grad_norm"].append(info["grad_norm"])
            hist["objective"].append(objective(V, Phi, Yhat, Y, c.loss, c.reg).tolist())
            block = (W, b, V)
            self.blocks.append(block)
            G = self.apply_block(G, block, Phi)
            Gt = self.apply_block(Gt, block) if Gt is not None else None
            record(G, Gt)
            if callback is not None:
                callback(k, self, hist)
        return {k: np.asarray(v) for k, v in hist.items()}


def blocks_until_margin(train_margin: np.ndarray, theta: float) -> np.ndarray:
    """Per label, the first block count k (0 = before training) after which every training example
    has margin >= theta, or -1 if never."""
    if not _is_real(theta):
        raise ValueError(f"theta (the margin) must be a finite real number; got {theta!r}")
    train_margin = np.asarray(train_margin)
    if train_margin.ndim != 2 or train_margin.dtype.kind not in "iuf":
        raise ValueError(f"train_margin must be a real array (blocks + 1, labels); got shape {train_margin.shape}, "
                         f"dtype {train_margin.dtype}")
    ok = train_margin >= theta
    first = np.where(ok.any(0), ok.argmax(0), -1)
    # margin must persist from then on
    for j in range(ok.shape[1]):
        if first[j] >= 0 and not ok[first[j]:, j].all():
            later = np.flatnonzero(~ok[:, j])
            first[j] = later.max() + 1 if later.max() + 1 < ok.shape[0] else -1
    return first


# --- a complete experiment: hierarchy, data, layerwise training ------------------------------------
def make_labels(model: str, d: int, level_sizes, fan_in: int, kind: str, rng, reads: str = "previous",
                model_options=None):
    """The label model of :func:`hierarchy_experiment`: ``"random"`` (:func:`verify.ptf.random_hierarchy`,
    ``reads`` its Def. 3.1 form), ``"brain_dump_gates"`` (:func:`verify.ptf.brain_dump_circuit`: every gate of
    a circuit of majorities a label; equal ``level_sizes``, the width) or ``"brain_dump_votes"``
    (:func:`verify.ptf.brain_dump_votes`: ``level_sizes[i]`` random majority votes over the hidden gates of
    circuit layer i; ``model_options``: ``width``, ``vote_size``, ``gate_fan_in``, ``gate_kind``)."""
    from verify import ptf
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; got {model!r}")
    opts = dict(model_options or {})
    if model == "random":
        return ptf.random_hierarchy(d, list(level_sizes), fan_in, kind, "random", rng=rng, reads=reads)
    if len(set(level_sizes)) != 1:
        raise ValueError(f"level_sizes must be equal for model={model!r} (labels per circuit layer); got {level_sizes}")
    if model == "brain_dump_gates":
        return ptf.brain_dump_circuit(d, level_sizes[0], len(level_sizes), fan_in, rng=rng)
    return ptf.brain_dump_votes(d, opts.get("width", 6), len(level_sizes), level_sizes[0], opts.get("vote_size", 3),
                                opts.get("gate_fan_in", 2), opts.get("gate_kind", "junta"), rng=rng)


def hierarchy_experiment(d: int = 10, level_sizes=(6, 2), fan_in: int = 3, kind: str = "majority",
                         extra_parity: int = 0, m: int = 1500, m_test: int = 1000, blocks: int = 8,
                         config: ResNetConfig | None = None, data_seed: int = 0, net_seed: int = 0,
                         device="cpu", model: str = "random", reads: str = "previous", model_options=None) -> dict:
    """Sample labels (:func:`make_labels`; optionally one extra level-1 label, the parity of the first
    ``extra_parity`` inputs), train and test samples, and train ``blocks`` blocks.
    Returns the labels' model, the network, the history, and per block the training margins of every
    example (``margins[k]`` is ``(m, n)`` after k blocks)."""
    from verify import ptf
    d = _int_at_least("d (input dimension)", d, 1)
    m = _int_at_least("m (training examples)", m, 1)
    m_test = _int_at_least("m_test (test examples)", m_test, 1)
    blocks = _int_at_least("blocks", blocks, 0)
    extra_parity = _int_at_least("extra_parity", extra_parity, 0)
    if extra_parity > d:
        raise ValueError(f"extra_parity must be <= d = {d}; got {extra_parity}")
    data_seed = _int_at_least("data_seed", data_seed, 0)
    net_seed = _int_at_least("net_seed", net_seed, 0)
    if config is not None and not isinstance(config, ResNetConfig):
        raise ValueError(f"config must be a ResNetConfig or None; got {type(config).__name__}")
    rng = np.random.default_rng(data_seed)
    h = make_labels(model, d, tuple(level_sizes), fan_in, kind, rng, reads, model_options)
    if extra_parity:
        if model != "random":
            raise ValueError(f"extra_parity needs model='random'; got model={model!r}")
        lv = list(h.levels)
        lv[0] = lv[0] + (ptf.parity_label(tuple(range(extra_parity))),)
        if reads != "previous" and len(lv) > 1:
            raise ValueError("extra_parity shifts the lower labels' indices: use it with reads='previous'")
        h = ptf.Hierarchy(d, tuple(lv), reads)
    X = rng.choice(np.array([-1, 1]), size=(m, d))
    Xt = rng.choice(np.array([-1, 1]), size=(m_test, d))
    Y, Yt = h.labels(X).astype(np.float64), h.labels(Xt).astype(np.float64)
    cfg = config or ResNetConfig()
    net = LayerwiseResNet(d, h.num_labels, cfg, torch.Generator().manual_seed(net_seed), device)
    hist = net.fit(X, Y, blocks, Xt, Yt)
    Yd = torch.as_tensor(Y, dtype=net.dtype, device=net.device)
    margins = [(Yd * net.estimates(G)).cpu().numpy() for G in net.streams(X, blocks)]
    return {"hierarchy": h, "net": net, "history": hist, "margins": np.stack(margins), "X": X, "Y": Y,
            "label_levels": h.label_levels() if not extra_parity else
            np.concatenate([[1] * len(h.levels[0])] + [[i + 2] * s for i, s in enumerate(h.level_sizes[1:])])}


_EXPERIMENTS: dict = {}


def cached_experiment(**kwargs) -> dict:
    """:func:`hierarchy_experiment`, memoised on its arguments (claims and book pages share one run)."""
    cfg = kwargs.get("config")
    key = repr(sorted((k, v) for k, v in kwargs.items() if k != "config")) + repr(cfg)
    if key not in _EXPERIMENTS:
        _EXPERIMENTS[key] = hierarchy_experiment(**kwargs)
    return _EXPERIMENTS[key]
