"""Persons whose name holds a fragment (华, 李华) or begins with pinyin initials (lh), through the name index.

The index (``person_name_terms``, ADR 0025) is keyed by term, then hukou county: the persons of a county
whose name holds 华 are one range of its key, at any registry size. A fragment of several characters
asks for persons holding all of them (one short range each, intersected), then checks that the name
holds the fragment as written, in that order.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select

from bangfu.access.scope import Scope
from bangfu.core import name_keys
from bangfu.registry.imports.upsert.base import table_of
from bangfu.store.tables import Person, PersonNameTerm

PERSONS = table_of(Person)
TERMS = table_of(PersonNameTerm)


def name_condition(scope: Scope, query: str) -> ColumnElement[bool]:
    """Rows of ``persons`` whose name matches ``query``; NameQueryError when it cannot be searched."""
    terms, as_written = name_keys.query_terms(query)
    in_scope = scope.counties(TERMS.c.hukou_region)
    if len(terms) == 1:
        holders = select(TERMS.c.person_id).where(TERMS.c.term == next(iter(terms)), in_scope)
    else:
        holders = (
            select(TERMS.c.person_id)
            .where(TERMS.c.term.in_(sorted(terms)), in_scope)
            .group_by(TERMS.c.person_id)
            .having(func.count() == len(terms))
        )
    condition = PERSONS.c.id.in_(holders)
    if as_written:
        return and_(condition, PERSONS.c.name.contains(query.strip(), autoescape=True))
    return condition
