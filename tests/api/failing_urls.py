"""The project's URLs plus views that fail on purpose (tests.api.test_json_errors)."""

from django.http import HttpResponse
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from scrm.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("secret traceback detail")


def form_fields(request):
    return HttpResponse(str(len(request.POST)))


@api_view(["GET"])
@permission_classes([AllowAny])
def drf_boom(request):
    raise RuntimeError("secret traceback detail")


urlpatterns = [
    path("api/v1/test-boom/", boom),
    path("api/v1/test-drf-boom/", drf_boom),
    path("api/v1/test-form/", form_fields),
    path("admin-boom/", boom),
    *project_urlpatterns,
]
