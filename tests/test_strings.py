"""Every flow step, field and subentry type the code can show has a translation."""

from __future__ import annotations

import json
from pathlib import Path

from custom_components.openai_conversation.config_flow import SCHEMAS, OpenAIConfigFlow

STRINGS = json.loads(
    (
        Path(__file__).parent.parent / "custom_components/openai_conversation/strings.json"
    ).read_text()
)


def test_every_subentry_type_is_translated() -> None:
    kinds = set(OpenAIConfigFlow.async_get_supported_subentry_types(None))  # type: ignore[arg-type]
    assert kinds == {"conversation", "ai_task_data", "stt", "tts"}
    for kind in kinds:
        translated = STRINGS["config_subentries"][kind]
        assert {"user", "reconfigure"} <= translated["initiate_flow"].keys()
        assert translated["entry_type"]
        assert translated["step"]


def test_every_server_field_is_described() -> None:
    for kind, schema in SCHEMAS.items():
        step = STRINGS["config"]["step"][kind]
        for field in schema.schema:
            assert str(field) in step["data"], (kind, field)
            assert str(field) in step["data_description"], (kind, field)
