"""Chinese keyword search that uses an index on both databases.

Neither pg_trgm (no trigrams for CJK under a C locale, none for queries under 3 characters) nor
SQLite's FTS5 trigram tokenizer (nothing under 3 characters) finds 1-2 character Chinese
keywords through an index. So at ingest each message stores its distinct characters and
character bigrams as space-separated tokens:

    "你好吗" -> "你 好 吗 你好 好吗"

A 1-character keyword matches a unigram, a 2-character keyword a bigram, a longer one every
one of its bigrams and then an exact substring recheck on the text. PostgreSQL indexes
`string_to_array(search_tokens, ' ')` with GIN (migration 0002); SQLite keeps an FTS5 table
`chats_message_fts` whose rowid is the message id.
"""

import operator
import re
import time

from django.db import connection, connections
from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from chats.models import is_book, scope_message_q
from customers.models import Customer
from scrm.access.scope import scope_for
from scrm.staff.models import Staff

# Runs of letters and digits: [^\W_] is exactly str.isalnum() (\w is isalnum plus "_").
_RUN = re.compile(r"[^\W_]+")


def _runs(text: str) -> list[str]:
    return _RUN.findall(text.lower())


def tokens_for(text: str) -> str:
    tokens: dict[str, None] = {}  # ordered and distinct
    for run in _runs(text or ""):
        tokens.update(dict.fromkeys(run))
        tokens.update(dict.fromkeys(map(operator.add, run, run[1:])))
    return " ".join(tokens)


def keyword_tokens(keyword: str) -> tuple[list[str], bool]:
    """The tokens a keyword needs, and whether matches must be rechecked against the text."""
    runs = _runs(keyword)
    needed: dict[str, None] = {}
    for run in runs:
        if len(run) == 1:
            needed[run] = None
        else:
            needed.update(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))
    recheck = len(runs) > 1 or any(len(run) > 2 for run in runs) or keyword.strip() != "".join(runs)
    return list(needed), recheck


def search(queryset: QuerySet, keyword: str, *, user) -> QuerySet:
    """The messages of `queryset` (`Message.objects.visible_to(user)`, maybe filtered) whose
    text contains `keyword`, newest first, found through the token index in the plan that
    suits the keyword and the user's scope (PostgreSQL).

    - A wide scope (every customer, or the books of most of the staff: legal, the manager of
      the whole sales tree): walk the sent_at index backwards and keep the matches. A page of
      a common keyword is found within a few thousand rows, of a rare one in 0.1-0.2 s.
    - A narrower scope (a rep's book, a team, a region) and a rare keyword (its rarest token
      missing from ANALYZE's most-common list: at most ~0.3 % of the messages): the token
      index fetches the matches and a sort orders them; walking read hundreds of thousands of
      messages to fill a page (1.7 s for 46 matches of 退款). The sort key is an expression no
      index provides, which is what makes the planner take that plan. For the whole sales
      tree the sort cost more than the walk (p95 386 ms against 198-256 ms for 退款); for a
      region, a fifth of the customers, less (418 ms against 561 ms; docs/benchmarks.md).
    - A team's scope and a common keyword: the walk again, testing the scope before the
      keyword. PostgreSQL orders a row's conditions by their estimated cost and put the token
      test (splitting the message's token string) before the scope's hashed lookup, so a team
      lead's walk over 80,000 recent messages split every one of them: 150 ms, against 55 ms
      when only the team's 3 % are split. A CASE fixes the order; it also hides the condition
      from the token index, which this plan does not use. A rep's book is left to the
      planner, which starts from the book's customers.
    """
    tokens, recheck = keyword_tokens(keyword)
    if not tokens:
        return queryset.none()
    if connections[queryset.db].vendor != "postgresql":
        return _matching_sqlite(queryset, keyword, tokens, recheck).order_by("-sent_at", "-id")
    scope = scope_for(user)
    condition = _contains_postgresql(keyword, tokens, recheck)
    if not scope.everything and not _most_staff(scope):
        if _is_rare(tokens):
            by_sort = Coalesce("sent_at", "sent_at").desc()
            return queryset.filter(condition).order_by(by_sort, "-id")
        if not is_book(scope) and _few_customers(scope):
            # The scope's condition again (the queryset applies it already), to be tested first.
            # (Rooms included: a room member's room messages are in the queryset too.)
            condition = Case(When(scope_message_q(scope), then=condition), default=Value(False))
    return queryset.filter(condition).order_by("-sent_at", "-id")


