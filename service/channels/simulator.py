"""The phone simulator's channel: replies land in a Redis list the simulator page reads."""
import hashlib
import json
import uuid

from .base import OutgoingMessage

INBOX_TTL = 24 * 3600


def inbox_key(address: str) -> str:
    return "svar:simulator:" + hashlib.sha256(address.encode()).hexdigest()


class SimulatorChannel:
    """A development channel; never enabled in production (Config.simulator)."""

    name = "simulator"

    def __init__(self, runtime):
        self.runtime = runtime

    def send(self, message: OutgoingMessage) -> str:
        message_id = "SIM" + uuid.uuid4().hex
        entry = {"id": message_id, "text": message.text, "options": list(message.options)}
        key = inbox_key(message.address)
        pipe = self.runtime.redis.pipeline()
        pipe.rpush(key, json.dumps(entry, ensure_ascii=False))
        pipe.expire(key, INBOX_TTL)
        pipe.execute()
        return message_id

    def inbox(self, address: str, start: int = 0) -> list[dict]:
        return [json.loads(item) for item in self.runtime.redis.lrange(inbox_key(address), start, -1)]
