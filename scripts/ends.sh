# Where the newer ends of the support window (Python 3.14) run; sourced by scripts/setup,
# scripts/in-root and scripts/test, which must agree. ROOT is the checkout.
#
# On this machine when it has a Python >= 3.14.2 ($PYTHON314, or python3.14 on PATH) and a
# llama.cpp server for the real-server tests: llama-server on PATH, or a running server's
# URL in OPENAI_HA_LLAMA_URL (a container; see tools/llama.py). The venvs are then
# .venv-newest and .venv-latest in the checkout. Otherwise in the Debian forky root that
# scripts/setup builds with debootstrap, in its /opt/venv-newest and /opt/venv-latest.

CACHE="${OPENAI_HA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/openai-ha}"
ROOTFS="$CACHE/forky"

python314_ok() {  # $1: interpreter; true when it is CPython >= 3.14.2 with ssl, sqlite3, venv
  "$1" - <<'PY' >/dev/null 2>&1
import sys, ssl, sqlite3, venv, ctypes, lzma, bz2, zlib  # noqa: F401
sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)
PY
}

host_python314() {  # print the first usable Python 3.14 of this machine
  local py
  for py in "${PYTHON314:-}" "$(command -v python3.14 || true)"; do
    if [ -n "$py" ] && python314_ok "$py"; then printf '%s\n' "$py"; return 0; fi
  done
  return 1
}

host_llama() {  # print how the real-server tests reach llama.cpp here, if they can
  if [ -n "${OPENAI_HA_LLAMA_URL:-}" ]; then printf 'the server at %s\n' "$OPENAI_HA_LLAMA_URL"
  elif command -v llama-server >/dev/null 2>&1; then command -v llama-server
  else return 1; fi
}

on_host() {  # true when the newer ends run on this machine rather than in the forky root
  host_python314 >/dev/null && host_llama >/dev/null
}

end_venv() {  # $1: newest or latest; print the venv of that end, as the command sees it
  if on_host; then printf '%s\n' "$ROOT/.venv-$1"; else printf '/opt/venv-%s\n' "$1"; fi
}
