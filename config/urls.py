from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from projects.views import project_map

from .inbox import notification_open, notifications_page, notifications_read
from .overview import overview
from .project_page import project_detail
from .bulletins import (
    bulletin_detail,
    bulletin_download,
    bulletin_generate_view,
    bulletin_list,
    bulletin_preview,
    bulletin_publish_view,
)
from .rankings import RankingsView, ranking_rows, rankings_page
from .todo import todo_page
from .uploads import serve_upload

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_root")),
    path("", overview, name="home"),
    # 待办 reads all three apps, so it is composed here; notifications are the kit's (config.inbox).
    path("todo/", todo_page, name="todo"),
    path("notifications/", notifications_page, name="notifications"),
    path("notifications/read/", notifications_read, name="notifications-read"),
    path("notifications/<int:pk>/", notification_open, name="notification-open"),
    # The register's own pages first: a project code (年月-地区-…) is never one of their names.
    path("projects/", include("projects.urls")),
    # A project's page reads ledgers and bonds too, so it is composed here, not in `projects`.
    path("projects/<str:code>/", project_detail, name="project-detail"),
    path("map/", project_map, name="map"),
    path("ledgers/", include("ledgers.urls")),
    path("bonds/", include("bonds.urls")),
    # Uploads, in production too: login, the row's scope and safe headers (config.uploads).
    # 排名 and 通报 read all three apps (config.rankings, config.bulletins).
    path("rankings/", rankings_page, name="rankings"),
    path("rankings/rows/", ranking_rows, name="rankings-rows"),
    path("api/rankings/", RankingsView.as_view(), name="api-rankings"),
    path("bulletins/", bulletin_list, name="bulletins"),
    path("bulletins/generate/", bulletin_generate_view, name="bulletin-generate"),
    path("bulletins/<int:pk>/", bulletin_detail, name="bulletin-detail"),
    path("bulletins/<int:pk>/publish/", bulletin_publish_view, name="bulletin-publish"),
    path("bulletins/<int:pk>/preview/", bulletin_preview, name="bulletin-preview"),
    path("bulletins/<int:pk>/<str:fmt>/", bulletin_download, name="bulletin-download"),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve_upload, name="media"),
]

# `/api/` errors are JSON ({"detail": …}); every other path keeps Django's pages.
handler400 = "config.api.errors.bad_request"
handler403 = "config.api.errors.permission_denied"
handler404 = "config.api.errors.page_not_found"
handler500 = "config.api.errors.server_error"
