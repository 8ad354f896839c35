"""Who is looking, for admin columns that are given only the object.

`list_display` callables and read-only fields of a ModelAdmin receive the row, not the request,
but the masking matrix depends on the viewer. ModelAdmin instances are shared between threads,
so the viewer lives in a ContextVar for the duration of the view, and the response is rendered
inside it (a TemplateResponse would otherwise render after the view returned).
"""

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

from scrm.types import AdminMixinBase

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

_viewer: "ContextVar[Viewer | None]" = ContextVar("scrm_admin_viewer", default=None)


def current_viewer() -> "Viewer | None":
    """The user the current admin view renders for (None outside ViewerAdminMixin views)."""
    return _viewer.get()


def rendered_as_viewer(
    request: HttpRequest, view: Callable[..., HttpResponse], *args: object
) -> HttpResponse:
    token = _viewer.set(request.user)
    try:
        response = view(request, *args)
        return response.render() if hasattr(response, "render") else response
    finally:
        _viewer.reset(token)


class ViewerAdminMixin(AdminMixinBase):
    """Changelists and change views render with `current_viewer()` set to the request's user."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        return rendered_as_viewer(request, super().changelist_view, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        return rendered_as_viewer(request, super().change_view, object_id, form_url, extra_context)
