from offboarding.api import CaseViewSet, RevokedShareViewSet, TransferViewSet
from scrm.api.routes import router

router.register("offboarding/cases", CaseViewSet, basename="offboarding-case")
router.register("offboarding/transfers", TransferViewSet, basename="offboarding-transfer")
router.register(
    "offboarding/revoked-shares", RevokedShareViewSet, basename="offboarding-revoked-share"
)

urlpatterns: list = []
