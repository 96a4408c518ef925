"""The benchmark's statistics: the interval for a median, and the interleaving order."""

from __future__ import annotations

import asyncio

import pytest

from tools.bench_stats import interleave, median_interval, ratio


@pytest.mark.parametrize(
    ("n", "rank"),
    # Ranks from the binomial distribution (as in tables of median confidence intervals).
    [(5, 1), (6, 1), (9, 2), (10, 2), (20, 6), (30, 10)],
)
def test_median_interval_ranks(n: int, rank: int) -> None:
    values = [float(v) for v in range(1, n + 1)]
    assert median_interval(values) == (rank, n + 1 - rank)


def test_ratio_summary() -> None:
    summary = ratio([1.0, 1.1, 0.9, 1.05, 0.95, 1.2, 0.8])
    assert summary.median == 1.0
    assert (summary.smallest, summary.largest) == (0.8, 1.2)
    assert summary.half_width == pytest.approx(0.2)


def _contender(order: list[str], name: str, seconds: float):
    async def turn() -> float:
        order.append(name)
        await asyncio.sleep(0)
        # Its own time, as a voice turn returns one: no clock, so the load of the machine
        # running the test cannot move the statistics.
        return seconds

    return turn


async def test_interleave_rotates_and_stops_when_tight() -> None:
    order: list[str] = []
    run = await interleave(
        {"a": _contender(order, "a", 0.02), "b": _contender(order, "b", 0.01)},
        [("a", "b")],
        block=1,
        budget=60,
        min_rounds=6,
    )
    # Each block is a warm-up turn and one timed turn; the order rotates every round.
    assert order[:8] == ["a", "a", "b", "b", "b", "b", "a", "a"]
    assert run.converged
    assert len(run.walls["a"]) == 6  # the ratio is exact: the fewest rounds suffice
    assert run.ratio("wall", "a", "b").median == pytest.approx(2)


async def test_interleave_says_when_the_budget_ran_out() -> None:
    durations = iter([0.001, 0.001, 0.02, 0.02] * 50)  # blocks of b: fast, slow, fast...

    async def erratic() -> float:
        return next(durations)

    run = await interleave(
        {"a": _contender([], "a", 0.005), "b": erratic},
        [("a", "b")],
        block=1,
        budget=0,
        min_rounds=6,
    )
    assert not run.converged
    assert len(run.walls["a"]) == 6
