"""Readable zh-CN tables for the terminal (rich handles the width of Chinese characters)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bangfu.core.money import format_yuan
from bangfu.core.regions import name_of

STATUS_STYLES = {
    "granted": "green",
    "not_eligible": "dim",
    "excluded": "yellow",
    "needs_information": "cyan",
    "not_in_force": "red",
}


def case_table(title: str, result: dict[str, Any]) -> Table:
    in_force = "执行期内" if result["policy"]["in_force"] else "不在执行期"
    table = Table(title=escape(f"{title}（评估日 {result['date']}，{in_force}）"), show_lines=False, expand=False)
    titles = {d["id"]: d["title"] for d in result.get("documents", [])}
    several = len(titles) > 1
    if several:
        table.add_column("政策文件")
    table.add_column("政策项目")
    table.add_column("条款")
    table.add_column("结论")
    table.add_column("金额", justify="right")
    table.add_column("资金来源")
    table.add_column("理由")
    for b in result["benefits"]:
        style = STATUS_STYLES[b["status"]]
        table.add_row(
            *([escape(titles.get(b["document"], b["document"]))] if several else []),
            b["label"],
            b["clause"],
            f"[{style}]{b['status_label']}[/{style}]",
            _amount_text(b),
            b["fund_label"],
            escape("；".join(b["reasons"])),
        )
    return table


def _amount_text(benefit: dict[str, Any]) -> str:
    if benefit["status"] != "granted":
        return "—"
    return "（资格认定）" if benefit["fund"] == "none" else format_yuan(benefit["amount_fen"])


def population_table(title: str, labels: dict[str, str], totals: dict[str, dict[str, int]]) -> Table:
    table = Table(title=title)
    table.add_column("政策项目")
    for column in ("可享受", "需补充信息", "已排除"):
        table.add_column(column, justify="right")
    table.add_column("金额合计", justify="right")
    for bid, row in totals.items():
        table.add_row(
            labels[bid],
            f"{row['granted']:,}",
            f"{row['needs']:,}",
            f"{row['excluded']:,}",
            format_yuan(row["amount"]),
        )
    return table


def difference_table(title: str, rows: list[dict[str, Any]], label_of: Any) -> Table:
    table = Table(title=title)
    for column, justify in (("项目", "left"), ("基线", "right"), ("测算", "right"), ("差额", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            label_of(row["key"]),
            format_yuan(row["baseline_fen"]),
            format_yuan(row["scenario_fen"]),
            format_yuan(row["difference_fen"]),
        )
    return table


def region_label(code: str) -> str:
    name = name_of(code)
    return f"{name}（{code}）" if name != code else code


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # piped output (CI logs, files) would otherwise be squeezed to 80 columns and truncate Chinese text
    return Console(stderr=stderr, soft_wrap=False, width=None if stream.isatty() else 180)


def catalog_benefits(info: dict[str, Any]) -> Table:
    table = Table(title="政策项目")
    for column in ("编号", "名称", "对象", "条款", "资金来源", "次数"):
        table.add_column(column)
    for b in info["benefits"]:
        table.add_row(
            b["id"], b["label"], "个人" if b["entity"] == "person" else "单位", b["clause"], b["fund_label"], b["limit"]
        )
    return table


def catalog_parameters(info: dict[str, Any]) -> Table:
    table = Table(title="参数（地方标准未设置时，相关项目返回“需补充信息”）")
    for column in ("参数", "名称", "条款", "当前取值", "制定层级"):
        table.add_column(column)
    for p in info["parameters"]:
        unset = "按现行规定执行（本系统不计算）" if p.get("informational") else "未设置"
        values = "；".join(f"{v['from']} 起 {v['display']}" for v in p["values"]) or unset
        level = {"city": "市级", "county": "县级"}.get(p["set_by"] or "", "省级")
        if p["regions"]:
            values += f"（{len(p['regions'])} 个地区另有规定）"
        table.add_row(p["key"], p["label"], p["clause"], values, level)
    return table


def documents_table(documents: list[dict[str, Any]]) -> Table:
    """One row per policy document (``describe_policy``): level, region, validity, placeholder note."""
    table = Table(title="政策文件")
    for column in ("编号", "名称", "层级", "地区", "执行期", "项目数", "说明"):
        table.add_column(column)
    for d in documents:
        notes = [
            f"暂定：{d['placeholder']}" if d["placeholder"] else "",
            f"替代 {d['replaces']}" if d["replaces"] else "",
        ]
        table.add_row(
            d["id"],
            escape(d["title"]),
            d["level_label"],
            region_label(d["region"]),
            f"{d['valid_from']} 至 {d['valid_to'] or '长期'}",
            str(len(d["benefits"])),
            escape("；".join(n for n in notes if n)),
        )
    return table
