#!/usr/bin/env bash
# ai-commit's own overhead, the model excluded: process start, diff collection and prompt
# building on a staged 10,000-line diff (`--show-prompt` stops right before the request).
# Measured with hyperfine beside:
#   - `git diff --cached` alone (the floor: ai-commit runs it once),
#   - the Python equivalent doing the same work (start the interpreter, import what an
#     HTTP-calling script imports, run the same git diff, split it per file, build a prompt),
#   - a bare `python3 -c pass` (interpreter start-up alone).
# Target: ai-commit's overhead under 10 ms.
#
# Usage: benches/ai-commit-overhead.sh [extra hyperfine args]
# Needs: hyperfine, git, python3 (Debian: apt-get install hyperfine git python3).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in hyperfine git python3 cargo; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

# The interpreter itself, not a version-manager shim (pyenv's shims add ~50 ms of shell).
py=$(python3 -c 'import sys; print(sys.executable)')
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p ai-commit
bin="$(realpath "$CARGO_TARGET_DIR")/release/ai-commit"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo/src" "$work/home"
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
unset OLLAMA_HOST AI_COMMIT_CONFIG AI_COMMIT_ENDPOINT XDG_CONFIG_HOME || true
git -C "$repo" init -q -b main
git -C "$repo" config user.email bench@example.invalid
git -C "$repo" config user.name bench
echo "# bench" > "$repo/README.md"
git -C "$repo" add . && git -C "$repo" commit -q -m init
# 10,000 changed lines over 20 files (one big, several medium, a lockfile).
python3 - "$repo" <<'PY'
import os, sys
repo = sys.argv[1]
with open(os.path.join(repo, "src", "big.rs"), "w") as f:
    for i in range(6000):
        f.write(f"pub fn value_{i}(x: u64) -> u64 {{ x.wrapping_mul({i}) ^ 0x5bd1e995 }}\n")
for n in range(18):
    with open(os.path.join(repo, "src", f"mod{n}.rs"), "w") as f:
        for i in range(200):
            f.write(f"const C{n}_{i}: &str = \"configuration value {i} of module {n}\";\n")
with open(os.path.join(repo, "Cargo.lock"), "w") as f:
    for i in range(200):
        f.write(f"[[package]]\nname = \"dep{i}\"\nversion = \"1.0.{i}\"\n\n")
PY
git -C "$repo" add -A
lines=$(git -C "$repo" diff --cached --numstat | awk '{s+=$1+$2} END {print s}')
echo "staged diff: $lines changed lines in $(git -C "$repo" diff --cached --name-only | wc -l) files" >&2

cat > "$work/equiv.py" <<'PY'
# The Python equivalent of ai-commit up to the request: imports, git diff, per-file split,
# prompt string. (The original tool was a Python script of this shape.)
import json, subprocess, sys, urllib.request  # noqa: F401  (urllib: the HTTP client it would use)
diff = subprocess.run(
    ["git", "-c", "core.quotePath=false", "diff", "--cached", "--no-color", "--no-ext-diff",
     "--src-prefix=a/", "--dst-prefix=b/", "--find-renames", "-U3"],
    capture_output=True, check=True).stdout.decode("utf-8", "replace")
files, cur = [], None
for line in diff.splitlines(keepends=True):
    if line.startswith("diff --git "):
        cur = [line]; files.append(cur)
    elif cur is not None:
        cur.append(line)
budget = (8192 - 512 - 256) * 3
share = budget // max(1, len(files))
prompt = "".join("".join(f)[:share] for f in files)
json.dumps({"model": "gemma3:4b", "messages": [{"role": "user", "content": prompt}]})
PY

cd "$repo"
out="$work/result.md"
hyperfine --shell=none --warmup 5 --min-runs 30 --export-markdown "$out" "$@" \
  -n "ai-commit --version (start only)" "$bin --version" \
  -n "ai-commit --show-prompt (start + diff + prompt)" "$bin --staged --show-prompt" \
  -n "git diff --cached (alone)" "git -c core.quotePath=false diff --cached --no-color --no-ext-diff -U3" \
  -n "python3 equivalent (start + diff + prompt)" "$py $work/equiv.py" \
  -n "python3 -c pass (interpreter start)" "$py -c pass"
echo
cat "$out"
