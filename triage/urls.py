"""The triage pages, staff only: /triage/issues/<id>/ (queue), …/shortlist/, …/action/."""

from django.contrib import admin
from django.urls import path

from . import views

app_name = "triage"

urlpatterns = [
    path("issues/<int:issue_id>/", admin.site.admin_view(views.queue), name="queue"),
    path("issues/<int:issue_id>/action/", admin.site.admin_view(views.act), name="action"),
    path("issues/<int:issue_id>/shortlist/", admin.site.admin_view(views.shortlist_page), name="shortlist"),
]
