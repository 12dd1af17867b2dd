#!/usr/bin/env bash
# Data-parallel scaling of melody_rnn_train (issue 9.5), run from the repository root:
#
#   bench/run_scaling.sh            # CPU: 1 and 2 ranks, one thread per rank
#   DEVICE=cuda bench/run_scaling.sh  # GPUs: 1 rank, then one rank per GPU (NCCL)
#
# Trains CONFIG (default attention_rnn, default hparams except batch_size=BATCH, default 64)
# for STEPS steps (default 60) on the shipped Nottingham set (made with
# melody_rnn_create_dataset on first use) at each rank count in RANKS (default "1 2";
# DEVICE=cuda: "1 <GPUs>"; DATA= another training_melodies.tfrecord), and prints steps/s, examples/s, and the time spent summing
# gradients across ranks per step with its share of the step. Writes ${OUT:-out/scaling}/.
set -euo pipefail
BUILD_DIR="${BUILD_DIR:-build}"
OUT_DIR="${OUT:-out/scaling}"
CONFIG="${CONFIG:-attention_rnn}"
BATCH="${BATCH:-64}"
STEPS="${STEPS:-60}"
DEVICE="${DEVICE:-cpu}"
TRAIN="${BUILD_DIR}/apps/melody_rnn_train"
MPIRUN="${MPIRUN:-mpirun}"
if [ "${DEVICE}" = cuda ]; then
  GPUS=$(nvidia-smi -L 2>/dev/null | wc -l)
  RANKS="${RANKS:-1 ${GPUS}}"
else
  RANKS="${RANKS:-1 2}"
fi
command -v "${MPIRUN}" > /dev/null || { echo "run_scaling.sh: no ${MPIRUN} (apt-get install openmpi-bin)"; exit 2; }
mkdir -p "${OUT_DIR}"
DATA="${DATA:-${OUT_DIR}/data/training_melodies.tfrecord}"
if [ ! -f "${DATA}" ]; then
  "${BUILD_DIR}/apps/convert_dir_to_note_sequences" --input_dir=examples/midi \
    --output_file="${OUT_DIR}/data/notesequences.tfrecord" --recursive > "${OUT_DIR}/data.log" 2>&1
  "${BUILD_DIR}/apps/melody_rnn_create_dataset" --config="${CONFIG}" \
    --input="${OUT_DIR}/data/notesequences.tfrecord" --output_dir="${OUT_DIR}/data" \
    --eval_ratio=0 >> "${OUT_DIR}/data.log" 2>&1
fi
ROOT_FLAGS=()
[ "$(id -u)" = 0 ] && ROOT_FLAGS=(--allow-run-as-root)
printf "%-6s %-6s %10s %12s %14s %12s\n" ranks device "steps/s" "examples/s" "allreduce ms" "share"
for n in ${RANKS}; do
  run="${OUT_DIR}/run_${DEVICE}_${n}"
  rm -rf "${run}"
  log="${OUT_DIR}/train_${DEVICE}_${n}.log"
  start=$(date +%s.%N)
  "${MPIRUN}" "${ROOT_FLAGS[@]}" --oversubscribe --bind-to none -np "${n}" "${TRAIN}" \
    --config="${CONFIG}" --hparams="batch_size=${BATCH}" --run_dir="${run}" \
    --sequence_example_file="${DATA}" --num_training_steps="${STEPS}" \
    --summary_frequency=5 --save_checkpoint_secs=100000 --device="${DEVICE}" \
    --num_threads=1 --seed=1 > "${log}" 2>&1
  end=$(date +%s.%N)
  # Rank 0's figures: the last global_step/sec (the rate over the last 5 steps, so the
  # first steps' warm-up is left out) and its time inside the gradient all-reduce (which
  # includes waiting for the slower rank).
  rate=$(grep -o 'global_step/sec: [0-9.e+-]*' "${log}" | tail -1 | awk '{print $2}' || true)
  reduce=$(grep -o 'summing gradients over them took [0-9.e+-]* s' "${log}" | awk '{print $6}' || true)
  reduce=${reduce:-0}
  awk -v n="${n}" -v d="${DEVICE}" -v r="${rate}" -v b="${BATCH}" -v red="${reduce}" \
      -v steps="${STEPS}" 'BEGIN {
        ms = red / steps * 1000; share = (r > 0) ? ms / (1000 / r) : 0;
        printf "%-6s %-6s %10.2f %12.1f %14.3f %11.1f%%\n", n, d, r, r * b, ms, share * 100 }' \
    | tee -a "${OUT_DIR}/summary.txt"
  echo "  (${n} ranks: whole process $(awk -v a="${start}" -v b="${end}" 'BEGIN{printf "%.1f", b-a}') s; log ${log})"
done
"${BUILD_DIR}/bench/scaling_bench" | tee "${OUT_DIR}/cost_model.txt"
