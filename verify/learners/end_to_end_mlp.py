"""End-to-end baseline for Paper B: an MLP (optionally residual) trained jointly by Adam on all
labels at once, from scratch ("learn from scratch", as the third-party reproduction's
``train_mlp_endtoend``). Not part of the paper; a point of comparison for the layerwise ResNet."""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ..validate import device as _device, generator as _generator, int_at_least as _int_at_least
from .layerwise_resnet import _labels, _real_matrix


def train_mlp_endtoend(x, y, hidden: int = 256, depth: int = 3, residual: bool = True, epochs: int = 200,
                       lr: float = 1e-3, batch: int = 256, generator: torch.Generator | None = None,
                       x_test=None, y_test=None, device="cpu") -> dict:
    """Train an MLP with ``depth`` hidden layers (ReLU) on the squared loss 0.5 (1 - y*yhat)^2 summed
    over labels; return per-epoch train/test mean loss and test error, and the model.

    ``x`` ``(m, d)`` finite reals, ``y`` ``(m, n)`` labels +-1; ``generator`` (a seeded ``torch.Generator``)
    is required: it draws the initialisation and the mini-batch order (the global RNG is never used)."""
    hidden = _int_at_least("hidden (units per layer)", hidden, 1)
    depth = _int_at_least("depth (hidden layers)", depth, 1)
    epochs = _int_at_least("epochs", epochs, 1)
    batch = _int_at_least("batch (mini-batch size)", batch, 1)
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr (Adam learning rate) must be a finite real number > 0; got {lr!r}")
    if not isinstance(residual, (bool, np.bool_)):
        raise ValueError(f"residual must be True or False; got {residual!r}")
    gen = _generator("generator", generator)
    device = _device("device", device)
    x = _real_matrix("x (inputs, m x d)", x, torch.float32, device)
    if x.shape[0] < 1:
        raise ValueError("x must hold at least one example (m >= 1)")
    y = _labels(f"y (labels, m = {x.shape[0]} x n, +-1)", y, x.shape[0], None, torch.float32, device)
    if (x_test is None) != (y_test is None):
        raise ValueError("x_test and y_test must be given together (test inputs and their labels) or not at all")
    if x_test is not None:
        x_test = _real_matrix(f"x_test (test inputs, m_test x d = {x.shape[1]})", x_test, torch.float32, device,
                              cols=x.shape[1])
        y_test = _labels(f"y_test (test labels, m_test x n = {y.shape[1]}, +-1)", y_test, x_test.shape[0],
                         y.shape[1], torch.float32, device)
    d, n = x.shape[1], y.shape[1]

    def layer(i, o):
        with torch.random.fork_rng(devices=[]):  # Linear's own default init must not move the global RNG
            lin = torch.nn.Linear(i, o)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(o, i, generator=gen) * np.sqrt(2 / i))
            lin.bias.zero_()
        return lin.to(device)

    inp = layer(d, hidden)
    hidden_layers = torch.nn.ModuleList([layer(hidden, hidden) for _ in range(depth - 1)])
    out = layer(hidden, n)
    params = list(inp.parameters()) + list(hidden_layers.parameters()) + list(out.parameters())

    def model(z):
        h = torch.relu(inp(z))
        for lin in hidden_layers:
            h = h + torch.relu(lin(h)) if residual else torch.relu(lin(h))
        return out(h)

    opt = torch.optim.Adam(params, lr=lr)
    hist = {"train_loss": [], "test_loss": [], "test_error": []}
    m = x.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(m, generator=gen).to(device)
        for s in range(0, m, batch):
            idx = perm[s:s + batch]
            loss = (0.5 * (1 - y[idx] * model(x[idx])) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            hist["train_loss"].append(float((0.5 * (1 - y * model(x)) ** 2).mean()))
            if x_test is not None:
                xt = torch.as_tensor(x_test, dtype=torch.float32, device=device)
                yt = torch.as_tensor(y_test, dtype=torch.float32, device=device)
                mt = yt * model(xt)
                hist["test_loss"].append(float((0.5 * (1 - mt) ** 2).mean()))
                hist["test_error"].append((mt <= 0).float().mean(0).cpu().numpy().tolist())
    return {"history": {k: np.asarray(v) for k, v in hist.items()}, "model": model}
