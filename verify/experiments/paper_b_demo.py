r"""Paper B's training code on a small hierarchy: the layerwise ResNet (Alg. 4.2 as reconstructed) block by
block, against an end-to-end MLP, written as a record for the book's training-code page (the book trains
nothing while it builds).

    python -m verify.experiments.paper_b_demo [--out results/paper_b_demo/majority_d9.json]

A 2-level hierarchy of random majorities on 9 bits (``random_hierarchy(9, [3, 1], 3, "majority", "tree")``),
600 training and 600 test points, 4 blocks of width 128 (logistic loss), and an MLP of 3 hidden layers of
128 units trained for 40 epochs; every draw is seeded.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import ptf
from ..learners.end_to_end_mlp import train_mlp_endtoend
from ..learners.layerwise_resnet import LayerwiseResNet, ResNetConfig, blocks_until_margin
from .demo_record import write_demo_record

CONFIG = dict(d=9, level_sizes=[3, 1], fan_in=3, kind="majority", wiring="tree", n_train=600, n_test=600,
              blocks=4, width=128, loss="logistic", reg=1e-4, mlp_hidden=128, mlp_depth=3, mlp_epochs=40, seed=0)


def run(config: dict = CONFIG) -> dict:
    """Train both learners as :data:`CONFIG` says; return their histories."""
    c = config
    rng = np.random.default_rng(c["seed"])
    h = ptf.random_hierarchy(c["d"], c["level_sizes"], c["fan_in"], c["kind"], c["wiring"], rng=rng)
    X, Xt = (rng.choice(np.array([-1, 1]), size=(n, c["d"])) for n in (c["n_train"], c["n_test"]))
    Y, Yt = h.labels(X).astype(float), h.labels(Xt).astype(float)
    net = LayerwiseResNet(c["d"], h.num_labels, ResNetConfig(width=c["width"], loss=c["loss"], reg=c["reg"]),
                          torch.Generator().manual_seed(c["seed"]))
    hist = net.fit(X, Y, c["blocks"], Xt, Yt)
    mlp = train_mlp_endtoend(X, Y, hidden=c["mlp_hidden"], depth=c["mlp_depth"], epochs=c["mlp_epochs"],
                             generator=torch.Generator().manual_seed(c["seed"]), x_test=Xt, y_test=Yt)
    return {"config": dict(c), "resnet": {k: np.asarray(v).tolist() for k, v in hist.items()
                                          if k in ("test_loss", "test_error", "train_margin", "train_loss")},
            "blocks_until_margin_0.5": np.asarray(blocks_until_margin(hist["train_margin"], 0.5)).tolist(),
            "mlp": {k: np.asarray(v).tolist() for k, v in mlp["history"].items()}}


def main(argv=None) -> int:
    return write_demo_record(run, "verify.experiments.paper_b_demo", __doc__, "results/paper_b_demo/majority_d9.json",
                             CONFIG["seed"], argv)


if __name__ == "__main__":
    raise SystemExit(main())
