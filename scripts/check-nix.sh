#!/usr/bin/env bash
# Checks of the Nix side that run without a binary cache (see docs/nix.md):
#  1. every .nix file parses (nix-instantiate --parse);
#  2. deadnix and nixpkgs-fmt (installed by scripts/deps/nix-lint.sh; FAIL under CI=true
#     when missing, SKIP otherwise);
#  3. with a NixOS source tree ($NIXPKGS or ~/.cache/honeybot/nixpkgs; absent on CI, where
#     this prints SKIP): both example hosts evaluate with NixOS's own module system, every
#     honeybot system service passes `systemd-analyze verify` and `security` exposure <= 2.0
#     (the narrator's user unit too, also scored with --user; the janitor's units), the web head with every
#     honeybot switch off renders no honeybot unit, and the assertions fire with their
#     message on bad configs;
#  4. with that tree: docs/configuration.md is what scripts/gen-options-doc.sh generates;
#  5. with that tree: the flake evaluates against a shim (hosts, packages, the VM tests).
# Building packages and running the VM tests under tests/nixos/ needs a real Nix with a
# binary cache: `nix flake check` on a Nix machine does that.
set -euo pipefail
cd "$(dirname "$0")/.."
EVAL=${NIXOS_EVAL_CHECK:-../shared/tools/nixos-eval-check.sh}
fail=0

command -v nix-instantiate >/dev/null || { echo "nix-instantiate missing (apt-get install nix-bin)"; exit 1; }

echo "== parse"
while IFS= read -r -d '' f; do
  nix-instantiate --parse "$f" >/dev/null || { echo "FAIL parse: $f"; fail=1; }
done < <(git ls-files -z '*.nix')

echo "== lint (deadnix, nixpkgs-fmt; installed with: cargo install --locked deadnix nixpkgs-fmt)"
if command -v deadnix >/dev/null && command -v nixpkgs-fmt >/dev/null; then
  git ls-files -z '*.nix' | xargs -0 deadnix --fail --no-lambda-pattern-names || fail=1
  git ls-files -z '*.nix' | xargs -0 nixpkgs-fmt --check || fail=1
elif [ "${CI:-}" = true ]; then
  echo "FAIL: lint: deadnix / nixpkgs-fmt not installed under CI=true (scripts/deps/nix-lint.sh installs them)"; fail=1
else
  echo "SKIP: lint: deadnix / nixpkgs-fmt not installed (bash scripts/deps/nix-lint.sh)"
fi

