"""Paper A's data: the Random Hierarchy Model (Definitions 3-4, Remark 5)."""
from . import exact
from .enumerate import enumerate_derivations, num_derivations
from .grammar import (SAMPLERS, Grammar, check_parameters, decode_patches, encode_patches, grammar_from_params,
                      sample_grammar)
from .sampling import (Parse, expand, one_hot, parse, sample, sample_batches, sample_derivations, sample_fast,
                       sample_spine, uniform_choices)

__all__ = ["SAMPLERS", "Grammar", "Parse", "check_parameters", "decode_patches", "encode_patches",
           "enumerate_derivations", "exact", "expand", "grammar_from_params", "num_derivations", "one_hot", "parse", "sample",
           "sample_batches", "sample_derivations", "sample_fast", "sample_grammar", "sample_spine", "uniform_choices"]
