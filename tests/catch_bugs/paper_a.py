"""Injected bugs for the claims of lemmas/paper_a/ (see tests/catch_bugs/__init__.py)."""
from . import Bug, lemma_module  # noqa: F401

BUGS: list[Bug] = []
