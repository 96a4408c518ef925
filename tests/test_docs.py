"""The README and docs/: links that resolve, a README a user can read, actions as registered.

Plain file checks, no Home Assistant and no network.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
import re
from urllib.parse import unquote

import pytest

from homeassistant.util.yaml import load_yaml_dict

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
SERVICES = ROOT / "custom_components/openai_conversation/services.yaml"
README_MAX_BYTES = 13_000

FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the text may hold inline code or an image.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
ACTION = re.compile(r"(?<![\w./])openai_conversation\.([a-z_]+)")
COUNT_WORDS = {"one": 1, "two": 2, "both": 2, "three": 3, "four": 4, "five": 5, "six": 6}
ACTION_COUNT = re.compile(r"\b(one|two|both|three|four|five|six)\s+actions\b", re.I)


def _prose(text: str) -> str:
    """Return the text without code blocks, where links and headings are not markdown."""
    return FENCE.sub("", text)


def _slug(heading: str) -> str:
    """Return GitHub's anchor for a heading: lower case, punctuation dropped, dashes."""
    text = heading.replace("`", "").strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading: its text
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Return the anchors GitHub gives a page's headings (repeats get -1, -2 …)."""
    seen: Counter[str] = Counter()
    found = set()
    for heading in HEADING.findall(_prose(path.read_text())):
        slug = _slug(heading)
        found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return found


def relative_links(path: Path) -> list[str]:
    """Return the page's links to files of this repository (not web addresses)."""
    text = INLINE_CODE.sub("", _prose(path.read_text()))
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)  # http:, mailto: …
    ]


def broken_links(path: Path) -> list[str]:
    """Return each relative link of a page that leads to no file, or to no heading there."""
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (dest.suffix != ".md" or unquote(anchor) not in anchors(dest)):
            broken.append(f"{target}: no heading #{anchor} in {dest.name}")
    return broken


def _section(text: str, title: str) -> str:
    """Return a level-2 section of a page, up to the next level-2 heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no '## {title}' section"
    return match.group(1)


def registered_actions() -> set[str]:
    """Return the actions services.yaml describes (read as Home Assistant reads it)."""
    return set(load_yaml_dict(SERVICES))


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_every_relative_link_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_the_checks_see_links_and_anchors() -> None:
    """The README links into docs/, with an anchor, so the checks above are not vacuous."""
    links = relative_links(README)
    assert any(link.startswith("docs/") and "#" in link for link in links), links
    assert "openai-compatible-servers" in anchors(ROOT / "docs/providers.md")


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## A `code` heading (with 2.11+)\n")
    page.write_text(
        "# Page\n\n[ok](other.md#a-code-heading-with-211) [self](#page)\n"
        "[gone](missing.md) [no heading](other.md#nowhere) [web](https://example.com)\n"
        "`[not a link](inline.md)`\n\n```\n[not a link](fenced.md)\n```\n"
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nowhere: no heading #nowhere in other.md",
    ]


def test_readme_is_short_and_names_the_two_commands() -> None:
    text = README.read_text()
    assert len(text.encode()) <= README_MAX_BYTES
    assert "`scripts/develop`" in text
    assert "`scripts/test`" in text


def test_readme_lists_exactly_the_registered_actions() -> None:
    listed = set(ACTION.findall(_section(README.read_text(), "Actions")))
    assert listed == registered_actions()


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_docs_name_only_registered_actions(path: Path) -> None:
    """A renamed or removed action leaves no mention behind, and counts are right."""
    text = path.read_text()
    assert set(ACTION.findall(text)) <= registered_actions()
    for word in ACTION_COUNT.findall(text):
        assert COUNT_WORDS[word.lower()] == len(registered_actions()), f"'{word} actions'"
