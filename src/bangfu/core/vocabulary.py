"""Closed vocabularies shared by the registry, the store and the policy engine (codes, not labels)."""

from __future__ import annotations

CATEGORIES = (
    "poverty_alleviated",
    "edge_of_poverty",
    "unstable_alleviated",
    "sudden_hardship",
    "monitored",
    "rural_low_income",
    "relocated",
)
# The national monitoring system's five values of 劳动技能 (migration 0006). ``weak`` is
# 弱劳动力或半劳动力: the system does not tell 弱 from 半, and neither does the policy (（十二）).
LABOR_CAPACITIES = ("skilled", "ordinary", "weak", "lost", "none")
# Those who can work: 丧失劳动力 and 无劳动力 are no worker for any work-related benefit.
WORKING_CAPACITIES = ("skilled", "ordinary", "weak")
# Codes used before 0006, still accepted in cases and rosters: 全劳力 is full labour without a
# known skill, 半劳力 is the national system's 弱劳动力或半劳动力 ("weak" kept its meaning).
LEGACY_LABOR_CAPACITIES = {"full": "ordinary", "half": "weak"}
ORGANIZATION_KINDS = ("enterprise", "workshop", "hr_agency", "labor_broker", "incubator", "heritage_workshop")
KIND_LABELS = {
    "enterprise": "企业",
    "workshop": "就业帮扶车间",
    "hr_agency": "人力资源服务机构",
    "labor_broker": "劳务经纪人",
    "incubator": "创业孵化基地",
    "heritage_workshop": "非遗工坊",
}
CATEGORY_LABELS = dict(
    zip(
        CATEGORIES,
        (
            "脱贫人口",
            "边缘易致贫人口",
            "脱贫不稳定户",
            "突发严重困难户",
            "防返贫监测对象",
            "农村低收入人口",
            "易地搬迁群众",
        ),
        strict=True,
    )
)
LABOR_CAPACITY_LABELS = {
    "skilled": "技能劳动力",
    "ordinary": "普通劳动力",
    "weak": "弱劳动力或半劳动力",
    "lost": "丧失劳动力",
    "none": "无劳动力",
}
SEX_LABELS = {"male": "男", "female": "女"}
# Work on a day, as the dashboard counts it and the people list filters it (reports.dashboard): where a
# held employment spell lies, or no spell for someone able to work. One person with spells in several
# places is in several of them.
WORK_SITUATIONS = {
    "cross_province": "省外务工",
    "in_province": "省内县外务工",
    "in_county": "县内务工",
    "organized_export": "其中有组织输出",
    "not_working": "未就业（有劳动能力）",
}

ROLE_LABELS = {
    "province": "省级管理员",
    "city": "市级工作人员",
    "county": "县级工作人员",
    "township": "乡镇协理员",
    "auditor": "审计（只读）",
}
RECOGNITION_LABELS = {
    "employment_base": "就业帮扶基地",
    "workshop": "就业帮扶车间",
    "incubator": "创业孵化基地",
    "heritage_workshop": "非遗工坊",
    "hr_agency": "人力资源服务机构",
    "labor_broker": "劳务经纪人",
}
