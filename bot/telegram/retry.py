"""Telegram's limits: `RetryingRateLimiter` (flood limits, plus retries of 5xx answers and of
requests that could not be sent) and `not_sent`."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from telegram.error import NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

NETWORK_RETRIES = 2  # extra attempts after a 5xx or a dropped connection
UNSENT_PATIENCE = 60.0  # seconds to keep retrying a request that could not be sent at all
UNSENT_BACKOFF_MAX = 5.0  # longest pause between those retries
BOOTSTRAP_ENDPOINTS = {"getMe", "deleteWebhook", "setWebhook"}


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (Telegram's flood limits, 429 retried after retry_after) that also retries
    a request failing with a 5xx answer or a dropped connection, with a short back-off.

    A request that could not be sent at all (no connection to the Bot API: a network drop, a
    restarting proxy) is retried for up to `UNSENT_PATIENCE` seconds, since sending it again
    cannot duplicate anything; an answer is then delivered once the API is back instead of
    being lost. A time-out after sending is not retried: the request may have reached
    Telegram, and a duplicate answer is worse than a late error in the log. Start-up calls are
    left to PTB's own bootstrap retries.
    """

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        failures = 0  # failures after which the request may have been sent
        unsent = 0
        started = time.monotonic()
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as exc:
                if endpoint in BOOTSTRAP_ENDPOINTS:
                    raise
                if not_sent(exc):
                    if time.monotonic() - started >= UNSENT_PATIENCE:
                        raise
                    delay = min(UNSENT_BACKOFF_MAX, 0.5 * 2**unsent)
                    unsent += 1
                elif type(exc) is NetworkError and failures < NETWORK_RETRIES:
                    delay = 0.5 * 2**failures
                    failures += 1
                else:
                    raise
                log.warning("Bot API %s failed (%s); retrying", endpoint, exc)
                await asyncio.sleep(delay)


def not_sent(exc: BaseException) -> bool:
    """True when a Bot API request failed before it could be sent (no connection was made)."""
    return isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
