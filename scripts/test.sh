#!/usr/bin/env bash
# The test command of README.md: installs what the tests need when it is missing, then runs
# the whole workspace test suite. Safe to run again; installs nothing that is already there.
#
# What each component needs is declared beside this script, one file per component:
#   scripts/deps/<component>.apt  Debian packages, one a line
#   scripts/deps/<component>.pip  PyPI packages (pip requirement syntax), one a line
#   scripts/deps/<component>.sh   anything else (runs after apt and pip), must be idempotent
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi
}

install_apt() {
  local wanted=() missing=()
  mapfile -t wanted < <(cat scripts/deps/*.apt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    sudo_if_needed apt-get update -qq
    sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_pip() {
  local reqs
  reqs=$(cat scripts/deps/*.pip 2>/dev/null | sed 's/#.*//' | sed '/^[[:space:]]*$/d' | sort -u || true)
  [ -n "$reqs" ] || return 0
  local missing=()
  while read -r r; do
    name=${r%%[<>=!~ ]*}
    python3 -m pip show -q "$name" >/dev/null 2>&1 || missing+=("$r")
  done <<<"$reqs"
  if ((${#missing[@]})); then
    log "installing PyPI packages: ${missing[*]}"
    # Debian's own python3 refuses a global pip install (PEP 668); these are test tools.
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --disable-pip-version-check "${missing[@]}"
    # pyenv (as on the CI image) puts new console scripts (piper) on PATH through shims.
    if command -v pyenv >/dev/null; then pyenv rehash; fi
  fi
}

if [ "${HONEYBOT_SKIP_INSTALL:-}" != 1 ]; then
  install_apt
  install_pip
  for s in scripts/deps/*.sh; do [ -e "$s" ] && { log "running $s"; bash "$s"; }; done
fi

log "cargo test --workspace"
cargo test --workspace --all-targets --locked "$@"

log "Nix checks (scripts/check-nix.sh)"
./scripts/check-nix.sh
