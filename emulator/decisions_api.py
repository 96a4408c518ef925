"""The decisions API (POST /v1/decisions): answers to predicate, choice and score questions.

The request is checked as strictly as the API documents it (the openai SDK's
`decision_create_params` types): known fields only, user messages of text and data-URL
images, named questions with at least two choices or levels. The answers are deterministic
and depend on the input, so a test can tell the evidence reached the server.
"""

from __future__ import annotations

import hashlib
from typing import Any

REQUEST_FIELDS = {"model", "input", "questions", "safety_identifier"}
QUESTION_FIELDS = {
    "predicate": {"type", "name", "instructions"},
    "choice": {"type", "name", "instructions", "choices"},
    "score": {"type", "name", "instructions", "levels"},
}
PART_TYPES = {"input_text", "input_image"}
MAX_IMAGES = 128
REFUSE = "[refuse]"


def _input_problem(value: Any) -> str | None:
    """Return what is wrong with the shared input, or None."""
    if isinstance(value, str):
        return None
    if not isinstance(value, list) or not value:
        return "'input' must be a string or a non-empty array of user messages."
    images = 0
    for message in value:
        if not isinstance(message, dict) or message.get("role") != "user":
            return "Only user messages are supported in 'input'."
        for part in message.get("content") or []:
            if part.get("type") not in PART_TYPES:
                return f"Unsupported content part type: {part.get('type')!r}."
            if part["type"] == "input_image":
                images += 1
                if not str(part.get("image_url", "")).startswith("data:image/"):
                    return "Images require a data URL."
    if images > MAX_IMAGES:
        return f"At most {MAX_IMAGES} images are allowed."
    return None


def _question_problem(question: Any, names: set[str]) -> str | None:
    """Return what is wrong with one question, or None."""
    kind = question.get("type") if isinstance(question, dict) else None
    if kind not in QUESTION_FIELDS:
        return f"Invalid question type: {kind!r}."
    if unknown := set(question) - QUESTION_FIELDS[kind]:
        return f"Unrecognized question parameter: {sorted(unknown)[0]!r}."
    if not question.get("instructions"):
        return "Each question needs 'instructions'."
    if (name := question.get("name")) in names:
        return f"Duplicate question name: {name!r}."
    names.add(name)
    options = question.get("choices") if kind == "choice" else question.get("levels")
    if kind != "predicate" and (not isinstance(options, list) or len(options) < 2):
        return (
            f"A {kind} question needs at least two {'choices' if kind == 'choice' else 'levels'}."
        )
    return None


def decision_problem(body: dict[str, Any]) -> str | None:
    """Return why OpenAI would refuse this request (HTTP 400), or None."""
    if unknown := set(body) - REQUEST_FIELDS:
        return f"Unrecognized request argument supplied: {sorted(unknown)[0]}"
    if not body.get("model"):
        return "Missing required parameter: 'model'."
    if problem := _input_problem(body.get("input")):
        return problem
    questions = body.get("questions")
    if not isinstance(questions, list) or not questions:
        return "'questions' must be a non-empty array."
    names: set[str] = set()
    for question in questions:
        if problem := _question_problem(question, names):
            return problem
    return None


def _weights(seed: str, count: int) -> list[float]:
    """Return a deterministic probability distribution over count outcomes."""
    digest = hashlib.sha256(seed.encode()).digest()
    raw = [digest[i % len(digest)] + 1 for i in range(count)]
    total = sum(raw)
    return [value / total for value in raw]


def _answer(question: dict[str, Any], evidence: str) -> dict[str, Any]:
    seed = f"{evidence}|{question['instructions']}"
    name = question.get("name")
    if REFUSE in question["instructions"]:  # a test's way to get the refusal OpenAI may give
        return {"type": "refusal", "name": name}
    if question["type"] == "predicate":
        return {"type": "predicate", "name": name, "probability": round(_weights(seed, 2)[0], 4)}
    if question["type"] == "choice":
        weights = _weights(seed, len(question["choices"]))
        probabilities = [
            {"value": choice["value"], "probability": weight}
            for choice, weight in zip(question["choices"], weights, strict=True)
        ]
        best = max(probabilities, key=lambda p: p["probability"])
        return {
            "type": "choice",
            "name": name,
            "choice": best["value"],
            "confidence": best["probability"],
            "probabilities": probabilities,
        }
    weights = _weights(seed, len(question["levels"]))
    return {
        "type": "score",
        "name": name,
        "score": sum(index * weight for index, weight in enumerate(weights)),
        "confidence": max(weights),
        "probabilities": [
            {"label": level["label"], "value": index, "probability": weight}
            for index, (level, weight) in enumerate(zip(question["levels"], weights, strict=True))
        ],
    }


def decision_response(body: dict[str, Any]) -> dict[str, Any]:
    """Answer every question, in question order."""
    evidence = repr(body["input"])
    tokens = len(evidence.split())
    return {
        "model": body["model"],
        "answers": [_answer(question, evidence) for question in body["questions"]],
        "usage": {
            "input_tokens": tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": len(body["questions"]),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": tokens + len(body["questions"]),
        },
    }
