"""Page-number pagination for the API, with a bounded count for lists that can be huge.

`PageNumberPagination` is DRF's, with `?page_size=` (at most 200). `CappedCountPagination`
answers the same shape, `{"count", "next", "previous", "results"}`, but bounds the work its
COUNT(*) may do: an exact count over a sales manager's million visible customers, or over the
millions of messages a one-character keyword matches, costs hundreds of milliseconds to
seconds while the page itself costs a few (docs/benchmarks.md). Two bounds:

- rows: it counts at most `count_cap` rows past the requested page;
- time (PostgreSQL, when `count_timeout_ms` is set): a count that has not finished within the
  budget is cancelled, and the page is read with one row more than it shows instead.

The contract for clients:

- when neither bound is reached, `count` is exact and the response is exactly what
  `PageNumberPagination` answers (the last page is always exact: a short page ends the list);
- otherwise the response carries `"count_exact": false` and `count` is a lower bound: at
  least that many results exist. `next` and `previous` are right in every case, so a client
  can keep paging.

`?page=last` means the last page of the rows counted.
"""

from contextlib import suppress

from django.core.paginator import EmptyPage, Paginator
from django.db import OperationalError, connections, transaction
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.response import Response

QUERY_CANCELED = "57014"  # PostgreSQL SQLSTATE of a statement cancelled by statement_timeout


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema):
        # Every page model documents the same fields (a generated client gets one shape):
        # `count_exact` is only ever sent by CappedCountPagination, and then false.
        schema = super().get_paginated_response_schema(schema)
        properties = schema["properties"]
        properties["count"]["description"] = (
            "Exact unless count_exact is false; then at least this many results exist."
        )
        properties["count_exact"] = {
            "type": "boolean",
            "example": False,
            "description": "Present, and false, only when count is a lower bound.",
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
        return schema


class CappedCountPaginator(Paginator):
    """A Paginator whose count stops at `cap` rows past the page asked for, or at a deadline."""

    def __init__(self, object_list, per_page, *, cap: int, timeout_ms: int | None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.timeout_ms = timeout_ms
        self.wanted_page = 1
        self.capped = False
        self.timed_out = False

    @cached_property
    def limit(self) -> int:
        return max(self.cap, self.wanted_page * self.per_page)

    @cached_property
    def count(self) -> int:
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
        with suppress(TypeError, ValueError):  # validate_number reports a bad number
            self.wanted_page = max(int(number), 1)
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
        return self._get_page(rows[: self.per_page], number, self)

    def _count_within_budget(self, queryset) -> int | None:
        connection = connections[queryset.db]
        if not self.timeout_ms or connection.vendor != "postgresql":
            return queryset.count()
        nested = connection.in_atomic_block
        try:
            # A transaction scopes the timeout: set_config(..., true) lasts until it ends. Inside
            # an outer transaction this is a savepoint, which undoes the setting only when it
            # rolls back, so there the previous value is put back by hand.
            with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
                if nested:
                    cursor.execute("SELECT current_setting('statement_timeout')")
                    previous = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [f"{self.timeout_ms}ms"]
                )
                counted = queryset.count()
                if nested:
                    cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
                return counted
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED:
                return None
            raise


class CappedCountPagination(PageNumberPagination):
    # 1,000 rows past the page: a team lead's count of 26,000 customers took 20 ms at 10,000
    # (PostgreSQL scanned an index with the scope as a filter), 1 ms at 1,000.
    count_cap = 1_000
    count_timeout_ms: int | None = None

    def django_paginator_class(self, object_list, per_page):
        return CappedCountPaginator(
            object_list, per_page, cap=self.count_cap, timeout_ms=self.count_timeout_ms
        )

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        if paginator.count_exact:
            return super().get_paginated_response(data)
        return Response(
            {
                "count": paginator.shown_count,
                "count_exact": False,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )
