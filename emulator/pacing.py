"""When the emulator's replies are due.

A service time (first token, speech latency, transcription) counts from the moment the request
arrived, as a client sees a real server's: the emulator's own work in between (validating the
request, encoding audio) happens inside that time instead of adding to it, so a benchmark's
"physical limit" is what the client really waits for.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


def clock() -> float:
    """Return the event loop's clock."""
    return asyncio.get_running_loop().time()


@dataclass
class Pace:
    """A schedule that starts at a request's arrival; each step is due a time after the last."""

    due: float

    @classmethod
    def from_now(cls) -> Pace:
        """Return a schedule that starts now."""
        return cls(clock())

    async def after(self, seconds: float) -> None:
        """Wait until `seconds` after the previous step was due (at once if that has passed)."""
        self.due += seconds
        if (left := self.due - clock()) > 0:
            await asyncio.sleep(left)
