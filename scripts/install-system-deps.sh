#!/usr/bin/env bash
# Install the Debian packages yuefu needs, with apt, only when one is missing.
# fluidsynth + fluid-soundfont-gm: rendering; ffmpeg: MP3/OGG/M4A; libsndfile1: WAV/FLAC;
# sox: audio checks; espeak-ng: the singer's phoneme source.
set -euo pipefail
PKGS=(fluidsynth fluid-soundfont-gm espeak-ng ffmpeg sox libsndfile1)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
