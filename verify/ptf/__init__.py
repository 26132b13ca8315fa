"""Paper B's data: hierarchies of polynomial threshold functions."""
