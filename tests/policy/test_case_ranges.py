"""Numbers and dates in a case stay in declared ranges: a typo or an attack is a clear CaseError, never an overflow."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from bangfu.cli import app
from bangfu.policy.case import CaseError, parse_case
from bangfu.policy.facts import ENTITIES, FactType
from bangfu.web.routes.api import EXAMPLE_CASE


def with_value(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    case = copy.deepcopy(EXAMPLE_CASE)
    target: Any = case
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return case


def test_every_integer_fact_declares_its_range() -> None:
    for entity in ENTITIES.values():
        fields = [*entity.fields.values(), *(f for c in entity.collections.values() for f in c.fields.values())]
        for field in fields:
            assert (field.type is FactType.INT) == (field.bounds is not None), (entity.name, field.name)


# (where in the case, value, what the refusal says)
OUT_OF_RANGE = [
    (("person", "training", 0, "days"), 10**20, "person.training[0].days", "应在 0 至 366 之间"),
    (("person", "training", 0, "days"), 367, "person.training[0].days", "应在 0 至 366 之间"),
    (("person", "training", 0, "days"), 1e20, "person.training[0].days", "不带小数点或指数"),
    (("person", "training", 0, "days"), 10.5, "person.training[0].days", "应为非负整数"),
    (("person", "training", 0, "days"), float("nan"), "person.training[0].days", "应为非负整数"),
    (("person", "training", 0, "days"), float("inf"), "person.training[0].days", "应为非负整数"),
    (("person", "training", 0, "days"), True, "person.training[0].days", "应为非负整数"),
    (("person", "employment", 0, "travel_cost_fen"), 10**11 + 1, "travel_cost_fen", "应在 0 至 100,000,000,000"),
    (("person", "employment", 0, "travel_cost_fen"), -1, "travel_cost_fen", "不能为负数"),
    (("person", "training", 0, "start"), "9999-12-31", "person.training[0].start", "超出范围"),
    (("date",), "0001-01-01", "date", "应在 1900-01-01 至 2100-12-31 之间"),
]


@pytest.mark.parametrize(("path", "value", "where", "message"), OUT_OF_RANGE)
def test_out_of_range_values_are_refused_with_their_path(
    path: tuple[Any, ...], value: Any, where: str, message: str
) -> None:
    with pytest.raises(CaseError) as refused:
        parse_case(with_value(path, value))
    assert refused.value.path.endswith(where) and message in refused.value.message


def test_an_organization_count_past_a_million_is_refused() -> None:
    case = {
        "date": "2024-06-30",
        "organization": {"kind": "enterprise", "region": "141123", "absorbed": {"poverty_alleviated": 1_000_001}},
    }
    with pytest.raises(CaseError, match=r"organization\.absorbed\.poverty_alleviated: 1000001 超出范围"):
        parse_case(case)


def test_the_bounds_themselves_are_accepted() -> None:
    parse_case(with_value(("person", "training", 0, "days"), 366))
    parse_case(with_value(("person", "employment", 0, "travel_cost_fen"), 10**11))


def test_the_cli_exits_2_instead_of_printing_a_huge_amount() -> None:
    case = json.dumps(with_value(("person", "training", 0, "days"), 10**20))
    result = CliRunner().invoke(app, ["policy", "evaluate", "-"], input=case)
    assert result.exit_code == 2, result.output
    assert "person.training[0].days" in result.output and "应在 0 至 366 之间" in result.output
    assert "e+" not in result.output
