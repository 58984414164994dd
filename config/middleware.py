"""Request hygiene that applies to every endpoint, API and dashboard alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

# A JSON \u0000 escape not itself escaped (an even number of backslashes before it, or none).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RejectNulCharactersMiddleware:
    """PostgreSQL cannot store NUL (0x00) in text, so a NUL anywhere in the input would surface as a 500 from
    whichever query first touched it. Refuse it once, at the edge, with a clear answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = self._nul_in(request)
        if where is None:
            return self.get_response(request)
        message = f"The request {where} contains a NUL character (\\u0000), which Patchbay does not accept."
        if request.path.startswith("/api/"):
            error = {"field": where, "message": message, "error_code": "invalid_character"}
            return JsonResponse({"message": message, "errors": [error]}, status=422)
        return HttpResponseBadRequest(message, content_type="text/plain")

    @staticmethod
    def _nul_in(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "path"
        if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
            return "query"
        if request.method not in ("POST", "PUT", "PATCH") or request.content_type.startswith("multipart/"):
            return None  # no uploads here; binary parts would legitimately hold 0x00
        body = request.body  # read once here; Django keeps it for the view and for request.POST
        if request.content_type == "application/x-www-form-urlencoded":
            body = unquote_to_bytes(body.replace(b"+", b" "))
        elif _JSON_NUL.search(body):
            return "body"
        return "body" if b"\x00" in body else None
