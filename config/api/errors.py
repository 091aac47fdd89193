"""Errors on `/api/` are JSON in DRF's shape, `{"detail": "…"}` in Chinese, wherever they arise.

DRF answers the errors of its own views; these are the rest: a path no route matches (Django's 404 page), a
body over DATA_UPLOAD_MAX_MEMORY_SIZE (`RequestDataTooBig`, Django's 400 page; here 413), a NUL byte in the
query string (PostgreSQL cannot compare text with NUL), and Django's own 400, 403 and 500 handlers.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"
NOT_FOUND = "没有找到该记录或地址，或您无权查看。"
TOO_BIG = "请求内容过大，超过服务器允许的上限。"
NUL = "请求参数中不能包含空字符（NUL，\\x00）。"


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def detail(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})


class ApiErrorsMiddleware:
    """Refuses a NUL byte in an API query string before any view or query sees it, and answers an API path no
    route matches with the JSON 404 even with DEBUG on (Django's technical 404 page would be HTML)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if is_api(request) and "\x00" in "".join(f"{k}{v}" for k, vs in request.GET.lists() for v in vs):
            return detail(NUL, 400)
        response = self.get_response(request)
        if (is_api(request) and response.status_code == 404
                and not response.get("Content-Type", "").startswith("application/json")):
            return detail(NOT_FOUND, 404)
        return response


def page_not_found(request, exception=None):
    if is_api(request):
        return detail(NOT_FOUND, 404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    if is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return detail(TOO_BIG, 413)
        return detail("请求格式有误。", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api(request):
        return detail("您没有执行该操作的权限。", 403)
    return defaults.permission_denied(request, exception)


def server_error(request):
    if is_api(request):
        return detail("服务器内部错误，请稍后重试或联系管理员。", 500)
    return defaults.server_error(request)
