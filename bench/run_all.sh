#!/usr/bin/env bash
# The whole benchmark suite on this machine, ours beside the reference where the venv of
# tests/reference/ exists (each peer is skipped, saying so, otherwise), ending with one
# summary table of ours, the peer's and the ratio.
#   bash bench/run_all.sh [BUILD_DIR]        # numbers and logs under ${OUT:-out/bench}
# Needs ../shared (the Nottingham MIDI files). Takes minutes: the reference trains at
# about 0.06-0.3 steps/s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-${BUILD_DIR:-build}}
export OUT=${OUT:-out/bench}
mkdir -p "$OUT"
echo "== convert_bench";        "$BUILD_DIR/bench/convert_bench" --out="$OUT/convert.json" | tee "$OUT/convert.log"
echo "== create_dataset_bench"; "$BUILD_DIR/bench/create_dataset_bench" --repeats=3 --out="$OUT/create_dataset.json" | tee "$OUT/create_dataset.log"
echo "== training";             bash bench/run_train_bench.sh "$BUILD_DIR" | tee "$OUT/train.log"
if [ -x "$BUILD_DIR/bench/generate_bench" ]; then
  # Ours (generation alone, whole process, a large batched run) then Magenta's generator on
  # the same weights; its per-case lines are in generate.log.
  echo "== generation"
  BUILD_DIR="$BUILD_DIR" OUT="$OUT/generate.json" LARGE=${LARGE:-1000} \
    bash bench/run_generate_bench.sh | tee "$OUT/generate.log"
fi

echo
echo "== summary (ours vs the reference on this machine)"
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None
rows = []
conv = load("convert.json")
if conv:
    ref = conv.get("reference_seconds_approx", 4.0)
    for r in conv.get("runs", []):
        rows.append(("convert (1034 files), %d thread(s)" % r["threads"], "%.3f s" % r["best_seconds"],
                     "~%.0f s" % ref, "%.0fx" % (ref / r["best_seconds"])))
cd = load("create_dataset.json")
if cd:
    for r in cd.get("results", []):
        ref = r.get("reference_seconds")
        for key, label in (("seconds_1_thread", "1 thread"), ("seconds_all_threads", "all threads")):
            if ref and r.get(key):
                rows.append(("create_dataset %s, %s" % (r["config"], label), "%.3f s" % r[key],
                             "%.1f s" % ref, "%.0fx" % (ref / r[key])))
tr = load("train_reference.json")
tb = load("train.json")
if tb:
    refs = {r["case"]: r for r in (tr or {}).get("rows", [])}
    for r in tb["rows"]:
        ref = refs.get(r["case"], {}).get("reference_steps_per_second")
        rows.append(("train %s" % r["case"], "%.3f steps/s (%.0f%% of sgemm)" % (r["steps_per_second"], 100 * r["ratio_to_ceiling"]),
                     "%.3f steps/s" % ref if ref else "skipped", "%.1fx" % (r["steps_per_second"] / ref) if ref else "-"))
gen = load("generate.json")
gen_log = os.path.join(out, "generate.log")
if gen and os.path.exists(gen_log):
    ref = {}
    for line in open(gen_log):  # "reference <model> <search> process <wall> s wall ..."
        f = line.split()
        if len(f) > 4 and f[0] == "reference" and f[3] == "process":
            ref[(f[1], f[2])] = float(f[4])
    for r in gen["results"]:
        if "process_wall_s" not in r:
            continue
        peer = ref.get((r["model"], r["search"].split()[0]))
        rows.append(("generate %s %s, 10 x 128 (process)" % (r["model"], r["search"]),
                     "%.3f s" % r["process_wall_s"], "%.2f s" % peer if peer else "skipped",
                     "%.0fx" % (peer / r["process_wall_s"]) if peer else "-"))
w = max(len(r[0]) for r in rows) if rows else 10
print("%-*s  %-34s  %-16s  %s" % (w, "benchmark", "ours", "reference", "ratio"))
for r in rows:
    print("%-*s  %-34s  %-16s  %s" % (w, r[0], r[1], r[2], r[3]))
PY
