"""The answer side (A2, A3, A6): the pool and its releases, protected results, comments, exports."""
