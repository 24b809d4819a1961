"""The local-standards page and the activation page, on both back ends (ADR 0023).

Each back end gets a registry of its own (standards and activations are never deleted, so the shared
platform of the other web tests would carry them): the accounts of ``web_support`` plus 运城市 (1408)
and its county 临猗县 (140821), and a human-resources agency in 临猗 that placed three people.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from web_support import add_accounts, build_registry, csrf_of, page_login

from bangfu.audit.log import verify
from bangfu.policy.case import parse_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.loader import policies_root
from bangfu.policy.policy_set import PolicySet
from bangfu.registry.stored_cases import stored_case
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry, LocalStandard, Organization, PolicyActivation
from bangfu.web.app import create_app
from database_servers import BACKENDS, postgres_database, settings_for

REFERRAL = "/admin/standards/shanxi-2021/job_referral_subsidy.per_person_fen"
LINYI = "140821"


@dataclass
class Site:
    url: str
    client: TestClient
    agency_id: int
    policy_dir: Path


def _agency(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            agency = Organization(
                credit_code="91140821MA0000000H", name="临猗县人力资源服务公司", kind="hr_agency",
                region_code=LINYI, placed_by_export=3,
            )  # fmt: skip
            session.add(agency)
            session.flush()
            return agency.id
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{(tmp_path_factory.mktemp('standards') / 'b.db').as_posix()}"])
    else:
        databases = postgres_database()
    url = next(databases)
    policy_dir = tmp_path_factory.mktemp("packages")
    try:
        build_registry(url)
        add_accounts(url, [("city_yuncheng", "city", "1408"), ("county_linyi", "county", LINYI)])
        agency = _agency(url)
        app = create_app(settings_for(url, policy_dir=policy_dir), checks_dir=tmp_path_factory.mktemp("checks"))
        with TestClient(app, base_url="http://testserver") as client:
            yield Site(url, client, agency, policy_dir)
        app.state.context.close()
    finally:
        if hasattr(databases, "close"):
            databases.close()


def count(url: str, table: type[LocalStandard] | type[PolicyActivation] | type[AuditEntry]) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(table)) or 0)
    finally:
        engine.dispose()


def form(site: Site, path: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf_of(site.client.get(path).text), **fields}


def referral_of_agency(site: Site, day: str = "2024-06-30") -> dict[str, object]:
    context = site.client.app.state.context  # type: ignore[attr-defined]
    with context.engine.connect() as connection:
        case = stored_case(connection, "organization", site.agency_id, dt.date.fromisoformat(day))
    result = evaluate_all(context.policies, parse_case(case))
    return next(b for b in result["benefits"] if b["id"] == "job_referral_subsidy")


GOOD = {
    "value": "200",
    "valid_from": "2024-01-01",
    "document_number": "运人社发〔2024〕12号",
    "document_title": "运城市职业介绍补贴标准",
}


@pytest.mark.parametrize("username", ["province", "town_a", "auditor_lvliang"])
def test_roles_without_the_permission_are_refused(site: Site, username: str) -> None:
    page_login(site.client, username)
    answer = site.client.get("/admin/standards")
    assert answer.status_code == 403
    assert "地方标准由市级、县级账户为本地区设置" in answer.text
    assert "地方标准" not in site.client.get("/").text.split("<main", 1)[0]  # no link in the navigation


def test_a_city_sees_the_standards_its_level_owns(site: Site) -> None:
    page_login(site.client, "city_yuncheng")
    page = site.client.get("/admin/standards").text
    assert "职业介绍补贴标准" in page and "创业孵化基地奖补标准（每入驻 1 户实体）" in page
    assert "乡村公益性岗位补贴标准" not in page  # a county's standard
    assert "社会保险补贴标准" not in page  # informational: no rule reads it
    county = site.client
    page_login(county, "county_linyi")
    listed = county.get("/admin/standards").text
    assert "职业介绍补贴标准" in listed and "乡村公益性岗位补贴标准" in listed
    assert "创业孵化基地奖补标准" not in listed  # 具体标准由市级…制定


def test_a_level_that_does_not_own_a_standard_is_refused(site: Site) -> None:
    page_login(site.client, "county_linyi")
    path = "/admin/standards/shanxi-2021/incubator_reward.per_entity_fen"
    answer = site.client.post(f"{path}/preview", data=form(site, "/admin/standards", **GOOD))
    assert answer.status_code == 403 and "县级账户不能设置这项标准" in answer.text
    page_login(site.client, "city_yuncheng")
    welfare = "/admin/standards/shanxi-2021/welfare_post.monthly_subsidy_fen"
    assert site.client.get(welfare).status_code == 403
    assert site.client.post(welfare, data=form(site, "/admin/standards", **GOOD)).status_code == 403
    assert count(site.url, LocalStandard) == 0


def test_a_value_out_of_range_is_refused_beside_its_field_in_yuan(site: Site) -> None:
    page_login(site.client, "city_yuncheng")
    before = count(site.url, AuditEntry)
    for path in (f"{REFERRAL}/preview", REFERRAL):
        answer = site.client.post(
            path, data=form(site, REFERRAL, **{**GOOD, "value": "5000", "valid_from": "2026-03-01"})
        )
        assert answer.status_code == 422
        assert 'id="standard-value-error"' in answer.text and 'aria-invalid="true"' in answer.text
        assert "5,000.00 元超出本标准允许的范围 0.00 元—1,000.00 元" in answer.text
        assert "生效日期应在政策 shanxi-2021 的执行期内" in answer.text
        assert 'value="5000"' in answer.text  # what was typed stays in the form
    bad = site.client.post(REFERRAL, data=form(site, REFERRAL, **{**GOOD, "value": "2.345"}))
    assert bad.status_code == 422 and "金额“2.345”格式不正确：应为元，最多两位小数" in bad.text
    assert count(site.url, LocalStandard) == 0 and count(site.url, AuditEntry) == before


def test_preview_costs_by_fund_then_confirm_saves_audited_and_evaluation_uses_it(site: Site) -> None:
    assert referral_of_agency(site)["status"] == "needs_information"
    page_login(site.client, "city_yuncheng")
    preview = site.client.post(f"{REFERRAL}/preview", data=form(site, REFERRAL, **GOOD))
    assert preview.status_code == 200, preview.text
    assert "就业补助资金" in preview.text and "600.00 元" in preview.text  # 3 placed × 200 元 in 临猗
    assert "职业介绍补贴（有组织劳务输出脱贫人口）：获得补贴的对象由 0 个变为 1 个" in preview.text
    assert count(site.url, LocalStandard) == 0  # a preview saves nothing
    saved = site.client.post(REFERRAL, data={"csrf_token": csrf_of(preview.text), **GOOD}, follow_redirects=False)
    assert saved.status_code == 303
    page = site.client.get(saved.headers["location"]).text
    assert "已保存，并已记入审计日志" in page and "200.00 元" in page and "运人社发〔2024〕12号" in page
    granted = referral_of_agency(site)
    assert (granted["status"], granted["amount_fen"]) == ("granted", 60000)
    engine = make_engine(site.url)
    try:
        with engine.connect() as connection:
            row = connection.execute(select(LocalStandard.__table__)).one()
            entry = connection.execute(select(AuditEntry.__table__).where(AuditEntry.id == row.audit_id)).one()
            assert (entry.action, entry.actor, entry.region_code) == ("standard.set", "city_yuncheng", "1408")
            assert '"value":20000' in entry.after and entry.at <= row.set_at.replace(tzinfo=entry.at.tzinfo)
            assert verify(connection).ok
    finally:
        engine.dispose()
    # a county of the city, allowed to set its own by the document, lowers it for itself only
    page_login(site.client, "county_linyi")
    county = {**GOOD, "value": "150", "valid_from": "2025-01-01", "document_number": "临人社发〔2025〕3号"}
    assert site.client.post(REFERRAL, data=form(site, REFERRAL, **county), follow_redirects=False).status_code == 303
    assert referral_of_agency(site)["amount_fen"] == 60000  # asked in 2024: the city's
    assert referral_of_agency(site, "2025-06-30")["amount_fen"] == 45000
    history = site.client.get(REFERRAL).text
    assert "山西省运城市临猗县" in history and "2025-01-01 至 长期" in history and "2024-01-01 至 长期" in history


def test_history_is_kept_and_rows_cannot_be_changed(site: Site) -> None:
    page_login(site.client, "city_yuncheng")
    later = {**GOOD, "value": "300", "valid_from": "2025-07-01", "document_number": "运人社发〔2025〕8号"}
    assert site.client.post(REFERRAL, data=form(site, REFERRAL, **later), follow_redirects=False).status_code == 303
    page = site.client.get(REFERRAL).text
    assert "2024-01-01 至 2025-06-30" in page and "2025-07-01 至 长期" in page and "300.00 元" in page
    engine = make_engine(site.url)
    try:
        for statement in ("UPDATE local_standards SET value = 1", "DELETE FROM local_standards"):
            with pytest.raises(Exception, match="只可追加"), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()
    assert count(site.url, LocalStandard) >= 2


def _package(site: Site, name: str, source: str = "shanxi-2021", **replacements: str) -> Path:
    folder = site.policy_dir / name
    shutil.copytree(policies_root() / source, folder)
    meta = folder / "policy.yaml"
    text_ = meta.read_text(encoding="utf-8").replace("id: shanxi-2021", f"id: {name}")
    for old, new in replacements.items():
        text_ = text_.replace(old, new)
    meta.write_text(text_, encoding="utf-8")
    return folder


def test_a_province_activates_a_checked_package_and_never_a_broken_one(site: Site) -> None:
    _package(site, "yuncheng-2026")
    broken = _package(site, "broken-2026")
    (broken / "parameters" / "04-labour-export.yaml").write_text("job_referral_subsidy.per_person_fen: {}\n", "utf-8")
    page_login(site.client, "city_yuncheng")
    assert site.client.get("/admin/policies").status_code == 403
    page_login(site.client, "province")
    listed = site.client.get("/admin/policies").text
    assert "yuncheng-2026" in listed and "未通过" in listed and "无法加载" in listed
    context = site.client.app.state.context  # type: ignore[attr-defined]
    bundled = {d.id for d in PolicySet.bundled().documents}
    assert {d.id for d in context.policies.documents} == bundled
    before = count(site.url, PolicyActivation)
    refused = site.client.post("/admin/policies/broken-2026/activate", data=form(site, "/admin/policies"))
    assert refused.status_code == 422 and "未通过检查，不能启用" in refused.text
    assert count(site.url, PolicyActivation) == before
    done = site.client.post(
        "/admin/policies/yuncheng-2026/activate", data=form(site, "/admin/policies"), follow_redirects=False
    )
    assert done.status_code == 303
    assert "已启用，并已记入审计日志" in site.client.get(done.headers["location"]).text
    assert {d.id for d in context.policies.documents} == {*bundled, "yuncheng-2026"}
    # files changed after activation drop out until checked and activated again
    (site.policy_dir / "yuncheng-2026" / "note.txt").write_text("改动", encoding="utf-8")
    context.stored_state_changed()
    assert "文件已变更" in site.client.get("/admin/policies").text
    assert {d.id for d in context.policies.documents} == bundled
    off = site.client.post(
        "/admin/policies/yuncheng-2026/deactivate", data=form(site, "/admin/policies"), follow_redirects=False
    )
    assert off.status_code == 303
    engine = make_engine(site.url)
    try:
        with engine.connect() as connection:
            actions = connection.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "policy")).all()
    finally:
        engine.dispose()
    assert actions == ["policy.activate", "policy.deactivate"]
