#!/usr/bin/env bash
# The Nix linters scripts/check-nix.sh runs: deadnix (unused bindings) and nixpkgs-fmt
# (formatting). Neither is packaged for Debian; both build from crates.io (about 2 minutes).
# Idempotent: installs only what is missing from PATH.
set -euo pipefail
missing=()
command -v deadnix >/dev/null || missing+=(deadnix)
command -v nixpkgs-fmt >/dev/null || missing+=(nixpkgs-fmt)
if ((${#missing[@]})); then
  echo "==> cargo install --locked ${missing[*]}" >&2
  nice cargo install --locked --quiet "${missing[@]}"
fi
