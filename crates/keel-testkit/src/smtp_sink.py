"""A real SMTP server for Keel's tests (aiosmtpd): stores every message it accepts as a
JSON file (envelope, headers, decoded text and HTML bodies) in a folder, so the Rust
tests can assert on what a workflow sent. Usage: smtp_sink.py PORT FOLDER."""
import email
import email.policy
import json
import os
import sys
import threading
import time
import uuid

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": msg["from"],
            "to": msg["to"],
            "cc": msg["cc"],
            "subject": msg["subject"],
            "message_id": msg["message-id"],
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.json"
        tmp = os.path.join(self.folder, name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(record, f)
        # Renamed into place, so a reader never sees half a file.
        os.rename(tmp, os.path.join(self.folder, name))
        return "250 Message accepted for delivery"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Store(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
