"""hierarchy-proofs: the lemmas of two 2026 hierarchical-learning papers, computed and measured."""
__version__ = "0.1.0"
