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
LABOR_CAPACITIES = ("full", "weak", "half")
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
LABOR_CAPACITY_LABELS = {"full": "全劳力", "weak": "弱劳力", "half": "半劳力"}
SEX_LABELS = {"male": "男", "female": "女"}
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
