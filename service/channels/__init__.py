"""Channel adapters by name; each is built once per runtime."""
from .base import Channel


def channel_for(name: str, runtime) -> Channel:
    """The adapter for a channel name ("sms", "telegram", "simulator")."""
    cache = runtime.__dict__.setdefault("_channels", {})
    if name not in cache:
        cache[name] = _build(name, runtime)
    return cache[name]


def _build(name, runtime):
    # Imported lazily: a worker that only sends SMS need not load Telegram.
    if name == "sms":
        from .twilio import TwilioChannel

        return TwilioChannel(runtime.config)
    if name == "telegram":
        from .telegram import TelegramChannel

        return TelegramChannel(runtime)
    if name == "simulator":
        from .simulator import SimulatorChannel

        return SimulatorChannel(runtime)
    raise KeyError(f"unknown channel {name!r}")
