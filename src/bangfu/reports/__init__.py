"""Reports over the registry: the precomputed dashboard figures and their scoped reads."""
