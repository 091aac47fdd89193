from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

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
]

if settings.DEBUG:
    urlpatterns += [path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
