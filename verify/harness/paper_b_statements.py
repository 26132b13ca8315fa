"""Paper B's numbered statements (its table of contents) and their dependencies: see
:mod:`verify.harness.statements`. (Placeholder: filled from ``papers/ptf.md``.)"""
from .statements import Statement

STATEMENTS: tuple = ()
