"""Token usage: reported per response, summed by sensors, priced from one table."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .backends import TokenUsage
from .const import DOMAIN

# USD per million tokens: (input, cached input, output). Longest matching prefix wins.
# Update from OpenAI's pricing page; a model missing here has tokens but no cost.
PRICES_PER_MILLION: dict[str, tuple[float, float, float]] = {
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-5-nano": (0.05, 0.005, 0.40),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "gpt-5": (1.25, 0.125, 10.00),
    "gpt-5.6-luna": (0.20, 0.02, 1.20),
    "gpt-5.6-terra": (2.00, 0.20, 12.00),
    "gpt-6-luna": (0.10, 0.01, 0.50),
    "gpt-6-sol": (2.00, 0.20, 10.00),
    "gpt-6.1-sol": (2.00, 0.10, 10.00),
    "gpt-6.1-terra": (1.00, 0.05, 5.00),
    "o4-mini": (1.10, 0.275, 4.40),
    "o3": (2.00, 0.50, 8.00),
}


def usage_signal(subentry_id: str) -> str:
    """Return the dispatcher signal for a subentry's usage."""
    return f"{DOMAIN}_usage_{subentry_id}"


def cost_usd(model: str, usage: TokenUsage) -> float | None:
    """Return the estimated cost of a response, or None for a model without a price."""
    prefixes = [p for p in PRICES_PER_MILLION if model.startswith(p)]
    if not prefixes:
        return None
    price_in, price_cached, price_out = PRICES_PER_MILLION[max(prefixes, key=len)]
    uncached = usage.input_tokens - usage.cached_tokens
    total = uncached * price_in + usage.cached_tokens * price_cached
    return (total + usage.output_tokens * price_out) / 1_000_000


def usage_reporter(
    hass: HomeAssistant, chat_log: conversation.ChatLog, subentry_id: str, model: str
) -> Callable[[TokenUsage], None]:
    """Return the callback a turn reports usage to: the trace, and the sensors."""

    @callback
    def report(usage: TokenUsage) -> None:
        chat_log.async_trace(
            {
                "stats": {
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "cached_input_tokens": usage.cached_tokens,
                }
            }
        )
        async_dispatcher_send(hass, usage_signal(subentry_id), usage, cost_usd(model, usage))

    return report
