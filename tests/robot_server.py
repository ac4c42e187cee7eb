"""A local HTTP server playing a WeCom or DingTalk group robot, for the channel and dispatcher tests: it
records what it received and answers what it is told to (a status, an errcode, a delay); given a secret, it
checks DingTalk's signature as DingTalk does."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from workers.channels import dingtalk


@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    content_type: str


@dataclass
class Robot:
    """What the robot server answers next, and what it received."""

    status: int = 200
    answer: dict[str, Any] | str = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    sleep: float = 0.0
    secret: str | None = None  # set: check DingTalk's signature like DingTalk does
    received: list[Received] = field(default_factory=list)


class _RobotHandler(BaseHTTPRequestHandler):
    server: RobotServer

    def do_POST(self) -> None:
        robot = self.server.robot
        split = urllib.parse.urlsplit(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(split.query).items()}
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        robot.received.append(Received(split.path, query, body, self.headers.get("Content-Type", "")))
        status, answer = robot.status, robot.answer
        if robot.secret is not None and not dingtalk.verify(
            robot.secret, query.get("timestamp", ""), query.get("sign", ""), time.time_ns() // 1_000_000
        ):
            status, answer = 200, {"errcode": 310000, "errmsg": "sign not match"}
        if robot.sleep:
            time.sleep(robot.sleep)
        payload = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if isinstance(answer, dict) else "text/html")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class RobotServer(ThreadingHTTPServer):
    daemon_threads = True
    robot = Robot()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: the late answer has nowhere to go


@pytest.fixture(scope="module")
def robot_server() -> Iterator[RobotServer]:
    server = RobotServer(("127.0.0.1", 0), _RobotHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def robot(robot_server: RobotServer) -> Robot:
    robot_server.robot = Robot()
    return robot_server.robot


@pytest.fixture
def base_url(robot_server: RobotServer) -> str:
    return f"http://127.0.0.1:{robot_server.server_address[1]}"


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables; the local servers must be reached directly."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
