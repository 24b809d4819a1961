"""The hand-written comparison: five suspect-data rules in pandas, as a county would script them.

Same five rules as Bangfu's ZJ03 (ID check character), HU02 (two heads), LD03 (no labour capacity
but working away), WG02 (months of work with no place) and DH01 (member phone not 11 digits);
reads the CSV as text, writes one XLSX per rule with the reason first, like ``bangfu check``.
Vectorised pandas (no row-by-row apply), so the comparison is with a good script, not a naive one.

Usage: python bench/pandas_checks.py FILE OUT_DIR  (prints a JSON line of counts)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK = np.array(list("10X98765432"))


def checksum_wrong(ids: pd.Series) -> pd.Series:
    shaped = ids.str.fullmatch(r"[0-9]{17}[0-9X]", na=False)
    wrong = pd.Series(False, index=ids.index)
    good = ids[shaped]
    digits = np.frombuffer("".join(good.str.slice(0, 17)).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    expected = CHECK[(digits @ WEIGHTS) % 11]
    wrong[shaped] = expected != good.str.slice(17, 18).to_numpy()
    return wrong


def main(path: Path, out: Path) -> dict[str, int]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    frame.insert(0, "行号", np.arange(2, len(frame) + 2))
    months = pd.to_numeric(frame["务工时间（月）"], errors="coerce")
    heads = frame["与户主关系"].eq("户主").groupby(frame["户编号"]).transform("sum")
    rules = {
        "证件号码校验位错误": checksum_wrong(frame["证件号码"]),
        "本户有两个以上户主": (heads > 1) & frame["与户主关系"].eq("户主"),
        "无劳动力或丧失劳动力却务工": frame["劳动技能"].isin(["无劳动力", "丧失劳动力"])
        & ((months > 0) | frame["务工所在地"].notna()),
        "有务工时间无务工所在地": (months > 0) & frame["务工所在地"].isna(),
        "成员联系电话不是11位": frame["成员联系电话"].notna()
        & ~frame["成员联系电话"].str.fullmatch(r"1[0-9]{10}", na=False),
    }
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for reason, mask in rules.items():
        found = frame[mask]
        counts[reason] = len(found)
        if len(found):
            found.insert(0, "疑点说明", reason)
            found.to_excel(out / f"{reason}.xlsx", index=False)
    return counts


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))
