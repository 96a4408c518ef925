"""Which server-made items of the history go back to the server of a Responses request."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import openai

from ..capabilities import model_capabilities

type Replayable = Callable[[openai.BaseModel], bool]
# Server-made items remembered per server: far more than a conversation's turns hold.
PRODUCED_ITEMS = 4096


def replay_all(_item: openai.BaseModel) -> bool:
    """Take every item as the server's own (callers that build a request by hand)."""
    return True


class ProducedItems:
    """The ids of the newest items one server made (reasoning, server tool calls)."""

    def __init__(self) -> None:
        """Start empty."""
        self._ids: OrderedDict[str, None] = OrderedDict()

    def remember(self, item_id: str) -> None:
        """Note an item the server made."""
        self._ids[item_id] = None
        if len(self._ids) > PRODUCED_ITEMS:
            self._ids.popitem(last=False)

    def made(self, item_id: str) -> bool:
        """Return whether the server made the item of that id."""
        return item_id in self._ids


def replayable(family: str, made: Callable[[str], bool] | None) -> Replayable:
    """Return which server-made items go back to the server of this request.

    Its own only (encrypted reasoning and server tool calls mean nothing elsewhere), and
    reasoning only to a reasoning model (others refuse it). made None: all are its own.
    """
    reasoning = model_capabilities(family).reasoning

    def replay(item: openai.BaseModel) -> bool:
        if getattr(item, "type", None) == "reasoning" and not reasoning:
            return False
        return made is None or made(str(getattr(item, "id", "")))

    return replay
