"""Evaluation: retrieval quality, answer comparison and performance benchmarks."""

__all__: list[str] = []
