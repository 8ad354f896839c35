"""Whom a change-log entry names as its actor when a service, not a request, makes the change.

django-auditlog takes the actor from a context its middleware sets for each request. Services
also run from Celery tasks, commands and tests, and they are given their actor explicitly:
`audit_actor(actor)` attributes every entry written inside to it; `attributed` does it for a
whole verb (keyword-only `actor`).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from auditlog.context import auditlog_value, set_extra_data

from scrm.staff.types import Actor

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def audit_actor(actor: Actor | None) -> Iterator[None]:
    """Attribute the auditlog entries written inside to `actor`, then restore the context.

    auditlog's `set_actor` would overwrite the context the auditlog middleware set for the
    request (losing its remote address for these entries, and its actor for every later change
    in the request); this keeps the request's context and restores it afterwards.
    """
    if actor is None:  # the system acting (a scheduled task): nothing to attribute
        yield
        return
    previous = auditlog_value.get(None)
    context = {k: v for k, v in (previous or {}).items() if k != "signal_duid"}
    try:
        with set_extra_data({**context, "actor": actor}):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


def attributed(verb: F) -> F:
    """Decorate a service verb: the entries it writes name its `actor` keyword argument."""

    @wraps(verb)
    def run(*args: Any, **kwargs: Any) -> Any:
        with audit_actor(kwargs.get("actor")):
            return verb(*args, **kwargs)

    return cast(F, run)  # wraps() keeps the signature the callers see
