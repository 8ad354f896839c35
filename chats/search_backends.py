"""Chat search's database differences, one object per database (chats/search.py calls them).

PostgreSQL matches `string_to_array(tokens, ' ')` through a GIN expression index (migrations
0002 and 0008), which follows the column by itself, and picks its plan from the keyword and the
viewer's scope. SQLite matches the FTS5 tables `chats_message_fts` and
`chats_message_masked_fts` (rowid = message id), which ingest, retention and the masked-search
refresh keep in step through `index`, `index_masked`, `unindex` and `reindex_masked`.

Both take the columns one kind of viewer reads (chats.search.RAW or MASKED) and the keyword's
tokens from chats.search.keyword_tokens.
"""

import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import IContains

from chats.models import is_book, scope_message_q
from customers.models import Customer
from scrm.access.querysets import ScopedQuerySet
from scrm.dbvendor import PerDatabase
from scrm.staff.models import Staff
from scrm.staff.types import Viewer

NEWEST_FIRST = ("-sent_at", "-id")


class PostgresSearch:
    def __init__(self, alias: str):
        self.alias = alias

    def matching(self, queryset: QuerySet, keyword, tokens, recheck, columns) -> QuerySet:
        return queryset.filter(_contains_postgresql(keyword, tokens, recheck, columns))

    def newest_first(
        self,
        queryset: ScopedQuerySet[Any],
        keyword: str,
        tokens: list[str],
        recheck: bool,
        columns: Any,
        *,
        user: Viewer,
    ) -> QuerySet[Any]:
        """The matches in the plan that suits the keyword and the scope
        (docs/benchmarks.md#chat-search-plans).

        - A wide scope (every customer, or most of the staff's books): walk the sent_at index
          backwards and keep the matches.
        - A narrower scope and a rare keyword (its rarest token missing from ANALYZE's
          most-common list): the token index fetches the matches and a sort orders them, where
          the walk would read much of the archive to fill a page. The sort key is an expression
          no index provides, which is what makes the planner take that plan.
        - A team's scope and a common keyword: the walk again, the scope tested before the
          keyword. PostgreSQL orders a row's conditions by estimated cost and would split every
          walked message's token string before the hashed scope lookup; a CASE fixes the order
          (it also hides the condition from the token index, which this plan does not use).
          A rep's book is left to the planner, which starts from the book's customers.
        """
        scope = queryset.applied_scope  # the scope the door applied, not built again
        condition: RawSQL | Case = _contains_postgresql(keyword, tokens, recheck, columns)
        if not scope.everything and not _most_staff(scope):
            if _is_rare(tokens):
                by_sort = Coalesce("sent_at", "sent_at").desc()
                return queryset.filter(condition).order_by(by_sort, "-id")
            if not is_book(scope) and _few_customers(scope):
                # The scope's condition again (the queryset applies it already), to be tested
                # first. (Rooms included: a room member's room messages are in the queryset.)
                condition = Case(When(scope_message_q(scope), then=condition), default=Value(False))
        return queryset.filter(condition).order_by(*NEWEST_FIRST)

    # The GIN index follows the message table: nothing to keep in step.
    def index(self, rows: list[tuple[int, str]]) -> None:
        pass

    def index_masked(self, rows: list[tuple[int, str]]) -> None:
        pass

    def unindex(self, ids: list[int]) -> None:
        pass

    def reindex_masked(self, rows: list[tuple[int, str]]) -> None:
        pass


class SqliteSearch:
    def __init__(self, alias: str):
        self.alias = alias

    def matching(self, queryset: QuerySet, keyword, tokens, recheck, columns) -> QuerySet:
        match = " AND ".join(f'"{token}"' for token in tokens)
        table = columns.fts_table
        condition = RawSQL(
            f"chats_message.id IN (SELECT rowid FROM {table} WHERE {table} MATCH %s)",
            (match,),
            output_field=BooleanField(),
        )
        queryset = queryset.filter(condition)
        if recheck:
            queryset = queryset.filter(IContains(columns.text_expression, keyword.strip()))
        return queryset

    def newest_first(
        self,
        queryset: ScopedQuerySet[Any],
        keyword: str,
        tokens: list[str],
        recheck: bool,
        columns: Any,
        *,
        user: Viewer,
    ) -> QuerySet[Any]:
        return self.matching(queryset, keyword, tokens, recheck, columns).order_by(*NEWEST_FIRST)

    def index(self, rows: list[tuple[int, str]]) -> None:
        """(message id, search tokens) of new messages into the raw FTS5 table."""
        if not rows:
            return
        with connections[self.alias].cursor() as cursor:
            cursor.executemany("INSERT INTO chats_message_fts(rowid, tokens) VALUES (%s, %s)", rows)

    def index_masked(self, rows: list[tuple[int, str]]) -> None:
        """(message id, masked tokens) into the masked FTS5 table; empty tokens are skipped."""
        rows = [row for row in rows if row[1]]
        if not rows:
            return
        with connections[self.alias].cursor() as cursor:
            cursor.executemany(
                "INSERT INTO chats_message_masked_fts(rowid, tokens) VALUES (%s, %s)", rows
            )

    def unindex(self, ids: list[int]) -> None:
        if not ids:
            return
        with connections[self.alias].cursor() as cursor:
            cursor.executemany(
                "DELETE FROM chats_message_fts WHERE rowid = %s", [(i,) for i in ids]
            )
            cursor.executemany(
                "DELETE FROM chats_message_masked_fts WHERE rowid = %s", [(i,) for i in ids]
            )

    def reindex_masked(self, rows: list[tuple[int, str]]) -> None:
        """Replace the masked FTS5 rows of these (message id, masked tokens)."""
        if not rows:
            return
        with connections[self.alias].cursor() as cursor:
            ids = [(pk,) for pk, _ in rows]
            cursor.executemany("DELETE FROM chats_message_masked_fts WHERE rowid = %s", ids)
            cursor.executemany(
                "INSERT INTO chats_message_masked_fts(rowid, tokens) VALUES (%s, %s)",
                [row for row in rows if row[1]],
            )


