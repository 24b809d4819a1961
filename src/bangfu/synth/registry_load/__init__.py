"""A synthetic population (the Parquet of ``bangfu synth``) loaded into the registry's tables."""
