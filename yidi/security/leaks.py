"""Finding unmasked personal data where it must never be: page and API bodies, error pages, log lines.

Used by the test suite (issue 5): `LeakScanMiddleware` reads every response the test client gets and
`LeakLogHandler` every log record; the autouse fixture in the root `conftest.py` fails the test that produced
a hit, naming the URL or logger and the masked value.

What counts as a hit:
- a resident ID number: 18 characters whose GB 11643 check character is right (so hashes, codes and other
  digit runs do not match), standing alone (no letter or digit on either side);
- a mainland mobile number: 11 digits starting 13–19, standing alone.
Masked forms (`110***********1234`, `138****1234`) never match.

What is allowed:
- the responses whose purpose is to show a full value to an authorised person: the audited reveal
  (`privacy_reveal`) and the approved export download (`privacy_export_download`), plus any URL name a test
  adds with `allow_personal_data`;
- a value the request itself carried (a form echoed back with the clerk's own input after a validation error).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig
from django.http.request import RawPostDataException

from yidi.core.identifiers import is_valid_id_number
from yidi.core.masking import MOBILE_IN_TEXT, PersonalKind, mask

_ID = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])")
ALLOWED_URL_NAMES = frozenset({"privacy_reveal", "privacy_export_download"})


@dataclass(frozen=True)
class Leak:
    where: str  # "GET /cases/330681-2026-000001/" or "log yidi.cases"
    kind: str  # "id_number" or "phone"
    masked: str  # the value, masked: the report itself must not leak it

    def __str__(self) -> str:
        label = "身份证号" if self.kind == "id_number" else "手机号"
        return f"{self.where}: 未脱敏的{label} {self.masked}"


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """(kind, value) for every unmasked ID number or mobile number in `text`."""
    found = [("id_number", m.group()) for m in _ID.finditer(text) if is_valid_id_number(m.group())]
    found += [("phone", m.group()) for m in MOBILE_IN_TEXT.finditer(text)]
    return found


def _masked(kind: str, value: str) -> str:
    return mask(value, PersonalKind.ID_NUMBER if kind == "id_number" else PersonalKind.PHONE)


class _Collector:
    """The hits of the current test (one test at a time per process: pytest-xdist runs workers as processes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leaks: list[Leak] = []
        self.extra_allowed: set[str] = set()

    def add(self, where: str, text: str, *, carried: str = "") -> None:
        hits = [
            Leak(where, kind, _masked(kind, value))
            for kind, value in find_personal_data(text)
            if value not in carried
        ]
        if hits:
            with self._lock:
                self._leaks.extend(hits)

    def take(self) -> list[Leak]:
        with self._lock:
            leaks, self._leaks = self._leaks, []
        return leaks


collector = _Collector()


@contextmanager
def allow_personal_data(*url_names: str):
    """Let the named views show full values in the block (a test of an authorised full view)."""
    collector.extra_allowed.update(url_names)
    try:
        yield
    finally:
        collector.extra_allowed.difference_update(url_names)


def _request_text(request) -> str:
    parts = [request.get_full_path()]
    if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        parts += [value for values in request.POST.lists() for value in values[1]]
    else:
        # a body already read as a stream is not carried; an oversized one is refused by the view (413)
        with contextlib.suppress(RawPostDataException, RequestDataTooBig):
            parts.append(request.body.decode("utf-8", "replace"))
    return "\n".join(parts)


class LeakScanMiddleware:
    """Test-only: scan every response body (streamed ones as they stream) for unmasked personal data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        carried = _request_text(request)
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        url_name = match.url_name if match else ""
        if url_name in ALLOWED_URL_NAMES or url_name in collector.extra_allowed:
            return response
        where = f"{request.method} {request.path}"
        if response.streaming:
            response.streaming_content = self._scan_stream(response.streaming_content, where, carried)
        else:
            collector.add(where, response.content.decode("utf-8", "replace"), carried=carried)
            for header, value in response.items():
                collector.add(f"{where} header {header}", value, carried=carried)
        return response

    @staticmethod
    def _scan_stream(chunks: Iterable[bytes], where: str, carried: str) -> Iterator[bytes]:
        tail = b""
        for chunk in chunks:
            # keep the last 40 bytes with the next chunk, so a value split across chunks is still seen
            collector.add(where, (tail + chunk).decode("utf-8", "replace"), carried=carried)
            tail = chunk[-40:]
            yield chunk


class LeakLogHandler(logging.Handler):
    """Test-only: scan every log record (message, arguments and traceback) for unmasked personal data."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: scan its raw text
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        collector.add(f"log {record.name}", text)
