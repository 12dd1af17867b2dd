#!/usr/bin/env bash
# Cross-check of a run directory written by our melody_rnn_train, with the reference itself
# (tests/reference/.venv; not run by CI):
#   1. TensorFlow's checkpoint reader finds and reads the newest checkpoint;
#   2. TensorBoard's own reader lists the scalars of train/ and eval/;
#   3. Magenta's melody_rnn_generate loads the checkpoint and writes MIDI;
#   4. Magenta's melody_rnn_train resumes from it (on a copy of the run) for 3 steps.
# Usage: tests/reference/check_training_run_with_magenta.sh RUN_DIR CONFIG HPARAMS TRAIN_TFRECORD
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
run_dir=$1 config=$2 hparams=$3 records=$4
[ -x "$venv/bin/python" ] || { echo "no venv at $venv (bash tests/reference/make_venv.sh)"; exit 2; }
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0
scratch=$(mktemp -d)
echo "== 1. tf.train.load_checkpoint"
"$venv/bin/python" - "$run_dir/train" <<'PY'
import sys, tensorflow as tf
p = tf.train.latest_checkpoint(sys.argv[1])
r = tf.train.load_checkpoint(p)
shapes = r.get_variable_to_shape_map()
print("latest:", p, "|", len(shapes), "tensors | global_step", r.get_tensor("global_step"),
      r.get_variable_to_dtype_map()["global_step"].name)
PY
echo "== 2. TensorBoard EventAccumulator"
"$venv/bin/python" "$here/read_events_with_tensorboard.py" "$run_dir" 2>/dev/null | grep -E "^run|loss:|per_class|runs,"
echo "== 3. Magenta melody_rnn_generate from the run directory"
"$venv/bin/melody_rnn_generate" --config="$config" --run_dir="$run_dir" --hparams="$hparams" \
  --output_dir="$scratch/generated" --num_outputs=2 --num_steps=32 --primer_melody="[60]" 2>&1 |
  grep -E "Wrote [0-9]+ MIDI" | tail -1
echo "== 4. Magenta melody_rnn_train resumes from the checkpoint (on a copy)"
cp -r "$run_dir" "$scratch/run"
"$venv/bin/melody_rnn_train" --config="$config" --run_dir="$scratch/run" --hparams="$hparams" \
  --sequence_example_file="$records" --num_training_steps=3 --summary_frequency=1 2>&1 |
  grep -E "Restoring parameters|Global Step|Training complete" | grep -v "^INFO:tensorflow"
rm -rf "$scratch"
