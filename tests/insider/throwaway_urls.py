"""A URLconf with views that forgot their declaration, as the next endpoint might."""

from django.urls import include, path
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from customers.models import Customer
from customers.serializers import CustomerSerializer
from scrm.api.viewsets import ScopedViewSetMixin


class PeekViewSet(ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A scoped viewset whose new action declares no scope (and reads past it)."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer

    @action(detail=True, methods=["get"])
    def peek(self, request, pk=None):
        return Response({"name": Customer.objects.get(pk=pk).name})


class OffTheBaseView(APIView):
    """An APIView that is not on the platform base at all."""

    def get(self, request):
        return Response({"names": list(Customer.objects.values_list("name", flat=True))})


router = SimpleRouter()
router.register("peek", PeekViewSet, basename="peek")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/off-the-base/", OffTheBaseView.as_view(), name="off-the-base"),
]
