"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps the messages it receives: CKAN's mailer
(``ckan.lib.mailer``, ``smtp.server``) talks to it as to any mail server."""
from __future__ import annotations

import email
import email.policy
import socket
import time
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class LocalSMTP:
    def __init__(self) -> None:
        self.inbox = _Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def start(self) -> "LocalSMTP":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.messages


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


# --------------------------------------------------------------------------- fixtures
# (imported by the test modules that use them)


@pytest.fixture
def smtp(monkeypatch):
    """A local SMTP server, and CKAN's mailer of this process pointed at it."""
    from ckan.common import config

    server = LocalSMTP().start()
    monkeypatch.setitem(config, "smtp.server", server.server)
    monkeypatch.setitem(config, "smtp.mail_from", "moissonnage@ecarto.localhost")
    yield server
    server.stop()


@pytest.fixture
def org_admin(org):
    """An admin of the `org` organization, with an e-mail address."""
    import ckan.tests.factories as factories
    import ckan.tests.helpers as helpers

    user = factories.User(name="admin-menj", fullname="Camille Admin", email="camille.admin@menj.localhost")
    helpers.call_action("organization_member_create", {"ignore_auth": True}, id=org["id"],
                        username=user["name"], role="admin")
    return user
