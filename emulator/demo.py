"""Demo mode: a tiny rule-based "model" for the offline demo and end-to-end tests.

"turn on/off the <name>" calls HassTurnOn/HassTurnOff and "set a timer for <n> minutes" calls
HassStartTimer when the request offers those tools, a tool result is summarised, a
structured-output request gets JSON that fits its schema, and anything else gets a friendly
echo. It answers both wire formats.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .replies import Reply, Scripted, Text, ToolCall, offered_name, schema_of, value_fitting
from .server import SENT_AT

COMMAND = re.compile(r"\bturn (on|off) (?:the )?(.+?)[.!?]*$", re.IGNORECASE)
TIMER = re.compile(r"\bset a timer for (\w+) (hour|minute|second)s?\b", re.IGNORECASE)
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10, "fifteen": 15}


def _last(body: dict[str, Any]) -> tuple[str, str]:
    """Return (kind, text) of the last item: ("tool", output) or ("user", text).

    Instructions sent after the conversation (the clock) are not what the user said.
    """
    items = body.get("input") or body.get("messages") or []
    if isinstance(items, list):
        items = [i for i in items if i.get("role") not in ("developer", "system")]
    last = items[-1] if isinstance(items, list) and items else {}
    if last.get("type") == "function_call_output" or last.get("role") == "tool":
        return "tool", str(last.get("output") or last.get("content") or "")
    content = last.get("content") if isinstance(items, list) else items
    if isinstance(content, list):  # text plus attachments
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "user", str(content or items)


def demo_reply(body: dict[str, Any], after_tool: str = "Done: {done}.") -> Scripted:
    """Answer one request like a (very small) model would.

    after_tool: the answer once a tool did something ({done}: the names it reports).
    """
    if (schema := schema_of(body)) is not None:
        return Reply([Text(json.dumps(value_fitting(schema)))])
    kind, text = _last(body)
    if kind == "tool":
        try:
            result = json.loads(text)
        except ValueError:
            result = {}
        if isinstance(result, dict) and set(result) == {"data", "error"}:
            # Core's integration (HA 2026.10+) wraps a tool result: {"data": ..., "error": ...}.
            result = result["data"] if not result["error"] else {"error": result["data"]}
        if result.get("error"):
            return Reply(
                [Text(f"Sorry, that did not work: {result.get('error_text', result['error'])}")]
            )
        done = [t.get("name") for t in (result.get("data") or {}).get("success", [])]
        if not done and result.get("response_type") == "action_done":
            return Reply([Text("Done.")])  # an action without targets, such as a timer
        return Reply([Text(after_tool.format(done=", ".join(done) or "nothing matched"))])
    if "timestamp" in text:  # for benchmarks: the first delta carries its send time
        return Reply(
            [Text(SENT_AT + " is when this reply left the emulator.", chunk_size=len(SENT_AT))]
        )
    if (call := _command(text.strip(), body)) is not None:
        return Reply([call])
    return Reply([Text(f"This is the offline demo model. You said: {text.strip()}")])


def _command(text: str, body: dict[str, Any]) -> ToolCall | None:
    """Return the tool call a command asks for, when the request offers that tool."""
    if match := COMMAND.search(text):
        name = "HassTurnOn" if match.group(1).lower() == "on" else "HassTurnOff"
        if tool := offered_name(name, body):
            return ToolCall(tool, {"name": match.group(2).strip()})
    if (match := TIMER.search(text)) and (tool := offered_name("HassStartTimer", body)):
        count = match.group(1).lower()
        amount = int(count) if count.isdigit() else NUMBERS.get(count, 1)
        return ToolCall(tool, {f"{match.group(2).lower()}s": amount})
    return None
