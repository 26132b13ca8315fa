"""Injected bugs for the claims principle_correlation, principle_identifiability and rhm_definitions
(see tests/catch_bugs/__init__.py).

Each bug is patched where the library looks the function up at call time: ``Grammar`` and
``FirstPatchLaw`` methods on their classes, ``verify.rhm.parse`` where the claim reads it,
``verify.rhm.sampling`` and ``verify.learners.layerwise_ridge`` functions in their modules (nothing on
these paths is cached)."""
from __future__ import annotations

import numpy as np
import torch

from verify import rhm
from verify.learners import layerwise_ridge
from verify.rhm import exact, sampling
from verify.rhm.grammar import Grammar, encode_patches

from . import Bug


def _parents_tiled(self, level):
    """Parents of the patches with ``np.tile`` instead of ``np.repeat``: patch i gets parent i mod |V_{l-1}|."""
    return np.tile(np.arange(self.vocabulary_size(level - 1)), self.num_synonyms)


def _patch_q_modulo(self, patch):
    """q of patch ``patch`` read from row ``patch % m`` instead of its parent ``patch // m``."""
    nu = patch % self.num_synonyms
    return self.q[nu] if self.reachable[nu] else None


def _parse_rule_not_parent(grammar, x):
    """``parse`` passing up the rule index (``idx % m``) instead of the parent symbol (``idx // m``)."""
    v, s, L = grammar.num_features, grammar.tuple_size, grammar.num_layers
    weights = torch.as_tensor(v ** np.arange(s - 1, -1, -1), device=x.device, dtype=torch.long)
    symbols, patch_index = [None] * (L + 1), [None] * (L + 1)
    symbols[L] = seq = x
    for l in range(L, 0, -1):
        codes = torch.as_tensor(encode_patches(grammar.patches(l), v), device=x.device)
        order = torch.argsort(codes)
        sorted_codes = codes[order]
        query = seq.reshape(seq.shape[0], -1, s) @ weights
        pos = torch.searchsorted(sorted_codes, query).clamp_max(len(codes) - 1)
        idx = order[pos]
        patch_index[l] = idx
        seq = idx % grammar.num_synonyms
        symbols[l - 1] = seq
    return sampling.Parse(symbols=symbols, patch_index=patch_index)


def _sample_derivations_off_by_one(grammar, n, generator, device=None):
    """Rule choices drawn from ``randint(m - 1)``: the last rule of every symbol is never used."""
    device = sampling._device(device, generator)
    y = torch.randint(grammar.num_classes, (n,), generator=generator, device=generator.device)
    choices = [torch.randint(max(grammar.num_synonyms - 1, 1), (n, grammar.tuple_size**l), generator=generator,
                             device=generator.device).to(device) for l in range(grammar.num_layers)]
    return y.to(device), choices


_stage_samples = layerwise_ridge.stage_samples


def _stage_labels_from_another_draw(grammar, level, num_samples, seed, device="cpu"):
    """A stage's inputs and labels taken from two different draws (the labels no longer belong to the inputs)."""
    x, _ = _stage_samples(grammar, level, num_samples, seed, device)
    _, y = _stage_samples(grammar, level, num_samples, seed + 1, device)
    return x, y


def _embed_strided(self, x, level):
    """Eq. (1)'s patches formed by stride (``reshape(n, s, k)``) instead of in blocks of s, where the learner
    groups tokens into patches (``LayerwiseRidge._embed``: level by level over the distinct patches)."""
    x = x.to(self.device, torch.long)
    if level == self.num_layers:
        return torch.nn.functional.one_hot(x, self.num_features).to(self.dtype)
    n, s = x.shape[0], self.tuple_size
    ids = x
    table = torch.eye(self.num_features, dtype=self.dtype, device=self.device)
    for l in range(self.num_layers, level, -1):
        strided = ids.reshape(n, s, -1).transpose(1, 2).reshape(-1, s)  # the bug: tokens j, j+k, ... as a patch
        patches, inverse = layerwise_ridge._distinct_rows(strided, table.shape[0])
        table = self.level_output(self.patch_features(table[patches], l), l)[:, 0]
        ids = inverse.reshape(n, -1)
    return table[ids]


BUGS: list[Bug] = [
    Bug("principle_correlation", "appendix_b_V4_m2_L3", "Grammar.parents tiles instead of repeating",
        lambda mp: mp.setattr(Grammar, "parents", _parents_tiled)),
    Bug("principle_correlation", "authors_V8_m4_L3", "patch_q reads row patch % m instead of patch // m",
        lambda mp: mp.setattr(exact.FirstPatchLaw, "patch_q", _patch_q_modulo)),
    Bug("principle_identifiability", "synonyms_appendix_b_V4_m2_L3", "patch_q reads row patch % m instead of patch // m",
        lambda mp: mp.setattr(exact.FirstPatchLaw, "patch_q", _patch_q_modulo)),
    Bug("principle_identifiability", "learned_V4_m2_L2", "stage labels from another draw than the inputs",
        lambda mp: mp.setattr(layerwise_ridge, "stage_samples", _stage_labels_from_another_draw)),
    Bug("principle_identifiability", "learned_V4_m2_L3", "eq. (1) groups tokens by stride, not in blocks",
        lambda mp: mp.setattr(layerwise_ridge.LayerwiseRidge, "_embed", _embed_strided)),
    Bug("rhm_definitions", "appendix_b_V4_m2_L3", "parse passes up the rule index instead of the parent",
        lambda mp: mp.setattr(rhm, "parse", _parse_rule_not_parent)),
    Bug("rhm_definitions", "sampled_appendix_b_V4_m2_L3", "rule choices from randint(m - 1)",
        lambda mp: mp.setattr(sampling, "sample_derivations", _sample_derivations_off_by_one)),
]
