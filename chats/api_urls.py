from django.urls import path

from chats.api.export import ChatExportView
from chats.api.messages import (
    ConversationViewSet,
    CustomerTimelineView,
    MessageSearchView,
    MessageViewSet,
)
from scrm.api.routes import router

router.register("chats/conversations", ConversationViewSet, basename="conversation")
router.register("chats/messages", MessageViewSet, basename="message")

urlpatterns = [
    path("chats/search/", MessageSearchView.as_view(), name="chat-search"),
    path("chats/export/", ChatExportView.as_view(), name="chat-export"),
    path("customers/<id:pk>/timeline/", CustomerTimelineView.as_view(), name="customer-timeline"),
]
