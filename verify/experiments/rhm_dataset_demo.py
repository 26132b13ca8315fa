r"""A small CNN trained on :class:`verify.rhm.data.RHMDataset` with plain PyTorch, written as a record for the
book's dataset page (the book trains nothing while it builds; it shows this code and plots the record).

    python -m verify.experiments.rhm_dataset_demo [--out results/rhm_dataset_demo/cnn_V16_m4_L3.json]

The RHM :math:`V=n_c=16`, :math:`m=4`, :math:`s=2`, :math:`L=3` (:math:`P=n_c\,m^{(s^L-1)/(s-1)}=262{,}144` inputs),
20,000 training and 5,000 test inputs (disjoint), a CNN with one convolution per level of the tree (filters of
size :math:`s`, stride :math:`s`, width 256, ReLU), SGD with momentum, cross-entropy; every draw is seeded. The
test error after each epoch is the record.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..rhm.data import RHMDataset
from .demo_record import write_demo_record

CONFIG = dict(num_features=16, num_classes=16, num_synonyms=4, tuple_size=2, num_layers=3, seed_rules=0,
              seed_sample=1, train_size=20_000, test_size=5_000, width=256, lr=0.1, momentum=0.9, batch_size=128,
              epochs=10, seed=0)


def cnn(num_features: int, num_classes: int, tuple_size: int, num_layers: int, width: int = 256) -> nn.Module:
    """One convolution per level of the tree: filters of size :math:`s`, stride :math:`s`; the input is
    ``[batch, V, s**L]`` (channels first, as :class:`~verify.rhm.data.RHMDataset` gives it)."""
    layers, channels = [], num_features
    for _ in range(num_layers):
        layers += [nn.Conv1d(channels, width, kernel_size=tuple_size, stride=tuple_size), nn.ReLU()]
        channels = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(width, num_classes))


def train(config: dict = CONFIG, progress: bool = True) -> dict:
    """Train :func:`cnn` on an :class:`~verify.rhm.data.RHMDataset` split as ``config`` says; return the test
    error after every epoch."""
    c = config
    rhm_args = {k: c[k] for k in ("num_features", "num_classes", "num_synonyms", "tuple_size", "num_layers",
                                  "seed_rules", "seed_sample", "train_size", "test_size")}
    train_set, test_set = RHMDataset.splits(**rhm_args)
    torch.manual_seed(c["seed"])  # nn layers draw their initial weights from the global generator
    model = cnn(c["num_features"], c["num_classes"], c["tuple_size"], c["num_layers"], c["width"])
    opt = torch.optim.SGD(model.parameters(), lr=c["lr"], momentum=c["momentum"])
    loader = DataLoader(train_set, batch_size=c["batch_size"], shuffle=True,
                        generator=torch.Generator().manual_seed(c["seed"]))
    x_test, y_test = test_set[:]  # the whole test split as one batch
    errors = []
    for _ in tqdm(range(c["epochs"]), desc="epochs", disable=not progress):
        for x, y in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        with torch.no_grad():
            errors.append(float((model(x_test).argmax(1) != y_test).float().mean()))
    return {"config": dict(c), "test_error": errors, "chance": 1 - 1 / c["num_classes"]}


def main(argv=None) -> int:
    return write_demo_record(train, "verify.experiments.rhm_dataset_demo", __doc__,
                             "results/rhm_dataset_demo/cnn_V16_m4_L3.json", CONFIG["seed"], argv)


if __name__ == "__main__":
    raise SystemExit(main())
