#!/usr/bin/env bash
# Runs a command with a private PulseAudio daemon whose default sink is a null sink: audio is
# consumed in real time, as by a sound card, on machines without one (servers, CI). cpal reaches
# it as the default ALSA device through ALSA's pulse plugin. Used for the playback figures of
# `doctalk bench voice` (first sample, barge-in stop):
#
#   bench/voice/with-null-audio.sh target/debug/doctalk bench voice
#
# Needs pulseaudio and libasound2-plugins (scripts/setup.sh installs them).
set -euo pipefail
dir="$(mktemp -d)"
cat >"$dir/default.pa" <<PA
load-module module-null-sink sink_name=doctalk_null
set-default-sink doctalk_null
load-module module-native-protocol-unix socket=$dir/native auth-anonymous=1
PA
HOME="$dir" XDG_RUNTIME_DIR="$dir" pulseaudio -n -F "$dir/default.pa" --daemonize=no \
  --exit-idle-time=-1 --use-pid-file=no --log-target=stderr 2>"$dir/pulse.log" &
pulse=$!
trap 'kill $pulse 2>/dev/null; wait $pulse 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$dir/native" ] && break; sleep 0.05; done
[ -S "$dir/native" ] || { cat "$dir/pulse.log" >&2; echo "pulseaudio did not start" >&2; exit 1; }
PULSE_SERVER="unix:$dir/native" "$@"
