"""Refusals of a file that passes a limit of ``settings.ImportLimits``: what, where, and how to fix it.

A file over a limit is refused whole (``ReadError``, nothing written), as soon as the limit is
passed and before the oversized part is held in memory. Each message names the limit's setting,
because a genuinely larger file is fixed by raising it, not by editing the file.
"""

from __future__ import annotations

from openpyxl.utils import get_column_letter  # type: ignore[import-untyped, unused-ignore]

from bangfu.registry.imports.rows import FileRefused
from bangfu.settings import ImportLimits

__all__ = ["ImportLimits", "check_cells", "check_width", "column_name", "refuse"]


def column_name(number: int) -> str:
    """``第 3 列（C 列）``: the position and the letter Excel and WPS show."""
    letter = get_column_letter(number) if 1 <= number <= 18_278 else "?"
    return f"第 {number} 列（{letter} 列）"


def refuse(what: str, limit_field: str, limit: int, unit: str, fix: str) -> FileRefused:
    setting = ImportLimits.ENV[limit_field]
    raised = f"确需导入更大的文件，可由管理员调高环境变量 {setting}"
    return FileRefused(f"{what}，超过上限 {limit:,} {unit}；{fix}（{raised}）")


def check_width(line: int, columns: int, limits: ImportLimits) -> None:
    if columns > limits.max_columns:
        raise refuse(
            f"第 {line} 行有 {columns:,} 列",
            "max_columns",
            limits.max_columns,
            "列",
            "请删除表格右侧多余的列后重新导入",
        )


def check_cells(line: int, cells: list[str], limits: ImportLimits) -> None:
    """Refuse a row holding a cell longer than the limit (Excel's own cell limit by default)."""
    longest = max(map(len, cells), default=0)
    if longest <= limits.max_cell_chars:
        return
    column = next(index for index, cell in enumerate(cells, 1) if len(cell) == longest)
    raise refuse(
        f"第 {line} 行{column_name(column)}的单元格有 {longest:,} 个字符",
        "max_cell_chars",
        limits.max_cell_chars,
        "个字符",
        "登记表格的单元格不会这么长，请检查该单元格（可能粘贴了整段文字或文件）后重新导入",
    )
