"""ai_task.evaluate (Home Assistant 2026.11+) through OpenAI's decisions API, over REST."""

from __future__ import annotations

import pytest

from .conftest import API_KEY, LiveHass
from .test_way_back import ENTRIES, add_azure_and_compatible

QUESTIONS = {
    "delivered": {"type": "noul", "instructions": "Has the package arrived?"},
    "where": {
        "type": "choice",
        "instructions": "Where was it left?",
        "criteria": {"door": "At the front door", "mailbox": "In the mailbox"},
    },
    "urgency": {
        "type": "score",
        "instructions": "How urgently should someone bring it in?",
        "criteria": ["Not at all", "Soon", "Right now"],
    },
}


async def _evaluate(live_hass: LiveHass, questions: dict[str, object]) -> dict[str, object]:
    result: dict[str, object] = await live_hass.client.call(
        "POST",
        "/api/services/ai_task/evaluate?return_response",
        json={
            "task_name": "Check delivery",
            "entity_id": "ai_task.openai_evaluation",
            "state": "Your package was left at the front door.",
            "questions": questions,
        },
    )
    return result


async def test_evaluation_answers_every_question(live_hass: LiveHass) -> None:
    await live_hass.client.ensure_openai_entry(API_KEY)
    result = await _evaluate(live_hass, QUESTIONS)
    answers = result["service_response"]["answers"]  # type: ignore[index]
    assert answers["delivered"]["type"] == "noul"
    assert 0 <= answers["delivered"]["noul"] <= 1
    assert answers["where"]["choice"] in ("door", "mailbox")
    assert sum(answers["where"]["probabilities"].values()) == pytest.approx(1)
    assert answers["urgency"]["type"] == "score"
    assert len(answers["urgency"]["probabilities"]) == 3
    assert 0 <= answers["urgency"]["score"] <= 2

    (body,) = await live_hass.recorded("/v1/decisions")
    assert body["model"] == "gpt-6-luna"
    assert body["input"] == "Your package was left at the front door."
    assert [(q["type"], q["name"]) for q in body["questions"]] == [
        ("predicate", "delivered"),
        ("choice", "where"),
        ("score", "urgency"),
    ]
    assert body["questions"][1]["choices"][0] == {
        "value": "door",
        "description": "At the front door",
    }
    assert [level["label"] for level in body["questions"][2]["levels"]] == ["0", "1", "2"]
    assert live_hass.problems() == []


async def test_refused_question_is_a_translated_error(live_hass: LiveHass) -> None:
    await live_hass.client.ensure_openai_entry(API_KEY)
    refused = {"delivered": {"type": "noul", "instructions": "[refuse] Is it there?"}}
    with pytest.raises(
        RuntimeError, match='OpenAI declined to answer the question \\\\"delivered\\\\"'
    ):
        await _evaluate(live_hass, refused)
    assert live_hass.problems() == []


async def test_evaluation_is_offered_on_openai_only(live_hass: LiveHass) -> None:
    """The decisions API is OpenAI's own: Azure and compatible entries offer no evaluation
    subentry, in the list the UI offers from nor through the subentry flow."""
    openai_id = await live_hass.client.ensure_openai_entry(API_KEY)
    await add_azure_and_compatible(live_hass)
    entries = await live_hass.client.call("GET", ENTRIES)
    offered = {e["entry_id"]: "ai_task_evaluate" in e["supported_subentry_types"] for e in entries}
    assert offered == {e["entry_id"]: e["entry_id"] == openai_id for e in entries}
    for entry in entries:
        if entry["entry_id"] == openai_id:
            continue
        with pytest.raises(RuntimeError):
            await live_hass.client.call(
                "POST",
                "/api/config/config_entries/subentries/flow",
                json={"handler": [entry["entry_id"], "ai_task_evaluate"]},
            )
