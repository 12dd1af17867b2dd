#!/usr/bin/env bash
# Training speed, ours beside the reference's own trainer in one run (same records, same
# hparams, same machine and thread count), so the ratio is fair on a noisy machine.
#   bash bench/run_train_bench.sh [BUILD_DIR]
# Ours: build/bench/train_bench (Nottingham via our own tools; steps/s, examples/s,
# events/s, fraction of the sgemm ceiling). The peer: Magenta's melody_rnn_train from the
# venv of tests/reference/ (skipped, saying so, when the venv is absent), timed from its
# own global_step/sec log lines. Writes ${OUT:-out/bench}/train.json and train_reference.json
# and prints ours, the peer's and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-${BUILD_DIR:-build}}
OUT=${OUT:-out/bench}
STEPS=${STEPS:-5}
REF_STEPS=${REF_STEPS:-7}
THREADS=${THREADS:-$(nproc)}
SCRATCH=${SCRATCH:-/tmp/train_bench}
mkdir -p "$OUT"
CASES=${CASES:-"basic_rnn mono_rnn lookback_rnn attention_rnn attention_rnn@batch_size=64;rnn_layer_sizes=[64,64]"}

"$BUILD_DIR/bench/train_bench" --cases="$(echo $CASES | tr ' ' ',')" --steps="$STEPS" \
  --threads="$THREADS" --scratch_dir="$SCRATCH" --out="$OUT/train.json"

VENV=tests/reference/.venv
if [ ! -x "$VENV/bin/melody_rnn_train" ]; then
  echo "reference: skipped ($VENV/bin/melody_rnn_train not found; bash tests/reference/make_venv.sh builds it)"
  exit 0
fi
echo
echo "reference: Magenta's melody_rnn_train, $REF_STEPS steps per case, $THREADS threads"
python3 - "$OUT" "$SCRATCH" "$REF_STEPS" "$THREADS" "$VENV" $CASES <<'PY'
import json, os, re, subprocess, sys, tempfile, time
out, scratch, steps, threads, venv = sys.argv[1:6]
cases = sys.argv[6:]
ours = {r["case"]: r for r in json.load(open(os.path.join(out, "train.json")))["rows"]}
env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", CUDA_VISIBLE_DEVICES="",
           OMP_NUM_THREADS=threads, TF_NUM_INTRAOP_THREADS=threads, TF_NUM_INTEROP_THREADS=threads)
rows = []
print("%-44s %12s %12s %8s" % ("case", "ours steps/s", "ref steps/s", "ratio"))
for case in cases:
    config, _, hp = case.partition("@")
    hparams = hp.replace(";", ",")
    run_dir = tempfile.mkdtemp(prefix="ref_train_")
    cmd = [os.path.join(venv, "bin", "melody_rnn_train"), "--config=" + config,
           "--run_dir=" + run_dir, "--summary_frequency=2",
           "--sequence_example_file=" + os.path.join(scratch, config, "training_melodies.tfrecord"),
           "--num_training_steps=" + steps]
    if hparams:
        cmd.append("--hparams=" + hparams)
    t0 = time.time()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.time() - t0
    rates = [float(x) for x in re.findall(r"global_step/sec: ([0-9.eE+-]+)", p.stderr)]
    ref = rates[-1] if rates else None
    mine = ours.get(case, {}).get("steps_per_second")
    ratio = mine / ref if (ref and mine) else None
    rows.append({"case": case, "reference_steps_per_second": ref, "reference_wall_seconds": wall,
                 "reference_exit": p.returncode, "ours_steps_per_second": mine, "ratio": ratio})
    print("%-44s %12s %12s %8s" % (case, "%.3f" % mine if mine else "-", "%.3f" % ref if ref else
          "failed (exit %d)" % p.returncode, "%.1fx" % ratio if ratio else "-"))
    if p.returncode != 0:
        print(p.stderr[-2000:])
json.dump({"threads": int(threads), "rows": rows}, open(os.path.join(out, "train_reference.json"), "w"), indent=2)
PY
