"""Which database the two heavy chat reads use: the read replica, when one is configured.

Chat search and chat export read the most rows of anything scrm does (a keyword over millions
of messages, an export of a whole team's archive) and can live with the replica's lag: a
message ingested a moment ago appears a moment later. Each names its database with an explicit
`.using(read_replica())` on its message query (chats/api/messages.py MessageSearchView, the
admin search page, chats/export.py export_response); everything else reads and writes the
primary.

Not a global DATABASE_ROUTERS class: a router decides per model, and the same Message model is
also read where lag is wrong (the message list and detail, ingest's duplicate check, retention,
timelines); writes, such as the access event every search and export records, must go to the
primary. The visibility scope is built in Python before the message query (scrm/access/scope.py
loads the owners a team or department covers and the user's unexpired shares, HistoryWindow
the user's window): those lookups stay on the primary, so a revoked share takes effect at once,
and only the one big message query, with the ids it was given, runs on the replica. What still
comes from the replica inside that query: which customers those owners own (a transfer a moment
ago), the user's hidden messages, and a share list over GRANT_IDS_INLINE, which stays a
subquery.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"


def read_replica() -> str:
    """The database alias for lag-tolerant heavy reads: "replica" when DATABASE_REPLICA_URL
    configured one (scrm/settings.py), else "default"."""
    return REPLICA if REPLICA in settings.DATABASES else DEFAULT_DB_ALIAS
