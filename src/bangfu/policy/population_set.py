"""The population query over a policy set: every document that answers an entity, then the cross-document
exclusions, as ``evaluation.evaluate_all`` answers one case.

All documents are compiled into one pass over the population (``population.SharedPass``): an aggregation
or per-entity value that several documents share (most of a continuation's) is computed once. Each
document decides its benefits as of its own decision day; a city's or county's columns are NULL for
entities outside its region. Then each cross-document exclusion (``Policy.cross_exclusions``) is applied
in the order ``evaluate_all`` applies them, member after member, one projection per member (each reads
the statuses the previous ones left): a granted member is excluded when an earlier member of its group
is still granted in the same scope, or the ledger holds a receipt of another member in that scope.
A document's decision day is the same for every row, so "the same scope" is settled here, not in SQL.

Result columns are ``benefit__status`` etc. when the set holds one document (the shape of a
one-document run), ``document/benefit__status`` when it holds several.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bangfu.policy.facts import ENTITIES, Entity
from bangfu.policy.model import CrossExclusion, Policy
from bangfu.policy.plan import received_any
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.population import DocumentColumns, SharedPass, column, document_columns
from bangfu.policy.sql import quote

Member = tuple[str, str]  # (document id, benefit id)


@dataclass(frozen=True)
class SetQuery:
    entity: Entity
    sql: str
    benefit_ids: tuple[str, ...]  # result keys: benefit ids (one document) or "document/benefit"
    benefits: dict[str, Member]  # result key -> (document id, benefit id)
    funds: dict[str, str]  # result key -> fund
    params: dict[str, list[dict[str, object]]]  # helper table -> its rows (region-dependent parameters)
    conflict_columns: dict[str, Member]  # column -> (document id, exclusion group id)
    documents: tuple[str, ...]  # the documents with benefits for this entity, in the set's order

    def keys_of(self, document_id: str) -> tuple[str, ...]:
        return tuple(k for k in self.benefit_ids if self.benefits[k][0] == document_id)


def result_key(policies: PolicySet, document_id: str, benefit_id: str) -> str:
    return benefit_id if len(policies.documents) == 1 else f"{document_id}/{benefit_id}"


def covered_count_column(document_id: str) -> str:
    """The summary column counting the entities a document answered (several documents only)."""
    return f"{document_id}/__entities"


def build_set_query(policies: PolicySet, entity_name: str, day: dt.date, regions: list[str]) -> SetQuery:
    """The query for every benefit of every document of ``policies`` for ``entity_name`` on ``day``."""
    entity = ENTITIES[entity_name]
    documents = [d for d in policies.documents if d.benefits_for(entity_name)]
    groups = [g for g in policies.cross_exclusions() if _entity_of(policies, g) == entity_name]
    receipts = _receipt_columns(groups)
    several = len(policies.documents) > 1
    # rows: every entity when a province's document is in the set (it answers all), else those of the
    # regions the documents cover
    prefixes = None if any(d.level == "province" for d in documents) else tuple(d.region for d in documents)
    shared = SharedPass.start(entity_name, regions)
    parts: list[tuple[Policy, DocumentColumns]] = []
    for index, document in enumerate(documents):
        regional = document.level != "province" and prefixes != (document.region,)
        extra = {
            label: received_any(others, groups[group_index].scope)
            for (group_index, member), (label, others) in receipts.items()
            if member[0] == document.id
        }
        columns = document_columns(
            shared,
            document,
            entity_name,
            day,
            result_prefix=f"{document.id}/" if several else "",
            value_prefix=f"d{index}_" if several else "",
            mask=document.region if regional else None,
            extra=extra,
        )
        parts.append((document, columns))
    benefits = {result_key(policies, d.id, b): (d.id, b) for d, c in parts for b in c.benefit_ids}
    funds = {key: policies.document(d).benefits[b].fund for key, (d, b) in benefits.items()}
    conflicts = {label: (d.id, group_id) for d, c in parts for label, group_id in c.conflict_columns.items()}
    ctes, final = shared.parts([item for _, c in parts for item in c.select_list()], prefixes)
    if groups:
        final = _excluded_across(policies, entity, day, parts, groups, receipts, ctes, final)
    sql = ("WITH " + ",\n".join(ctes) + "\n" if ctes else "") + final
    params = {"__params": shared.params_rows()} if shared.param_columns else {}
    return SetQuery(entity, sql, tuple(benefits), benefits, funds, params, conflicts, tuple(d.id for d, _ in parts))


def _entity_of(policies: PolicySet, group: CrossExclusion) -> str:
    document_id, benefit_id = group.members[0]
    return policies.document(document_id).benefits[benefit_id].entity.name


def _receipt_columns(groups: list[CrossExclusion]) -> dict[tuple[int, Member], tuple[str, tuple[str, ...]]]:
    """Per (group, member): the column telling whether the ledger holds another member in the scope.

    The ledger names a benefit, not a document (``evaluation._exclude_across`` reads it so too).
    """
    out: dict[tuple[int, Member], tuple[str, tuple[str, ...]]] = {}
    for group_index, group in enumerate(groups):
        for member_index, member in enumerate(group.members):
            others = tuple(dict.fromkeys(b for _, b in group.members if b != member[1]))
            if others:  # members that share the benefit id have no receipt of "another" member to find
                out[(group_index, member)] = (f"__cross{group_index}_{member_index}", others)
    return out


def _excluded_across(
    policies: PolicySet,
    entity: Entity,
    day: dt.date,
    parts: list[tuple[Policy, DocumentColumns]],
    groups: list[CrossExclusion],
    receipts: dict[tuple[int, Member], tuple[str, tuple[str, ...]]],
    ctes: list[str],
    decided: str,
) -> str:
    """Apply the cross-document exclusions over ``decided`` (every document's columns), one layer per
    member that can lose its grant; returns the final SELECT (the layers are added to ``ctes``)."""
    ctes.append(f"j AS (\n{decided}\n)")
    current: dict[Member, str] = {}  # member -> the column now holding its status
    decided_on = {d.id: d.decision_day(day) or day for d, _ in parts}
    for document, columns in parts:
        for bid in columns.benefit_ids:
            current[(document.id, bid)] = quote(column(result_key(policies, document.id, bid), "status"))
    original = dict(current)
    source = "j"
    for group_index, group in enumerate(groups):
        present = [m for m in group.members if m in current]
        for position, member in enumerate(present):
            beaten = [
                f"{current[other]} = 'granted'"
                for other in present[:position]
                if group.scope == "ever" or decided_on[other[0]].year == decided_on[member[0]].year
            ]
            if (group_index, member) in receipts:
                beaten.append(f"COALESCE({quote(receipts[(group_index, member)][0])}, FALSE)")
            if not beaten:  # the first member, and no receipt can block it
                continue
            status, layer = current[member], f"x{len(ctes)}"
            new = quote(f"__status{len(ctes)}")
            ctes.append(
                f"{layer} AS (SELECT {source}.*, CASE WHEN {status} = 'granted' AND ({' OR '.join(beaten)})"
                f" THEN 'excluded' ELSE {status} END AS {new} FROM {source})"
            )
            current[member] = new
            source = layer
    outputs = [quote(entity.key), "region"]
    for (document_id, bid), status in current.items():
        name = result_key(policies, document_id, bid)
        amount = quote(column(name, "amount_fen"))
        outputs.append(f"{status} AS {quote(column(name, 'status'))}")
        outputs.append(quote(column(name, "eligible")))
        if status != original[(document_id, bid)]:
            amount = f"CASE WHEN {status} = 'excluded' THEN CAST(0 AS BIGINT) ELSE {amount} END AS {amount}"
        outputs.append(amount)
        if policies.document(document_id).benefits[bid].priority:
            outputs.append(quote(column(name, "priority")))
    outputs += [quote(label) for _, c in parts for label in c.conflict_columns]
    return f"SELECT {', '.join(outputs)} FROM {source}"


def summary_sql(query: SetQuery, source: str) -> str:
    """Counts and amounts per region and result key, and per document the entities it answered."""
    parts = []
    for key in query.benefit_ids:
        status = quote(column(key, "status"))
        parts.append(f"COUNT(CASE WHEN {status} = 'granted' THEN 1 END) AS {quote(key + '__granted')}")
        parts.append(f"COUNT(CASE WHEN {status} = 'needs_information' THEN 1 END) AS {quote(key + '__needs')}")
        parts.append(f"COUNT(CASE WHEN {status} = 'excluded' THEN 1 END) AS {quote(key + '__excluded')}")
        parts.append(f"CAST(SUM({quote(column(key, 'amount_fen'))}) AS BIGINT) AS {quote(key + '__amount')}")
    for document_id in query.documents:
        keys = query.keys_of(document_id)
        # NULL status: an entity outside the document's region
        parts.append(f"COUNT({quote(column(keys[0], 'status'))}) AS {quote(covered_count_column(document_id))}")
    for name in query.conflict_columns:
        parts.append(f"COUNT(CASE WHEN {quote(name)} THEN 1 END) AS {quote(name)}")
    return f"SELECT region, COUNT(*) AS entities, {', '.join(parts)} FROM {source} GROUP BY region ORDER BY region"
