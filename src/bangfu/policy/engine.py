"""Evaluate every benefit of a policy for one case, with a plain-language explanation.

The decision procedure (mirrored column for column by ``population.py``):
1. outside the policy's validity period -> ``not_in_force``;
2. any condition false -> ``not_eligible``; any unknown -> ``needs_information``;
3. a limit or exclusion blocks it -> ``excluded`` (unknown -> ``needs_information``);
4. the amount needs an unknown fact or an unset local standard -> ``needs_information``;
5. otherwise ``granted`` with the amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from bangfu.core.money import format_yuan
from bangfu.policy.case import Case
from bangfu.policy.interpreter import Interpreter, Scope, Trace, Value, and3, or3
from bangfu.policy.model import FUNDS, Benefit, Policy
from bangfu.policy.parameters import Resolved, format_value
from bangfu.policy.plan import BenefitPlan, build_plans, conflict_groups

STATUS_LABELS = {
    "granted": "可享受",
    "not_eligible": "不符合条件",
    "excluded": "已排除",
    "needs_information": "需补充信息",
    "not_in_force": "不在政策执行期",
}


class PolicyConflictError(RuntimeError):
    """Two mutually exclusive benefits apply and the policy declares no precedence."""


def not3(value: Value) -> Value:
    return None if value is None else not value


@dataclass
class Outcome:
    """One benefit's decision, before it is turned into the public JSON shape."""

    plan: BenefitPlan
    eligible: Value = None
    blocked: Value = False
    self_blocked: Value = False
    status: str = "not_in_force"
    amount_fen: int = 0
    reasons: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    priority: dict[str, Any] | None = None
    event_date: dt.date | None = None


@cache
def _plans(policy: Policy, entity_name: str) -> tuple[BenefitPlan, ...]:
    return tuple(build_plans(policy, entity_name))


def evaluate_case(policy: Policy, case: Case) -> dict[str, Any]:
    """Every benefit of one document for one case, as of the case's date (see ``Policy.decision_day``).

    A document that has expired still decides the benefits whose event (``Benefit.event``) happened
    while it was in force, as of its last day; everything else it holds is ``not_in_force``.
    """
    day = case.date
    decided_on = policy.decision_day(day)
    answer_day = decided_on or day
    resolved: dict[str, Resolved] = {}
    scope = _scope(policy, case, answer_day, resolved)
    outcomes: dict[str, Outcome] = {}
    for plan in _plans(policy, case.entity.name):
        outcome = Outcome(plan)
        outcomes[plan.benefit.id] = outcome
        if decided_on is not None:
            outcome.event_date = _event_date(plan.benefit, scope)
        if decided_on is None:
            outcome.reasons.append(f"评估日期 {day.isoformat()} 不在政策执行期（{policy.validity_text()}）内")
            continue
        if not _within_period(policy, outcome, day, decided_on):
            continue
        _decide(policy, outcome, scope, outcomes, resolved)
    if decided_on is not None:
        _check_conflicts(policy, case.entity.name, outcomes)
    return {
        "date": day.isoformat(),
        "policy": policy_summary(policy, day),
        "decided_on": answer_day.isoformat(),
        "entity": case.entity.name,
        "region": case.region,
        "benefits": [_public(policy, o, answer_day) for o in outcomes.values()],
    }


def _scope(policy: Policy, case: Case, answer_day: dt.date, resolved: dict[str, Resolved]) -> Scope:
    def param(key: str) -> Value:
        if key not in resolved:
            resolved[key] = policy.resolve(key, answer_day, case.region)
        return resolved[key].value

    return Scope(
        facts=case.facts,
        collections=case.collections,
        case_variables=policy.case_variables(answer_day, case.date),
        param=param,
        key_counties=policy.key_counties,
        entity_name=case.entity.name,
    )


def unpaid_units(policy: Policy, case: Case, benefit_id: str) -> int | None:
    """The units of a per-unit benefit still unpaid for ``case`` (what its amount multiplies), as the
    engine computes them; None for a benefit paid once per beneficiary or year, or when unknown.

    A claim records them, so that its money keys name exactly the units it pays (claims/keys.py)."""
    benefit = policy.benefits[benefit_id]
    if benefit.repeat is None or benefit.repeat.unpaid is None:
        return None
    answer_day = policy.decision_day(case.date) or case.date
    value = Interpreter(_scope(policy, case, answer_day, {})).eval(benefit.repeat.unpaid)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def policy_summary(policy: Policy, day: dt.date) -> dict[str, Any]:
    """How an answer names the document that gave it."""
    return {
        "id": policy.id,
        "title": policy.title,
        "issuer": policy.issuer,
        "level": policy.level,
        "region": policy.region,
        "in_force": policy.in_force(day),
        "valid_from": policy.valid_from.isoformat(),
        "valid_to": policy.valid_to.isoformat() if policy.valid_to else None,
        "placeholder": policy.placeholder or None,
    }


def _event_date(benefit: Benefit, scope: Scope) -> dt.date | None:
    if benefit.event is None:
        return None
    value = Interpreter(scope).eval(benefit.event.expr)
    return value if isinstance(value, dt.date) else None


