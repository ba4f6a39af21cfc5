"""Bearer-token authentication of integration clients for the native API, with the scope each operation needs.

`client_auth("cases:read")` is the `auth=` of an operation: the token must belong to an active client
(`accounts.actions.authenticate_api_client`; otherwise 401 `unauthenticated`) holding that scope (otherwise 403
`forbidden_scope`). `request.auth` is then the `ApiClient`; its service account (`client.user`) is the actor
given to `accounts.access` and the actions.
"""

from ninja.security import HttpBearer

from yidi.accounts.actions import authenticate_api_client
from yidi.accounts.models import ApiClient, ApiScope
from yidi.core.api_errors import register_error


class ScopeMissing(Exception):
    def __init__(self, scope: str):
        self.scope = scope
        super().__init__(f"此客户端没有“{ApiScope(scope).label}”（{scope}）权限")


register_error(ScopeMissing, 403, "forbidden_scope")


class ClientToken(HttpBearer):
    def __init__(self, scope: str):
        self.scope = ApiScope(scope).value
        super().__init__()

    def authenticate(self, request, token: str) -> ApiClient | None:
        client = authenticate_api_client(token)
        if client is None:
            return None
        if not client.has_scope(self.scope):
            raise ScopeMissing(self.scope)
        return client


def client_auth(scope: str) -> ClientToken:
    return ClientToken(scope)
