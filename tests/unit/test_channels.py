"""The notification channels against real protocols on local servers: an HTTP server playing a WeCom and a
DingTalk robot (the DingTalk one checks the signature with its own secret), and an aiosmtpd SMTP server
(AUTH, STARTTLS with a certificate made here). Nothing of httpx or smtplib is mocked: what is asserted is
what went over the wire, and how each kind of failure is classified."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import ipaddress
import socket
import ssl
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.robot_server import Robot, base_url, no_proxy, robot, robot_server  # noqa: F401  (fixtures)
from workers.channels import ChannelError, Message, batch
from workers.channels import dingtalk, wecom
from workers.channels.dingtalk import DingTalkRobot
from workers.channels.email import EmailSender, message_id
from workers.channels.wecom import WeComRobot

LINK = "https://estateflow.example/tasks/42"
KEY = "refund-42-sla-breach-2026-05-01"


def make_message(**overrides: Any) -> Message:
    fields: dict[str, Any] = dict(
        title="退款案件 R-42 超时",
        markdown="客户**张三**的退款已超过 SLA，请处理。",
        text="客户张三的退款已超过 SLA，请处理。",
        html="<p>客户<b>张三</b>的退款已超过 SLA，请处理。</p>",
        link=LINK,
        dedupe_key=KEY,
    )
    fields.update(overrides)
    return Message(**fields)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _direct(no_proxy: None) -> None:
    """Every test here reaches its local server directly."""


# --- robots -----------------------------------------------------------------------------------------------


def test_wecom_delivers_markdown_with_the_link_and_the_dedupe_key(robot: Robot, base_url: str):
    WeComRobot(f"{base_url}/cgi-bin/webhook/send?key=robot-key").send(make_message())
    [got] = robot.received
    assert got.path == "/cgi-bin/webhook/send" and got.query == {"key": "robot-key"}
    assert got.content_type.startswith("application/json")
    assert got.body["msgtype"] == "markdown"
    content = got.body["markdown"]["content"]
    assert content.startswith("**退款案件 R-42 超时**\n客户**张三**的退款已超过 SLA")
    assert f"[打开任务]({LINK})" in content
    assert content.endswith(f'<font color="comment">#{KEY}</font>')


def test_wecom_without_a_link_has_no_link_line(robot: Robot, base_url: str):
    WeComRobot(f"{base_url}/send?key=k").send(make_message(link=None))
    content = robot.received[0].body["markdown"]["content"]
    assert "打开任务" not in content and content.endswith(f"#{KEY}</font>")


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (502, True), (503, True), (429, True), (404, False), (403, False)]
)
def test_robot_http_errors_are_retryable_when_the_server_is_at_fault(robot: Robot, base_url: str, status, retryable):
    robot.status, robot.answer = status, "<html>gateway says no</html>"
    with pytest.raises(ChannelError) as err:
        WeComRobot(f"{base_url}/send?key=k").send(make_message())
    assert err.value.retryable is retryable
    assert f"HTTP {status}" in err.value.message and "gateway says no" in err.value.message


def test_a_robot_that_does_not_answer_in_time_is_retryable(robot: Robot, base_url: str):
    robot.sleep = 1.0
    started = time.monotonic()
    with pytest.raises(ChannelError) as err:
        WeComRobot(f"{base_url}/send?key=k", timeout=0.3, connect_timeout=0.3).send(make_message())
    assert time.monotonic() - started < 0.9
    assert err.value.retryable and "timeout" in err.value.message


def test_a_robot_that_is_not_listening_is_retryable():
    with pytest.raises(ChannelError) as err:
        WeComRobot(f"http://127.0.0.1:{free_port()}/send?key=k", connect_timeout=0.5).send(make_message())
    assert err.value.retryable


def test_wecom_invalid_key_is_not_retryable_and_says_so(robot: Robot, base_url: str):
    robot.answer = {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1714000000_1_abc]"}
    with pytest.raises(ChannelError) as err:
        WeComRobot(f"{base_url}/send?key=wrong").send(make_message())
    assert not err.value.retryable
    assert "93000" in err.value.message and "invalid webhook url" in err.value.message
    assert "wrong" not in err.value.message  # the URL (and its key) stays out of the error


@pytest.mark.parametrize(
    ("errcode", "retryable"), [(45009, True), (-1, True), (40058, False), (40008, False), (93000, False)]
)
def test_wecom_errcodes(robot: Robot, base_url: str, errcode, retryable):
    robot.answer = {"errcode": errcode, "errmsg": f"robot says {errcode}"}
    with pytest.raises(ChannelError) as err:
        WeComRobot(f"{base_url}/send?key=k").send(make_message())
    assert err.value.retryable is retryable and f"robot says {errcode}" in err.value.message


def test_a_200_that_is_not_a_robots_answer_is_not_retryable(robot: Robot, base_url: str):
    robot.answer = "<html>login page</html>"
    with pytest.raises(ChannelError) as err:
        WeComRobot(f"{base_url}/send?key=k").send(make_message())
    assert not err.value.retryable and "login page" in err.value.message


def test_wecom_content_is_cut_to_4096_bytes_keeping_the_link_and_the_key():
    content = wecom.content(make_message(markdown="很长的正文" * 1000))
    assert len(content.encode()) <= wecom.MAX_CONTENT_BYTES
    assert f"[打开任务]({LINK})" in content and content.endswith(f"#{KEY}</font>")
    assert "…" in content


def test_robots_allow_20_messages_a_minute():
    assert WeComRobot.per_minute == 20 and DingTalkRobot.per_minute == 20


def test_sign_is_dingtalks_formula():
    secret, ts = "SEC0123456789abcdef", 1_714_000_000_123
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    expected = urllib.parse.quote_plus(base64.b64encode(mac))
    assert dingtalk.sign(secret, ts) == expected
    raw = urllib.parse.unquote_plus(expected)
    assert dingtalk.verify(secret, str(ts), raw, now_ms=ts + 1000)
    assert dingtalk.verify(secret, ts, expected, now_ms=ts)  # still URL-encoded: accepted too
    assert not dingtalk.verify("SECother", str(ts), raw, now_ms=ts)
    assert not dingtalk.verify(secret, str(ts + 1), raw, now_ms=ts)
    assert not dingtalk.verify(secret, str(ts), raw, now_ms=ts + 3600_001)  # more than an hour late
    assert not dingtalk.verify(secret, "not-a-number", raw, now_ms=ts)


def test_dingtalk_signed_delivers_an_action_card_with_the_button(robot: Robot, base_url: str):
    robot.secret = "SECright"
    DingTalkRobot(f"{base_url}/robot/send?access_token=tok", "SECright").send(make_message())
    [got] = robot.received
    assert got.query["access_token"] == "tok" and {"timestamp", "sign"} <= got.query.keys()
    assert abs(int(got.query["timestamp"]) - time.time() * 1000) < 60_000
    card = got.body["actionCard"]
    assert got.body["msgtype"] == "actionCard"
    assert card["title"] == "退款案件 R-42 超时"
    assert card["singleTitle"] == "打开任务" and card["singleURL"] == LINK
    assert card["text"].startswith("### 退款案件 R-42 超时\n\n客户**张三**")
    assert card["text"].endswith(f"#{KEY}</font>")


def test_dingtalk_without_a_link_sends_markdown(robot: Robot, base_url: str):
    robot.secret = "SECright"
    DingTalkRobot(f"{base_url}/robot/send?access_token=tok", "SECright").send(make_message(link=None))
    body = robot.received[0].body
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "退款案件 R-42 超时"
    assert f"#{KEY}" in body["markdown"]["text"]


def test_dingtalk_wrong_secret_is_not_retryable_and_carries_the_robots_words(robot: Robot, base_url: str):
    robot.secret = "SECright"
    with pytest.raises(ChannelError) as err:
        DingTalkRobot(f"{base_url}/robot/send?access_token=tok", "SECwrong").send(make_message())
    assert not err.value.retryable and "sign not match" in err.value.message and "310000" in err.value.message


def test_dingtalk_rate_limit_is_retryable(robot: Robot, base_url: str):
    robot.answer = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
    with pytest.raises(ChannelError) as err:
        DingTalkRobot(f"{base_url}/robot/send?access_token=tok", "SEC").send(make_message())
    assert err.value.retryable and "send too fast" in err.value.message


def test_batch_merges_a_burst_into_one_message_with_every_title_and_link():
    parts = [make_message(title=f"任务 {i}", link=f"{LINK}/{i}", dedupe_key=f"k{i}") for i in range(3)]
    merged = batch(parts)
    for i in range(3):
        assert f"[任务 {i}]({LINK}/{i})" in merged.markdown
        assert f"任务 {i}: {LINK}/{i}" in merged.text
        assert f'<a href="{LINK}/{i}">任务 {i}</a>' in merged.html
    assert "3" in merged.title and merged.link is None
    assert merged.dedupe_key == batch(parts).dedupe_key != batch(parts[:2]).dedupe_key
    assert batch(parts[:1]) == parts[0]
    assert wecom.batch is batch


# --- e-mail -----------------------------------------------------------------------------------------------

USER, PASSWORD = "sales-office", "correct horse"


class Inbox:
    """aiosmtpd handler: keeps what it receives; `data_reply` / `rcpt_reply` refuse at that step."""

    def __init__(self) -> None:
        self.mails: list[dict[str, Any]] = []
        self.logins: list[tuple[str, str]] = []
        self.data_reply = "250 OK"
        self.rcpt_reply = "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.data_reply.startswith("250"):
            self.mails.append(
                dict(
                    content=envelope.content,
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    authenticated=session.authenticated,
                    tls=session.ssl is not None,
                )
            )
        return self.data_reply

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        # handled=False on failure: aiosmtpd then answers 535 itself.
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int


def start_smtp(tls_context: ssl.SSLContext | None = None) -> tuple[Controller, SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        server_hostname="mail.test",
        authenticator=inbox.authenticate,
        # Without TLS, AUTH must still be offered, so that a client that would send the password in clear
        # could: the STARTTLS tests show ours does not. With TLS: AUTH only after STARTTLS, as in production.
        auth_require_tls=tls_context is not None,
        tls_context=tls_context,
        enable_SMTPUTF8=False,
    )
    controller.start()
    return controller, SmtpServer(inbox, port)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    controller, server = start_smtp()
    yield server
    controller.stop()


def sender_for(port: int, **overrides: Any) -> EmailSender:
    kwargs: dict[str, Any] = dict(
        host="127.0.0.1",
        port=port,
        username=USER,
        password=PASSWORD,
        sender="EstateFlow <notify@estateflow.example>",
        starttls=False,
        timeout=3.0,
        local_hostname="client.test",
    )
    kwargs.update(overrides)
    return EmailSender(**kwargs)


def test_email_delivers_plain_and_html_with_a_utf8_subject_and_the_dedupe_message_id(smtp: SmtpServer):
    sender_for(smtp.port).send(make_message(), "buyer@example.com")
    [mail] = smtp.inbox.mails
    assert smtp.inbox.logins == [(USER, PASSWORD)] and mail["authenticated"]
    assert mail["mail_from"] == "notify@estateflow.example" and mail["rcpt_tos"] == ["buyer@example.com"]
    raw: bytes = mail["content"]
    subject_line = next(line for line in raw.split(b"\r\n") if line.startswith(b"Subject:"))
    assert b"=?utf-8?" in subject_line.lower()  # RFC 2047: the raw header is ASCII
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "退款案件 R-42 超时"
    assert parsed.get_content_type() == "multipart/alternative"
    assert KEY in parsed["Message-ID"] and parsed["Message-ID"].endswith("@estateflow.example>")
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert "客户张三的退款已超过 SLA" in plain.get_content() and f"打开任务: {LINK}" in plain.get_content()
    assert "<b>张三</b>" in html.get_content() and f'<a href="{LINK}">打开任务</a>' in html.get_content()


def test_every_attempt_at_one_notification_has_the_same_message_id(smtp: SmtpServer):
    sender = sender_for(smtp.port)
    sender.send(make_message(), "buyer@example.com")
    sender.mailbox("buyer@example.com").send(make_message(title="另一个标题"))
    parsed = [email.message_from_bytes(m["content"], policy=email.policy.default) for m in smtp.inbox.mails]
    ids = [mail["Message-ID"] for mail in parsed]
    assert ids[0] == ids[1] == f"<{KEY}@estateflow.example>"


def test_message_id_escapes_what_a_message_id_cannot_hold():
    assert message_id("case:42/sla", "a@x.example") == "<case%3A42/sla@x.example>"
    assert message_id("v1.2", "a@x.example") == "<v1%2E2@x.example>"
    assert message_id("v1%2E2", "a@x.example") != message_id("v1.2", "a@x.example")
    assert message_id("退款", "a@x.example") == "<%E9%80%80%E6%AC%BE@x.example>"


def test_a_wrong_password_is_not_retryable_and_carries_the_servers_reply(smtp: SmtpServer):
    with pytest.raises(ChannelError) as err:
        sender_for(smtp.port, password="wrong").send(make_message(), "buyer@example.com")
    assert not err.value.retryable and "535" in err.value.message
    assert "Authentication credentials invalid" in err.value.message
    assert smtp.inbox.mails == []


def test_a_non_ascii_password_is_refused_before_anything_is_sent(smtp: SmtpServer):
    with pytest.raises(ChannelError) as err:
        sender_for(smtp.port, password="正确的密码").send(make_message(), "buyer@example.com")
    assert not err.value.retryable and "ASCII" in err.value.message
    assert smtp.inbox.logins == [] and smtp.inbox.mails == []


def test_a_4xx_reply_is_retryable(smtp: SmtpServer):
    smtp.inbox.data_reply = "451 4.3.0 Queue full, try later"
    with pytest.raises(ChannelError) as err:
        sender_for(smtp.port).send(make_message(), "buyer@example.com")
    assert err.value.retryable and "451" in err.value.message and "Queue full" in err.value.message


def test_a_5xx_reply_is_not_retryable(smtp: SmtpServer):
    smtp.inbox.rcpt_reply = "550 5.1.1 No such user here"
    with pytest.raises(ChannelError) as err:
        sender_for(smtp.port).send(make_message(), "nobody@example.com")
    assert not err.value.retryable and "No such user here" in err.value.message


def test_a_server_that_is_not_listening_is_retryable():
    with pytest.raises(ChannelError) as err:
        sender_for(free_port(), timeout=1.0).send(make_message(), "buyer@example.com")
    assert err.value.retryable


def test_a_server_that_never_greets_times_out_retryably():
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        with pytest.raises(ChannelError) as err:
            sender_for(silent.getsockname()[1], timeout=0.3).send(make_message(), "buyer@example.com")
    assert time.monotonic() - started < 2 and err.value.retryable and "timeout" in err.value.message


def test_required_starttls_that_the_server_does_not_offer_sends_nothing(smtp: SmtpServer):
    with pytest.raises(ChannelError) as err:
        sender_for(smtp.port, starttls=True).send(make_message(), "buyer@example.com")
    assert not err.value.retryable and "STARTTLS" in err.value.message
    assert smtp.inbox.logins == [] and smtp.inbox.mails == []  # no password, no mail in clear


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert file, key file, cert PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    (directory / "cert.pem").write_text(cert_pem)
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "cert.pem", directory / "key.pem", cert_pem


@pytest.fixture
def tls_smtp(certificate: tuple[Path, Path, str]) -> Iterator[SmtpServer]:
    cert_file, key_file, _ = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    controller, server = start_smtp(context)
    yield server
    controller.stop()


def test_starttls_then_auth_then_the_mail(tls_smtp: SmtpServer, certificate: tuple[Path, Path, str]):
    trusting = ssl.create_default_context(cadata=certificate[2])
    sender_for(tls_smtp.port, starttls=True, ssl_context=trusting).send(make_message(), "buyer@example.com")
    [mail] = tls_smtp.inbox.mails
    assert mail["tls"] and mail["authenticated"] and tls_smtp.inbox.logins == [(USER, PASSWORD)]


def test_an_untrusted_certificate_is_refused_before_the_password(tls_smtp: SmtpServer):
    with pytest.raises(ChannelError) as err:
        sender_for(tls_smtp.port, starttls=True).send(make_message(), "buyer@example.com")  # system CAs only
    assert not err.value.retryable and "certificate" in err.value.message
    assert tls_smtp.inbox.logins == [] and tls_smtp.inbox.mails == []
