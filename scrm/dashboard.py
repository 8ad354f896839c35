"""The admin home page as each role's work: panels the apps register, shown to whom they fit.

An app registers a panel in its AppConfig.ready() with `register_panel(...)`; the platform
knows no app, it only asks each panel whether this viewer gets it and what it shows.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    key: str
    template: str  # renders `panel` (the dict build returned)
    build: Callable[[HttpRequest], dict[str, Any] | None]  # None: not for this viewer
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _PANELS[panel.key] = panel


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        data = panel.build(request)
        if data is not None:
            shown.append({"key": panel.key, "template": panel.template, "data": data})
    return shown
