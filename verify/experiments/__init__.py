"""What runs learners over grids: the Theorem 7 sample-complexity search and ``verify train``."""
