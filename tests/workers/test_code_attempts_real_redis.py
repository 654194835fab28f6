"""The guess limits hold against a burst of parallel tries on a real Redis (A7)."""
import dataclasses

from service.conversation import code_attempts
from service.infra.runtime import Runtime
from tests.service.test_code_limits import burst


def test_a_parallel_burst_passes_no_more_tries_than_the_limits(config, real_redis):
    runtime = Runtime(dataclasses.replace(config, code_attempts_global=12), redis=real_redis)
    assert burst(runtime, senders=48) == 12
    assert int(real_redis.get(code_attempts.GLOBAL_KEY)) == 12
    assert 3590 <= real_redis.ttl(code_attempts.GLOBAL_KEY) <= 3600


def test_the_campaign_limit_holds_on_a_real_redis(config, real_redis):
    runtime = Runtime(dataclasses.replace(config, code_attempts_campaign=7), redis=real_redis)
    assert burst(runtime, senders=30, each=3) == 7
