"""Cut web search citations, ([title](https://...)), out of streamed text.

With inline citations off (core's default), the model is asked to leave them out, but
non-reasoning models still write them, and a voice assistant would read the links aloud.
A citation may arrive split over several deltas, so a possible start is held back until it
is complete (and dropped) or can no longer be one (and released).
"""

from __future__ import annotations

import re

# A URL may hold parentheses (Wikipedia's "Bohr_(crater)"): balanced ones are the URL's.
_URL = r"(?:[^()\s]|\([^()\s]*\))+"
# An unbalanced "(" too, where the citation can end no other way.
_ANY_URL = r"(?:[^()\s]|\([^()\s]*\)|\()+"
_START = r" ?\(\[[^\]\n]+\]\(https?://"
CITATION = re.compile(rf"{_START}{_URL}\)\)")
_ANY_CITATION = re.compile(rf"{_START}{_ANY_URL}\)\)")
# ... which is only known once the text goes on with something other than ")".
_ENDED_CITATION = re.compile(rf"{_START}{_ANY_URL}\)\)(?=[^)])")
# What a citation can look like before its end has arrived.
_TITLE = re.compile(r" ?\(\[[^\]\n]*")
_LINK = re.compile(r" ?\(\[[^\]\n]+\](?:\((?P<url>(?:[^()\s]|\([^()\s]*\)?)*))?")
_AWAITING_PAREN = re.compile(rf"{_START}{_ANY_URL}\)")
_SCHEMES = ("http://", "https://")
# A start held longer than this is released as text: no title is that long.
_MAX_HELD = 500


def _may_become_citation(text: str) -> bool:
    """Return whether text is the beginning of a citation, or all of one but its ")"."""
    if text in ("(", " ("):
        return True
    if _TITLE.fullmatch(text) or _AWAITING_PAREN.fullmatch(text):
        return True
    if match := _LINK.fullmatch(text):
        url = match["url"] or ""
        return url.startswith(_SCHEMES) or any(s.startswith(url) for s in _SCHEMES)
    return False


def _held_start(text: str) -> int:
    """Return where the possible citation at the end of text starts (len(text): none).

    A trailing space is held too: it belongs to a citation that may follow.
    """
    tail = max(0, len(text) - _MAX_HELD)
    for match in re.finditer(r" ?\(", text[tail:]):
        if _may_become_citation(text[tail + match.start() :]):
            return tail + match.start()
    return len(text) - 1 if text.endswith(" ") else len(text)


class CitationFilter:
    """Removes citations from a stream of text deltas."""

    def __init__(self) -> None:
        """Start with nothing held back."""
        self._held = ""

    def feed(self, delta: str) -> str:
        """Return the text that is certainly not part of a citation."""
        text = _ENDED_CITATION.sub("", CITATION.sub("", self._held + delta))
        start = _held_start(text)
        self._held = text[start:]
        return text[:start]

    def flush(self) -> str:
        """Return what was held back when the text ends, but a citation it completes."""
        held, self._held = self._held, ""
        return _ANY_CITATION.sub("", held)
