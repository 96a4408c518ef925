"""What the benchmark runs: the turn, the agents, the TTS reply and the emulated speech model.

Shared by the run (bench.py) and its report (bench_report.py).
"""

from __future__ import annotations

from typing import Any

AGENT = "conversation.openai_conversation"
TURN = "turn on the kitchen light"
SPEECH_LATENCY = 0.1  # emulated time for a speech model to start speaking
SPEECH_CHUNK_DELAY = 0.002  # per kB of audio: about real time for 24 kHz PCM-sized MP3 data
TTS_TEXT = (
    "The kitchen light is on now. The living room lamp is still off, and the hallway is dark. "
    "It is twenty-one degrees inside and it will rain this afternoon, so take an umbrella. "
    "Your next appointment is at four o'clock with the dentist, and the dishwasher has "
    "finished. The garage door is closed and the front door is locked. Tomorrow morning the "
    "alarm is set for seven, and the heating will start half an hour before that. I also "
    "noticed that the washing machine needs descaling. Have a pleasant evening at home. "
    "One more thing: the plants on the balcony have not been watered for three days, "
    "so they could use some water."
)
CACHE_TURNS = 10
CACHE_ENTITIES = 50
OPTIONS = {"recommended": True, "llm_hass_api": ["assist"], "prompt": "Be brief."}
# A chat-only agent's instructions as users write them: a persona and notes on the house,
# long enough (about 1,500 tokens) for OpenAI's prompt cache, which starts at 1,024.
HOUSE_NOTES = "You are the house assistant. Answer briefly and kindly.\n" + "".join(
    f"Room {n}: the {room} has {n % 4 + 1} windows, a {color} wall and a plant to water "
    f"every {n % 6 + 2} days; the bin goes out on day {n % 7 + 1}.\n"
    for n, (room, color) in enumerate(
        [
            (r, c)
            for r in ("kitchen", "hall", "study", "attic", "garage", "den")
            for c in ("red", "blue", "green", "white", "grey", "yellow", "brown", "black")
        ]
    )
)
# Agent kinds for the prompt-cache figures: options, and requests per turn of TURN.
CACHE_AGENTS: dict[str, tuple[dict[str, Any], int]] = {
    "Assist": (OPTIONS, 2),
    "chat only": ({"recommended": True, "prompt": HOUSE_NOTES}, 1),
}
TTS_OPTIONS = {
    "chat_model": "gpt-4o-mini-tts",
    "prompt": "",
    "voice": "marin",
    "tts_speed": 1.0,
    "audio_format": "mp3",
}
