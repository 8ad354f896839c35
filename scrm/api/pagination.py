"""Page-number pagination for the API, with a bounded count for lists that can be huge.

`PageNumberPagination` is DRF's, with `?page_size=` (at most 200). `CappedCountPagination`
answers the same shape, `{"count", "next", "previous", "results"}`, but counts at most
`count_cap` rows past the requested page instead of all of them: an exact COUNT(*) over a
sales manager's million visible customers, or over the millions of messages a one-character
keyword matches, costs hundreds of milliseconds to seconds while the page itself costs a few
(docs/benchmarks.md). The contract:

- when there are at most `count_cap` results (or the requested page reaches further), `count`
  is exact and the response is exactly what `PageNumberPagination` would answer;
- otherwise `count` is a lower bound (there are *more* than `count` results) and the response
  carries `"count_exact": false`; `next` is always right, so a client can keep paging.

`?page=last` means the last page of the counted rows.
"""

from contextlib import suppress

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.response import Response


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class CappedCountPaginator(Paginator):
    """A Paginator whose count stops at `cap` rows beyond the page asked for."""

    def __init__(self, object_list, per_page, *, cap: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.wanted_page = 1

    def page(self, number):
        with suppress(TypeError, ValueError):  # validate_number reports a bad number
            self.wanted_page = max(int(number), 1)
        return super().page(number)

    @cached_property
    def limit(self) -> int:
        return max(self.cap, self.wanted_page * self.per_page)

    @cached_property
    def count(self) -> int:
        # COUNT(*) over a LIMITed subquery without ORDER BY: the database stops after limit + 1
        # matching rows instead of visiting all of them.
        counted = self.object_list.order_by()[: self.limit + 1].count()
        return min(counted, self.limit + 1)

    @property
    def count_exact(self) -> bool:
        return self.count <= self.limit


class CappedCountPagination(PageNumberPagination):
    count_cap = 10_000

    def django_paginator_class(self, object_list, per_page):
        return CappedCountPaginator(object_list, per_page, cap=self.count_cap)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        if paginator.count_exact:
            return super().get_paginated_response(data)
        return Response(
            {
                "count": paginator.limit,
                "count_exact": False,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = (
            f"Exact when count_exact is absent; otherwise more than this many results exist "
            f"(counting stops {self.count_cap:,} rows past the requested page)."
        )
        schema["properties"]["count_exact"] = {
            "type": "boolean",
            "description": "Present (false) only when count is a lower bound.",
        }
        return schema
