#!/usr/bin/env python3
"""A real SMTP server for the hub's email tests (aiosmtpd): every mail it accepts is written to
DIR as a numbered .eml file (atomically: written, then renamed), with the envelope's sender and
recipients in a header line of its own. Recipients listed (one per line) in DIR/refuse get a
permanent 550 at RCPT; while DIR/busy exists every mail gets a transient 451.

Usage: smtp-sink.py --port PORT --dir DIR   (prints "listening PORT" once it accepts)
"""
import argparse
import itertools
import os
import signal
import threading

from aiosmtpd.controller import Controller


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
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Keep(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"listening {args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
