"""The claim pages on SQLite and PostgreSQL: the queues per role, the claim page and its decision forms,
and a township assistant's application; every refusal changes nothing, every action is audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from claims_web_support import (
    ClaimsPlatform,
    audit_of,
    claim_row,
    claims_platform,
    drafted,
    event_count,
    id_number_of,
)
from web_support import csrf_of, page_login

from bangfu.core.disclosure import masked_id_number
from database_servers import BACKENDS

CHOICE = "shanxi-2026|transport_cross_province"


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClaimsPlatform]:
    yield from claims_platform(request, tmp_path_factory)


def _form_token(html: str) -> str:
    return re.findall(r'name="csrf_token" value="([^"]*)"', html)[-1]


def post_action(site: ClaimsPlatform, claim_id: int, action: str, reason: str = "", seen: str | None = None) -> Any:
    page = site.client.get(f"/claims/{claim_id}")
    token = csrf_of(page.text)
    status = claim_row(site.url, claim_id).status if seen is None else seen
    return site.client.post(
        f"/claims/{claim_id}/{action}",
        data={"csrf_token": token, "reason": reason, "seen_status": status},
        follow_redirects=False,
    )


def person(site: ClaimsPlatform, place: str, n: int) -> int:
    assert site.extra is not None
    return site.extra[place][n]


def test_a_township_assistant_applies_for_a_person_and_the_county_sees_it(site: ClaimsPlatform) -> None:
    client = site.client
    page_login(client, "town_a")
    target = person(site, "town_a", 0)
    searched = client.get("/claims/new", params={"q": "申报town_a00"})
    assert searched.status_code == 200
    assert f'href="/claims/new?person={target}"' in searched.text
    # only persons of the assistant's township are found
    other = client.get("/claims/new", params={"q": "申报town_b"})
    assert "申报town_b" not in other.text.split("<main", 1)[1].split("</form>", 1)[1]
    by_number = client.get("/claims/new", params={"q": id_number_of(site.url, target)})
    assert f'href="/claims/new?person={target}"' in by_number.text
    fragment = client.get("/claims/new", params={"q": "1411"})
    assert fragment.status_code == 422 and 'aria-describedby="q-error"' in fragment.text
    assert client.get("/claims/new", params={"person": person(site, "town_b", 0)}).status_code == 404
    chosen = client.get("/claims/new", params={"person": target})
    assert chosen.status_code == 200 and "跨省务工一次性交通补贴" in chosen.text and "800.00 元" in chosen.text
    choices = re.findall(r'name="benefit" value="([^"]+)"', chosen.text)
    assert CHOICE in choices, choices
    answer = client.post(
        "/claims/new",
        data={
            "csrf_token": _form_token(chosen.text),
            "person": str(target),
            "benefit": "shanxi-2026|transport_cross_province",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    claim_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    row = claim_row(site.url, claim_id)
    assert (row.maker, row.status, row.amount_fen, row.person_id) == ("town_a", "checked", 80_000, target)
    assert [a for a, _ in audit_of(site.url, claim_id, "claim.drafted")] == ["town_a"]
    assert len(audit_of(site.url, claim_id, "claim.checked")) == 1
    shown = client.get(answer.headers["location"])
    assert "申报已提交" in shown.text and "已自动审核" in shown.text
    # the same benefit again: refused with the database constraint's message, nothing written
    again = client.get("/claims/new", params={"person": target})
    refused = client.post(
        "/claims/new",
        data={
            "csrf_token": _form_token(again.text),
            "person": str(target),
            "benefit": "shanxi-2026|transport_cross_province",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 409
    assert f"同一计发依据已有申报 {claim_id}" in refused.text and "不能重复申报" in refused.text
    # the county's queue of claims to check lists it; another county's does not
    page_login(client, "county_xing")
    queue = client.get("/claims", params={"status": "checked", "flagged": "no"})
    assert f'href="/claims/{claim_id}"' in queue.text
    page_login(client, "county_xiaodian")
    assert f'href="/claims/{claim_id}"' not in client.get("/claims").text
    assert client.get(f"/claims/{claim_id}").status_code == 404


def test_the_claim_page_shows_what_was_decided_masked(site: ClaimsPlatform) -> None:
    target = person(site, "town_a", 1)
    claim_id = drafted(site.url, target, "town_a")
    page_login(site.client, "county_xing")
    page = site.client.get(f"/claims/{claim_id}")
    assert page.status_code == 200
    text = page.text
    assert "800.00 元" in text and "衔接推进乡村振兴补助资金" in text
    assert "符合全部条件" in text and "属于脱贫人口" in text  # the explanation as stored
    assert "申报金额与政策计算一致" in text and "与政策计算一致：800.00 元" in text  # the checks, in Chinese
    assert "起草申报" in text and "已起草 → 已自动审核" in text  # the history
    assert f'action="/claims/{claim_id}/approve"' in text
    full = id_number_of(site.url, target)
    assert masked_id_number(full) in text and full not in text


def test_maker_checker_and_who_may_act(site: ClaimsPlatform) -> None:
    client = site.client
    claim_id = drafted(site.url, person(site, "town_a", 2), "town_a")
    events = event_count(site.url, claim_id)
    # the township assistant cannot approve (not offered, and refused)
    page_login(client, "town_a")
    assert f'action="/claims/{claim_id}/approve"' not in client.get(f"/claims/{claim_id}").text
    refused = post_action(site, claim_id, "approve")
    assert refused.status_code == 403 and "不能审批申报" in refused.text
    # the auditor reads, never acts
    page_login(client, "auditor_lvliang")
    read = client.get(f"/claims/{claim_id}")
    assert read.status_code == 200 and "/approve" not in read.text and "/reject" not in read.text
    assert post_action(site, claim_id, "reject", "审计").status_code == 403
    assert (claim_row(site.url, claim_id).status, event_count(site.url, claim_id)) == ("checked", events)
    # the maker cannot approve their own claim
    own = drafted(site.url, person(site, "town_a", 3), "county_xing")
    page_login(client, "county_xing")
    assert f'action="/claims/{own}/approve"' not in client.get(f"/claims/{own}").text
    mine = post_action(site, own, "approve")
    assert mine.status_code == 403 and "经办与审批分离" in mine.text
    assert claim_row(site.url, own).status == "checked"
    # another county's officer: not found, not listed
    page_login(client, "county_xiaodian")
    assert post_action_without_page(site, claim_id, "approve").status_code == 404
    # the county approves the assistant's claim: audited, on the page's history
    page_login(client, "county_xing")
    done = post_action(site, claim_id, "approve")
    assert done.status_code == 303 and done.headers["location"] == f"/claims/{claim_id}?done=approve"
    row = claim_row(site.url, claim_id)
    assert (row.status, row.approver) == ("approved", "county_xing")
    assert [actor for actor, _ in audit_of(site.url, claim_id, "claim.approved")] == ["county_xing"]
    shown = client.get(done.headers["location"]).text
    assert "已批准，并已记入审计日志" in shown and "已自动审核 → 已批准" in shown


def post_action_without_page(site: ClaimsPlatform, claim_id: int, action: str) -> Any:
    """A form posted by someone who cannot open the claim (the token from their own queue page)."""
    token = _form_token(site.client.get("/account").text)
    return site.client.post(
        f"/claims/{claim_id}/{action}", data={"csrf_token": token, "reason": "x"}, follow_redirects=False
    )


def test_a_flagged_claim_needs_an_override_reason(site: ClaimsPlatform) -> None:
    claim_id = drafted(site.url, person(site, "town_a", 4), "town_a", amount_fen=90_000)
    assert claim_row(site.url, claim_id).flagged
    page_login(site.client, "county_xing")
    page = site.client.get(f"/claims/{claim_id}")
    assert "未通过自动审核" in page.text and "与政策计算的 800.00 元 不符" in page.text
    missing = post_action(site, claim_id, "approve", "  ")
    assert missing.status_code == 422
    assert 'aria-invalid="true" aria-describedby="approve-reason-error"' in missing.text
    assert "须写明原因" in missing.text
    assert claim_row(site.url, claim_id).status == "checked"
    done = post_action(site, claim_id, "approve", "交通票据核实为 900 元，经局务会同意")
    assert done.status_code == 303
    [(actor, after)] = audit_of(site.url, claim_id, "claim.approved")
    assert actor == "county_xing" and after["override"] == "交通票据核实为 900 元，经局务会同意"


def test_reasons_returns_withdrawals_and_stale_forms(site: ClaimsPlatform) -> None:
    client = site.client
    claim_id = drafted(site.url, person(site, "town_a", 5), "town_a")
    page_login(client, "county_xing")
    for action in ("reject", "return"):
        missing = post_action(site, claim_id, action, "")
        assert missing.status_code == 422 and "须写明原因" in missing.text
    assert claim_row(site.url, claim_id).status == "checked"
    returned = post_action(site, claim_id, "return", "交通票据不清晰，请补拍")
    assert returned.status_code == 303 and claim_row(site.url, claim_id).status == "returned"
    assert audit_of(site.url, claim_id, "claim.returned")[0][1]["reason"] == "交通票据不清晰，请补拍"
    # a form opened before another user acted: refused with the current status, nothing changed
    events = event_count(site.url, claim_id)
    stale = post_action(site, claim_id, "reject", "重复", seen="checked")
    assert stale.status_code == 409 and "已被他人处理" in stale.text and "已退回修改" in stale.text
    assert (claim_row(site.url, claim_id).status, event_count(site.url, claim_id)) == ("returned", events)
    # the assistant withdraws the application they started
    page_login(client, "town_a")
    withdrawn = post_action(site, claim_id, "withdraw", "本人放弃申请")
    assert withdrawn.status_code == 303 and claim_row(site.url, claim_id).status == "withdrawn"
    assert [a for a, _ in audit_of(site.url, claim_id, "claim.withdrawn")] == ["town_a"]
    # an unknown claim, a bad action
    assert client.get("/claims/999999999").status_code == 404
    assert post_action_without_page(site, 999_999_999, "approve").status_code == 404
    page_login(client, "county_xing")
    other = drafted(site.url, person(site, "town_a", 6), "town_a")
    assert post_action(site, other, "pay").status_code == 404
    assert claim_row(site.url, other).status == "checked"


def test_queues_filter_sort_and_page_within_the_scope(site: ClaimsPlatform) -> None:
    client = site.client
    made = [drafted(site.url, person(site, "town_a", n), "town_a") for n in range(7, 30)]
    theirs = drafted(site.url, person(site, "town_b", 0), "town_b")
    elsewhere = drafted(site.url, person(site, "xiaodian", 0), "county_xiaodian")
    page_login(client, "county_xing")
    first = client.get("/claims", params={"status": "checked", "sort": "created", "per_page": "20"})
    assert first.status_code == 200 and "第 1 / 2 页" in first.text
    listed = [int(i) for i in re.findall(r'href="/claims/(\d+)"', first.text)]
    assert listed == sorted(listed) and len(listed) == 20
    second = client.get("/claims", params={"status": "checked", "sort": "created", "page": "2"})
    assert set(re.findall(r'href="/claims/(\d+)"', second.text)).isdisjoint(map(str, listed))
    assert f'href="/claims/{elsewhere}"' not in first.text + second.text
    bad = client.get("/claims", params={"status": "bogus"})
    assert bad.status_code == 422 and 'aria-describedby="status-error"' in bad.text
    assert client.get("/claims", params={"sort": "bogus"}).status_code == 422
    assert client.get("/claims", params={"flagged": "maybe"}).status_code == 422
    # the city sees its region's, the township its own township's only
    page_login(client, "city_lvliang")
    city = client.get("/claims", params={"per_page": "100"}).text
    assert f'href="/claims/{made[0]}"' in city and f'href="/claims/{elsewhere}"' not in city
    page_login(client, "town_b")
    town = client.get("/claims", params={"per_page": "100"}).text
    assert f'href="/claims/{theirs}"' in town and f'href="/claims/{made[0]}"' not in town
    assert client.get(f"/claims/{made[0]}").status_code == 404
    # every role's navigation leads to the claims
    assert 'href="/claims"' in client.get("/").text
