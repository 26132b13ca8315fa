"""Injected bugs for the claims of lemmas/appendix_b/ (see tests/catch_bugs/__init__.py)."""
from . import Bug, lemma_module  # noqa: F401

BUGS: list[Bug] = []
