"""The public self-check (我能享受哪些政策): a few facts from a form, as the case the engine evaluates.

Nothing entered is stored or logged: the case lives for one request. Each fact maps to the case
field of the same meaning; what the resident leaves blank stays unknown, so the answer says which
facts are missing (needs_information) instead of guessing them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bangfu.core import regions
from bangfu.core.money import parse_yuan
from bangfu.core.vocabulary import CATEGORIES, LABOR_CAPACITIES

WORK_PLACES = {
    "": "今年没有务工",
    "home_county": "在户口所在县务工",
    "other_county": "在省内其他县（市、区）务工",
    "other_province": "在山西省外务工",
}
ORGANIZED = {"": "不清楚", "yes": "是", "no": "否"}
# The form's questions, asked the way a resident would be asked (您, 元), and the short name of each
# for "请补充：…" when the answer needs it.
QUESTIONS = {
    "date": "按哪一天测算（一般就是今天）",
    "hukou_region": "您的户口在哪个县（市、区）",
    "birth_date": "您的出生日期",
    "labor_capacity": "您的劳动能力",
    "categories": "您属于下面哪类人员（可多选；不清楚可以问村委会或驻村工作队）",
    "work_place": "您今年在哪里务工",
    "work_county": "在省内哪个县（市、区）务工（在省内其他县务工时填）",
    "work_province": "在哪个省务工（在省外务工时填）",
    "work_start": "您哪天开始在那里务工",
    "organized": "是不是通过政府组织的劳务输出去务工",
    "travel_cost": "外出务工路上花的交通费（元）",
    "training_days": "您今年参加职业培训多少天",
}
SHORT = {
    "hukou_region": "户口所在县",
    "birth_date": "出生日期",
    "labor_capacity": "劳动能力",
    "categories": "人员类别",
    "work_place": "务工地点",
    "work_start": "开始务工的日期",
    "organized": "是不是政府组织的劳务输出",
    "travel_cost": "外出务工交通费",
    "training_days": "参加培训的天数",
}
# The last part of a fact's path in the engine's answer -> the form field that gives it.
FACT_FIELDS = {
    "hukou_region": "hukou_region",
    "birth_date": "birth_date",
    "labor_capacity": "labor_capacity",
    "categories": "categories",
    "work_region": "work_place",
    "start": "work_start",
    "organized_export": "organized",
    "travel_cost_fen": "travel_cost",
    "days": "training_days",
}


@dataclass
class SelfCheck:
    """The form as entered (text), and what was wrong with it, field by field."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, today: dt.date) -> SelfCheck:
        return cls(
            {
                "date": today.isoformat(),
                "categories": [],
                "hukou_region": "",
                "labor_capacity": "",
                "birth_date": "",
                "work_place": "",
                "work_county": "",
                "work_province": "",
                "work_start": "",
                "organized": "",
                "travel_cost": "",
                "training_days": "",
            }
        )

    @classmethod
    def from_form(cls, form: Mapping[str, Any], categories: list[str]) -> SelfCheck:
        blank = cls.blank(dt.date.today()).values
        values: dict[str, Any] = {key: str(form.get(key, "") or "").strip() for key in blank if key != "categories"}
        values["categories"] = categories
        return cls(values)

    def _date(self, key: str, label: str, required: bool = False) -> dt.date | None:
        text = self.values[key]
        if not text:
            if required:
                self.errors[key] = f"请填写{label}"
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.errors[key] = f"{label}应为“年-月-日”格式的日期，如 2024-06-30；也可以点输入框从日历里选"
            return None

    def _county(self, key: str, label: str) -> str | None:
        code = str(self.values[key])
        if not code:
            return None
        found = regions.get(code)
        if found is None or found.level != "county" or not regions.is_shanxi(code):
            self.errors[key] = f"请从列表中选择{label}（山西省的县、市、区）"
            return None
        return code

    def to_case(self) -> dict[str, Any] | None:
        """The case JSON, or None when the form has errors (then ``errors`` says which and why)."""
        day = self._date("date", "测算日期", required=True)
        birth = self._date("birth_date", "出生日期")
        hukou = self._county("hukou_region", "您户口所在的县")
        unknown = [c for c in self.values["categories"] if c not in CATEGORIES]
        if unknown:
            self.errors["categories"] = "人员类别只能从所列选项中选择"
        capacity = self.values["labor_capacity"] or None
        if capacity is not None and capacity not in LABOR_CAPACITIES:
            self.errors["labor_capacity"] = "劳动能力只能从所列选项中选择"
        employment = self._employment(hukou)
        training = self._training()
        if self.errors or day is None:
            return None
        person: dict[str, Any] = {
            "categories": list(self.values["categories"]),
            "hukou_region": hukou,
            "labor_capacity": capacity,
            "birth_date": birth.isoformat() if birth else None,
            "employment": employment,
            "training": training,
            "received": [],
        }
        case: dict[str, Any] = {"date": day.isoformat(), "person": person}
        if hukou:
            case["region"] = hukou  # the resident is taken to live where the hukou is
        return case

    def _employment(self, hukou: str | None) -> list[dict[str, Any]]:
        place = self.values["work_place"]
        if place not in WORK_PLACES:
            self.errors["work_place"] = "务工情况只能从所列选项中选择"
            return []
        if not place:
            return []
        if place == "home_county":
            work_region = hukou
            if hukou is None:
                self.errors["hukou_region"] = "您选了在户口所在县务工，请选择户口所在的县"
        elif place == "other_county":
            work_region = self._county("work_county", "务工所在的县")
            if work_region is None and "work_county" not in self.errors:
                self.errors["work_county"] = "请选择您在省内哪个县（市、区）务工"
        else:
            code = self.values["work_province"]
            work_region = code + "0000"
            if code not in regions.provinces() or code == regions.SHANXI:
                self.errors["work_province"] = "请选择山西省以外的务工省份（您选了在山西省外务工）"
                work_region = None
        start = self._date("work_start", "开始务工日期", required=True)
        organized = {"yes": True, "no": False}.get(self.values["organized"])
        if self.values["organized"] not in ORGANIZED:
            self.errors["organized"] = "是否有组织劳务输出只能选择 是、否 或 不清楚"
        cost = None
        if self.values["travel_cost"]:
            try:
                cost = parse_yuan(self.values["travel_cost"])
                if cost < 0:
                    raise ValueError
            except ValueError:
                self.errors["travel_cost"] = "交通费应为元，最多两位小数，如 650 或 650.50（只填数字）"
        if work_region is None or start is None:
            return []
        return [
            {
                "start": start.isoformat(),
                "end": None,
                "work_region": work_region,
                "organized_export": organized,
                "travel_cost_fen": cost,
            }
        ]

    def _training(self) -> list[dict[str, Any]]:
        text = self.values["training_days"]
        if not text:
            return []
        if not text.isdigit() or not 0 < int(text) <= 366:
            self.errors["training_days"] = "培训天数应为 1 至 366 之间的整数（没有参加培训就不填）"
            return []
        day = self._date("date", "测算日期") or dt.date.today()
        return [{"start": dt.date(day.year, 1, 1).isoformat(), "days": int(text)}]
