"""DingTalk custom robot (钉钉自定义机器人) with the "加签" (signature) security setting.

Each request's URL carries `timestamp` (milliseconds) and `sign`: the base64 HMAC-SHA256, keyed with the
robot's secret, of `f"{timestamp}\\n{secret}"`, URL-encoded (`sign`). DingTalk refuses a signature that
does not match or whose timestamp is more than an hour from its clock (errcode 310000); `verify` is that
check, for the test server and as the scheme's executable description. A robot set up with keywords or an
IP allow-list instead of a signature takes `secret=None` (no parameters added).

The message is an actionCard with one "打开任务" button to the link when there is one, else markdown; its
text is the title as a heading, the body, and the dedupe key in a last grey line. DingTalk's markdown
needs a blank line between paragraphs.

Delivered when the robot answers HTTP 200 with errcode 0. Retryable (workers.channels.post_robot): no
answer, HTTP 5xx/429/408, errcode -1 (busy), 130101 ("send too fast": about 20 messages a minute) and
410100 (the same limit in DingTalk's newer error table). Every other errcode is not: 310000 (sign not
match, keywords not in content, IP not allowed), 300001 (no such access_token), 90030 (the webhook
quota of the organisation's DingTalk edition, which a retry minutes later does not change) and the rest:
they describe the request or the robot, which a retry sends again unchanged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import Any, ClassVar

from workers.channels import CONNECT_TIMEOUT, TOTAL_TIMEOUT, Message, batch, post_robot

__all__ = ["DingTalkRobot", "batch", "body", "sign", "signed_url", "verify"]

RATE_LIMITED = frozenset({130101, 410100})
MAX_SKEW_MS = 3600_000  # DingTalk's: a timestamp more than an hour off is refused
BUTTON = "打开任务"


def _digest(secret: str, timestamp: str) -> str:
    string_to_sign = f"{timestamp}\n{secret}"
    mac = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query parameter for `timestamp_ms`, URL-encoded as it goes into the URL."""
    return urllib.parse.quote_plus(_digest(secret, str(timestamp_ms)))


def verify(secret: str, timestamp: str | int, sign: str, now_ms: int, max_skew_ms: int = MAX_SKEW_MS) -> bool:
    """True when `sign` is `secret`'s signature of `timestamp` and `timestamp` is within `max_skew_ms` of
    `now_ms`. `sign` as the query parameter decodes to (the base64 digest); still URL-encoded works too."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now_ms - ts) > max_skew_ms:
        return False
    expected = _digest(secret, str(ts))
    given = sign.encode()
    return hmac.compare_digest(given, expected.encode()) or hmac.compare_digest(
        given, urllib.parse.quote_plus(expected).encode()
    )


def signed_url(webhook_url: str, secret: str, timestamp_ms: int) -> str:
    separator = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{separator}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def body(message: Message) -> dict[str, Any]:
    """The JSON body the robot receives for `message`."""
    text = "\n\n".join([f"### {message.title}", message.markdown, f"<font color=#999999>#{message.dedupe_key}</font>"])
    if message.link:
        return {
            "msgtype": "actionCard",
            "actionCard": {"title": message.title, "text": text, "singleTitle": BUTTON, "singleURL": message.link},
        }
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": text}}


class DingTalkRobot:
    """One group's robot. `per_minute`: how many messages it takes a minute (beyond it: 130101/410100,
    and DingTalk may mute the robot for a while); the dispatcher paces, or merges a burst with `batch`."""

    per_minute: ClassVar[int] = 20
    name: ClassVar[str] = "DingTalk robot"

    def __init__(
        self,
        webhook_url: str,
        secret: str | None,
        *,
        timeout: float = TOTAL_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.webhook_url = webhook_url
        self.secret = secret
        self.timeout = timeout
        self.connect_timeout = connect_timeout

    def __repr__(self) -> str:  # neither the URL (its access_token) nor the secret
        return "DingTalkRobot(…)"

    def send(self, message: Message) -> None:
        url = self.webhook_url
        if self.secret is not None:
            url = signed_url(url, self.secret, time.time_ns() // 1_000_000)
        post_robot(
            url,
            body(message),
            name=self.name,
            retryable_codes=RATE_LIMITED,
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
        )
