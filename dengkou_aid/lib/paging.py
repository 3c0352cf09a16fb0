"""One page of a list and the query string that keeps its filters in the pager's links."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def page_of(request: HttpRequest, items, per_page: int) -> tuple[Page, str]:
    """The page `?page=` asks for (the last one if past the end) and the other GET parameters."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()
