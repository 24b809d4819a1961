"""Administering the policies in force: local standards set by cities and counties, programmes activated."""
