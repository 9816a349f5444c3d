"""A real SMTP server for tests and trials: aiosmtpd (from PyPI) that writes each message it
accepts as a JSON file (sender, recipients, subject, Message-ID, text and HTML parts,
attachments in base64), so that a test can read what arrived.

    python -m aiosmtpd -n -l 127.0.0.1:2525 -c smtp_sink.Sink /tmp/mails
    (with PYTHONPATH=scripts; ./scripts/test.sh installs aiosmtpd in target/mail-venv)

Recipients whose address starts with "refuse" are refused with 550 (a permanent error), those
starting with "later" with 451 (come back later), to test how passnum treats each.
"""

import base64
import json
import os
from email import message_from_bytes, policy


class Sink:
    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink takes the folder to write messages to")
        return cls(args[0])

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return "550 5.1.1 Destinataire inconnu"
        if address.startswith("later"):
            return "451 4.3.0 Revenez plus tard"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        attachments = [
            {
                "name": part.get_filename(),
                "type": part.get_content_type(),
                "base64": base64.b64encode(part.get_payload(decode=True)).decode(),
            }
            for part in msg.iter_attachments()
        ]
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
            "attachments": attachments,
        }
        self.count += 1
        name = os.path.join(self.directory, f"{self.count:04d}.json")
        with open(name + ".part", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(name + ".part", name)
        return "250 Message accepted for delivery"
