#!/usr/bin/env python3
"""A real SMTP server for the hub's email tests (aiosmtpd): every mail it accepts is written to
DIR as a numbered .eml file (atomically: written, then renamed), with the envelope's sender and
recipients in a header line of its own. Recipients listed (one per line) in DIR/refuse get a
permanent 550 at RCPT; while DIR/busy exists every mail gets a transient 451.

With --tls starttls (STARTTLS required before MAIL) or --tls implicit (TLS from the first byte),
--cert and --key name its PEM certificate and key; with --user and --password it requires AUTH
(PLAIN or LOGIN) with them.

Usage: smtp-sink.py --port PORT --dir DIR [--tls starttls|implicit --cert PEM --key PEM]
                    [--user NAME --password SECRET]   (prints "listening PORT" once it accepts)
"""
import argparse
import itertools
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Keep:
    def __init__(self, folder):
        self.folder = folder
        self.numbers = itertools.count(1)
        self.lock = threading.Lock()

    def _listed(self, name):
        try:
            with open(os.path.join(self.folder, name)) as f:
                return {line.strip().lower() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self._listed("refuse"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.folder, "busy")):
            return "451 4.3.0 try again later"
        with self.lock:
            number = next(self.numbers)
        path = os.path.join(self.folder, f"{number:06}.eml")
        envelope_line = f"X-Envelope: from={envelope.mail_from} to={','.join(envelope.rcpt_tos)}\r\n"
        with open(path + ".part", "wb") as f:
            f.write(envelope_line.encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".part", path)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    options = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        else:
            # The connection is TLS from the start; aiosmtpd only counts STARTTLS as TLS for AUTH.
            options.update(ssl_context=context, auth_require_tls=False)
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == args.user
                and auth_data.password.decode() == args.password
            )
            return AuthResult(success=ok)

        options.update(authenticator=authenticator, auth_required=True)
    controller = Controller(Keep(args.dir), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print(f"listening {args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
