"""The engine's explanation in a resident's words: what is still needed, and money in 元.

The engine says why a benefit was refused by naming the failed condition ("不符合：属于脱贫人口"),
which a resident reads as an accusation or the opposite of what it means. The self-check says what
would be needed instead ("需要是脱贫人口"), derived from the same failed conditions the engine reports
(``benefits[].conditions`` with ``result`` false), so a new programme's conditions are phrased without
code. A label that cannot be turned round by these rules carries its own ``citizen`` wording in the
policy YAML (docs/policy-authoring.md).
"""

from __future__ import annotations

import re
from typing import Any

from bangfu.policy.model import Condition
from bangfu.policy.policy_set import PolicySet

# An aside in a label explains the rule to officials ("（本省脱贫人口；户籍在省外者不享受……）");
# one that widens the group ("（含防返贫监测对象）") is what a resident needs to know, and stays.
_ASIDE = re.compile(r"（(?!含)[^（）]*）")


def yuan_text(fen: int) -> str:
    """80000 -> '800 元', 65050 -> '650.50 元', 150000 -> '1,500 元': whole 元 without decimals."""
    whole, cents = divmod(abs(fen), 100)
    sign = "-" if fen < 0 else ""
    return f"{sign}{whole:,} 元" if cents == 0 else f"{sign}{whole:,}.{cents:02d} 元"


def needed(condition: Condition) -> str:
    """What a resident who fails ``condition`` would need, as one short sentence starting with 需要."""
    if condition.citizen:
        return condition.citizen
    label = _ASIDE.sub("", condition.label).replace("评估日", "测算日").strip("，。 ")
    if label.startswith("属于"):
        return "需要是" + label.removeprefix("属于")
    return "需要" + label


def unmet(benefit: dict[str, Any], policies: PolicySet) -> list[str]:
    """The needs of an answer's benefit from its failed conditions, in the document's order, once each."""
    rules = _conditions(benefit, policies)
    needs: list[str] = []
    for checked in benefit.get("conditions", []):
        if checked.get("result") is not False:
            continue
        rule = rules.get(checked["id"])
        text = needed(rule) if rule is not None else "需要" + str(checked["label"])
        if text not in needs:
            needs.append(text)
    return needs


def with_needs(result: dict[str, Any], policies: PolicySet) -> dict[str, Any]:
    """The answer with each "不符合：<condition>" reason replaced by what is needed, for the citizen's details."""
    benefits = []
    for benefit in result["benefits"]:
        failed = {str(c["label"]) for c in benefit.get("conditions", []) if c.get("result") is False}
        if not failed:
            benefits.append(benefit)
            continue
        refused = {f"不符合：{label}" for label in failed}  # the engine's words for a failed condition
        kept = [r for r in benefit["reasons"] if r not in refused]
        benefits.append({**benefit, "reasons": [*unmet(benefit, policies), *kept]})
    return {**result, "benefits": benefits}


def _conditions(benefit: dict[str, Any], policies: PolicySet) -> dict[str, Condition]:
    document = next((d for d in policies.documents if d.id == benefit.get("document")), None)
    rule = document.benefits.get(benefit["id"]) if document is not None else None
    return {c.id: c for c in rule.conditions} if rule is not None else {}
