"""The strict policy loader: the bundled policy's shape, and one error per kind of editing mistake.

Each broken policy is the bundled folder copied to tmp_path with one YAML edit, so the tests
exercise the same files policy officers edit. Every error must name the file and the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from bangfu.policy.loader import PolicyError, load_policy
from bangfu.policy.model import Policy

PARAMS_04 = "parameters/04-labour-export.yaml"
BENEFITS_04 = "benefits/04-labour-export.yaml"
BENEFITS_10 = "benefits/10-entrepreneurship.yaml"

CAP_VALUE = "    - {from: 2021-07-01, value: 80000}"
EXCLUSION_MEMBERS = "members: [transport_cross_province, transport_in_province_organized]"
EXCLUSION_PRECEDENCE = "precedence: [transport_cross_province, transport_in_province_organized]"

BUNDLED_BENEFITS = {
    "transport_cross_province",
    "transport_in_province_organized",
    "job_referral_subsidy",
    "employment_base_reward",
    "one_time_hiring_subsidy",
    "work_for_training_subsidy",
    "incubator_reward",
    "heritage_workshop_subsidy",
    "training_living_allowance",
    "welfare_post_eligibility",
    "employment_difficulty",
    "hiring_subsidy",
    "labour_export_service",
}

PolicyCopy = Callable[..., Path]


def load_error(folder: Path) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy(folder)
    return str(info.value)


# ---------------------------------------------------------------- the bundled policy


def test_bundled_policy_has_exactly_the_thirteen_benefits(policy: Policy) -> None:
    assert set(policy.benefits) == BUNDLED_BENEFITS
    assert sorted(policy.evaluation_order) == sorted(BUNDLED_BENEFITS)


def test_bundled_policy_validity_period(policy: Policy) -> None:
    assert policy.id == "shanxi-2021"
    assert policy.valid_from == dt.date(2021, 7, 1)
    assert policy.valid_to == dt.date(2025, 12, 31)
    assert policy.in_force(dt.date(2021, 7, 1))
    assert policy.in_force(dt.date(2025, 12, 31))
    assert not policy.in_force(dt.date(2021, 6, 30))
    assert not policy.in_force(dt.date(2026, 1, 1))


def test_every_parameter_is_cited(policy: Policy) -> None:
    assert policy.parameters
    for key, parameter in policy.parameters.items():
        assert parameter.citation.clause.strip(), key
        assert parameter.citation.quote.strip(), key
        for value in parameter.values:
            assert value.citation.clause.strip(), key
            assert value.citation.quote.strip(), key


def test_local_standards_carry_no_value(policy: Policy) -> None:
    local = {k: p for k, p in policy.parameters.items() if p.is_local_standard}
    assert "job_referral_subsidy.per_person_fen" in local
    assert "employment_difficulty.min_unemployed_days" in local
    for key, parameter in local.items():
        assert parameter.set_by in ("city", "county"), key
        assert parameter.values == (), f"{key} is set by {parameter.set_by} but has a provincial value"
        assert parameter.resolve(dt.date(2024, 6, 30), "141123").value is None


def test_benefits_cite_clauses_and_funds(policy: Policy) -> None:
    for bid, benefit in policy.benefits.items():
        assert benefit.clause.startswith("（"), bid
        assert benefit.conditions, bid
    assert policy.benefits["transport_cross_province"].fund == "revitalization"
    assert policy.benefits["transport_cross_province"].entity.name == "person"
    assert policy.benefits["incubator_reward"].applies_to_kinds == ("incubator",)


def test_precedence_orders_evaluation(policy: Policy) -> None:
    order = policy.evaluation_order
    assert order.index("transport_cross_province") < order.index("transport_in_province_organized")
    assert order.index("employment_base_reward") < order.index("one_time_hiring_subsidy")


def test_unmodified_copy_loads_like_the_bundled_policy(policy_copy: PolicyCopy, policy: Policy) -> None:
    loaded = load_policy(policy_copy())
    assert set(loaded.benefits) == set(policy.benefits)
    assert set(loaded.parameters) == set(policy.parameters)
    assert loaded.evaluation_order == policy.evaluation_order


def test_missing_policy_yaml(tmp_path: Path) -> None:
    message = load_error(tmp_path)
    assert "policy.yaml" in message
    assert str(tmp_path) in message


# ---------------------------------------------------------------- parameters


def test_unknown_key_in_parameter(policy_copy: PolicyCopy) -> None:
    label = "  label: 跨省务工一次性交通补贴最高标准\n"
    folder = policy_copy({PARAMS_04: [(label, label + "  labl: 笔误\n")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.cap_fen" in message
    assert "labl" in message
    assert "未知的键" in message


def test_overlapping_date_ranges(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({PARAMS_04: [(CAP_VALUE, CAP_VALUE + "\n    - {from: 2023-01-01, value: 90000}")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.cap_fen.values" in message
    assert "重叠" in message
    assert "2023-01-01" in message


def test_adjacent_date_ranges_are_fine(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {
            PARAMS_04: [
                (
                    CAP_VALUE,
                    "    - {from: 2021-07-01, to: 2022-12-31, value: 80000}\n    - {from: 2023-01-01, value: 90000}",
                )
            ]
        }
    )
    loaded = load_policy(folder)
    cap = loaded.parameters["transport_cross_province.cap_fen"]
    assert cap.resolve(dt.date(2022, 12, 31), None).value == 80000
    assert cap.resolve(dt.date(2023, 1, 1), None).value == 90000


def test_parameter_without_reference(policy_copy: PolicyCopy) -> None:
    reference = (
        "  reference:\n    clause: （四）\n    quote: 对当年跨省务工的脱贫人口，可给予最高不超过 800 元一次性交通补贴\n"
    )
    folder = policy_copy({PARAMS_04: [(reference, "")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.cap_fen" in message
    assert "reference" in message


def test_parameter_with_empty_quote(policy_copy: PolicyCopy) -> None:
    quote = "    quote: 对当年跨省务工的脱贫人口，可给予最高不超过 800 元一次性交通补贴\n"
    folder = policy_copy({PARAMS_04: [(quote, '    quote: ""\n')]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.cap_fen.reference" in message
    assert "quote" in message


def test_dated_value_with_empty_quote(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {PARAMS_04: [(CAP_VALUE, '    - {from: 2021-07-01, value: 80000, reference: {clause: （四）, quote: "  "}}')]}
    )
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.cap_fen.values[0].reference" in message
    assert "quote" in message


def test_fen_value_given_as_float(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({PARAMS_04: [(CAP_VALUE, "    - {from: 2021-07-01, value: 800.5}")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.cap_fen.values[0].value" in message
    assert "800.5" in message
    assert "fen" in message


def test_negative_value(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({PARAMS_04: [(CAP_VALUE, "    - {from: 2021-07-01, value: -1}")]})
    message = load_error(folder)
    assert "transport_cross_province.cap_fen.values[0].value" in message
    assert "负" in message


def test_bad_quoted_date_in_parameter(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({PARAMS_04: [(CAP_VALUE, "    - {from: '2021-13-01', value: 80000}")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.cap_fen.values[0].from" in message
    assert "2021-13-01" in message


def test_bad_unquoted_date_in_parameter(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({PARAMS_04: [(CAP_VALUE, "    - {from: 2021-13-01, value: 80000}")]})
    try:
        load_policy(folder)
    except PolicyError as exc:
        assert "04-labour-export.yaml" in str(exc)
        assert "2021-13-01" in str(exc)
    else:
        pytest.fail("a policy with the date 2021-13-01 loaded")


def test_region_override_outside_shanxi(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {PARAMS_04: [(CAP_VALUE, CAP_VALUE + "\n  regions:\n    '4403':\n      - {from: 2021-07-01, value: 1}")]}
    )
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.cap_fen.regions" in message
    assert "4403" in message


def test_duplicate_parameter_across_files(policy_copy: PolicyCopy) -> None:
    folder = policy_copy()
    (folder / "parameters" / "99-extra.yaml").write_text(
        "transport_cross_province.cap_fen:\n  label: x\n  unit: fen\n"
        "  reference: {clause: （四）, quote: 原文}\n  values: []\n",
        encoding="utf-8",
    )
    message = load_error(folder)
    assert "99-extra.yaml" in message
    assert "transport_cross_province.cap_fen" in message


# ---------------------------------------------------------------- expressions


def test_unknown_fact_in_condition(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_04: [("'poverty_alleviated' in categories", "'poverty_alleviated' in categoriez")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.conditions[0].when" in message
    assert "categoriez" in message
    assert "未知的事实" in message


def test_unknown_function_in_condition(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_04: [("any(province(e.work_region) != '14'", "any(provinz(e.work_region) != '14'")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.conditions[2].when" in message
    assert "provinz" in message
    assert "未知函数" in message


def test_syntax_error_in_condition(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_04: [('when: "placed_by_export >= 1"', 'when: "placed_by_export >= "')]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "job_referral_subsidy.conditions[0].when" in message
    assert "语法错误" in message


def test_comparing_date_with_int(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {
            BENEFITS_10: [
                (
                    "\"add_years(operating_since, param('incubator_reward.min_operating_years')) <= date\"",
                    '"operating_since <= 5"',
                )
            ]
        }
    )
    message = load_error(folder)
    assert "10-entrepreneurship.yaml" in message
    assert "incubator_reward.conditions[1].when" in message
    assert "date" in message and "int" in message
    assert "类型不同" in message


def test_condition_that_is_not_boolean(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_04: [('when: "placed_by_export >= 1"', 'when: "placed_by_export + 1"')]})
    message = load_error(folder)
    assert "job_referral_subsidy.conditions[0].when" in message
    assert "bool" in message


def test_unknown_parameter_in_amount(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {BENEFITS_04: [("param('job_referral_subsidy.per_person_fen')", "param('job_referral.per_person_fen')")]}
    )
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "job_referral_subsidy.amount" in message
    assert "job_referral.per_person_fen" in message


# ---------------------------------------------------------------- benefits and exclusions


def test_unknown_fund(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_04: [("fund: revitalization", "fund: rural_fund")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province.fund" in message
    assert "rural_fund" in message


def _unknown_member_folder(policy_copy: PolicyCopy) -> Path:
    return policy_copy(
        {
            BENEFITS_04: [
                (EXCLUSION_MEMBERS, "members: [transport_cross_province, transport_inprovince]"),
                (EXCLUSION_PRECEDENCE, "precedence: [transport_cross_province, transport_inprovince]"),
            ]
        }
    )


def test_exclusion_naming_unknown_benefit(policy_copy: PolicyCopy) -> None:
    message = load_error(_unknown_member_folder(policy_copy))
    assert "transport_once_a_year" in message
    assert "transport_inprovince" in message


def test_exclusion_naming_unknown_benefit_names_the_file(policy_copy: PolicyCopy) -> None:
    message = load_error(_unknown_member_folder(policy_copy))
    assert "04-labour-export.yaml" in message


def test_precedence_not_listing_the_members(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_04: [(EXCLUSION_PRECEDENCE, "precedence: [transport_cross_province]")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "exclusions[0].precedence" in message


def _cycle_folder(policy_copy: PolicyCopy) -> Path:
    reversed_group = (
        "\n  - id: transport_reversed\n"
        "    kind: one_of\n"
        "    members: [transport_cross_province, transport_in_province_organized]\n"
        "    precedence: [transport_in_province_organized, transport_cross_province]\n"
        "    scope: calendar_year\n"
        "    reference: {clause: （四）, quote: 测试用的相反优先顺序}\n"
        "    reason: 测试\n"
    )
    return policy_copy({BENEFITS_04: [("\nexclusions:\n", "\nexclusions:\n" + reversed_group)]})


def test_precedence_cycle(policy_copy: PolicyCopy) -> None:
    message = load_error(_cycle_folder(policy_copy))
    assert "循环" in message
    assert "transport_cross_province" in message or "transport_in_province_organized" in message


def test_precedence_cycle_names_file_and_groups(policy_copy: PolicyCopy) -> None:
    message = load_error(_cycle_folder(policy_copy))
    assert "04-labour-export.yaml" in message
    assert "transport_reversed" in message


def test_exclusion_across_entities(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {
            BENEFITS_04: [
                (EXCLUSION_MEMBERS, "members: [transport_cross_province, job_referral_subsidy]"),
                (EXCLUSION_PRECEDENCE, "precedence: [transport_cross_province, job_referral_subsidy]"),
            ]
        }
    )
    message = load_error(folder)
    assert "transport_once_a_year" in message
    assert "同一类对象" in message


def test_unknown_key_in_benefit(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {BENEFITS_04: [("    repeat: {per: person_year}\n", "    repeat: {per: person_year}\n    limt: ever\n")]}
    )
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "transport_cross_province" in message
    assert "limt" in message


def test_duplicate_condition_id(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_04: [("- id: cross_province_work", "- id: poverty_alleviated")]})
    message = load_error(folder)
    assert "transport_cross_province.conditions[2].id" in message
    assert "poverty_alleviated" in message


def test_invalid_yaml(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_04: [("benefits:\n", "benefits: [\n")]})
    message = load_error(folder)
    assert "04-labour-export.yaml" in message
    assert "YAML" in message


# ---------------------------------------------------------------- repeat keys, priority, parameters read (ADR 0015)

BENEFITS_14 = "benefits/14-skills.yaml"
BENEFITS_12 = "benefits/12-welfare-posts.yaml"


def test_every_bundled_benefit_declares_its_repeat_key(policy: Policy) -> None:
    for benefit in policy.benefits.values():
        assert benefit.repeat is not None, benefit.id
        assert (benefit.repeat.per == "not_paid") == (benefit.fund == "none"), benefit.id
    per_unit = {b.id for b in policy.benefits.values() if b.repeat is not None and b.repeat.kind.per_unit}
    assert per_unit == {
        "training_living_allowance",
        "work_for_training_subsidy",
        "one_time_hiring_subsidy",
        "hiring_subsidy",
        "heritage_workshop_subsidy",
        "job_referral_subsidy",
    }


def test_per_unit_amount_must_leave_out_what_was_paid(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_14: [('amount: "unpaid_units *', 'amount: "due_units *')]})
    message = load_error(folder)
    assert "training_living_allowance.amount" in message
    assert "unpaid_units" in message


def test_per_unit_repeat_needs_due(policy_copy: PolicyCopy) -> None:
    old = "      per: course_day\n      due: >-\n"
    folder = policy_copy({BENEFITS_14: [(old, "      per: course_day\n      note: >-\n")]})
    message = load_error(folder)
    assert "training_living_allowance.repeat.due" in message


def test_unknown_repeat_kind(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_14: [("per: course_day", "per: course_week")]})
    message = load_error(folder)
    assert "training_living_allowance.repeat.per" in message
    assert "course_day" in message  # the known kinds are listed


def test_repeat_kind_must_fit_the_entity(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_14: [("per: course_day", "per: trainee_month")]})
    assert "不适用于个人" in load_error(folder)


def test_limit_and_repeat_together_are_refused(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {BENEFITS_04: [("    repeat: {per: person_year}\n", "    repeat: {per: person_year}\n    limit: ever\n")]}
    )
    assert "limit 与 repeat 只能写一个" in load_error(folder)


def test_not_paid_goes_with_fund_none(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_12: [("    fund: none\n", "    fund: employment\n")]})
    assert "not_paid" in load_error(folder)


def test_unknown_category_in_a_rule_is_refused(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_14: [("'poverty_alleviated' in categories", "'poverty_aleviated' in categories")]})
    message = load_error(folder)
    assert "training_living_allowance.conditions[0].when" in message
    assert "poverty_aleviated" in message


def test_priority_ranks_must_ascend(policy_copy: PolicyCopy) -> None:
    folder = policy_copy({BENEFITS_12: [("      - rank: 2\n", "      - rank: 1\n")]})
    assert "welfare_post_eligibility.priority[1].rank" in load_error(folder)


def test_a_parameter_no_rule_reads_is_refused(policy_copy: PolicyCopy) -> None:
    folder = policy_copy(
        {BENEFITS_12: [("        value: \"param('welfare_post.monthly_subsidy_fen')\"\n", '        value: "0"\n')]}
    )
    message = load_error(folder)
    assert "welfare_post.monthly_subsidy_fen" in message
    assert "informational" in message


def test_informational_parameter_stays_out_of_rules(policy: Policy) -> None:
    informational = {k for k, p in policy.parameters.items() if p.informational}
    assert informational == {
        "social_insurance_subsidy.monthly_fen",
        "startup_loan.interest_subsidy_rate_bp",
        "startup_subsidy.one_time_fen",
    }
    assert all(policy.parameters[k].note for k in informational)
