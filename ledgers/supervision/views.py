"""The agenda of a 调度会: the page (prints on A4), its Word file and its PDF. Supervisors only: a meeting has
no row scope for clerks (`Meeting.objects.for_user` is empty for them), so they get a 404."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from config.pages import status_page
from config.uploads import content_disposition

from . import documents
from .models import Meeting

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _meeting(request, pk: str) -> Meeting:
    return get_object_or_404(Meeting.objects.for_user(request.user).select_related("task_force"), pk=pk)


@status_page
def meeting_agenda(request, pk: str):
    meeting = _meeting(request, pk)
    return render(request, "ledgers/meeting_agenda.html", {"nav": "ledgers", **documents.agenda_context(meeting)})


def _download(meeting: Meeting, data: bytes, content_type: str, ext: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition("attachment", documents.file_name(meeting, ext),
                                                          f"agenda-{meeting.pk}.{ext}")
    return response


@status_page
def meeting_agenda_docx(request, pk: str):
    meeting = _meeting(request, pk)
    return _download(meeting, documents.agenda_docx(meeting), DOCX, "docx")


@status_page
def meeting_agenda_pdf(request, pk: str):
    meeting = _meeting(request, pk)
    return _download(meeting, documents.agenda_pdf(meeting), "application/pdf", "pdf")
