"""A fake court for tests and the demo: a small standalone HTTP server (standard library only, no Django).

    python -m yidi.court.fake --port 8200 --yidi-url http://127.0.0.1:8000 --token TOKEN --code zjfy \
        --name 诸暨市人民法院 [--send-referral] [--answer-delay 3]
    (the shared signing secret is read from the environment variable YIDI_COURT_SECRET, or --secret)

What it does, like a court would (docs/court-exchange.md):
- receives our messages at `POST /yidi`, verifies the signature (`Yidi-Signature`, HMAC-SHA256 with the shared
  secret over "<timestamp>.<raw body>"; a bad or stale one is answered 401 and recorded as refused) and handles
  each `message_id` once (a redelivery is answered 200 and changes nothing);
- answers by calling our API back: a `filing` is accepted (立案) with a generated case number "(<year>)浙0681民初<n>号";
  a `confirmation_application` is accepted with "(<year>)浙0681民特<n>号" and then ruled on (confirmed, or
  rejected with `--reject`); `referral_status` reports are only recorded;
- sends a referral in (`send_referral`, or `--send-referral` at start-up);
- `GET /messages` lists what it received (type, message id, matter), without the parties.

In tests, start it in a thread (`FakeCourt(...).start()`), deliver the outbox, then `answer_pending()` sends the
queued answers at once; the command line sends them every `--answer-delay` seconds.
"""

import argparse
import itertools
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from yidi.webhooks.signing import signature_header, verify_signature

FORMAT = "yidi-court/1"
SHANGHAI = timezone(timedelta(hours=8))
MAX_BODY = 2 * 1024 * 1024
TIMEOUT_SECONDS = 10


def today() -> date:
    return datetime.now(SHANGHAI).date()


@dataclass
class Call:
    """One call of ours to yidi's API: the path, the message sent, and the answer."""

    path: str
    message: dict
    status: int
    answer: dict


@dataclass
class FakeCourt:
    code: str
    name: str
    secret: str
    yidi_url: str
    token: str
    host: str = "127.0.0.1"
    port: int = 0
    reject: bool = False  # rule against judicial confirmations
    received: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    pending: list[tuple[str, dict]] = field(default_factory=list)
    # how calls reach yidi: None is HTTP (urllib); tests pass a function (url, body, headers) -> (status, body)
    poster: Callable[[str, bytes, dict[str, str]], tuple[int, bytes]] | None = None

    def __post_init__(self):
        self._lock = threading.Lock()
        self._numbers = itertools.count(101)
        self._messages = itertools.count(1)
        self._seen: set[str] = set()
        self._server: ThreadingHTTPServer | None = None

    # --- the server ------------------------------------------------------------------------------------------

    def start(self) -> "FakeCourt":
        court = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != "/yidi" or length > MAX_BODY:
                    self._answer(404 if self.path != "/yidi" else 413, {"error": "not accepted"})
                    return
                body = self.rfile.read(length)
                status, answer = court.receive(self.headers.get("Yidi-Signature", ""), body)
                self._answer(status, answer)

            def do_GET(self):
                if self.path != "/messages":
                    self._answer(404, {"error": "not found"})
                    return
                with court._lock:
                    listing = [{"type": m.get("type"), "message_id": m.get("message_id"),
                                "case": (m.get("case") or {}).get("code") or (m.get("referral") or {}).get("case_code")}
                               for m in court.received]
                self._answer(200, {"court": court.code, "received": listing, "refused": len(court.refused)})

            def _answer(self, status: int, answer: dict):
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):  # the bodies carry personal data: log nothing
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/yidi"

    def receive(self, signature: str, body: bytes) -> tuple[int, dict]:
        """Handle one of our messages: verify, record once, queue the court's answers."""
        if not verify_signature(self.secret, signature, body, time.time()):
            with self._lock:
                self.refused.append("invalid signature")
            return 401, {"error": "invalid signature"}
        try:
            message = json.loads(body)
        except ValueError:
            return 400, {"error": "malformed json"}
        if not isinstance(message, dict) or message.get("format") != FORMAT:
            return 400, {"error": "unsupported format"}
        with self._lock:
            key = message.get("message_id", "")
            if key in self._seen:
                return 200, {"received": key, "duplicate": True}
            self._seen.add(key)
            self.received.append(message)
            self._queue_answers(message)
        return 200, {"received": key}

    def _queue_answers(self, message: dict) -> None:
        year = today().year
        if message.get("type") == "filing":
            number = f"({year})浙0681民初{next(self._numbers)}号"
            self.pending.append(("/acceptances", self._message("acceptance", {
                "in_reply_to": message["message_id"], "court_case_number": number,
                "accepted_on": today().isoformat(), "note": "已登记立案"})))
        elif message.get("type") == "confirmation_application":
            number = f"({year})浙0681民特{next(self._numbers)}号"
            self.pending.append(("/acceptances", self._message("acceptance", {
                "in_reply_to": message["message_id"], "court_case_number": number,
                "accepted_on": today().isoformat()})))
            ruling = {"in_reply_to": message["message_id"], "court_case_number": number,
                      "ruled_on": today().isoformat(), "result": "rejected" if self.reject else "confirmed",
                      "note": "经审查，调解协议内容不明确" if self.reject else "经审查，调解协议符合法律规定，确认有效"}
            if self.reject:
                ruling["routes_told"] = "已告知当事人可以通过人民调解方式变更原调解协议或者达成新的调解协议，也可以向人民法院提起诉讼"
            self.pending.append(("/rulings", self._message("ruling", ruling)))

    # --- calling yidi ----------------------------------------------------------------------------------------

    def _message(self, message_type: str, body: dict) -> dict:
        return {"format": FORMAT, "type": message_type, "message_id": f"{self.code}-{message_type}-{next(self._messages)}",
                "sent_at": datetime.now(SHANGHAI).isoformat(), "court": {"code": self.code, "name": self.name},
                message_type: body}

    def post(self, path: str, message: dict) -> Call:
        """POST one signed message to yidi's court API (`/api/v1/court<path>`)."""
        data = json.dumps(message, ensure_ascii=False).encode("utf-8")
        url = f"{self.yidi_url.rstrip('/')}/api/v1/court{path}"
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}",
                   "Yidi-Signature": signature_header(self.secret, int(time.time()), data)}
        status, text = (self.poster or _http_post)(url, data, headers)
        try:
            answer = json.loads(text or b"{}")
        except ValueError:
            answer = {"raw": text.decode("utf-8", "replace")[:200]}
        call = Call(path, message, status, answer)
        with self._lock:
            self.calls.append(call)
        return call

    def answer_pending(self) -> list[Call]:
        """Send the queued answers now, in order; an answer that fails (network, 5xx) stays queued."""
        done = []
        while True:
            with self._lock:
                if not self.pending:
                    return done
                path, message = self.pending[0]
            try:
                call = self.post(path, message)
            except OSError:
                return done
            if call.status >= 500:
                return done
            with self._lock:
                self.pending.pop(0)
            done.append(call)

    def send_referral(self, *, number: str = "", kind: str = "pre_filing", procedure: str = "ordinary",
                      region: str = "330681109290", **overrides) -> Call:
        """Refer a dispute for mediation (诉前委派 by default), with realistic content."""
        sequence = next(self._numbers)
        number = number or f"({today().year})浙0681民诉前调{sequence}号"
        referral = {
            "kind": kind, "procedure": procedure, "court_case_number": number,
            "referred_on": today().isoformat(), "deadline_on": (today() + timedelta(days=30)).isoformat(),
            "cause_of_action": {"code": "9202", "name": "相邻关系纠纷"}, "region": region,
            "title": "相邻排水纠纷", "mediation_type": "neighbour",
            "facts": "原告与被告系同村前后邻居，被告加盖杂物间堵塞两家共用排水沟，雨后积水倒灌原告厨房，双方协商未果。",
            "parties": [
                {"role": "applicant", "kind": "natural", "name": "陈建国", "id_number": "330681197001010016",
                 "phone": "13800000001", "address": "诸暨市枫桥镇枫源村3组12号"},
                {"role": "respondent", "kind": "natural", "name": "王志强", "phone": "13800000002",
                 "address": "诸暨市枫桥镇枫源村3组14号"},
            ],
            "claims": ["判令被告拆除堵塞排水沟的杂物间并疏通排水沟", "判令被告赔偿厨房受损费用3000元"],
            "documents": [{"name": "起诉状.pdf", "pages": 3}, {"name": "现场照片.pdf", "pages": 5}],
            **overrides,
        }
        return self.post("/referrals", self._message("referral", referral))


