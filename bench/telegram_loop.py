"""How to run PTB's async Bot from the sync send job: figures for three ways, against the loopback Bot API double.

    .venv/bin/python -m bench.telegram_loop [N]

Loopback HTTP has no TLS, so a fresh connection costs far less here than to
api.telegram.org; the gap to a new connection per message is a lower bound.
"""
import asyncio
import sys
import time

from telegram import Bot
from telegram.request import HTTPXRequest

from tests.doubles.telegram_api import TelegramApiDouble

TOKEN = "1:bench"


def new_bot(url):
    return Bot(TOKEN, base_url=f"{url}/bot", request=HTTPXRequest(connection_pool_size=4))


def per_message(url, n):
    for i in range(n):
        async def one():
            bot = new_bot(url)
            await bot.send_message(chat_id=i, text="x")
            await bot.shutdown()
        asyncio.run(one())


def per_batch(url, n, batch=50):
    for start in range(0, n, batch):
        async def many():
            bot = new_bot(url)
            for i in range(start, min(n, start + batch)):
                await bot.send_message(chat_id=i, text="x")
            await bot.shutdown()
        asyncio.run(many())


def per_process(url, n):
    loop = asyncio.new_event_loop()
    bot = new_bot(url)
    for i in range(n):
        loop.run_until_complete(bot.send_message(chat_id=i, text="x"))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    double = TelegramApiDouble(TOKEN).start()
    try:
        for name, way in (("asyncio.run per message", per_message), ("asyncio.run per batch of 50", per_batch), ("one loop per process", per_process)):
            started = time.perf_counter()
            way(double.url, n)
            elapsed = time.perf_counter() - started
            print(f"{name:30s} {n} messages  {elapsed * 1000 / n:6.2f} ms/message")
    finally:
        double.stop()


if __name__ == "__main__":
    main()
