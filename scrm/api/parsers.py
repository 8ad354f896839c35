"""JSON request bodies with bounded nesting.

Python's json module recurses once per nested array or object: a body of 100,000 "[" is a few
hundred kilobytes, well under DATA_UPLOAD_MAX_MEMORY_SIZE, and ends in a RecursionError that
DRF does not catch (a 500). No scrm endpoint takes anything nested more than a few levels, so a
body deeper than SCRM_JSON_MAX_DEPTH is refused as a parse error (400) like malformed JSON.
"""

from collections.abc import Iterable

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def nesting_depth_exceeds(data: object, limit: int) -> bool:
    """Whether arrays and objects inside `data` nest deeper than `limit` (a scalar is 0,
    `[]` is 1, `[{}]` is 2). Iterative, so it is safe on whatever json produced."""
    stack = [(data, 0)]
    children: Iterable[object]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        if depth > limit:
            return True
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return False


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSONParser, refusing bodies nested deeper than SCRM_JSON_MAX_DEPTH with 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.SCRM_JSON_MAX_DEPTH
        too_deep = ParseError(
            _("JSON parse error - arrays and objects nest deeper than %(limit)s.")
            % {"limit": limit}
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # Deeper than the interpreter's recursion limit (about 1,000): certainly too deep.
            raise too_deep from None
        if nesting_depth_exceeds(data, limit):
            raise too_deep
        return data