def _http_post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310 - given by the operator
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        try:
            return error.code, error.read()
        finally:
            error.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m yidi.court.fake", description="模拟法院（诉调对接测试与演示）")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--yidi-url", required=True, help="本平台地址，如 http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="法院接口客户端的令牌（court:exchange）")
    parser.add_argument("--secret", default=os.environ.get("YIDI_COURT_SECRET", ""),
                        help="双方共用的签名密钥（默认读取环境变量 YIDI_COURT_SECRET）")
    parser.add_argument("--code", default="zjfy", help="法院代码（与平台“对接法院”中一致）")
    parser.add_argument("--name", default="诸暨市人民法院")
    parser.add_argument("--answer-delay", type=float, default=3.0, help="收到材料后多少秒回复受理、裁定")
    parser.add_argument("--reject", action="store_true", help="驳回司法确认申请（默认确认有效）")
    parser.add_argument("--send-referral", action="store_true", help="启动后发送一件诉前委派调解")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("请用 --secret 或环境变量 YIDI_COURT_SECRET 提供签名密钥")
    court = FakeCourt(code=args.code, name=args.name, secret=args.secret, yidi_url=args.yidi_url, token=args.token,
                      host=args.host, port=args.port, reject=args.reject).start()
    print(f"模拟法院“{args.name}”已启动：接收地址 {court.endpoint}（在平台“对接法院”中填写此地址）", flush=True)
    if args.send_referral:
        try:
            call = court.send_referral()
        except OSError as error:
            print(f"委派调解未能发送（{error}）：请确认平台地址 {args.yidi_url} 可以访问", flush=True)
        else:
            print(f"已发送委派调解：HTTP {call.status} {json.dumps(call.answer, ensure_ascii=False)[:300]}", flush=True)
    try:
        while True:
            time.sleep(args.answer_delay)
            for call in court.answer_pending():
                print(f"已回复 {call.path}：HTTP {call.status} {call.answer.get('state_label') or call.answer.get('message', '')}",
                      flush=True)
    except KeyboardInterrupt:
        court.stop()


if __name__ == "__main__":
    main()
