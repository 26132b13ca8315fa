"""Random features: RBF random Fourier features (Paper A, eq. 6), beta-Xavier random neurons (Paper B)."""
