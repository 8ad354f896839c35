"""Sensitive-word patterns on RE2 (google-re2), whose matching time is linear in the text.

Python's `re` backtracks: a rule like `(a+)+$` against a long message stalled a whole ingest
batch. RE2 refuses what it cannot run in linear time (backreferences, lookaround), which is
how a rule is checked when it is saved (SensitiveWordRule.clean_fields) and run at ingest
(chats.alerts).
"""

import re2


class PatternError(ValueError):
    """A rule pattern the matching engine cannot run; the message says why."""


def _options() -> "re2.Options":
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a refused pattern is reported to the user, not to stderr
    return options


def compile_pattern(pattern: str, *, literal: bool):
    """The compiled RE2 pattern: `literal` matches the text as written, otherwise RE2 syntax.
    Raises PatternError for a pattern RE2 cannot compile."""
    options = _options()
    if literal:
        options.literal = True
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"Not a valid regular expression for the linear-time engine (RE2): {reason}. "
            "Backreferences and lookaround are not supported."
        ) from exc
