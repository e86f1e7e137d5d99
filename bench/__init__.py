"""Benchmarks: our checks side by side with pandera, Great Expectations, numpy and Evidently on the same data."""
