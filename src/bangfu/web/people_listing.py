"""How the people list is shown: order, page size and page, read from the URL and written back into it.

Everything the list shows is in its URL (filters, ``sort``, ``per_page``, ``page``), so a link or a
bookmark brings back the same page; bad values are answered beside their field, never ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from bangfu.registry.queries import PEOPLE_SORTS

PER_PAGE_CHOICES = (20, 50, 100)
FILTERS = ("id_number", "name", "region", "category", "work", "village")
PAGES_AROUND = 2  # page numbers shown on each side of the current one


@dataclass(frozen=True)
class FieldError:
    """A message for the person, and the form field it is about (None: the form as a whole)."""

    message: str
    field: str | None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Listing:
    sort: str
    per_page: int
    page: int
    error: FieldError | None = None


def people_listing(sort: str, per_page: str, page: str) -> Listing:
    """The listing the URL asks for; a bad value keeps the default and carries the message for its field."""
    key = sort.strip() or "name"
    if key.removeprefix("-") not in PEOPLE_SORTS:
        return Listing("name", PER_PAGE_CHOICES[0], 1, FieldError(f"排序方式“{key}”无效，请从列表中选择", "sort"))
    size = int(per_page) if per_page.strip().isdigit() else 0
    if size not in PER_PAGE_CHOICES:
        choices = "、".join(str(n) for n in PER_PAGE_CHOICES)
        return Listing(
            key, PER_PAGE_CHOICES[0], 1, FieldError(f"每页条数应为 {choices} 之一，实为“{per_page}”", "per_page")
        )
    number = int(page) if page.strip().isdigit() else 0
    if number < 1:
        return Listing(key, size, 1, FieldError(f"页码应为从 1 开始的整数，实为“{page}”", "page"))
    return Listing(key, size, number)


def people_url(filters: dict[str, str], listing: Listing, **changes: object) -> str:
    """The list's URL with ``changes`` (sort, per_page, page); empty filters left out."""
    values: dict[str, object] = {key: filters[key] for key in FILTERS if filters.get(key)}
    values |= {"sort": listing.sort, "per_page": listing.per_page, "page": listing.page} | changes
    return "/people?" + urlencode(values)


def export_url(filters: dict[str, str]) -> str:
    """The export of the list's filters."""
    values = {key: filters[key] for key in FILTERS if filters.get(key)}
    return "/people/export" + (f"?{urlencode(values)}" if values else "")


def page_numbers(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and those around ``page``; None where some are skipped."""
    shown = sorted({1, pages, *range(max(1, page - PAGES_AROUND), min(pages, page + PAGES_AROUND) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def sort_link(filters: dict[str, str], listing: Listing, key: str) -> tuple[str, str]:
    """(URL, aria-sort value) of a column head: sorting by ``key``, or reversing it when it is the sort."""
    if listing.sort == key:
        return people_url(filters, listing, sort=f"-{key}", page=1), "ascending"
    if listing.sort == f"-{key}":
        return people_url(filters, listing, sort=key, page=1), "descending"
    return people_url(filters, listing, sort=key, page=1), "none"


def people_listing_helpers() -> dict[str, object]:
    """What the people templates use to write the list's links and choices."""
    sort_choices = [(key, label) for key, (label, _) in PEOPLE_SORTS.items()]
    sort_choices += [(f"-{key}", f"{label}（倒序）") for key, (label, _) in PEOPLE_SORTS.items()]
    return {
        "people_url": people_url,
        "export_url": export_url,
        "sort_link": sort_link,
        "page_numbers": page_numbers,
        "sort_choices": sort_choices,
        "per_page_choices": PER_PAGE_CHOICES,
    }
