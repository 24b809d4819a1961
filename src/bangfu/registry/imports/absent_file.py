"""The list of persons a national download no longer lists, for county staff to check (nobody is deleted).

UTF-8 with a BOM, like the rejects file, so that Excel on Chinese Windows opens it correctly. It holds
ID numbers, as the rejects file does: it is written next to the imported file, which holds them too.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from bangfu.core import regions
from bangfu.core.private_files import create_private
from bangfu.core.spreadsheet_safety import safe_row
from bangfu.registry.imports.rejects_file import new_report_path
from bangfu.registry.imports.upsert.base import AbsentPerson

HEADER = ("姓名", "证件号码", "县", "户编号", "人口编号", "说明")
NOTE = "已登记、本次下载未列出（或其行被拒绝）；系统未删除，请核实是否已迁出、死亡或退出监测"


def write_absent(folder: Path, source: Path, persons: Sequence[AbsentPerson]) -> Path | None:
    """``<source stem>_未列出_<time>.csv`` listing ``persons``; None (no file) when there is nobody."""
    if not persons:
        return None
    path = new_report_path(folder, source, "未列出")
    # Like the rejects file: the owner's only, never through a symlink, every field quoted and text
    # that a spreadsheet would run as a formula (a name from the county's file) neutralized.
    with create_private(path, "w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream, quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER)
        for person in persons:
            county = regions.name_of(person.county)
            fields = (person.name, person.id_number, county, person.household_number or "", person.person_number or "")
            writer.writerow(safe_row((*fields, NOTE)))
    return path
