"""The provider's pace, shared by every worker through Redis (GCRA in one Lua script).

The provider sends our messages at `rate` per second and queues the rest.
One Redis key per sender holds the time its queue will have drained (the
"theoretical arrival time"). A message is handed over only if it would wait
at most `max_delay` seconds in that queue; otherwise the caller keeps it in
the outbox and learns how long until there is room.

If Redis loses the key, the limiter believes the provider's queue empty and
admits up to one more backlog: the provider's queue (hours at Twilio) takes
that, so nothing is lost, only paced a little less evenly.
"""
import time
from dataclasses import dataclass
from dataclasses import field

# KEYS[1] the sender's key; ARGV now, seconds per message, max delay (all seconds), force ("1": admit anyway).
# Returns "0" when admitted, else the seconds until a message would be.
GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local max_delay = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local delay = tat - now
if delay > max_delay and ARGV[4] ~= '1' then
  return tostring(delay - max_delay)
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""

# Reads the backlog without taking a place in it.
BACKLOG = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if tat < now then return '0' end
return tostring(tat - now)
"""


@dataclass
class SendRate:
    """`rate` messages per second for one sender, with at most `backlog` seconds queued at the provider."""

    redis: object
    sender: str
    rate: float
    backlog: float
    # Registered once: a script object hashes its source, then calls EVALSHA (EVAL once after a Redis restart).
    _scripts: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        return f"svar:send-rate:{self.sender}"

    def admit(self, now: float | None = None, max_delay: float | None = None, force: bool = False) -> float:
        """Take a place in the provider's queue: 0.0 if admitted, else seconds to wait before trying again.

        `max_delay` (seconds) tightens the backlog, e.g. so a message still
        goes out before the sending window closes; `force` admits regardless
        (a reply someone waits for) while still counting it.
        """
        now = time.time() if now is None else now
        limit = self.backlog if max_delay is None else max(0.0, min(self.backlog, max_delay))
        args = [repr(now), repr(1.0 / self.rate), repr(limit), "1" if force else "0"]
        return float(self._script(GCRA)(keys=[self.key], args=args))

    def queued_seconds(self, now: float | None = None) -> float:
        """How long the provider needs to send what we handed it."""
        now = time.time() if now is None else now
        return float(self._script(BACKLOG)(keys=[self.key], args=[repr(now)]))

    def _script(self, source: str):
        if source not in self._scripts:
            self._scripts[source] = self.redis.register_script(source)
        return self._scripts[source]


def send_rate(runtime, channel: str) -> SendRate | None:
    """The limiter of a channel's sender; None for channels without a provider limit."""
    if channel != "sms":
        return None
    config = runtime.config
    limiter = SendRate(runtime.redis, f"sms:{config.sms_sender}", config.sms_rate_per_second, config.sms_backlog)
    # One per sender and setting for the life of the runtime, so its scripts stay registered.
    cache = runtime.__dict__.setdefault("_send_rates", {})
    return cache.setdefault((limiter.sender, limiter.rate, limiter.backlog), limiter)
