"""Interleaved measurement: contenders take turns in short blocks, so drift hits all alike.

A run repeats rounds (one block per contender, in an order that rotates each round) until
every ratio's 95% interval is within the target, or the time budget is spent. Each round
gives one ratio per pair; the figure is the median of those, with a distribution-free
interval for the median (order statistics of the binomial distribution) and the range.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from math import comb
import statistics
import time
from typing import Any

type Turn = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Ratio:
    """The median of per-round ratios, its 95% interval and the range seen."""

    median: float
    low: float
    high: float
    smallest: float
    largest: float
    rounds: int

    @property
    def half_width(self) -> float:
        """Return the interval's larger side, relative to the median."""
        return max(self.median - self.low, self.high - self.median) / self.median

    def __str__(self) -> str:
        """Format as 0.93x [0.91-0.95] (range 0.88-0.99)."""
        return (
            f"{self.median:.2f}x [{self.low:.2f}-{self.high:.2f}] "
            f"(range {self.smallest:.2f}-{self.largest:.2f})"
        )


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Return a distribution-free interval for the median (the whole range if too few)."""
    ordered = sorted(values)
    n = len(ordered)
    # The largest k with P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2: the interval
    # [x(k), x(n-k+1)] then holds the median with at least the confidence asked.
    below, k = 0.0, 0
    while k < n // 2:
        below += comb(n, k) / 2**n
        if below > (1 - confidence) / 2:
            break
        k += 1
    k = max(k, 1)
    return ordered[k - 1], ordered[n - k]


def ratio(values: Sequence[float]) -> Ratio:
    """Summarize per-round ratios."""
    low, high = median_interval(values)
    return Ratio(statistics.median(values), low, high, min(values), max(values), len(values))


@dataclass
class Interleaved:
    """Per-round medians of wall time and CPU per turn, per contender."""

    walls: dict[str, list[float]] = field(default_factory=dict)
    cpus: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    converged: bool = False

    def ratio(self, figure: str, top: str, bottom: str) -> Ratio:
        """Return top / bottom, round by round, for "wall" or "cpu"."""
        data = self.walls if figure == "wall" else self.cpus
        return ratio([a / b for a, b in zip(data[top], data[bottom], strict=True)])

    def median_ms(self, figure: str, name: str) -> float:
        """Return a contender's median over rounds, in ms."""
        data = self.walls if figure == "wall" else self.cpus
        return statistics.median(data[name]) * 1000


async def _block(turn: Turn, turns: int) -> tuple[float, float]:
    """Run one block after a warm-up turn; return its median time and CPU per turn.

    A turn's time is its wall time, unless it returns a time of its own (seconds), as a
    voice turn returns the delay to its first audio.
    """
    await turn()
    walls = []
    cpu = time.process_time()
    for _ in range(turns):
        start = time.perf_counter()
        own = await turn()
        walls.append(own if isinstance(own, float) else time.perf_counter() - start)
    return statistics.median(walls), (time.process_time() - cpu) / turns


async def interleave(
    contenders: dict[str, Turn],
    pairs: Sequence[tuple[str, str]],
    *,
    block: int,
    budget: float,
    min_rounds: int = 6,
    target: float = 0.05,
) -> Interleaved:
    """Alternate blocks until each pair's wall ratio is within ±target, or time runs out."""
    names = list(contenders)
    result = Interleaved({n: [] for n in names}, {n: [] for n in names})
    start = time.monotonic()
    for round_ in range(10_000):
        # Rotating the order keeps any one contender from always running after another.
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            wall, cpu = await _block(contenders[name], block)
            result.walls[name].append(wall)
            result.cpus[name].append(cpu)
        result.seconds = time.monotonic() - start
        if round_ + 1 < min_rounds:
            continue
        if all(result.ratio("wall", a, b).half_width <= target for a, b in pairs):
            result.converged = True
            break
        if result.seconds >= budget:
            break
    return result
