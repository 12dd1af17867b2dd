#!/usr/bin/env bash
# The main job on the small example set shipped in examples/midi: install dependencies,
# build, convert the MIDI files to NoteSequences, and build the training dataset.
# Outputs go to ${OUT_DIR:-out/quickstart}.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_INSTALL:-0}" != 1 ]; then bash scripts/install_deps.sh; fi
bash scripts/build.sh
OUT_DIR=${OUT_DIR:-out/quickstart}
CONFIG=${CONFIG:-attention_rnn}
mkdir -p "$OUT_DIR"

echo "== convert_dir_to_note_sequences: examples/midi -> $OUT_DIR/notesequences.tfrecord"
build/apps/convert_dir_to_note_sequences --input_dir=examples/midi \
  --output_file="$OUT_DIR/notesequences.tfrecord"

if [ -x build/apps/melody_rnn_create_dataset ]; then
  echo "== melody_rnn_create_dataset --config=$CONFIG -> $OUT_DIR/sequence_examples/"
  build/apps/melody_rnn_create_dataset --config="$CONFIG" \
    --input="$OUT_DIR/notesequences.tfrecord" \
    --output_dir="$OUT_DIR/sequence_examples" --eval_ratio=0.1
fi
ls -l "$OUT_DIR" "$OUT_DIR"/sequence_examples 2>/dev/null || true
