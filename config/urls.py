from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from projects.views import project_map

from .overview import overview
from .project_page import project_detail
from .uploads import serve_upload

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_root")),
    path("", overview, name="home"),
    # A project's page reads ledgers and bonds too, so it is composed here, not in `projects`.
    path("projects/<str:code>/", project_detail, name="project-detail"),
    path("projects/", include("projects.urls")),
    path("map/", project_map, name="map"),
    path("ledgers/", include("ledgers.urls")),
    path("bonds/", include("bonds.urls")),
    # Uploads, in production too: login, the row's scope and safe headers (config.uploads).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve_upload, name="media"),
]