def _most_staff(scope) -> bool:
    """Whether the scope covers the books of most of the staff (books are of similar size)."""
    return len(scope.owners) * 2 > Staff.objects.count()


# A team, not a department: few enough customers for their ids to fit PostgreSQL's hash
# memory inside the CASE (work_mem x hash_mem_multiplier: 8 MB by default, some 50 bytes an
# id). Beyond it the CASE's subplan re-read the ids for every message: a sales manager's 990,000
# customers took 201 s.
NARROW_SCOPE_MAX_CUSTOMERS = 50_000


def _few_customers(scope) -> bool:
    """Whether the scope's owners have at most NARROW_SCOPE_MAX_CUSTOMERS (an index-only count)."""
    owned = Customer.objects.filter(owner_id__in=scope.owners).order_by().values("pk")
    return owned[: NARROW_SCOPE_MAX_CUSTOMERS + 1].count() <= NARROW_SCOPE_MAX_CUSTOMERS


def matching(queryset: QuerySet, keyword: str) -> QuerySet:
    """Messages whose text contains `keyword`, found through the token index, in no order
    (for counting them)."""
    tokens, recheck = keyword_tokens(keyword)
    if not tokens:
        return queryset.none()
    if connections[queryset.db].vendor == "postgresql":
        return queryset.filter(_contains_postgresql(keyword, tokens, recheck))
    return _matching_sqlite(queryset, keyword, tokens, recheck)


def _matching_sqlite(queryset: QuerySet, keyword: str, tokens: list[str], recheck: bool):
    match = " AND ".join(f'"{token}"' for token in tokens)
    condition = RawSQL(
        "chats_message.id IN (SELECT rowid FROM chats_message_fts "
        "WHERE chats_message_fts MATCH %s)",
        (match,),
        output_field=BooleanField(),
    )
    queryset = queryset.filter(condition)
    if recheck:
        queryset = queryset.filter(text__icontains=keyword.strip())
    return queryset


def _contains_postgresql(keyword: str, tokens: list[str], recheck: bool) -> RawSQL:
    """The same rows as containing every token plus the substring recheck, in a shape whose
    row estimate the planner gets right.

    PostgreSQL estimates `tokens @> '{a,b,c}'` as the product of the tokens' frequencies, but
    the bigrams of one word always occur together: for 企业微信 it expected 113 rows instead of
    226,725, sorted them all for the newest 50, and took 15 s. So when the keyword must be
    rechecked anyway (every keyword with more than one token), the index condition names only
    its rarest token (from the planner's own statistics): the substring recheck implies every
    other token, and the estimate is that token's true frequency. The recheck is written with
    strpos(), the same case-insensitive substring test as icontains' UPPER(..) LIKE UPPER(..),
    because LIKE '%..%' on an expression is guessed at 0.5 %, which again made 2 % look rare.
    """
    sql = "string_to_array(chats_message.search_tokens, ' ') @> %s::text[]"
    params: tuple = ([_rarest(tokens)] if recheck else tokens,)
    if recheck:
        sql += " AND strpos(upper(chats_message.text), upper(%s)) > 0"
        params += (keyword.strip(),)
    return RawSQL(sql, params, output_field=BooleanField())


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
    expression index; read at most every TOKEN_STATS_SECONDS per process."""
    now = time.monotonic()
    if now - _token_stats["at"] < TOKEN_STATS_SECONDS:
        return _token_stats["frequencies"]
    with connection.cursor() as cursor:
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


def index_messages(rows: list[tuple[int, str]]) -> None:
    """Keep SQLite's FTS5 table in step with new messages (PostgreSQL indexes the column)."""
    if connection.vendor != "sqlite" or not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO chats_message_fts(rowid, tokens) VALUES (%s, %s)", rows)


def unindex_messages(ids: list[int]) -> None:
    if connection.vendor != "sqlite" or not ids:
        return
    with connection.cursor() as cursor:
        cursor.executemany("DELETE FROM chats_message_fts WHERE rowid = %s", [(i,) for i in ids])