if [ ! -x "$EVAL" ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL: $EVAL missing under CI=true"; exit 1; fi
  echo "SKIP: module evaluation: $EVAL not found (it ships in the team's shared/ folder)"
  exit "$fail"
fi
if [ -z "${NIXPKGS:-}" ] && [ ! -d "$HOME/.cache/honeybot/nixpkgs/nixos" ]; then
  echo "SKIP: module evaluation: no NixOS source tree (see docs/nix.md; CI machines have none)"
  exit "$fail"
fi

echo "== module evaluation, systemd-analyze verify, security <= 2.0"
"$EVAL" -q --threshold 20 tests/eval/ingest-minimal.nix honeybot-ingest.service || fail=1
for host in hosts/webhead.nix hosts/workstation.nix; do
  # Every honeybot system service the host renders (the web head: ingest, the janitor and its
  # reload and restore units).
  mapfile -t units < <("$EVAL" --list "$host" 2>/dev/null | grep -E '^honeybot.*\.service$' || true)
  echo "-- $host: ${units[*]:-(no honeybot system service)}"
  "$EVAL" -q --threshold 20 "$host" "${units[@]}" || { echo "FAIL: $host"; fail=1; }
done
# The workstation's closure instantiates (the web head's needs nginx, which the stub set
# cannot evaluate; `nix flake check` builds both).
"$EVAL" -q --no-analyze --toplevel hosts/workstation.nix 2>&1 | grep -q '== toplevel: ' \
  || { echo "FAIL: hosts/workstation.nix system.build.toplevel"; fail=1; }

echo "== the narrator's user unit: verify, security <= 2.0 (system scoring and --user)"
unitdir=$(mktemp -d)
"$EVAL" -q --threshold 20 --out "$unitdir" tests/eval/narrator-user-unit.nix honeybot-narrator.service || fail=1
runtime=$(mktemp -d)   # `security --user` wants a runtime dir, even offline
if out=$(cd "$unitdir" && XDG_RUNTIME_DIR=$runtime systemd-analyze security --user --offline=true \
      --threshold=20 --no-pager ./honeybot-narrator.service 2>&1); then
  echo "ok: --user $(grep -m1 'Overall exposure' <<<"$out" | sed 's/^→ *//')"
else
  echo "FAIL: --user security of the narrator unit"; grep -E '✗|Overall' <<<"$out" | tail -5; fail=1
fi
rm -rf "$unitdir" "$runtime"

echo "== toggles: the web head with every honeybot switch off renders no honeybot unit"
# The file's own assertions name any honeybot system or user unit left; --list double-checks.
if "$EVAL" -q --no-analyze tests/eval/webhead-off.nix \
    && ! "$EVAL" --list tests/eval/webhead-off.nix 2>/dev/null | grep -E '^honeybot'; then
  echo "ok: tests/eval/webhead-off.nix renders no honeybot unit"
else
  echo "FAIL: tests/eval/webhead-off.nix still renders honeybot units"; fail=1
fi

echo "== the VM test's machine and specialisations (tests/nixos/toggles.nix; the VM itself needs Nix with a cache)"
"$EVAL" -q --no-analyze tests/eval/toggles.nix || { echo "FAIL: tests/eval/toggles.nix"; fail=1; }

echo "== the janitor: nginx wiring, the VM test's machine, a model with an API key, gitCommit (exposure <= 2.0)"
"$EVAL" -q --no-analyze tests/eval/janitor-minimal.nix || { echo "FAIL: tests/eval/janitor-minimal.nix"; fail=1; }
"$EVAL" -q --no-analyze tests/eval/janitor-nginx.nix || { echo "FAIL: tests/eval/janitor-nginx.nix"; fail=1; }
"$EVAL" -q --no-analyze tests/eval/janitor-vm.nix || { echo "FAIL: tests/eval/janitor-vm.nix"; fail=1; }
"$EVAL" -q --threshold 20 tests/eval/janitor-model.nix honeybot-janitor.service || { echo "FAIL: tests/eval/janitor-model.nix"; fail=1; }
"$EVAL" -q --threshold 20 tests/eval/janitor-git.nix honeybot-janitor.service || { echo "FAIL: tests/eval/janitor-git.nix"; fail=1; }

echo "== rendered values (ai-commit endpoint and git hook, DB folder, renamed options)"
"$EVAL" -q --no-analyze tests/eval/ai-commit-ollama.nix 2>&1 | grep -v 'has been renamed' || fail=1

expect_assertion() { # FILE TEXT
  local out
  if out=$("$EVAL" -q --no-analyze "$1" 2>&1); then
    echo "FAIL: $1 evaluated, expected the assertion: $2"; fail=1
  elif ! grep -qF -- "$2" <<<"$out"; then
    echo "FAIL: $1 failed without the assertion: $2"; echo "$out" | tail -5; fail=1
  else
    echo "ok: $1 is rejected: $2"
  fi
}
expect_assertion tests/eval/bad-hash-without-key.nix "needs services.honeybot.ingest.ipHashKeyFile"
expect_assertion tests/eval/bad-key-in-store.nix "points into the Nix store"
"$EVAL" -q --no-analyze tests/eval/nginx-trap.nix || fail=1   # nginx's own unit: nixpkgs', not ours
expect_assertion tests/eval/bad-markdown-without-root.nix "markdownTwins.enable needs services.nginx.virtualHosts"
expect_assertion tests/eval/bad-trap-path.nix "trap.path' is not of type \`string matching the pattern"
expect_assertion tests/eval/bad-piper-without-model.nix "needs services.honeybot.narrator.settings.piper.model"
expect_assertion tests/eval/bad-narrator-without-users.nix "services.honeybot.narrator.users is empty"
expect_assertion tests/eval/bad-janitor-without-ingest.nix "services.honeybot.janitor reads the 404s that honeybot-ingest stores"
expect_assertion tests/eval/bad-janitor-without-nginx.nix "reloads nginx with the map that services.honeybot.nginx includes"
expect_assertion tests/eval/bad-janitor-map-beside-db.nix "nginx reads the map's folder and must not read HoneyDB"
expect_assertion tests/eval/bad-janitor-without-site.nix "services.honeybot.janitor.settings.site is unset"
expect_assertion tests/eval/bad-janitor-bucket-size.nix "but nginx uses services.nginx.mapHashBucketSize = 64"
expect_assertion tests/eval/bad-janitor-map-path.nix "settings.map' is not of type \`string matching the pattern"
expect_assertion tests/eval/bad-ai-commit-key-in-store.nix "programs.ai-commit.settings.api_key_file points into the Nix store"

echo "== docs/configuration.md is generated from the option declarations"
if scripts/gen-options-doc.sh --check; then echo "ok: docs/configuration.md is current"; else fail=1; fi
"$EVAL" -q --no-analyze tests/eval/director-minimal.nix || fail=1   # a user unit: assertions only
expect_assertion tests/eval/bad-director-without-narrator.nix "set services.honeybot.narrator.enable = true"
expect_assertion tests/eval/bad-director-without-graphical-session.nix "shows pages in a graphical session"

echo "== flake evaluation (nixpkgs replaced by an offline shim: lib/nixos real, packages stubbed)"
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
"$EVAL" --write-flake-shim "$shim" >/dev/null
tmp=$(mktemp -d)
git ls-files -z | xargs -0 -I{} cp --parents {} "$tmp"   # a flake sees tracked files only
# --impure only for Debian's Nix 2.8: its lib.fileset compatibility shim reads the parent of
# the flake's store path, which pure mode forbids; current Nix needs no such flag.
# The web head's toplevel needs nixpkgs' nginx module, which the stub set cannot evaluate;
# its honeybot units are checked above and in the VM test.
for attr in \
    nixosConfigurations.webhead.config.systemd.services.honeybot-ingest.serviceConfig.ExecStart \
    nixosConfigurations.webhead.config.services.honeybot.ingest.settings.log_format \
    nixosConfigurations.webhead.config.services.honeybot.ingest.settings.beacon_path \
    nixosConfigurations.webhead.config.systemd.user.services.honeybot-director.serviceConfig.ExecStart \
    nixosConfigurations.webhead.config.systemd.services.honeybot-janitor.serviceConfig.ExecStart \
    nixosConfigurations.webhead.config.systemd.services.honeybot-janitor-reload.serviceConfig.ExecStart \
    nixosConfigurations.webhead.config.services.nginx.commonHttpConfig \
    'nixosConfigurations.webhead.config.services.nginx.virtualHosts."example.org".extraConfig' \
    nixosConfigurations.workstation.config.system.build.toplevel.drvPath \
    nixosConfigurations.workstation.config.systemd.user.services.honeybot-narrator.serviceConfig.ExecStart \
    nixosConfigurations.workstation.config.environment.etc.\"xdg/ai-commit/config.toml\".source \
    packages.x86_64-linux.honeybot.drvPath packages.x86_64-linux.ai-commit.drvPath \
    packages.x86_64-linux.honeybot-narrator.drvPath packages.x86_64-linux.honeybot-ingest.drvPath \
    packages.x86_64-linux.honeybot-director.drvPath packages.x86_64-linux.honeybot-janitor.drvPath; do
  if (cd "$tmp" && nix --extra-experimental-features 'nix-command flakes' eval --impure --no-write-lock-file \
        --override-input nixpkgs "path:$shim" ".#$attr" >/dev/null 2>"$tmp.err"); then
    echo "ok: flake evaluates .#$attr"
  else
    echo "FAIL: flake .#$attr"; tail -5 "$tmp.err"; fail=1
  fi
done
rm -rf "$tmp" "$tmp.err"
exit "$fail"
