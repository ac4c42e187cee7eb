"""E-mail over SMTP (standard library smtplib), one message to one address per `send`.

The mail is multipart/alternative (the plain text, then the HTML; each with a link paragraph when the
message has a link), its subject the title (RFC 2047 UTF-8 when not ASCII), its Message-ID made from the
dedupe key: every attempt at one notification carries the same Message-ID, so a mailbox or a filter can
drop repeats.

STARTTLS: with `starttls=True` (the default) it is required, not opportunistic. A server that does not
offer it gets neither the password nor the mail (a non-retryable ChannelError: someone must fix the
server or turn the setting off on purpose), since a password sent in clear cannot be taken back. The
certificate is checked against `ssl_context` (default: the system's trusted CAs and the host name).
Then AUTH (smtplib picks CRAM-MD5, PLAIN or LOGIN from what the server offers) when a username is set.

Errors: SMTP's own classes decide. A 4xx reply (greylisting, a full queue, a busy server) is retryable, a
5xx (no such mailbox, authentication failed, message refused) is not; the message carries the server's
reply text. No answer (connection refused or dropped, a timeout) is retryable. A certificate that does
not verify, and a server that lacks what the settings require (STARTTLS, AUTH), are not."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from html import escape

from workers.channels import ChannelError, Message

__all__ = ["EmailSender", "Mailbox", "message_id"]

DEFAULT_TIMEOUT = 10.0  # seconds; smtplib's timeout bounds each network step (connect, each reply)
LINK_TEXT = "打开任务"
# RFC 5322 atext minus "%" (the escape below): what a Message-ID's left part may hold as is.
_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&'*+-/=?^_`{|}~")


def message_id(dedupe_key: str, sender: str) -> str:
    """`<key@domain>`: the key with every character outside atext (dots too, which may not lead, trail
    or repeat there) %-escaped as UTF-8, so distinct keys stay distinct; the domain is the sender's."""
    left = "".join(c if c in _ATEXT else "".join(f"%{b:02X}" for b in c.encode()) for c in dedupe_key)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "estateflow.invalid"
    return f"<{left}@{domain}>"


def _one_line(value: str) -> str:
    """Header text on one line: a line break in a title would otherwise be refused (or start a header)."""
    return " ".join(value.split())


def _reply_text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, reply: bytes | str, what: str) -> ChannelError:
    """5xx: permanent (the same mail fails the same way); anything else (4xx, or a code smtplib made up
    for a reply it could not read): retryable."""
    return ChannelError(f"SMTP {what}: {code} {_reply_text(reply)}", retryable=not 500 <= code < 600)


def _classify(exc: Exception) -> ChannelError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (550, b"recipient refused"))
        return _by_code(code, reply, "recipient refused")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, exc.smtp_error, type(exc).__name__.removeprefix("SMTP"))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if isinstance(exc.__context__, TimeoutError):  # smtplib turns a reply's timeout into this
            return ChannelError("SMTP server did not answer within the timeout", retryable=True)
        return ChannelError(f"SMTP connection lost: {exc}", retryable=True)
    if isinstance(exc, smtplib.SMTPException):  # e.g. no AUTH offered, no common AUTH mechanism
        return ChannelError(f"SMTP: {exc}", retryable=False)
    if isinstance(exc, ssl.SSLCertVerificationError):  # an OSError too: check it first
        return ChannelError(f"SMTP server certificate refused: {exc.verify_message or exc}", retryable=False)
    if isinstance(exc, TimeoutError):
        return ChannelError("SMTP server did not answer within the timeout", retryable=True)
    return ChannelError(f"SMTP connection failed: {type(exc).__name__}: {exc}", retryable=True)


class EmailSender:
    """One SMTP account. `send(message, to)` delivers to one address; `mailbox(to)` is a `Channel`."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        sender: str,
        starttls: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.sender = sender
        self.starttls = starttls
        self.timeout = timeout
        self.ssl_context = ssl_context
        # The EHLO name; None: smtplib's socket.getfqdn(), which can wait on a slow resolver.
        self.local_hostname = local_hostname

    def __repr__(self) -> str:  # not the password
        return f"EmailSender({self.host!r}, {self.port}, username={self.username!r}, sender={self.sender!r})"

    def mailbox(self, to: str) -> Mailbox:
        return Mailbox(self, to)

    def build(self, message: Message, to: str) -> EmailMessage:
        """The mail as it is sent (also for a preview)."""
        mail = EmailMessage()
        mail["Subject"] = _one_line(message.title)
        mail["From"] = self.sender
        mail["To"] = to
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = message_id(message.dedupe_key, self.sender)
        plain, html = message.text, message.html
        if message.link:
            plain = f"{plain}\n\n{LINK_TEXT}: {message.link}"
            html = f'{html}\n<p><a href="{escape(message.link)}">{LINK_TEXT}</a></p>'
        mail.set_content(plain)
        mail.add_alternative(html, subtype="html")
        return mail

    def send(self, message: Message, to: str) -> None:
        mail = self.build(message, to)
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname)
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
        try:
            self._deliver(smtp, mail, to)
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
        finally:
            self._close(smtp)

    def _deliver(self, smtp: smtplib.SMTP, mail: EmailMessage, to: str) -> None:
        smtp.ehlo()
        if self.starttls:
            if not smtp.has_extn("starttls"):
                raise ChannelError(
                    f"SMTP server {self.host}:{self.port} does not offer STARTTLS, which the settings require; "
                    "nothing was sent (no password in clear)",
                    retryable=False,
                )
            smtp.starttls(context=self.ssl_context or ssl.create_default_context())
            smtp.ehlo()
        if self.username:
            try:
                smtp.login(self.username, self.password or "")
            except UnicodeEncodeError as exc:  # smtplib sends AUTH as ASCII only
                raise ChannelError(
                    "SMTP username and password must be ASCII (smtplib cannot send others)", retryable=False
                ) from exc
        smtp.send_message(mail, from_addr=parseaddr(self.sender)[1] or self.sender, to_addrs=[to])

    @staticmethod
    def _close(smtp: smtplib.SMTP) -> None:
        """QUIT politely; the mail is already accepted (or refused), so a failing QUIT changes nothing."""
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


@dataclass(frozen=True)
class Mailbox:
    """An `EmailSender` bound to one address: a `Channel` (`send(message)`) for the dispatcher."""

    sender: EmailSender
    to: str

    def send(self, message: Message) -> None:
        self.sender.send(message, self.to)
