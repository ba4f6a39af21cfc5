"""The request's source address, made available to the audit log without passing requests into actions."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_source_ip: ContextVar[str | None] = ContextVar("source_ip", default=None)


def current_source_ip() -> str | None:
    return _source_ip.get()


@contextmanager
def source_ip(address: str | None) -> Iterator[None]:
    """Write as if for a request from `address` (a batch writing other requests' rows records their address)."""
    token = _source_ip.set(address)
    try:
        yield
    finally:
        _source_ip.reset(token)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _source_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _source_ip.reset(token)
