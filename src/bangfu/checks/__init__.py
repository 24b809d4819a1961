"""Suspect-data checks (疑点核查): rules as data over national downloads, compiled to SQL."""
