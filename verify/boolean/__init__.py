"""Paper A, Appendix C (pp. 41-42): deep quadratic Boolean functions (Definition 31, Remark 32), the
quadratic network of eq. (14) that represents them, and layerwise least squares that learns them."""
from .deep_quadratic import (DeepQuadratic, Rationals, all_inputs, canonical_key, evaluate, figure3_example, from_params,
                             is_deep_quadratic, level_counts, monomial, sample_deep_quadratic, sets_by_degree,
                             split, splits, text_example, validate_definition_31)
from .layerwise import (SUPPORT_SELECTION, LayerwiseFit, LevelFit, PopulationSolution, SampleComplexity,
                        half_min_coefficient, learn_layerwise, population_least_squares, principle_conditions,
                        recovers_support, recovery_failures, residual, sample_complexity, sample_inputs,
                        select_support)
from .network import Level, LevelOutput, QuadraticNetwork, num_pairs, pair_features, pair_index, represent

__all__ = ["DeepQuadratic", "Rationals", "all_inputs", "canonical_key", "evaluate", "figure3_example", "from_params", "is_deep_quadratic",
           "level_counts", "monomial", "sample_deep_quadratic", "sets_by_degree", "split", "splits",
           "text_example", "validate_definition_31",
           "SUPPORT_SELECTION", "LayerwiseFit", "LevelFit", "PopulationSolution", "SampleComplexity",
           "half_min_coefficient", "learn_layerwise", "population_least_squares", "principle_conditions",
           "recovers_support", "recovery_failures", "residual", "sample_complexity", "sample_inputs",
           "select_support",
           "Level", "LevelOutput", "QuadraticNetwork", "num_pairs", "pair_features", "pair_index", "represent"]
