#!/usr/bin/env bash
# Generation speed, ours beside the reference's own melody_rnn_generate on the same weights
# (issue 8): bench/generate_bench (ours: generation alone and whole process, per config at
# default hparams and from the 2019 bundle, plus one batched run of LARGE attention_rnn
# outputs), then Magenta's melody_rnn_generate from tests/reference/.venv on the 2019 bundle
# and on each config's checkpoint written by generate_bench, 10 outputs x 128 steps, primer
# [60], plain sampling and --beam_size=4 --branch_factor=2. Reference "generation" is the
# time from its "Restoring parameters" log line to "Wrote ... MIDI files". Skips the
# reference (saying so) when the venv is missing.
#   BUILD_DIR=build-gen LARGE=10000 CONFIGS=basic_rnn,attention_rnn bash bench/run_generate_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
LARGE=${LARGE:-10000}
CONFIGS=${CONFIGS:-basic_rnn,mono_rnn,lookback_rnn,attention_rnn}
SHARED=${MELODY_SHARED_DIR:-../shared}
BUNDLE=$SHARED/data/compat/attention_rnn_pipeline_2019/my_model.mag
WORK=$(mktemp -d /tmp/run_generate_bench.XXXXXX)
OUT=${OUT:-bench/results/generate.json}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
"$BUILD_DIR/bench/generate_bench" --configs="$CONFIGS" --bundle="$BUNDLE" \
  --large_outputs="$LARGE" --checkpoints_dir="$WORK/runs" --out="$OUT"

VENV=tests/reference/.venv
if [ ! -x "$VENV/bin/melody_rnn_generate" ]; then
  echo "reference: skipped ($VENV/bin/melody_rnn_generate not found; see tests/reference/README.md)"
  exit 0
fi
export TF_ENABLE_ONEDNN_OPTS=0 TF_CPP_MIN_LOG_LEVEL=2
# Seconds between two log lines' HH:MM:SS.micro stamps.
span() { python3 -c "
import re,sys
t=[l for l in open(sys.argv[1]) if re.match(r'I\d{4} ', l)]
s=lambda l: (lambda h,m,x: int(h)*3600+int(m)*60+float(x))(*l.split()[1].split(':'))
a=[s(l) for l in t if 'Restoring parameters' in l]; b=[s(l) for l in t if 'Wrote' in l]
print('%.2f' % (b[-1]-a[0]) if a and b else 'n/a')" "$1"; }
reference() {  # name, search, flags...
  local name=$1 search=$2; shift 2
  local log=$WORK/$name.$search.log
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$VENV/bin/melody_rnn_generate" "$@" \
    --output_dir="$WORK/out" --num_outputs=10 --num_steps=128 --primer_melody="[60]" >"$log" 2>&1
  read -r wall user sys <"$WORK/time"
  printf 'reference %-14s %-9s process %7.2f s wall %7.2f s cpu  generation %s s\n' "$name" \
    "$search" "$wall" "$(echo "$user + $sys" | bc)" "$(span "$log")"
}
for search in sampling beam; do
  extra=(); [ $search = beam ] && extra=(--beam_size=4 --branch_factor=2)
  [ -f "$BUNDLE" ] && reference bundle_2019 $search --bundle_file="$BUNDLE" "${extra[@]}"
  for config in ${CONFIGS//,/ }; do
    reference "$config" $search --config="$config" --run_dir="$WORK/runs/$config" "${extra[@]}"
  done
done
rm -rf "$WORK"
