"""End-to-end baseline for Paper B: an MLP (optionally residual) trained jointly by Adam on all
labels at once, from scratch ("learn from scratch", as the third-party reproduction's
``train_mlp_endtoend``). Not part of the paper; a point of comparison for the layerwise ResNet."""
from __future__ import annotations

import numpy as np
import torch


def train_mlp_endtoend(x, y, hidden: int = 256, depth: int = 3, residual: bool = True, epochs: int = 200,
                       lr: float = 1e-3, batch: int = 256, generator: torch.Generator | None = None,
                       x_test=None, y_test=None, device="cpu") -> dict:
    """Train an MLP with ``depth`` hidden layers (ReLU) on the squared loss 0.5 (1 - y*yhat)^2 summed
    over labels; return per-epoch train/test mean loss and test error, and the model."""
    if depth < 1 or hidden < 1 or epochs < 1:
        raise ValueError(f"depth, hidden and epochs must be >= 1; got {depth}, {hidden}, {epochs}")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    x = torch.as_tensor(x, dtype=torch.float32, device=device)
    y = torch.as_tensor(y, dtype=torch.float32, device=device)
    d, n = x.shape[1], y.shape[1]

    def layer(i, o):
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
