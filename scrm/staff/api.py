from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api.viewsets import DeclaredScopeMixin, Public
from scrm.staff.models import Staff


class StaffDirectorySerializer(serializers.ModelSerializer):
    """The colleague directory: enough to pick a colleague, nothing personal."""

    display_name = serializers.SerializerMethodField()
    department = serializers.CharField(source="department.name", default=None)
    team = serializers.CharField(source="team.name", default=None)

    class Meta:
        model = Staff
        fields = ["id", "username", "display_name", "department", "team", "employment_status"]

    def get_display_name(self, obj) -> str:
        return obj.get_full_name() or obj.username


class MeSerializer(StaffDirectorySerializer):
    roles = serializers.SerializerMethodField()

    class Meta(StaffDirectorySerializer.Meta):
        fields = [
            *StaffDirectorySerializer.Meta.fields,
            "email",
            "is_superuser",
            "roles",
            "wecom_userid",
            "supervisor",
        ]

    def get_roles(self, obj) -> list[str]:
        return sorted(obj.role_names)


class StaffDirectoryViewSet(DeclaredScopeMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Staff.objects.filter(is_active=True).select_related("department", "team")
    serializer_class = StaffDirectorySerializer
    filterset_fields = ["department", "team", "employment_status"]
    scope_actions = {
        "list": Public("the colleague directory: names and teams to pick a colleague"),
        "retrieve": Public("the colleague directory: names and teams to pick a colleague"),
    }


class MeView(DeclaredScopeMixin, APIView):
    scope_actions = {"get": Public("the caller's own staff record")}

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


me = MeView.as_view()
