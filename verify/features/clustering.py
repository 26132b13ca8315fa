r"""Construction 2's clustering map (Paper A, §3, p. 9): each token is replaced by the one-hot code of its
nearest cluster centre, and a patch by the tensor product of its tokens' codes,

.. math:: \Phi(h_1\circ\cdots\circ h_s)=e_{c(h_1)}\otimes\cdots\otimes e_{c(h_s)},\qquad
          c(h)=\arg\min_k\|h-z_k\|,

so that patch embeddings are **orthonormal** (:math:`\varepsilon_O=\varepsilon_S=0` in Assumption 13) as long as
every token lies nearer its own centre than any other. With the exact :math:`q^{(l+1)}` vectors as centres it is
the oracle embedding that stands in for the RBF random features where Lemma 10's width
(:math:`M\gtrsim sd_e/\varepsilon_S^4\cdots`, :math:`\varepsilon_S=1/(4|P_l|)`) is out of reach: the clustering
is then right exactly when the level below is accurate to less than half the distance between centres, which is
the condition Lemma 11's chain guarantees (:math:`\varepsilon^{(l+1)}_*\le\rho^{(l+1)}/2`).
"""
from __future__ import annotations

import torch

from ..validate import check_memory, tensor as _tensor

__all__ = ["NearestCentreFeatures"]


class NearestCentreFeatures:
    """Tokens ``(..., s, d_e)`` → one-hot nearest-centre codes, tensored over the patch → ``(..., k^s)``."""

    def __init__(self, centres: torch.Tensor):
        if not isinstance(centres, torch.Tensor) or centres.ndim != 2 or centres.shape[0] < 2 or centres.shape[1] < 1:
            raise ValueError("centres must be a 2-d tensor (k, d_e) with k >= 2 cluster centres and d_e >= 1; got "
                             f"{getattr(centres, 'shape', type(centres).__name__)}")
        _tensor("centres", centres, floating=True)
        self.centres = centres

    @property
    def num_centres(self) -> int:
        return self.centres.shape[0]

    def codes(self, tokens: torch.Tensor) -> torch.Tensor:
        """Index of the nearest centre of every token ``(..., d_e)`` (a NaN token has no nearest centre: -1)."""
        _tensor("tokens", tokens, min_ndim=1, floating=True, check_finite=False)
        if tokens.shape[-1] != self.centres.shape[1]:
            raise ValueError(f"tokens have dimension {tokens.shape[-1]}, the centres {self.centres.shape[1]}")
        check_memory(f"NearestCentreFeatures.codes(tokens of shape {tuple(tokens.shape)}, k={self.num_centres})",
                     2 * (tokens.numel() // tokens.shape[-1]) * self.num_centres * tokens.shape[-1] * tokens.element_size())
        c = self.centres.to(tokens.device, tokens.dtype)
        d2 = (tokens.unsqueeze(-2) - c).pow(2).sum(-1)  # (..., k)
        idx = d2.argmin(-1)
        return torch.where(torch.isfinite(tokens).all(-1), idx, torch.full_like(idx, -1))

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        """Patch embeddings of tokens ``(..., s, d_e)``: ``(..., k^s)``; a patch with a NaN token embeds as 0."""
        _tensor("tokens", tokens, min_ndim=2, floating=True, check_finite=False)
        patches = tokens.numel() // max(tokens.shape[-1] * tokens.shape[-2], 1)
        if tokens.shape[-2] < 1:
            raise ValueError(f"tokens must have shape (..., s, d_e) with s >= 1; got {tuple(tokens.shape)}")
        check_memory(f"NearestCentreFeatures(tokens of shape {tuple(tokens.shape)}): k**s = "
                     f"{self.num_centres}**{tokens.shape[-2]} features per patch",
                     2 * patches * self.num_centres ** tokens.shape[-2] * tokens.element_size())
        idx = self.codes(tokens)
        onehot = torch.nn.functional.one_hot(idx.clamp_min(0), self.num_centres).to(tokens.dtype)
        onehot = onehot * (idx >= 0).unsqueeze(-1).to(tokens.dtype)
        out = onehot[..., 0, :]
        for i in range(1, onehot.shape[-2]):
            out = (out.unsqueeze(-1) * onehot[..., i, :].unsqueeze(-2)).flatten(-2)
        return out
