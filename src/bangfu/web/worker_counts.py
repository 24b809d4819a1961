"""Why an organization's declared count of absorbed people differs from the workers registered at it.

The two numbers come from different places: the organization declares how many 脱贫人口 (or 边缘易致贫
人口) it absorbed, and the platform counts the persons whose imported employment record names it and who
are in post today with that category. A county clerk who sees 12 against 1 needs to know which to
trust and what to check, in words, not a bare mismatch.
"""

from __future__ import annotations

from bangfu.registry.queries import ABSORBED, OrganizationDetail

_WHO = {"absorbed_poverty_alleviated": "脱贫人口", "absorbed_edge_of_poverty": "边缘易致贫人口"}
_FEWER_REGISTERED = (
    "申报数由单位自报；登记数只计各县导入的务工就业记录中写明本单位、今日仍在岗且今日属于该类人员的人。"
    "常见原因：部分务工人员的务工记录尚未导入，或记录中的用人单位名称、统一社会信用代码与本单位不一致；"
    "有人已离职或务工记录已结束；申报的时点早于今日。请对照单位提供的花名册，补录或更正务工就业记录。"
)
_MORE_REGISTERED = (
    "登记在岗的人数多于单位申报的人数。常见原因：单位申报后又有人入职；单位申报有遗漏。"
    "单位享受政策按申报数测算，请与单位核实后更新申报。"
)


def worker_count_notes(detail: OrganizationDetail) -> list[str]:
    """One Chinese sentence group per declared count that differs from the registered workers; none when
    they agree or the organization declared nothing (unknown is not zero: nothing to compare)."""
    notes = []
    for column in ABSORBED:
        declared = detail.declared.get(column)
        registered = detail.registered_today.get(column, 0)
        if declared is None or declared == registered:
            continue
        who = _WHO[column]
        gap = abs(declared - registered)
        if declared > registered:
            head = f"单位申报吸纳{who} {declared} 人，平台登记目前在本单位务工的{who} {registered} 人，少 {gap} 人。"
            notes.append(head + _FEWER_REGISTERED)
        else:
            head = f"单位申报吸纳{who} {declared} 人，平台登记目前在本单位务工的{who} {registered} 人，多 {gap} 人。"
            notes.append(head + _MORE_REGISTERED)
    return notes
