"""WeCom group robot (企业微信群机器人): a markdown message POSTed to the robot's webhook
(`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`; the key in it is the robot's only credential).

Delivered when the robot answers HTTP 200 with `errcode` 0. Retryable (workers.channels.post_robot): no
answer, HTTP 5xx/429/408, errcode -1 (busy) and 45009 (rate limit: a robot takes about 20 messages a
minute). Every other errcode is not: 93000 (invalid webhook URL: a wrong or deleted key), 40xxx (a
malformed message, e.g. 40058 content too long) and the rest describe the request or the robot, which a
retry sends again unchanged.

The markdown content is the title in bold, the body, `[打开任务](link)` when there is a link, and the dedupe
key in a last grey line (`<font color="comment">#key</font>`), so a receiver (or a person) can tell a
repeat. It is cut to the robot's 4096-byte limit by shortening the body, never the link or the key."""

from __future__ import annotations

from typing import ClassVar

from workers.channels import CONNECT_TIMEOUT, TOTAL_TIMEOUT, Message, batch, post_robot

__all__ = ["WeComRobot", "batch", "content", "fits"]

RATE_LIMITED = 45009
MAX_CONTENT_BYTES = 4096  # markdown.content, UTF-8
_ELLIPSIS = "…"


def _parts(message: Message) -> tuple[str, list[str]]:
    head = f"**{message.title}**"
    tail = [f"[打开任务]({message.link})"] if message.link else []
    tail.append(f'<font color="comment">#{message.dedupe_key}</font>')
    return head, tail


def fits(message: Message) -> bool:
    """Whether the robot takes `message` whole (else `content` cuts its body)."""
    head, tail = _parts(message)
    return len("\n".join([head, message.markdown, *tail]).encode()) <= MAX_CONTENT_BYTES


def content(message: Message) -> str:
    """The markdown content of `message` as the robot receives it."""
    head, tail = _parts(message)
    whole = "\n".join([head, message.markdown, *tail])
    excess = len(whole.encode()) - MAX_CONTENT_BYTES
    if excess <= 0:
        return whole
    body = message.markdown.encode()
    keep = max(0, len(body) - excess - len(_ELLIPSIS.encode()))
    # errors="ignore" drops a character cut in half at the end.
    return "\n".join([head, body[:keep].decode(errors="ignore") + _ELLIPSIS, *tail])


class WeComRobot:
    """One group's robot. `per_minute`: how many messages the robot takes a minute; beyond it, it
    answers 45009 (the dispatcher paces, or merges a burst with `batch`)."""

    per_minute: ClassVar[int] = 20
    name: ClassVar[str] = "WeCom robot"

    def __init__(
        self, webhook_url: str, *, timeout: float = TOTAL_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT
    ) -> None:
        self.webhook_url = webhook_url
        self.timeout = timeout
        self.connect_timeout = connect_timeout

    def __repr__(self) -> str:  # not the URL: it holds the key
        return "WeComRobot(…)"

    def send(self, message: Message) -> None:
        post_robot(
            self.webhook_url,
            {"msgtype": "markdown", "markdown": {"content": content(message)}},
            name=self.name,
            retryable_codes=frozenset({RATE_LIMITED}),
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
        )
