"""Web search citations are cut from streamed text however the deltas split them."""

from __future__ import annotations

import pytest

from custom_components.openai_conversation.backends.citations import CitationFilter

CASES = {
    "one citation": (
        "It is sunny in Amsterdam ([weather.com](https://weather.com/nl?x=1)). Enjoy!",
        "It is sunny in Amsterdam. Enjoy!",
    ),
    "two citations": (
        "Rain ([a](https://a.example/1)) and wind ([b](http://b.example)).",
        "Rain and wind.",
    ),
    "brackets that are no citation": (
        "Use ([1] the first) or (see [docs](ftp://x)) (and) [c](https://c) too.",
        "Use ([1] the first) or (see [docs](ftp://x)) (and) [c](https://c) too.",
    ),
    "a citation without its closing parenthesis at the end": (
        "Done ([a](https://a.example)",
        "Done ([a](https://a.example)",
    ),
}


def _stream(text: str, size: int) -> str:
    citations = CitationFilter()
    out = "".join(citations.feed(text[i : i + size]) for i in range(0, len(text), size))
    return out + citations.flush()


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=list(CASES))
def test_citations_cut_at_every_split(text: str, expected: str) -> None:
    for size in range(1, len(text) + 1):
        assert _stream(text, size) == expected, size
