"""``email_send`` and ``smtp-relay-send``: a message rendered in the request, delivered after
the commit through the outbox (:mod:`runtime.outbox`) over SMTP (``SMTP_URL``).

Templates are files the compiler read (``templates/<name>.txt`` and ``.html`` beside the
workflows) and embedded in the generated module; they are rendered here with jinja2's
sandbox, the HTML part autoescaped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import unquote, urlsplit

from jinja2.sandbox import SandboxedEnvironment

from runtime import js
from runtime.errors import ValidationFailed

if TYPE_CHECKING:
    from runtime.effects import Effects
    from runtime.execution import Execution

_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_SENDER = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")  # `noreply@localhost` too
MAX_RECIPIENTS = 50


class QueuedMail(TypedDict):
    messageId: str
    queued: bool


@dataclass(frozen=True)
class MailTemplate:
    """A template the compiler embedded: its text part and its HTML part (either may be
    absent, not both)."""

    name: str
    text: str | None
    html: str | None


@functools.cache
def _env(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=autoescape, keep_trailing_newline=True)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool):  # type: ignore[no-untyped-def]
    return _env(html).from_string(source)


def render(template: MailTemplate, data: Mapping[str, object]) -> tuple[str, str | None]:
    """The text part and the HTML part (None without an HTML template)."""
    values = {k: v for k, v in data.items() if v is not js.UNDEFINED}
    html = _compiled(template.html, True).render(values) if template.html is not None else None
    if template.text is not None:
        text = _compiled(template.text, False).render(values)
    else:
        text = re.sub(r"<[^>]+>", "", html or "")
    return text, html


def fallback_text(data: Mapping[str, object]) -> str:
    """The text of a message whose template file does not exist: its data, one per line."""
    return "".join(f"{k}: {js.to_string(v)}\n" for k, v in data.items() if v is not js.UNDEFINED)


def recipients(node: str, value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for v in items:
        for part in js.to_string(v).split(","):
            addr = part.strip()
            if addr:
                out.append(addr)
    if not out or len(out) > MAX_RECIPIENTS or not all(_ADDRESS.match(a) for a in out):
        raise ValidationFailed(
            f"The recipient of node {node} is not a valid e-mail address", "INVALID_RECIPIENT"
        )
    return out


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip("> ") or "localhost"


async def send_mail(
    ex: Execution,
    node: str,
    to: object,
    subject: object,
    template: Mapping[str, str | None] | None,
    data: Mapping[str, object],
    body: object = js.UNDEFINED,
    sender: object = js.UNDEFINED,
    attempts: int = 3,
    html: object = js.UNDEFINED,
) -> QueuedMail:
    """Queue one message in the execution's transaction; it is sent after the commit. The
    output is ``{messageId, queued}`` (the Message-ID is fixed now, so a receiver can tell a
    redelivery)."""
    config = ex.effects.config
    addresses = recipients(node, to)
    frm = config.mail_from if sender in (None, js.UNDEFINED, "") else js.to_string(sender)
    if not _SENDER.match(frm.strip()):
        raise ValidationFailed(
            f"The sender of node {node} is not an e-mail address", "INVALID_SENDER"
        )
    if template is not None:
        text, html = render(
            MailTemplate(str(template["name"]), template["text"], template["html"]), data
        )
    elif body not in (None, js.UNDEFINED):
        text = js.to_string(body)
        html = html if isinstance(html, str) and html else None  # as given, not escaped
    else:
        text, html = fallback_text(data), None
    seq = ex.next_effect()
    message_id = f"<{ex.execution_id}.{seq}@{_domain(frm)}>"
    await ex.defer(
        "email",
        {
            "to": addresses,
            "from": frm,
            "subject": js.to_string(subject),
            "text": text,
            "html": html,
            "messageId": message_id,
        },
        max(1, attempts),
        seq,
    )
    return {"messageId": message_id, "queued": True}


def build_message(payload: dict[str, object]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = str(payload["from"])
    to = payload["to"]
    msg["To"] = ", ".join(to) if isinstance(to, list) else str(to)
    msg["Subject"] = str(payload["subject"])
    msg["Message-ID"] = str(payload["messageId"])
    msg["Date"] = formatdate(usegmt=True)
    msg.set_content(str(payload["text"]))
    html = payload.get("html")
    if isinstance(html, str):
        msg.add_alternative(html, subtype="html")
    return msg


async def deliver(effects: Effects, payload: dict[str, object]) -> None:
    """Send one queued message over SMTP; raises on any failure (the outbox retries)."""
    import aiosmtplib

    config = effects.config
    if config.smtp_url is None:
        raise RuntimeError("SMTP_URL is not set: the message waits in the outbox")
    url = urlsplit(config.smtp_url)
    tls = url.scheme == "smtps"
    starttls = "starttls=true" in (url.query or "").lower()
    await aiosmtplib.send(
        build_message(payload),
        hostname=url.hostname or "localhost",
        port=url.port or (465 if tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=tls,
        start_tls=starttls,
        timeout=30,
    )


def choose(
    templates: Mapping[str, Mapping[str, str | None]], name: object
) -> Mapping[str, str | None] | None:
    """The template a name computed at run time selects (None: send the body as it is)."""
    if name is None or name is js.UNDEFINED:
        return None
    return templates.get(js.to_string(name))


async def send_plugin_mail(ex: Execution, node: str, params: object) -> object:
    """JSON Script's ``email.smtp.send``: queue the message its params describe; the output
    is the params with ``messageId`` and ``queued``."""
    given = dict(params) if isinstance(params, dict) else {}
    everyone: list[object] = []
    for key in ("to", "cc", "bcc"):
        v = given.get(key)
        if isinstance(v, list):
            everyone += v
        elif v not in (None, js.UNDEFINED, ""):
            everyone.append(v)
    queued = await send_mail(
        ex,
        node,
        everyone,
        given.get("subject", ""),
        None,
        {},
        body=given.get("textBody", ""),
        sender=given.get("from", js.UNDEFINED),
        html=given.get("htmlBody", js.UNDEFINED),
    )
    return {**given, **queued}
