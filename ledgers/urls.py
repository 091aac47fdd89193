from django.urls import path, re_path

from config.ids import ID_PATTERN

from . import views
from .supervision import views as meeting_views

app_name = "ledgers"
urlpatterns = [
    path("", views.ledger_overview, name="overview"),
    # A meeting's id is a row id (config.ids): anything longer is a 404 before any query.
    re_path(rf"^meetings/(?P<pk>{ID_PATTERN})/agenda/$", meeting_views.meeting_agenda, name="meeting-agenda"),
    re_path(rf"^meetings/(?P<pk>{ID_PATTERN})/agenda\.docx$", meeting_views.meeting_agenda_docx,
            name="meeting-agenda-docx"),
    re_path(rf"^meetings/(?P<pk>{ID_PATTERN})/agenda\.pdf$", meeting_views.meeting_agenda_pdf,
            name="meeting-agenda-pdf"),
]
