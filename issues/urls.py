from django.urls import path, re_path

from . import views

app_name = "issues"

urlpatterns = [
    path("", views.home, name="home"),
    path("issues/<slug:slug>/", views.issue_detail, name="issue"),
    re_path(r"^papers/(?P<arxiv_id>[\w.\-]+(?:/\d{7})?)/$", views.paper_detail, name="paper"),
    path("authors/<slug:slug>/", views.author_detail, name="author"),
]
