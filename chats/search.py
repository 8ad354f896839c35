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
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

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


def matching(queryset: QuerySet, keyword: str) -> QuerySet:
    """Messages whose text contains `keyword`, found through the token index."""
    tokens, recheck = keyword_tokens(keyword)
    if not tokens:
        return queryset.none()
    if connection.vendor == "postgresql":
        return _matching_postgresql(queryset, keyword, tokens, recheck)
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


def _matching_postgresql(queryset: QuerySet, keyword: str, tokens: list[str], recheck: bool):
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
    index_tokens = [_rarest(tokens)] if recheck else tokens
    queryset = queryset.filter(
        RawSQL(
            "string_to_array(chats_message.search_tokens, ' ') @> %s::text[]",
            (index_tokens,),
            output_field=BooleanField(),
        )
    )
    if recheck:
        queryset = queryset.filter(
            RawSQL(
                "strpos(upper(chats_message.text), upper(%s)) > 0",
                (keyword.strip(),),
                output_field=BooleanField(),
            )
        )
    return queryset


def newest_first(queryset: QuerySet, keyword: str, *, narrow: bool) -> QuerySet:
    """Matches newest first, in the plan that suits the keyword and the scope (PostgreSQL).

    Walking the sent_at index backwards and keeping the matches finds a page of a common
    keyword within a few thousand rows. For a rare keyword in a narrow scope (a team lead's
    customers over 31 days) the same walk reads hundreds of thousands of messages to fill the
    page (1.7 s for 46 matches of 退款). The keyword is rare when its rarest token is missing
    from ANALYZE's most-common list: it then matches at most ~0.3 % of the messages, which the
    token index fetches and a sort orders. The sort key is written as an expression no index
    provides, which is what makes the planner take that plan.
    """
    if connections[queryset.db].vendor == "postgresql" and narrow:
        tokens, _recheck = keyword_tokens(keyword)
        frequencies = _token_frequencies()
        if any(token not in frequencies for token in tokens):
            return queryset.order_by(Coalesce("sent_at", "sent_at").desc(), "-id")
    return queryset.order_by("-sent_at", "-id")


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
