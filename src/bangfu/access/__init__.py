"""Who may see what: the region subtree of an account, applied inside every query that reads the registry."""
