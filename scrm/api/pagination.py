"""Page-number pagination for the API, with a bounded count for lists that can be huge.

`PageNumberPagination` is DRF's, with `?page_size=` (at most 200). `CappedCountPagination`
answers the same shape, `{"count", "next", "previous", "results"}`, but bounds the work its
COUNT(*) may do: an exact count over a sales manager's million visible customers, or over the
millions of messages a one-character keyword matches, costs far more than the page itself
(docs/benchmarks.md#bounded-count-cap). Two bounds:

- rows: it counts at most `count_cap` rows past the requested page;
- time (PostgreSQL, when `count_timeout_ms` is set): a count that has not finished within the
  budget is cancelled, and the page is read with one row more than it shows instead.

The contract for clients, for both classes:

- every page answers `{"count", "count_exact", "next", "previous", "next_page",
  "previous_page", "results"}`: `next` / `previous` are URLs, `next_page` / `previous_page`
  the same pages as numbers, null at either end;
- when neither bound is reached, `count` is exact (`count_exact: true`; the last page is always
  exact: a short page ends the list); otherwise `"count_exact": false` and `count` is a lower
  bound: at least that many results exist. `next` and `previous` are right in every case, so a
  client can keep paging;
- `?page=last` is the real last page: it counts every row (within the time budget; a count
  that runs out of time answers 400 `last_page_unknown`: narrow the list with filters);
- a page beyond the end, or a page number no list can reach (beyond 64 bits), answers 404.
"""

import re
from typing import Any

from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination
from rest_framework.response import Response

from scrm.api.count_backends import bounded_count

# No database takes a LIMIT/OFFSET beyond 64 bits; no list has 2**62 rows.
MAX_ROW = 2**62
LAST = "last"


class LastPageUnknown(exceptions.APIException):
    status_code = 400
    default_detail = _(
        "This list is too long to find its last page in time; narrow it with filters."
    )
    default_code = "last_page_unknown"


def _page_number(number) -> int | None:
    try:
        return int(number)
    except (TypeError, ValueError):
        return None


class BoundedPaginator(Paginator):
    """Django's Paginator; a page number no list can reach is an empty page (404), not SQL."""

    def validate_number(self, number):
        parsed = _page_number(number)
        if parsed is not None and parsed * self.per_page > MAX_ROW:
            raise EmptyPage(self.error_messages["no_results"])
        return super().validate_number(number)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = BoundedPaginator

    def get_page_size(self, request):
        # DRF ignores a page_size it cannot use (`abc`, 0, 10000) and serves the default: a
        # client would never learn its pages are not the size it asked for.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("A whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters

    def page_links(self) -> dict:
        page = self.page
        assert page is not None  # asked after paginate_queryset
        return {
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "next_page": page.next_page_number() if page.has_next() else None,
            "previous_page": page.previous_page_number() if page.has_previous() else None,
        }

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_exact": True,
                **self.page_links(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        # Every page model documents the same fields (a generated client gets one shape), and
        # every page sends them all.
        schema = super().get_paginated_response_schema(schema)
        properties = schema["properties"]
        properties["count"]["description"] = (
            "Exact unless count_exact is false; then at least this many results exist."
        )
        properties["count_exact"] = {
            "type": "boolean",
            "example": True,
            "description": "False when count is a lower bound (at least that many exist).",
        }
        for name, which in (("next_page", "next"), ("previous_page", "previous")):
            properties[name] = {
                "type": "integer",
                "nullable": True,
                "example": 4 if which == "next" else 2,
                "description": f"Number of the {which} page; null when there is none.",
            }
        properties["next"]["description"] = "URL of the next page; null on the last page."
        properties["previous"]["description"] = "URL of the previous page; null on the first page."
        if isinstance(properties["results"], dict):  # drf-spectacular also passes a sentinel
            properties["results"] = {**properties["results"], "description": "This page's rows."}
        schema["required"] = [
            *schema.get("required", []),
            *(
                f
                for f in ("count_exact", "next_page", "previous_page")
                if f not in schema.get("required", [])
            ),
        ]
        return schema


class CappedCountPaginator(BoundedPaginator):
    """A Paginator whose count stops at `cap` rows past the page asked for, or at a deadline."""

    object_list: QuerySet[Any]  # a paginated queryset: counted and sliced in SQL

    def __init__(self, object_list, per_page, *, cap: int, timeout_ms: int | None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.timeout_ms = timeout_ms
        self.wanted_page = 1
        self.capped = False
        self.timed_out = False
        self.wants_last = False

    @cached_property
    def limit(self) -> int:
        return max(self.cap, self.wanted_page * self.per_page)

    @cached_property
    def count(self) -> int:
        if self.wants_last:
            # The real last page needs every row counted: no row cap, the time budget stays.
            counted = self._count_within_budget(self.object_list.order_by())
            if counted is None:
                raise LastPageUnknown()
            return counted
        # COUNT(*) over a LIMITed subquery without ORDER BY: the database stops after limit + 1
        # matching rows instead of visiting all of them.
        counted = self._count_within_budget(self.object_list.order_by()[: self.limit + 1])
        if counted is None:
            self.timed_out = True
            # Provisional: page() reads the page itself and replaces it with what it saw.
            return self.wanted_page * self.per_page + 1
        self.capped = counted > self.limit
        return min(counted, self.limit + 1)

    @property
    def count_exact(self) -> bool:
        return not (self.capped or self.timed_out)

    @property
    def shown_count(self) -> int:
        """`count` as answered: the cap itself when capped (more than it exist)."""
        return self.limit if self.capped else self.count

    def page(self, number):
        if number == LAST:
            self.wants_last = True
            number = self.num_pages
        parsed = _page_number(number)
        if parsed is not None:  # else validate_number reports a bad number
            if parsed * self.per_page > MAX_ROW:
                raise EmptyPage(self.error_messages["no_results"])
            self.wanted_page = max(parsed, 1)
        self.count  # noqa: B018 (counts, and may time out)
        if not self.timed_out:
            return super().page(number)
        return self._page_without_count(self.validate_number(number))

    def _page_without_count(self, number: int):
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        # Everything before this page exists, and what this page saw: exact when it is short.
        self.__dict__["count"] = bottom + len(rows)
        self.__dict__.pop("num_pages", None)
        self.timed_out = len(rows) > self.per_page
        # Paginator._get_page (the hook for a Page subclass) is missing from django-stubs.
        return self._get_page(rows[: self.per_page], number, self)  # type: ignore[attr-defined]

    def _count_within_budget(self, queryset) -> int | None:
        if not self.timeout_ms:
            return queryset.count()
        return bounded_count(queryset.db).within(queryset, self.timeout_ms)


class CappedCountPagination(PageNumberPagination):
    # 1,000 rows past the page: PostgreSQL counts a scope by scanning an index with the scope
    # as a filter, which grows with the cap (docs/benchmarks.md#bounded-count-cap).
    count_cap = 1_000
    count_timeout_ms: int | None = None

    def django_paginator_class(self, object_list, per_page):
        return CappedCountPaginator(
            object_list, per_page, cap=self.count_cap, timeout_ms=self.count_timeout_ms
        )

    def get_page_number(self, request, paginator):
        # DRF turns "last" into paginator.num_pages, which is the last page of the rows
        # *counted* (at most the cap): the paginator counts them all for it instead.
        number = request.query_params.get(self.page_query_param) or 1
        return LAST if number in self.last_page_strings else number

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.shown_count,
                "count_exact": paginator.count_exact,
                **self.page_links(),
                "results": data,
            }
        )