def _within_period(policy: Policy, outcome: Outcome, day: dt.date, decided_on: dt.date) -> bool:
    """Whether the document decides this benefit; if not, say why in the outcome (status ``not_in_force``).

    Asked while the document is in force, it decides everything but an event dated before it began
    (the document then in force decides that). Asked after it expired, it decides only the events of
    its own period, as of its last day.
    """
    event = outcome.plan.benefit.event
    when = outcome.event_date
    if decided_on == day:
        if when is None or when >= policy.valid_from:
            return True
        assert event is not None
        outcome.reasons.append(
            f"{event.label} {when.isoformat()} 早于本政策施行日期 {policy.valid_from.isoformat()}，由当时有效的政策判断"
        )
        return False
    if event is not None and when is not None and policy.in_force(when):
        return True
    outcome.reasons.append(f"评估日期 {day.isoformat()} 不在政策执行期（{policy.validity_text()}）内")
    if event is not None and when is not None and when != day:
        outcome.reasons.append(f"{event.label}为 {when.isoformat()}，也不在执行期内")
    return False


def _decide(
    policy: Policy,
    outcome: Outcome,
    scope: Scope,
    outcomes: dict[str, Outcome],
    resolved: dict[str, Resolved],
) -> None:
    benefit = outcome.plan.benefit
    condition_traces: list[Trace] = []
    results: list[Value] = []
    for condition in benefit.conditions:
        trace = Trace()
        value = Interpreter(scope, trace).eval(condition.expr)
        results.append(value)
        condition_traces.append(trace)
        outcome.conditions.append(
            {"id": condition.id, "label": condition.label, "result": value, "values": _jsonable(trace.reads)}
        )
        if value is False:
            outcome.reasons.append(f"不符合：{condition.label}")
    outcome.eligible = and3(results)
    if outcome.eligible is None:
        for condition, value, trace in zip(benefit.conditions, results, condition_traces, strict=True):
            if value is None:
                _note_unknowns(policy, outcome, trace, scope, f"条件“{condition.label}”")

    checks = []
    for check in outcome.plan.receipt_checks:
        hit = Interpreter(scope).eval(check.expr)
        checks.append(hit)
        if hit is True and outcome.eligible is not False:
            if check.group is None:
                outcome.reasons.append(f"{_receipt_text(benefit, check.scope)}（见已享受记录）")
            else:
                names = "、".join(policy.benefits[b].label for b in check.benefit_ids)
                outcome.reasons.append(f"已享受{names}：{check.group.reason}（{check.group.citation.short()}）")
    outcome.self_blocked = or3(checks)
    rival_results = []
    for rival in outcome.plan.rivals:
        other = outcomes[rival.benefit_id]
        # a rival its document does not decide (out of its period) does not apply
        applies = False if other.status == "not_in_force" else and3([other.eligible, not3(other.blocked)])
        rival_results.append(applies)
        if applies is True and outcome.eligible is not False:
            outcome.reasons.append(
                f"与“{other.plan.benefit.label}”不能同时享受，优先享受该项：{rival.group.reason}"
                f"（{rival.group.citation.short()}）"
            )
        elif applies is None and outcome.eligible is True:
            outcome.reasons.append(f"须先确定是否享受优先项目“{other.plan.benefit.label}”")
    outcome.blocked = or3([outcome.self_blocked, *rival_results])

    _decide_priority(outcome, scope)
    amount_trace = Trace()
    amount = Interpreter(scope, amount_trace).eval(benefit.amount)
    for detail in benefit.details:
        outcome.details[detail.id] = _jsonable_value(Interpreter(scope).eval(detail.expr))
    outcome.parameters = [_param_entry(policy, resolved[k]) for k in _params_read(amount_trace, condition_traces)]

    if outcome.eligible is False:
        outcome.status = "not_eligible"
    elif outcome.eligible is None:
        outcome.status = "needs_information"
    elif outcome.blocked is True:
        outcome.status = "excluded"
    elif outcome.blocked is None:
        outcome.status = "needs_information"
        if outcome.self_blocked is None:
            outcome.missing.append(f"{scope.entity_name}.received")
            outcome.reasons.append("已享受记录缺少政策项目或日期，无法判断是否已享受过")
    elif amount is None:
        outcome.status = "needs_information"
        _note_unknowns(policy, outcome, amount_trace, scope, "金额")
    else:
        outcome.status = "granted"
        outcome.amount_fen = int(amount)
        outcome.reasons.append("符合全部条件")
        if benefit.amount_label or amount:
            label = benefit.amount_label or "金额"
            outcome.reasons.append(f"{label}：{format_yuan(outcome.amount_fen)}")
        placeholders = [entry["label"] for entry in outcome.parameters if entry["placeholder"]]
        if placeholders:
            outcome.reasons.append(f"暂定标准，待正式文件公布后以其为准：{'、'.join(placeholders)}")
    if outcome.priority is not None and outcome.priority["rank"] is not None:
        outcome.reasons.append(
            f"优先顺序：第 {outcome.priority['rank']} 位（{outcome.priority['label']}）；优先只决定安排先后，不是条件"
        )


