"""Rules as code: dated parameters with citations, rule definitions, one engine for one case or millions."""
