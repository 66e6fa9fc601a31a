#!/usr/bin/env bash
# Benchmark of one honeybot-janitor run: 100 k distinct dead paths against 5 k live pages,
# lexical only (the peer) and with honeybot-llm's FakeServer as the model (a fake answering
# at once: its share is the janitor's own cost of asking, not a real model's). The map is
# validated by the real `nginx -t` when nginx is installed (scripts/deps/janitor.apt).
# Usage: benches/janitor.sh [PAGES DEAD]   (default 5000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(uname -sr); $(nginx -v 2>&1 || echo 'no nginx')"
nice cargo bench -q -p honeybot-janitor --bench run -- "${1:-5000}" "${2:-100000}"