def _receipt_text(benefit: Benefit, scope: str) -> str:
    if scope == "units":
        assert benefit.repeat is not None
        kind = benefit.repeat.kind
        return f"应发的{kind.unit_label}数已全部享受过，按{kind.label}计发，不重复发放"
    return "本年度已享受过，每年限一次" if scope == "calendar_year" else "已享受过，限享受一次"


def _decide_priority(outcome: Outcome, scope: Scope) -> None:
    """The first rank whose test holds, for an eligible case; an unknown test before it leaves the rank open."""
    benefit = outcome.plan.benefit
    if not benefit.priority or outcome.eligible is not True:
        return
    trace = Trace()
    reasons: list[str] = []
    rank: int | None = None
    label = ""
    for step in benefit.priority:
        value = Interpreter(scope, trace).eval(step.expr)
        if value is True:
            rank, label = step.rank, step.label
            reasons.append(f"属于：{step.label}")
            break
        if value is None:
            reasons.append(f"无法判断是否属于“{step.label}”：缺少 {'、'.join(trace.missing) or '信息'}")
            break
        reasons.append(f"不属于：{step.label}")
    outcome.priority = {"rank": rank, "label": label, "of": len(benefit.priority), "reasons": reasons}


def _note_unknowns(policy: Policy, outcome: Outcome, trace: Trace, scope: Scope, what: str) -> None:
    for path in trace.missing:
        if path not in outcome.missing:
            outcome.missing.append(path)
            outcome.reasons.append(f"{what}缺少信息：{path}")
    for key in trace.missing_params:
        entry = f"parameter:{key}"
        if entry in outcome.missing:
            continue
        outcome.missing.append(entry)
        parameter = policy.parameters[key]
        who = {"city": "由市级制定", "county": "由县级制定"}.get(parameter.set_by or "", "未设置")
        region = scope.facts.get("region") or "未指定地区"
        outcome.reasons.append(f"未设置地方标准：{parameter.label}（{who}；地区 {region}）")


def _params_read(amount_trace: Trace, condition_traces: list[Trace]) -> list[str]:
    keys: list[str] = []
    for trace in [*condition_traces, amount_trace]:
        for path in trace.reads:
            if path.startswith("param:") and path[6:] not in keys:
                keys.append(path[6:])
    return keys


def _param_entry(policy: Policy, resolved: Resolved) -> dict[str, Any]:
    parameter = policy.parameters[resolved.key]
    citation = resolved.citation or parameter.citation
    return {
        "key": resolved.key,
        "label": parameter.label,
        "value": _jsonable_value(resolved.value),
        "unit": parameter.unit,
        "display": format_value(resolved.value, parameter.unit),
        "set_at": resolved.level,
        "clause": citation.clause,
        "quote": citation.quote,
        "placeholder": parameter.placeholder,
    }


def _check_conflicts(policy: Policy, entity_name: str, outcomes: dict[str, Outcome]) -> None:
    for conflict in conflict_groups(policy, entity_name):
        applying = [
            m for m in conflict.group.members if outcomes[m].eligible is True and outcomes[m].self_blocked is False
        ]
        if len(applying) > 1:
            raise PolicyConflictError(
                f"政策 {policy.id} 互斥组 {conflict.group.id}：{', '.join(applying)} 同时适用，"
                "但政策文件未声明优先顺序（precedence）。请在政策文件中补充优先顺序后再评估。"
            )


def _public(policy: Policy, outcome: Outcome, decided_on: dt.date) -> dict[str, Any]:
    benefit: Benefit = outcome.plan.benefit
    event = benefit.event
    return {
        "id": benefit.id,
        "label": benefit.label,
        "eligible": outcome.eligible,
        "status": outcome.status,
        "status_label": STATUS_LABELS[outcome.status],
        "amount_fen": outcome.amount_fen,
        "fund": benefit.fund,
        "fund_label": FUNDS[benefit.fund],
        "clause": benefit.clause,
        "document": policy.id,
        "reasons": outcome.reasons,
        "missing": outcome.missing,
        "conditions": outcome.conditions,
        "parameters": outcome.parameters,
        "details": outcome.details,
        # added in 0.x (ADR 0015): the rank among the eligible, or None where the benefit has no order
        "priority": outcome.priority,
        "repeat": _repeat_entry(benefit),
        # added with several documents in force (ADR 0020): what the benefit pays for, when it happened,
        # and the day the document answered for (its last day, for an expired one)
        "event": {"label": event.label, "date": _jsonable_value(outcome.event_date)} if event else None,
        "decided_on": decided_on.isoformat(),
    }


def _repeat_entry(benefit: Benefit) -> dict[str, Any] | None:
    if benefit.repeat is None:
        return None
    return {"per": benefit.repeat.per, "label": benefit.repeat.kind.label}


def _jsonable_value(value: Value) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _jsonable(values: dict[str, Value]) -> dict[str, Any]:
    return {k: _jsonable_value(v) for k, v in values.items()}
