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

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL


def _runs(text: str) -> list[str]:
    runs, current = [], []
    for char in text.lower():
        if char.isalnum():
            current.append(char)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def tokens_for(text: str) -> str:
    tokens: dict[str, None] = {}  # ordered and distinct
    for run in _runs(text or ""):
        tokens.update(dict.fromkeys(run))
        tokens.update(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))
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
        condition = RawSQL(
            "string_to_array(chats_message.search_tokens, ' ') @> %s::text[]",
            (tokens,),
            output_field=BooleanField(),
        )
    else:
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
