"""已发放明细: the benefit ledger entries behind the dashboard's money figures, by fund, year and region.

Read-only and scoped like every read (``registry.ledger_list``); the dashboard's bars link here with the
fund and year of the figure, so that a total can be checked entry by entry.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bangfu.registry.ledger_list import FUND_CHOICES, LedgerFilters, fund_label, search_ledger
from bangfu.registry.queries import QueryError
from bangfu.web.deps import Db, PageViewer, app_context
from bangfu.web.people_listing import FieldError
from bangfu.web.routes.pages import render

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


def _year(text: str) -> int | None:
    """The year field: blank is every year; anything but four digits is refused beside the field."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if not (cleaned.isdigit() and len(cleaned) == 4):
        raise QueryError(f"年度应为四位数字（如 2024），实为“{cleaned}”", "year")
    return int(cleaned)


@router.get("/ledger")
def ledger_page(
    request: Request, session: Db, viewer: PageViewer, fund: str = "", year: str = "", region: str = "", page: int = 1
) -> Response:
    filters = {"fund": fund.strip(), "year": year.strip(), "region": region.strip()}
    error: FieldError | None = None
    found = None
    total_fen = 0
    try:
        asked = LedgerFilters(filters["fund"] or None, _year(filters["year"]), filters["region"] or None)
        found, total_fen = search_ledger(
            session.connection(), viewer.scope, asked, app_context(request).policies, page=max(page, 1),
            per_page=PER_PAGE,
        )  # fmt: skip
    except QueryError as exc:
        error = FieldError(str(exc), exc.field)
    query = {key: value for key, value in filters.items() if value}
    return render(
        request, "ledger.html", status_code=422 if error else 200, viewer=viewer, active="dashboard",
        filters=filters, found=found, total_fen=total_fen, error=error,
        funds=[(fund, fund_label(fund)) for fund in FUND_CHOICES],
        page_link=lambda number: "/ledger?" + urlencode({**query, "page": number}),
    )  # fmt: skip
