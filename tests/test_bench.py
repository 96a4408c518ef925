"""Smoke test: the benchmark runs end to end with tiny counts (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

from tools.bench_voice import has_builtin_voice

ROOT = Path(__file__).resolve().parent.parent


def test_bench_runs(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.bench",
            "--block",
            "2",
            "--rounds",
            "2",
            "--budget",
            "0",
            "--voice-block",
            "1",
            "--local-turns",
            "0",
            "--scale-turns",
            "1",
            "--entities",
            "10",
            "--history",
            "1",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ours / raw" in result.stdout
    data = json.loads(out.read_text())
    assert {"interleaved", "cache", "tts", "scaling_entities", "scaling_history"} <= data.keys()
    assert data["interleaved"]["rounds"] == 2
    assert data["tts"]["streaming_s"] > 0
    # The conversation's later turns reuse the prompt cache (counted from the requests).
    assert min(data["cache"]["Assist/ours"][1:]) > 0.5
    if has_builtin_voice():  # HA 2026.10 and newer: the whole voice turn, both pipelines
        voice = data["voice"]
        assert set(voice["first_audio_ms"]) == {
            "ours",
            "ours, Realtime TTS",
            "ours, upload",
            "builtin",
        }
        assert voice["stages_ms"]["ours"]["tool call"] > 0
        # Each first audio has its 95% interval, around its median.
        for name, (low, high) in voice["first_audio_interval_ms"].items():
            assert low <= voice["first_audio_ms"][name] <= high
    else:
        assert "Whole voice turn: needs" in result.stdout
