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
