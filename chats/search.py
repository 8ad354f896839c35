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

A viewer who sees message text masked (without chats.reveal_message, chats.display) searches
the masked text instead: a second set of tokens, of `mask_text(text)`, stored at ingest beside
the first (Message.masked_text / masked_search_tokens, indexed the same way: GIN on PostgreSQL,
the FTS5 table `chats_message_masked_fts` on SQLite), and the recheck reads the masked text.
Otherwise a search is an oracle: `?q=1381234` against the raw text tells which hidden middle
a masked `138****5678` has, digit by digit. Refusing digit-bearing keywords was rejected: it
would refuse the visible parts too (the last four digits, order numbers), and masks other than
digits (e-mail addresses, and whatever the detectors learn next) would need their own rules.
Only messages whose masked text differs store a second copy (most chat text holds nothing
sensitive); after a change to the detectors, `manage.py refresh_masked_search --all`
recomputes the stored masked text.
"""

import operator
import re
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections
from django.db.models import BooleanField, Case, F, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import IContains

from chats.display import shows_raw_content
from chats.models import is_book, scope_message_q
from customers.models import Customer
from scrm.access.scope import scope_for
from scrm.masking.detectors import mask_text
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


def search_columns(text: str) -> dict[str, str]:
    """The search columns of a message with this text (ingest, the backfill, factories)."""
    text = text or ""
    shown = mask_text(text)
    differs = shown != text
    return {
        "search_tokens": tokens_for(text),
        "masked_text": shown if differs else "",
        "masked_search_tokens": tokens_for(shown) if differs else "",
    }


def masked_tokens(columns: Any) -> str:
    """The tokens a masked viewer's search matches, from a row's (or a dict's) columns."""
    get: Callable[[str], Any] = (
        columns.get if isinstance(columns, dict) else lambda name: getattr(columns, name)
    )
    if get("masked_text") is None:
        return ""  # not computed yet: not found by masked searches
    return get("search_tokens") if get("masked_text") == "" else get("masked_search_tokens")


class _Columns:
    """What one kind of viewer's search reads: the raw text or the masked text."""

    def __init__(self, tokens_sql: str, text_sql: str, fts_table: str, text_expression):
        self.tokens_sql = tokens_sql
        self.text_sql = text_sql
        self.fts_table = fts_table
        self.text_expression = text_expression


RAW = _Columns("chats_message.search_tokens", "chats_message.text", "chats_message_fts", F("text"))
# NULL masked_text (not computed) falls to the ELSE branches: no tokens, no text, no match.
# The token expression is the one the GIN index of migration 0008_masked_search is built on.
MASKED = _Columns(
    "CASE WHEN chats_message.masked_text = '' THEN chats_message.search_tokens "
    "ELSE chats_message.masked_search_tokens END",
    "CASE WHEN chats_message.masked_text = '' THEN chats_message.text "
    "ELSE chats_message.masked_text END",
    "chats_message_masked_fts",
    Case(When(masked_text="", then=F("text")), default=F("masked_text")),
)


def columns_for(user) -> _Columns:
    return RAW if shows_raw_content(user) else MASKED


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
    columns = columns_for(user)
    if connections[queryset.db].vendor != "postgresql":
        found = _matching_sqlite(queryset, keyword, tokens, recheck, columns)
        return found.order_by("-sent_at", "-id")
    scope = scope_for(user)
    condition: RawSQL | Case = _contains_postgresql(keyword, tokens, recheck, columns)
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


def matching(queryset: QuerySet, keyword: str, *, user) -> QuerySet:
    """Messages whose text, as `user` sees it, contains `keyword`, found through the token
    index, in no order (for counting them)."""
    tokens, recheck = keyword_tokens(keyword)
    if not tokens:
        return queryset.none()
    columns = columns_for(user)
    if connections[queryset.db].vendor == "postgresql":
        return queryset.filter(_contains_postgresql(keyword, tokens, recheck, columns))
    return _matching_sqlite(queryset, keyword, tokens, recheck, columns)


def _matching_sqlite(
    queryset: QuerySet, keyword: str, tokens: list[str], recheck: bool, columns: _Columns
):
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


def _contains_postgresql(
    keyword: str, tokens: list[str], recheck: bool, columns: _Columns = RAW
) -> RawSQL:
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

    The masked columns use the raw index's statistics: masking changes the tokens of a few
    messages only, and the frequencies only rank tokens and tell rare from common.
    """
    sql = f"string_to_array({columns.tokens_sql}, ' ') @> %s::text[]"
    params: tuple = ([_rarest(tokens)] if recheck else tokens,)
    if recheck:
        sql += f" AND strpos(upper({columns.text_sql}), upper(%s)) > 0"
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


def index_masked_messages(rows: list[tuple[int, str]]) -> None:
    """The same for the masked tokens (`masked_tokens(row)`), SQLite's second FTS5 table."""
    rows = [row for row in rows if row[1]]
    if connection.vendor != "sqlite" or not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO chats_message_masked_fts(rowid, tokens) VALUES (%s, %s)", rows
        )


def unindex_messages(ids: list[int]) -> None:
    if connection.vendor != "sqlite" or not ids:
        return
    with connection.cursor() as cursor:
        cursor.executemany("DELETE FROM chats_message_fts WHERE rowid = %s", [(i,) for i in ids])
        cursor.executemany(
            "DELETE FROM chats_message_masked_fts WHERE rowid = %s", [(i,) for i in ids]
        )


def refresh_masked_search(
    message_model, *, using: str = "default", only_missing: bool = True, batch_size: int = 1000
) -> int:
    """(Re)compute the masked search columns in batches of `batch_size` ids; returns how many
    rows changed. `only_missing`: just the rows never computed (the migration's backfill);
    otherwise every row (after a change to the detectors). Each batch is its own transaction
    on the caller's side; a stopped run is resumed by running it again."""
    from django.db import transaction

    changed, last_id = 0, 0
    sqlite = connections[using].vendor == "sqlite"
    while True:
        rows = message_model.objects.using(using).filter(pk__gt=last_id).order_by("pk")
        if only_missing:
            rows = rows.filter(masked_text__isnull=True)
        batch = list(
            rows.only("pk", "text", "search_tokens", "masked_text", "masked_search_tokens")[
                :batch_size
            ]
        )
        if not batch:
            return changed
        last_id = batch[-1].pk
        stale = []
        for message in batch:
            fresh = search_columns(message.text)
            if (message.masked_text, message.masked_search_tokens) != (
                fresh["masked_text"],
                fresh["masked_search_tokens"],
            ):
                message.masked_text = fresh["masked_text"]
                message.masked_search_tokens = fresh["masked_search_tokens"]
                stale.append(message)
        with transaction.atomic(using=using):
            message_model.objects.using(using).bulk_update(
                stale, ["masked_text", "masked_search_tokens"], batch_size=batch_size
            )
            if sqlite and stale:
                with connections[using].cursor() as cursor:
                    ids = [(m.pk,) for m in stale]
                    cursor.executemany("DELETE FROM chats_message_masked_fts WHERE rowid = %s", ids)
                    rows_in = [(m.pk, masked_tokens(m)) for m in stale if masked_tokens(m)]
                    cursor.executemany(
                        "INSERT INTO chats_message_masked_fts(rowid, tokens) VALUES (%s, %s)",
                        rows_in,
                    )
        changed += len(stale)
