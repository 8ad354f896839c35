from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api.schema import FIRST_ROW_ID, links
from scrm.api.viewsets import DeclaredScopeMixin, Public
from scrm.staff import roles
from scrm.staff.models import Staff

if TYPE_CHECKING:
    from scrm.staff.types import Viewer


class StaffDirectorySerializer(serializers.ModelSerializer):
    """The colleague directory: enough to pick a colleague, nothing personal."""

    display_name = serializers.SerializerMethodField()
    department = serializers.CharField(
        source="department.name",
        default=None,
        allow_null=True,
        help_text="Name of the staff member's department; null when they have none.",
    )
    team = serializers.CharField(
        source="team.name",
        default=None,
        allow_null=True,
        help_text="Name of the staff member's team; null when they have none.",
    )

    class Meta:
        model = Staff
        fields = ["id", "username", "display_name", "department", "team", "employment_status"]

    def get_display_name(self, obj) -> str:
        return obj.display_name


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


class ColleagueSerializer(StaffDirectorySerializer):
    """The directory as colleagues see it: whether someone is serving their notice is HR's
    business (a rep who knows it can poach the leaver's customers, or press them)."""

    class Meta(StaffDirectorySerializer.Meta):
        fields = [f for f in StaffDirectorySerializer.Meta.fields if f != "employment_status"]


def sees_employment_status(user: "Viewer") -> bool:
    if not user.is_authenticated:  # the schema generator asks as an anonymous user
        return False
    return user.is_superuser or bool(user.role_names & {roles.HR, roles.ADMINISTRATOR})


class StaffDirectoryViewSet(DeclaredScopeMixin, viewsets.ReadOnlyModelViewSet):
    """Colleagues to pick from. Employment status (and filtering by it) is for HR and
    administrators only; everyone sees their own at /api/v1/me/."""

    queryset = Staff.objects.filter(is_active=True).select_related("department", "team")
    serializer_class = StaffDirectorySerializer
    filterset_fields = ["department", "team", "employment_status"]
    response_links = {"staff_list": links("staff_retrieve", id=FIRST_ROW_ID)}
    scope_actions = {
        "list": Public("the colleague directory: names and teams to pick a colleague"),
        "retrieve": Public("the colleague directory: names and teams to pick a colleague"),
    }

    def get_serializer_class(self):
        if sees_employment_status(self.request.user):
            return StaffDirectorySerializer
        return ColleagueSerializer

    def filter_queryset(self, queryset):
        # Refused with a clear 403 rather than silently ignored, so the caller is not misled
        # into reading the unfiltered list as "everyone is in notice".
        if "employment_status" in self.request.query_params and not sees_employment_status(
            self.request.user
        ):
            raise PermissionDenied(
                _("Filtering by employment status is for HR and administrators.")
            )
        return super().filter_queryset(queryset)


class MeView(DeclaredScopeMixin, APIView):
    scope_actions = {"get": Public("the caller's own staff record")}

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


me = MeView.as_view()
