"""Evaluation entities (ai_task.evaluate, HA >= 2026.11), answered by OpenAI's decisions API.

Imported only where Home Assistant has `AITaskEntityFeature.EVALUATE`. Home Assistant asks
"noul" (yes/no probability), choice and score questions about a state and images; the
decisions API calls them predicate, choice and score. The request is built and the answer
read here, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

import openai
from openai.types.decision import Answer, Decision
from openai.types.decision_create_params import DecisionCreateParams, Question
from openai.types.decision_input_message_param import DecisionInputMessageParam
from openai.types.decision_input_part_union_param import DecisionInputPartUnionParam

from homeassistant.components import ai_task
from homeassistant.config_entries import ConfigSubentry
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.json import json_dumps

from .client import OpenAIConfigEntry
from .const import CONF_CHAT_MODEL, DOMAIN, RECOMMENDED_DECISION_MODEL
from .entity import OpenAISubentryEntity
from .errors import translate_error
from .files import FileCache


def _question(question_id: str, question: ai_task.EvaluationQuestion) -> Question:
    """Return one Home Assistant question in the decisions API's form."""
    if question["type"] == "noul":
        return {"type": "predicate", "name": question_id, "instructions": question["instructions"]}
    if question["type"] == "choice":
        return {
            "type": "choice",
            "name": question_id,
            "instructions": question["instructions"],
            "choices": [
                {"value": value, "description": description}
                for value, description in question["criteria"].items()
            ],
        }
    # A score's levels are the criteria in order; the answer refers to them by index.
    return {
        "type": "score",
        "name": question_id,
        "instructions": question["instructions"],
        "levels": [
            {"label": str(index), "description": description}
            for index, description in enumerate(question["criteria"])
        ],
    }


def _invalid(key: str, question_id: str = "") -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"question": question_id},
    )


def _answer(question_id: str, answer: Answer) -> ai_task.EvaluationAnswer:
    """Return one answer in Home Assistant's form; a malformed one is an error."""
    if answer.type == "refusal":
        raise _invalid("evaluation_refused", question_id)
    if answer.type == "predicate":
        return ai_task.NoulAnswer(noul=answer.probability)
    if answer.type == "choice":
        # Home Assistant's criteria are strings; a boolean choice cannot be one of them.
        values = [option.value for option in answer.probabilities]
        if not isinstance(answer.choice, str) or not all(isinstance(v, str) for v in values):
            raise _invalid("evaluation_invalid_answer", question_id)
        probabilities = {str(o.value): o.probability for o in answer.probabilities}
        if len(probabilities) != len(values):
            raise _invalid("evaluation_invalid_answer", question_id)
        return ai_task.ChoiceAnswer(choice=answer.choice, probabilities=probabilities)
    levels = sorted(answer.probabilities, key=lambda level: level.value)
    if [level.value for level in levels] != list(range(len(levels))):
        raise _invalid("evaluation_invalid_answer", question_id)
    return ai_task.ScoreAnswer(
        score=answer.score, probabilities=[level.probability for level in levels]
    )


def read_answers(
    questions: Mapping[str, ai_task.EvaluationQuestion], decision: Decision
) -> dict[str, ai_task.EvaluationAnswer]:
    """Return the answers by question id; every question must be answered once."""
    answers: dict[str, ai_task.EvaluationAnswer] = {}
    for answer in decision.answers:
        question_id = answer.name or ""
        if question_id not in questions or question_id in answers:
            raise _invalid("evaluation_invalid_answer", question_id)
        answers[question_id] = _answer(question_id, answer)
    if missing := set(questions) - set(answers):
        raise _invalid("evaluation_invalid_answer", sorted(missing)[0])
    return answers


class OpenAIEvaluationEntity(ai_task.AITaskEntity, OpenAISubentryEntity):
    """Answers evaluation questions about a state and images."""

    _attr_name = None
    _attr_supported_features = (
        ai_task.AITaskEntityFeature.EVALUATE | ai_task.AITaskEntityFeature.SUPPORT_ATTACHMENTS
    )

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the entity with the subentry's decision model."""
        super().__init__(
            entry, subentry, subentry.data.get(CONF_CHAT_MODEL, RECOMMENDED_DECISION_MODEL)
        )
        # Not the cache's refusal for servers without PDFs: _input says decisions take images.
        self._files = FileCache(pdfs=True)

    async def _input(self, task: ai_task.EvaluationTask) -> str | list[DecisionInputMessageParam]:
        """Return the shared evidence: the state as text, with the images after it."""
        state = task.state if isinstance(task.state, str) else json_dumps(task.state)
        if not task.attachments:
            return state
        content: list[DecisionInputPartUnionParam] = []
        if task.state is not None:
            content.append({"type": "input_text", "text": state})
        for attachment in task.attachments:
            encoded = await self._files.async_encode(
                self.hass, attachment.path, attachment.mime_type
            )
            if not encoded.is_image:  # the decisions API takes images only, not PDFs
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="evaluation_images_only",
                    translation_placeholders={"file": encoded.name},
                )
            content.append({"type": "input_image", "image_url": encoded.data_url})
        return [{"role": "user", "content": content}]

    async def _async_evaluate(self, task: ai_task.EvaluationTask) -> ai_task.EvaluationTaskResult:
        """Ask the decisions API every question at once."""
        seam = self.entry.runtime_data.seam
        if not seam.has_decisions:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="evaluation_needs_newer_openai"
            )
        request: DecisionCreateParams = {
            "model": self.subentry.data.get(CONF_CHAT_MODEL, RECOMMENDED_DECISION_MODEL),
            "input": await self._input(task),
            "questions": [_question(qid, q) for qid, q in task.questions.items()],
        }
        try:
            decision = await seam.decide(request)
        except openai.OpenAIError as err:
            raise translate_error(self.hass, self.entry, err) from err
        return ai_task.EvaluationTaskResult(answers=read_answers(task.questions, decision))
