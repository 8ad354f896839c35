"""What a view declares at the read door (scrm.access.door): a scope action, Public or WriteOnly.

Its own module so that the bases that enforce the declarations (scrm.api.viewsets,
scrm.audit.admin_mixins) and the door that classifies every URL by them import it without
importing each other.
"""

from dataclasses import dataclass

from scrm.access.scope import CHANGE, LIST, REVEAL, SHARE, TRANSFER, VIEW


@dataclass(frozen=True)
class Public:
    """No scope, no access event: the answer holds no protected data. Say why."""

    reason: str


@dataclass(frozen=True)
class WriteOnly:
    """A change whose answer is only what the caller just wrote. Say why."""

    reason: str


Declared = str | Public | WriteOnly

SCOPED_READ, WRITE, PUBLIC = "scoped read", "write", "public"
READ_ACTIONS = (LIST, VIEW, REVEAL)
WRITE_ACTIONS = (CHANGE, SHARE, TRANSFER)


def kind_of(declared: object) -> str | None:
    """The class of one declaration, or None when it is not a valid one."""
    if isinstance(declared, Public) and declared.reason:
        return PUBLIC
    if isinstance(declared, WriteOnly) and declared.reason:
        return WRITE
    if declared in READ_ACTIONS:
        return SCOPED_READ
    if declared in WRITE_ACTIONS:
        return WRITE
    return None