# Typed as the union: the two classes share no base for PerDatabase to infer.
search_backend: PerDatabase[PostgresSearch | SqliteSearch] = PerDatabase(
    "Chat search", postgresql=PostgresSearch, sqlite=SqliteSearch
)


def _contains_postgresql(keyword: str, tokens: list[str], recheck: bool, columns) -> RawSQL:
    """The same rows as containing every token plus the substring recheck, in a shape whose
    row estimate the planner gets right (docs/benchmarks.md#chat-search-estimates).

    PostgreSQL estimates `tokens @> '{a,b,c}'` as the product of the tokens' frequencies, but
    the bigrams of one word always occur together, so a common word looked rare and its matches
    were all sorted for one page. So when the keyword must be rechecked anyway (every keyword
    with more than one token), the index condition names only its rarest token (from the
    planner's own statistics): the recheck implies every other token, and the estimate is that
    token's true frequency. The recheck is strpos(), the same case-insensitive substring test as
    icontains' UPPER(..) LIKE UPPER(..), because the planner guesses LIKE '%..%' on an
    expression at a fixed small fraction, which again made common keywords look rare.

    The masked columns use the raw index's statistics: masking changes the tokens of a few
    messages only, and the frequencies only rank tokens and tell rare from common.
    """
    sql = f"string_to_array({columns.tokens_sql}, ' ') @> %s::text[]"
    params: tuple = ([_rarest(tokens)] if recheck else tokens,)
    if recheck:
        sql += f" AND strpos(upper({columns.text_sql}), upper(%s)) > 0"
        params += (keyword.strip(),)
    return RawSQL(sql, params, output_field=BooleanField())


def _most_staff(scope) -> bool:
    """Whether the scope covers the books of most of the staff (books are of similar size)."""
    return len(scope.owners) * 2 > Staff.objects.count()


# A team, not a department: few enough customers for their ids to fit PostgreSQL's hash memory
# inside the CASE (work_mem x hash_mem_multiplier). Beyond it the CASE's subplan re-read the ids
# for every message (docs/benchmarks.md#chat-search-narrow-scope).
NARROW_SCOPE_MAX_CUSTOMERS = 50_000


def _few_customers(scope) -> bool:
    """Whether the scope's owners have at most NARROW_SCOPE_MAX_CUSTOMERS (an index-only count)."""
    owned = Customer.objects.filter(owner_id__in=scope.owners).order_by().values("pk")
    return owned[: NARROW_SCOPE_MAX_CUSTOMERS + 1].count() <= NARROW_SCOPE_MAX_CUSTOMERS


def _is_rare(tokens: list[str]) -> bool:
    frequencies = _token_frequencies()
    return any(token not in frequencies for token in tokens)


TOKEN_STATS_SECONDS = 600
_token_stats: dict = {"at": float("-inf"), "frequencies": {}}


def _rarest(tokens: list[str]) -> str:
    """The token with the lowest frequency in the index statistics (absent means rarer still)."""
    frequencies = _token_frequencies()
    return min(tokens, key=lambda token: frequencies.get(token, 0.0))


def _token_frequencies() -> dict[str, float]:
    """Most common tokens and their frequencies, from ANALYZE's statistics on the GIN
    expression index (read on the primary); read at most every TOKEN_STATS_SECONDS per
    process."""
    now = time.monotonic()
    if now - _token_stats["at"] < TOKEN_STATS_SECONDS:
        return _token_stats["frequencies"]
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text, most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'message_search_tokens_gin' AND most_common_elems IS NOT NULL"
        )
        row = cursor.fetchone()
    frequencies = {}
    if row:
        elements = [e.strip('"') for e in row[0].strip("{}").split(",")]
        frequencies = dict(zip(elements, row[1], strict=False))
    _token_stats.update(at=now, frequencies=frequencies)
    return frequencies
