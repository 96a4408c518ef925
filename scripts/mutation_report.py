"""Summarize `mutmut results --all true` (read from stdin): a score per module, survivors.

A mutant is named <module path>.x_<function>__mutmut_<n>; its status is killed, survived,
no tests, timeout, suspicious, skipped or not checked (the time budget ran out first).
"""

from __future__ import annotations

from collections import Counter, defaultdict
import re
import sys

LINE = re.compile(r"^\s*(?P<name>[\w.]+)__mutmut_\d+: (?P<status>[\w ]+)$")
MODULE = re.compile(r"^(?P<module>.+?)\.(?:x_|xǁ)")
COLUMNS = ("killed", "survived", "no tests", "timeout", "not checked")


def main() -> None:
    """Print the table and the survivors."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for line in sys.stdin:
        if not (match := LINE.match(line)):
            continue
        name, status = match["name"], match["status"].strip()
        module = (m["module"] if (m := MODULE.match(name)) else name).removeprefix(
            "custom_components.openai_conversation."
        )
        counts[module][status] += 1
        if status == "survived":
            survivors.append(line.strip())
    print("| module | " + " | ".join(COLUMNS) + " | score |")
    print("|---|" + "---|" * (len(COLUMNS) + 1))
    for module, count in sorted(counts.items()):
        checked = count["killed"] + count["survived"] + count["no tests"]
        score = f"{100 * count['killed'] / checked:.0f}%" if checked else "-"
        cells = " | ".join(str(count[column]) for column in COLUMNS)
        print(f"| {module} | {cells} | {score} |")
    print(f"\n{len(survivors)} surviving mutants (mutmut show <name> prints the change):")
    for survivor in survivors:
        print(" ", survivor)


if __name__ == "__main__":
    main()
