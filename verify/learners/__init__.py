"""Full training code: layerwise learners of both papers and their baselines."""
