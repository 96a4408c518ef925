"""Token usage: traced per response, summed per turn by sensors, priced from one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class UsageReport:
    """What an agent's sensors add up from one turn: its responses and fallbacks."""

    usage: TokenUsage = field(default_factory=TokenUsage)
    cost: float | None = None
    fallbacks: int = 0

    def __add__(self, other: UsageReport) -> UsageReport:
        """Return both reports in one; a response without a price adds no cost."""
        a, b = self.usage, other.usage
        costs = [c for c in (self.cost, other.cost) if c is not None]
        return UsageReport(
            TokenUsage(
                a.input_tokens + b.input_tokens,
                a.output_tokens + b.output_tokens,
                a.cached_tokens + b.cached_tokens,
            ),
            sum(costs) if costs else None,
            self.fallbacks + other.fallbacks,
        )


class TurnReporter:
    """Reports a turn's usage and fallbacks to its trace and to its agent's sensors.

    Each response goes to the trace at once; the sensors get the turn's sum when it ends,
    so each writes its state once (one recorder row), however many tool rounds it took.
    """

    def __init__(
        self, hass: HomeAssistant, chat_log: conversation.ChatLog, subentry_id: str | None
    ) -> None:
        """Initialize; without a subentry there are no sensors, only the trace."""
        self._hass = hass
        self._chat_log = chat_log
        self._subentry_id = subentry_id
        self._turn: UsageReport | None = None

    @callback
    def _add(self, report: UsageReport) -> None:
        self._turn = report if self._turn is None else self._turn + report

    @callback
    def send(self) -> None:
        """Send what the turn used so far to the agent's sensors (at its end)."""
        if self._turn is not None and self._subentry_id is not None:
            async_dispatcher_send(self._hass, usage_signal(self._subentry_id), self._turn)
        self._turn = None

    def usage(self, model: str) -> Callable[[TokenUsage], None]:
        """Return the callback a request to the model reports its usage to."""

        @callback
        def report(usage: TokenUsage) -> None:
            self._chat_log.async_trace(
                {
                    "stats": {
                        "input_tokens": usage.input_tokens,
                        "output_tokens": usage.output_tokens,
                        "cached_input_tokens": usage.cached_tokens,
                    }
                }
            )
            self._add(UsageReport(usage, cost_usd(model, usage)))

        return report

    @callback
    def fallback(self, failed: str, fallback: str, reason: str, server: str | None) -> None:
        """Record that the turn moved from one model to its fallback, and why.

        server: the title of the entry serving the fallback, when it is another one.
        """
        detail = {"model": failed, "fallback_model": fallback, "reason": reason}
        if server is not None:
            detail["fallback_server"] = server
        self._chat_log.async_trace({"fallback": detail})
        self._add(UsageReport(fallbacks=1))
