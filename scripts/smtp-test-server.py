#!/usr/bin/python3
"""A real SMTP server for the SMTP sender's tests (Debian's python3-aiosmtpd): STARTTLS required,
AUTH PLAIN/LOGIN only after TLS, each accepted message appended as a JSON line to OUT.
Usage: smtp-test-server.py CERT KEY OUT; prints "ready PORT" on stdout once listening."""
import json
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, out = sys.argv[1:4]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None,
                "authenticated": bool(session.authenticated),
                "data": envelope.original_content.decode("utf-8", "replace"),
            }) + "\n")
        return "250 OK queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"lpse" and auth_data.password == b"rahasia-relay"
    return AuthResult(success=ok, handled=False)


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


port = free_port()
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                        authenticator=authenticator, auth_require_tls=True)
controller.start()
print("ready", port, flush=True)
while True:  # ended by the test with SIGTERM
    time.sleep(1)
