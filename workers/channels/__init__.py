"""Delivery channels of the notification system (issue 13): small synchronous clients that a dispatcher
calls, one `send` per message.

A `send` returns normally when the receiver accepted the message, or raises `ChannelError`. Its message
is the receiver's own error text where there is one (WeCom's and DingTalk's `errmsg`, an SMTP reply), so
the person reading a failed delivery sees why; `retryable` tells the dispatcher whether the same message
may succeed later (a timeout, a busy or throttled receiver) or will fail the same way until a person
changes something (a wrong key or secret, a refused mailbox).

Every channel may deliver a message twice: a timeout after the request went out does not say whether the
receiver got it, and a retry sends it again. That is why each message carries a `dedupe_key` and each
channel puts it where a receiver can see it (a trailing line in a robot message, the e-mail's
Message-ID): repeats can be told apart and dropped. The same key always gives the same text there.

The robot clients (wecom.py, dingtalk.py) share `post_robot` below: both robots answer JSON
`{"errcode", "errmsg"}` and are judged by the same rules."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

# HTTP timeouts, seconds. httpx has no deadline for a whole request: `total` bounds each phase after the
# connection (sending the body, waiting for the answer, each read). A robot's answer is a few hundred
# bytes, so the wait for it is in practice the whole request.
CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 5.0

ROBOT_BUSY = -1  # both robots' "system busy, try again"


class ChannelError(Exception):
    """A delivery that did not happen. `retryable`: the same message may succeed later unchanged."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"ChannelError({self.message!r}, retryable={self.retryable})"


@dataclass(frozen=True)
class Message:
    """One notification in every form the channels need; each picks its own.

    `markdown`, `text` and `html` are the body without the title (each channel puts the title where its
    format wants it: a robot message's first line, an e-mail's subject) and without the link (a robot
    adds a button or a link line, an e-mail a link paragraph). `dedupe_key` is the same for every
    attempt at one notification, so a receiver can drop repeats."""

    title: str
    markdown: str
    text: str
    html: str
    link: str | None
    dedupe_key: str


class Channel(Protocol):
    def send(self, message: Message) -> None: ...


def batch(messages: Iterable[Message]) -> Message:
    """One message listing a burst of them (each title with its link), for a receiver that allows only so
    many messages a minute (the robots: 20). The dispatcher decides when to use it. The merged key is a
    hash of the parts' keys, so a retried batch of the same messages is recognisably the same."""
    items = list(messages)
    if not items:
        raise ValueError("batch of no messages")
    if len(items) == 1:
        return items[0]
    md_lines, text_lines, html_items = [], [], []
    for m in items:
        md_lines.append(f"- [{m.title}]({m.link})" if m.link else f"- {m.title}")
        text_lines.append(f"- {m.title}: {m.link}" if m.link else f"- {m.title}")
        title = html.escape(m.title)
        html_items.append(f'<li><a href="{html.escape(m.link)}">{title}</a></li>' if m.link else f"<li>{title}</li>")
    key = hashlib.sha256("\n".join(m.dedupe_key for m in items).encode()).hexdigest()[:32]
    return Message(
        title=f"{items[0].title} 等 {len(items)} 条通知",
        markdown="\n".join(md_lines),
        text="\n".join(text_lines),
        html=f"<ul>{''.join(html_items)}</ul>",
        link=None,
        dedupe_key=f"batch-{key}",
    )


def _excerpt(body: str, limit: int = 200) -> str:
    body = " ".join(body.split())
    return body if len(body) <= limit else body[:limit] + "…"


def post_robot(
    url: str,
    body: dict[str, Any],
    *,
    name: str,
    retryable_codes: frozenset[int],
    timeout: float = TOTAL_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> None:
    """POST `body` as JSON to a chat robot's webhook and judge its `{"errcode", "errmsg"}` answer.

    Delivered: HTTP 200 and errcode 0. Retryable: no answer (connect error, timeout, a dropped
    connection), HTTP 5xx, 429 or 408, and errcode -1 (busy) or one of `retryable_codes` (the robot's
    rate limits). Not retryable: every other errcode (a wrong key or signature, a disabled robot, a
    malformed or too long message: the same request fails the same way), any other HTTP status (a wrong
    URL), and a 200 whose body is not the robot's JSON (the URL points at something else).
    Error texts never include the URL: it carries the robot's key."""
    try:
        response = httpx.post(url, json=body, timeout=httpx.Timeout(timeout, connect=connect_timeout))
    except httpx.UnsupportedProtocol as exc:  # a TransportError, but no retry fixes the URL
        raise ChannelError(f"{name}: bad webhook URL ({exc})", retryable=False) from exc
    except httpx.InvalidURL as exc:
        raise ChannelError(f"{name}: bad webhook URL ({exc})", retryable=False) from exc
    except httpx.TimeoutException as exc:
        raise ChannelError(f"{name}: no answer within the timeout ({type(exc).__name__})", retryable=True) from exc
    except httpx.TransportError as exc:
        raise ChannelError(f"{name}: {type(exc).__name__}: {exc}", retryable=True) from exc
    if response.status_code != 200:
        status = response.status_code
        retryable = status >= 500 or status in (408, 429)
        raise ChannelError(f"{name}: HTTP {status}: {_excerpt(response.text)}", retryable=retryable)
    try:
        answer = response.json()
        errcode = int(answer["errcode"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ChannelError(f"{name}: not a robot's answer: {_excerpt(response.text)}", retryable=False) from exc
    if errcode == 0:
        return
    errmsg = str(answer.get("errmsg") or "(no errmsg)")
    retryable = errcode == ROBOT_BUSY or errcode in retryable_codes
    raise ChannelError(f"{name}: errcode {errcode}: {errmsg}", retryable=retryable)
