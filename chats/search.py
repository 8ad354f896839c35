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

A viewer who sees message text masked (without chats.reveal_message: scrm.masking.free_text)
searches the masked text instead: a second set of tokens, of `mask_text(text)`, stored at
ingest beside the first (Message.masked_text / masked_search_tokens, indexed the same way: GIN
on PostgreSQL, the FTS5 table `chats_message_masked_fts` on SQLite), and the recheck reads the
masked text.
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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Case, F, QuerySet, When

from chats.search_backends import search_backend
from scrm.access.querysets import ScopedQuerySet
from scrm.masking.detectors import mask_text
from scrm.masking.free_text import shows_raw_content
from scrm.staff.types import Viewer

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

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


def columns_for(user: Viewer) -> _Columns:
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


def search(queryset: ScopedQuerySet[Any], keyword: str, *, user: Viewer) -> QuerySet[Any]:
    """The messages of `queryset` (`Message.objects.visible_to(user)`, maybe filtered) whose
    text contains `keyword`, newest first, found through the token index (on PostgreSQL in the
    plan that suits the keyword and the user's scope: chats.search_backends.PostgresSearch)."""
    # The scope the door applied (not built a second time); a queryset that did not come
    # through the door is refused on every database (LookupError), never searched unscoped.
    queryset.applied_scope  # noqa: B018
    tokens, recheck = keyword_tokens(keyword)
    if not tokens:
        return queryset.none()
    backend = search_backend(queryset.db)
    return backend.newest_first(queryset, keyword, tokens, recheck, columns_for(user), user=user)


def matching(queryset: QuerySet, keyword: str, *, user: "Viewer") -> QuerySet:
    """Messages whose text, as `user` sees it, contains `keyword`, found through the token
    index, in no order (for counting them)."""
    tokens, recheck = keyword_tokens(keyword)
    if not tokens:
        return queryset.none()
    backend = search_backend(queryset.db)
    return backend.matching(queryset, keyword, tokens, recheck, columns_for(user))


def index_messages(rows: list[tuple[int, str]]) -> None:
    """Keep SQLite's FTS5 table in step with new messages (PostgreSQL indexes the column)."""
    search_backend(DEFAULT_DB_ALIAS).index(rows)


def index_masked_messages(rows: list[tuple[int, str]]) -> None:
    """The same for the masked tokens (`masked_tokens(row)`), SQLite's second FTS5 table."""
    search_backend(DEFAULT_DB_ALIAS).index_masked(rows)


def unindex_messages(ids: list[int]) -> None:
    search_backend(DEFAULT_DB_ALIAS).unindex(ids)


def refresh_masked_search(
    message_model, *, using: str = "default", only_missing: bool = True, batch_size: int = 1000
) -> int:
    """(Re)compute the masked search columns in batches of `batch_size` ids; returns how many
    rows changed. `only_missing`: just the rows never computed (the migration's backfill);
    otherwise every row (after a change to the detectors). Each batch is its own transaction
    on the caller's side; a stopped run is resumed by running it again."""
    from django.db import transaction

    changed, last_id = 0, 0
    backend = search_backend(using)
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
            backend.reindex_masked([(m.pk, masked_tokens(m)) for m in stale])
        changed += len(stale)
