"""Fixtures of the court exchange tests: 诸暨市人民法院 configured with its API client (unit: the centre), and a
signed-request helper."""

import json
import time

import pytest

from yidi.accounts.actions import do_create_api_client
from yidi.court.actions import do_save_court
from yidi.court.models import Court
from yidi.webhooks.signing import signature_header

SECRET = "court-shared-secret-0123456789"
COURT_NAME = "诸暨市人民法院"


@pytest.fixture
def court_client(db):
    client, token = do_create_api_client(name="zjfy-court", unit_code="centre", scopes=["court:exchange"])
    client.token = token
    return client


@pytest.fixture
def court(court_client, admin):
    court = Court(name=COURT_NAME, code="zjfy", endpoint_url="http://127.0.0.1:9/yidi", api_client=court_client)
    court.secret = SECRET
    return do_save_court(court, actor=admin, fields=["name", "code", "endpoint_url", "api_client"], created=True)


class CourtApi:
    """Signed calls to /api/v1/court/ as the court system."""

    def __init__(self, client, token: str, secret: str = SECRET):
        self.client, self.token, self.secret = client, token, secret

    def post(self, path: str, message, *, secret: str | None = None, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(message, ensure_ascii=False).encode("utf-8")
        return self.client.post(
            f"/api/v1/court{path}", data=body, content_type="application/json",
            headers={"Authorization": f"Bearer {self.token}",
                     "Yidi-Signature": signature_header(secret or self.secret, int(time.time()), body)},
        )

    def get(self, path: str):
        return self.client.get(f"/api/v1/court{path}", headers={"Authorization": f"Bearer {self.token}"})


@pytest.fixture
def court_api(client, court, court_client):
    return CourtApi(client, court_client.token)
