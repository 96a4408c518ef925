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
    "a citation straight after a word": (
        "Sunny([weather.com](https://weather.com)) today.",
        "Sunny today.",
    ),
    "a URL with parentheses": (
        "Bohr ([Wikipedia](https://en.wikipedia.org/wiki/Bohr_(crater))) is a crater.",
        "Bohr is a crater.",
    ),
    "a URL with an unclosed parenthesis": (
        "Odd ([a](https://a.example/x_(y)).",
        "Odd.",
    ),
    "URLs with parentheses at the end": (
        "Bohr ([W](https://w.example/Bohr_(crater))) and ([a](https://a.example/x_(y))",
        "Bohr and",
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


def test_plain_text_is_not_held_back() -> None:
    """Only a possible citation start waits; the rest streams on (speech starts early)."""
    citations = CitationFilter()
    assert citations.feed("Hello") == "Hello"
    # A space may lead a citation; one character waits, not two.
    assert citations.feed(" there ") == " there"
    assert citations.feed("(and) more") == " (and) more"
    assert citations.feed(" ([a") == ""
    assert citations.flush() == " ([a"


def test_a_flush_leaves_nothing_behind() -> None:
    """The next message (after a web search, say) starts clean."""
    citations = CitationFilter()
    assert citations.feed("First (") == "First"
    assert citations.flush() == " ("
    assert citations.feed("Second.") == "Second."
