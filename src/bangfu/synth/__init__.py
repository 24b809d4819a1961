"""Synthetic, deterministic populations for demos, tests and benchmarks."""
