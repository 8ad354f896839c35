from customers.api import CustomerViewSet
from scrm.api.routes import router

router.register("customers", CustomerViewSet, basename="customer")

urlpatterns: list = []
