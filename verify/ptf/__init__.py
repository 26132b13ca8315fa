"""Paper B's data: hierarchies of polynomial threshold functions on {±1}^d (Def. 3.1 as reconstructed)."""
from .polynomial import Polynomial, all_points, monomials_up_to, sign
from .hierarchy import READS, Hierarchy, PTFLabel, hierarchy_from_labels
from .brain_dump import BrainDump, best_ptf_margin, brain_dump_votes
from .generators import (KINDS, WIRINGS, alpha_majority, brain_dump_circuit, junta_label, majority_label,
                         make_label, parity_label, random_hierarchy, random_junta_label, random_ptf_label)
from .fourier import (evaluate_expansion, fourier_coefficients, fourier_degree, fourier_expansion,
                      label_fourier, majority_fourier, walsh_hadamard, weight_by_degree)

__all__ = ["Polynomial", "all_points", "monomials_up_to", "sign", "READS", "Hierarchy", "PTFLabel", "BrainDump",
           "best_ptf_margin", "brain_dump_votes",
           "hierarchy_from_labels", "KINDS", "WIRINGS", "alpha_majority", "brain_dump_circuit", "junta_label",
           "majority_label", "make_label", "parity_label", "random_hierarchy", "random_junta_label",
           "random_ptf_label", "evaluate_expansion", "fourier_coefficients", "fourier_degree",
           "fourier_expansion", "label_fourier", "majority_fourier", "walsh_hadamard", "weight_by_degree"]
