from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from projects.uploads import serve_upload

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api")),
    path("", views.overview, name="home"),
    # A project's page reads ledgers and bonds too, so it is composed here, not in `projects`.
    path("projects/<str:code>/", views.project_detail, name="project-detail"),
    path("projects/", include("projects.urls")),
    path("ledgers/", include("ledgers.urls")),
    path("bonds/", include("bonds.urls")),
    # Uploads, in production too: login, the row's scope and safe headers (projects.uploads).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve_upload, name="media"),
]
