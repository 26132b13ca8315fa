"""The proof-companion machinery: claims and verdicts, statistics, result records with provenance,
discovery of claim modules, and rendering. It never imports a learner; the mathematics
(``rhm``, ``ptf``, ``features``, ``learners``) never imports it."""
from .claims import Case, Claim, Measurement, Verdict

__all__ = ["Case", "Claim", "Measurement", "Verdict"]
