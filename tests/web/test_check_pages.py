"""The suspect-data checks page: upload a national download, read the summary and each rule's masked rows.

Files come from the checks' own generator (``tests/checks/check_files.py``), placed in 兴县 (the
county of ``county_xing``) with a few planted suspects; the check date is the generator's ``DAY``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
from pathlib import Path

import pytest
from check_support import DAY, NationalFile, audit_entries, clean_file, summary_counts, write_csv, write_xlsx, xing_file
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_support import Platform, csrf_of, page_login

from bangfu.audit.log import LOG
from bangfu.core.disclosure import masked_id_number, masked_phone
from bangfu.store.db import make_engine
from bangfu.web.app import create_app
from bangfu.web.check_results import CheckResults
from database_servers import settings_for


def upload(client: TestClient, name: str, content: bytes, *, day: str = DAY.isoformat(), csrf: bool = True) -> object:
    form = client.get("/checks")
    assert form.status_code == 200
    data = {"day": day, "csrf_token": csrf_of(form.text) if csrf else ""}
    return client.post("/checks", data=data, files={"file": (name, content)}, follow_redirects=False)


def refusals(url: str, actor: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = select(LOG.c.after).where(LOG.c.actor == actor, LOG.c.action == "checks.refused")
            return [after for (after,) in connection.execute(query)]
    finally:
        engine.dispose()


def run_xing(platform: Platform, tmp_path: Path) -> tuple[str, NationalFile]:
    made = xing_file()
    content = write_csv(made, tmp_path / "兴县人口信息.csv").read_bytes()
    page_login(platform.client, "county_xing")
    answer = upload(platform.client, "兴县人口信息.csv", content)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(r"/checks/[0-9a-f]{32}", location)
    return location.rsplit("/", 1)[1], made


def test_upload_shows_the_summary_and_masked_rows(platform: Platform, tmp_path: Path) -> None:
    run_id, made = run_xing(platform, tmp_path)
    client = platform.client
    result = client.get(f"/checks/{run_id}")
    assert result.status_code == 200
    counts = summary_counts(result.text)
    assert counts["ZJ06"] == "1" and counts["DH01"] == "2"
    assert all(count == "0" for rule, count in counts.items() if rule not in ("ZJ06", "DH01")), counts
    assert f'href="/checks/{run_id}/rules/ZJ06"' in result.text
    assert f'href="/checks/{run_id}/rules/ZJ01"' not in result.text  # nothing found: nothing to open

    son = made.rows[made.member(1, "之子")]
    rows = client.get(f"/checks/{run_id}/rules/ZJ06")
    assert rows.status_code == 200
    assert son["name"] in rows.text and masked_id_number(son["id_number"]) in rows.text
    assert son["id_number"] not in rows.text
    phones = client.get(f"/checks/{run_id}/rules/DH01")
    assert masked_phone("1391234567") in phones.text and "1391234567" not in phones.text
    assert client.get(f"/checks/{run_id}/rules/ZJ01").status_code == 404


def test_downloads_are_audited_before_they_are_sent(platform: Platform, tmp_path: Path) -> None:
    run_id, _ = run_xing(platform, tmp_path)
    client = platform.client
    assert audit_entries(platform.url, run_id) == [("county_xing", "checks.run")]
    summary = client.get(f"/checks/{run_id}/download/summary")
    assert summary.status_code == 200 and summary.content.startswith(b"PK")
    rule = client.get(f"/checks/{run_id}/download/rules/DH01")
    assert rule.status_code == 200 and rule.content.startswith(b"PK")
    assert audit_entries(platform.url, run_id) == [
        ("county_xing", "checks.run"),
        ("county_xing", "checks.download"),
        ("county_xing", "checks.download"),
    ]


@pytest.mark.parametrize("other", ["county_xiaodian", "city_lvliang", "province"])
def test_another_account_gets_not_found(platform: Platform, tmp_path: Path, other: str) -> None:
    run_id, _ = run_xing(platform, tmp_path)
    page_login(platform.client, other)  # the county's own superiors too: results belong to who ran them
    for path in ("", "/rules/ZJ06", "/download/summary", "/download/rules/DH01"):
        assert platform.client.get(f"/checks/{run_id}{path}").status_code == 404, path
    assert audit_entries(platform.url, run_id) == [("county_xing", "checks.run")]  # no download recorded


def test_a_new_run_replaces_the_last(platform: Platform, tmp_path: Path) -> None:
    first, _ = run_xing(platform, tmp_path)
    second, _ = run_xing(platform, tmp_path)
    assert platform.client.get(f"/checks/{first}").status_code == 404
    assert platform.client.get(f"/checks/{second}").status_code == 200


def test_another_countys_rows_are_refused(platform: Platform, tmp_path: Path) -> None:
    made = clean_file()  # households in 宁武县 (忻州市) and 兴县
    page_login(platform.client, "county_xing")
    before = len(refusals(platform.url, "county_xing"))
    answer = upload(platform.client, "两县.csv", write_csv(made, tmp_path / "两县.csv").read_bytes())
    assert answer.status_code == 403
    logged = refusals(platform.url, "county_xing")
    assert len(logged) == before + 1 and "忻州市宁武县" in logged[-1]
    assert "不属于您所辖地区" in answer.text and "忻州市宁武县（8 行）" in answer.text
    assert 'aria-invalid="true"' in answer.text  # the message stands by the file field
    # the city of 吕梁 may not check 宁武县 either; the province may check both
    page_login(platform.client, "city_lvliang")
    assert upload(platform.client, "两县.csv", (tmp_path / "两县.csv").read_bytes()).status_code == 403
    page_login(platform.client, "province")
    assert upload(platform.client, "两县.csv", (tmp_path / "两县.csv").read_bytes()).status_code == 303


def test_a_township_account_checks_its_own_township_only(platform: Platform, tmp_path: Path) -> None:
    from web_support import TOWN_A

    from bangfu.core import regions

    made = xing_file()
    for row in made.rows:
        row["township"] = regions.name_of(TOWN_A)
    content = write_csv(made, tmp_path / "乡.csv").read_bytes()
    page_login(platform.client, "town_a")
    assert upload(platform.client, "乡.csv", content).status_code == 303
    page_login(platform.client, "town_b")
    refused = upload(platform.client, "乡.csv", content)
    assert refused.status_code == 403 and regions.name_of(TOWN_A) in refused.text


def test_bad_files_are_refused_with_their_reason(platform: Platform, tmp_path: Path) -> None:
    made = xing_file()
    page_login(platform.client, "county_xing")
    cases = [
        ("名单.txt", b"a,b\n1,2\n", 415, "不是 XLSX 或 CSV 文件"),
        ("空.csv", b"", 400, "是空文件"),
        ("缺列.csv", write_csv(made, tmp_path / "缺列.csv", drop=("name",)).read_bytes(), 422, "缺少必需的列：姓名"),
        ("数字.xlsx", write_xlsx(made, tmp_path / "数字.xlsx", numeric_ids=True).read_bytes(), 422, "以数字格式保存"),
        ("坏.xlsx", b"not a workbook", 422, "坏.xlsx"),
    ]
    for name, content, status, message in cases:
        answer = upload(platform.client, name, content)
        assert answer.status_code == status, (name, answer.text)
        assert message in answer.text, name
        assert 'id="check-file-error"' in answer.text, name
    assert upload(platform.client, "a.csv", b"x", day="2024-13-01").status_code == 422
    assert upload(platform.client, "a.csv", b"x", csrf=False).status_code == 403


def test_the_upload_limit_is_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: Platform) -> None:
    monkeypatch.setenv("BANGFU_MAX_UPLOAD_BYTES", str(3 * 2**20))
    app = create_app(settings_for(platform.url), checks_dir=tmp_path / "checks")
    try:
        with TestClient(app, base_url="http://testserver") as client:
            page_login(client, "county_xing")
            big = write_csv(xing_file(households=1500), tmp_path / "big.csv").read_bytes()
            assert 2**20 < len(big) < 3 * 2**20  # over the 1 MB of every other form, under the upload limit
            assert upload(client, "big.csv", big).status_code == 303
            too_big = upload(client, "huge.csv", big + b"," * (3 * 2**20))
            assert too_big.status_code == 413 and "上传的文件过大：超过上限 3 MB" in too_big.text
            # the larger limit is the upload route's only
            form = {"csrf_token": "x", "old": "y" * (2 * 2**20)}
            assert client.post("/account/password", data=form).status_code == 413
    finally:
        app.state.context.close()


def test_results_are_private_and_expire(platform: Platform, tmp_path: Path) -> None:
    run_id, _ = run_xing(platform, tmp_path)
    results: CheckResults = platform.client.app.state.check_results  # type: ignore[attr-defined]
    folder = results.root / run_id
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(f.stat().st_mode) for f in folder.iterdir()} == {0o600}
    owner = json.loads((folder / "run.json").read_text(encoding="utf-8"))["user_id"]
    assert results.find(run_id, owner) is not None
    assert CheckResults(results.root, lifetime=dt.timedelta(0)).find(run_id, owner) is None
    assert results.find("../" + run_id, owner) is None


def test_a_rules_rows_are_paged_in_file_order(platform: Platform, tmp_path: Path) -> None:
    made = xing_file(households=16)
    for row in made.rows:
        row["member_phone"] = "139123"  # every row: DH01 finds 64, two pages of 50
    page_login(platform.client, "county_xing")
    answer = upload(platform.client, "兴县.csv", write_csv(made, tmp_path / "兴县.csv").read_bytes())
    run_id = answer.headers["location"].rsplit("/", 1)[1]
    second = platform.client.get(f"/checks/{run_id}/rules/DH01?page=2")
    assert "第 2 / 2 页" in second.text
    lines = [int(n) for n in re.findall(r'<td data-label="行号">(\d+)</td>', second.text)]
    assert lines == [made.line(i) for i in range(50, 64)]
    beyond = platform.client.get(f"/checks/{run_id}/rules/DH01?page=99")  # the last page, not an error
    assert "第 2 / 2 页" in beyond.text
