"""The site's URLs plus paths that fail on purpose, to see the error pages a person would see."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("bad host")


urlpatterns = [path("boom/", boom), path("forbidden/", forbidden), path("suspicious/", suspicious), *urlpatterns]
