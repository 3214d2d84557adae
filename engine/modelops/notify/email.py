"""E-mail over SMTP with STARTTLS and authentication (smtplib).

TLS is negotiated with STARTTLS whenever the server offers it; with `requireTls` (the default) a server
that does not offer it is refused before any credential is sent. Replies 4xx, timeouts and dropped
connections are retried with backoff; 5xx replies, refused recipients and certificate errors are final. A
message that some recipients refused is a partial delivery, naming them with the server's reply; it is not
sent again (the others would get it twice).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from modelops.base.clock import parse_iso
from modelops.config.scalars import ScalarError
from modelops.config.spec.policies import EmailChannel, Smtp
from modelops.notify.base import (
    DeliveryResult,
    Notification,
    Preview,
    Revealer,
    SendOptions,
    failed_reveal,
    mask,
)


class _NoStartTls(smtplib.SMTPException):
    pass


def body(note: Notification) -> str:
    lines = [note.title(), "", f"Environment: {note.environment}", f"Escalation policy: {note.policy}",
             f"Group: {', '.join(f'{k}={v}' for k, v in note.group_labels.items())}", ""]
    for alert in note.alerts:
        lines.append(f"- {alert.status.upper()} {alert.severity}: {alert.labels.get('model', '')} / "
                     f"{alert.labels.get('rule', '')}")
        lines += [f"  {alert.annotations[k]}" for k in ("summary", "description") if alert.annotations.get(k)]
        if alert.annotations.get("runbook_url"):
            lines.append(f"  Runbook: {alert.annotations['runbook_url']}")
        lines.append(f"  Since: {alert.starts_at}" + (f", resolved {alert.ends_at}" if alert.ends_at else ""))
    lines += ["", f"-- modelops ({note.event}); dedup key {note.dedup_key}"]
    return "\n".join(lines) + "\n"


def message(channel: EmailChannel, note: Notification, *, message_id: bool = True) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = channel.from_
    msg["To"] = ", ".join(channel.to)
    msg["Subject"] = note.title()
    msg["Date"] = format_datetime(parse_iso(note.at), usegmt=True)
    if message_id:
        msg["Message-ID"] = make_msgid(domain=channel.from_.split("@", 1)[1])
    msg["X-Modelops-Dedup-Key"] = note.dedup_key
    msg.set_content(body(note))
    return msg


def describe(smtp: Smtp) -> str:
    auth = f", user {mask(smtp.username)}" if smtp.username is not None else ""
    tls = "STARTTLS required" if smtp.require_tls else "STARTTLS when offered"
    return f"smtp://{smtp.host}:{smtp.port} ({tls}{auth})"


Refusals = dict[str, tuple[int, bytes]]


def _deliver(smtp: Smtp, msg: EmailMessage, user: str | None, password: str | None,
             options: SendOptions) -> Refusals:
    """Send the message; what comes back are the recipients the server refused (the others have it)."""
    with smtplib.SMTP(smtp.host, smtp.port, timeout=options.timeout_s) as client:
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=options.ssl_context or ssl.create_default_context())
            client.ehlo()
        elif smtp.require_tls:
            raise _NoStartTls("the server does not offer STARTTLS; refusing to send credentials and alerts in clear "
                              "(set smtp.requireTls: false to allow it)")
        if user is not None:
            client.login(user, password or "")
        return client.send_message(msg)


class EmailNotifier:
    """Sends one message per notification to every recipient of the channel."""

    type = "email"

    def preview(self, channel: EmailChannel, note: Notification) -> Preview:
        return Preview(describe(channel.smtp), message(channel, note, message_id=False).as_string())

    def send(self, channel: EmailChannel, note: Notification, options: SendOptions) -> DeliveryResult:
        smtp = channel.smtp
        revealer = Revealer(options.environ)
        try:
            user = revealer(smtp.username) if smtp.username is not None else None
            password = revealer(smtp.password) if smtp.password is not None else None
        except ScalarError as exc:
            return failed_reveal(exc)
        msg = message(channel, note)
        retry = options.retry([0])
        problem = ""
        for attempt in range(options.retries + 1):
            try:
                refused = _deliver(smtp, msg, user, password, options)
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, smtplib.SMTPServerDisconnected,
                    smtplib.SMTPException, OSError) as exc:
                problem, transient = _explain(exc)
                if not transient:
                    return DeliveryResult(False, attempt + 1, revealer.scrub(problem))
            else:
                return _accepted(smtp, len(channel.to), refused, attempt + 1, revealer)
            if attempt < options.retries:
                retry.sleep(retry.delay(attempt))
        return DeliveryResult(False, options.retries + 1, revealer.scrub(problem))


def _accepted(smtp: Smtp, recipients: int, refused: Refusals, attempts: int, revealer: Revealer) -> DeliveryResult:
    where = f"accepted by {smtp.host}:{smtp.port}"
    if not refused:
        return DeliveryResult(True, attempts, f"{where} for {recipients} recipient(s)")
    detail = f"{where} for {recipients - len(refused)} of {recipients} recipient(s); refused: {_refusals(refused)}"
    return DeliveryResult(True, attempts, revealer.scrub(detail), tuple(sorted(refused)))


def _refusals(refused: Refusals) -> str:
    """`a@x (550 5.1.1 no such user), b@y (...)`: each refused recipient with the server's reply."""
    return ", ".join(f"{address} ({code} {_text(reply)})" for address, (code, reply) in sorted(refused.items()))


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _explain(exc: BaseException) -> tuple[str, bool]:
    """A message and whether trying again may help."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}", 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"every recipient refused: {_refusals(exc.recipients)}", False
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib reports a reply that never came within the timeout as a disconnection: say which it was
        if isinstance(exc.__context__, TimeoutError):
            return "timed out waiting for the SMTP server", True
        return "the SMTP server closed the connection", True
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return f"TLS failed: {getattr(exc, 'reason', None) or exc}", False
    if isinstance(exc, TimeoutError):
        return "timed out", True
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused", True
    if isinstance(exc, smtplib.SMTPException):
        return str(exc), False
    return f"unreachable ({type(exc).__name__})", True


NOTIFIER = EmailNotifier()
