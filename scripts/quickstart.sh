#!/usr/bin/env bash
# The main job on the small example set shipped in examples/midi: install dependencies,
# build, convert the MIDI files to NoteSequences, build the training and eval datasets,
# train a small model briefly, evaluate its last checkpoint once, and (when the generator
# is built) generate MIDI files from it. Outputs go to ${OUT_DIR:-out/quickstart}.
#   CONFIG=attention_rnn STEPS=200 SKIP_INSTALL=1 bash scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_INSTALL:-0}" != 1 ]; then bash scripts/install_deps.sh; fi
BUILD_DIR=${BUILD_DIR:-build}
if [ "${SKIP_BUILD:-0}" != 1 ]; then BUILD_DIR="$BUILD_DIR" bash scripts/build.sh; fi
BIN="$BUILD_DIR/apps"
OUT_DIR=${OUT_DIR:-out/quickstart}
CONFIG=${CONFIG:-attention_rnn}
STEPS=${STEPS:-150}
# A small model so that training takes well under two minutes on 2 cores.
HPARAMS=${HPARAMS:-batch_size=8,rnn_layer_sizes=[32,32]}
RUN_DIR="$OUT_DIR/run"
mkdir -p "$OUT_DIR"

echo "== convert_dir_to_note_sequences: examples/midi -> $OUT_DIR/notesequences.tfrecord"
"$BIN/convert_dir_to_note_sequences" --input_dir=examples/midi \
  --output_file="$OUT_DIR/notesequences.tfrecord" --log=WARN

echo "== melody_rnn_create_dataset --config=$CONFIG -> $OUT_DIR/sequence_examples/"
"$BIN/melody_rnn_create_dataset" --config="$CONFIG" \
  --input="$OUT_DIR/notesequences.tfrecord" \
  --output_dir="$OUT_DIR/sequence_examples" --eval_ratio=0.25 --log=WARN

echo "== melody_rnn_train: $STEPS steps of $CONFIG ($HPARAMS) -> $RUN_DIR/train"
"$BIN/melody_rnn_train" --config="$CONFIG" --hparams="$HPARAMS" --run_dir="$RUN_DIR" \
  --sequence_example_file="$OUT_DIR/sequence_examples/training_melodies.tfrecord" \
  --num_training_steps="$STEPS" --summary_frequency=25

echo "== melody_rnn_eval: one evaluation of the newest checkpoint -> $RUN_DIR/eval"
# The run directory remembers the config and hparams; only the batch size is lowered to
# fit the handful of eval melodies.
"$BIN/melody_rnn_eval" --run_dir="$RUN_DIR" --hparams=batch_size=4 \
  --sequence_example_file="$OUT_DIR/sequence_examples/eval_melodies.tfrecord" \
  --num_evaluations=1 --eval_timeout_secs=30

if [ -x "$BIN/melody_rnn_generate" ]; then
  echo "== melody_rnn_generate: 5 melodies of 64 steps from the trained model -> $OUT_DIR/generated"
  "$BIN/melody_rnn_generate" --run_dir="$RUN_DIR" --output_dir="$OUT_DIR/generated" \
    --num_outputs=5 --num_steps=64 --primer_melody="[60]" --seed=1
fi

echo
echo "Checkpoints:       $RUN_DIR/train/model.ckpt-* (state file $RUN_DIR/train/checkpoint)"
echo "TensorBoard files: $RUN_DIR/train/events.out.tfevents.* and $RUN_DIR/eval/ (tensorboard --logdir=$RUN_DIR)"
