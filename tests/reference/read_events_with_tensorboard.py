"""Prints every scalar TensorBoard itself reads from a logdir: a cross-check of the event files
our EventFileWriter writes (core/event_file.h; shared/spec/formats.md §9).

Each directory under the logdir (the logdir included) that holds a file whose name contains
"tfevents" is one run, as in TensorBoard. Each run is read with TensorBoard's own
EventAccumulator (purge_orphaned_data on, TensorBoard's default, so a SessionLog START drops
the older points at or after its step), and every scalar tag is printed with its steps and
values, simple_value scalars and scalars-plugin tensors alike. Usage:

    MELODY_KEEP_EVENTS_DIR=/tmp/events_kept build/tests/core_tests --gtest_filter='EventFile.*'
    tests/reference/.venv/bin/python tests/reference/read_events_with_tensorboard.py \\
        /tmp/events_kept/run_dir
    tests/reference/.venv/bin/python tests/reference/read_events_with_tensorboard.py \\
        /tmp/events_kept/scalar_forms

Exit status 1 when no run or no scalar was found.
"""

import argparse
import os
import sys

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util


def find_runs(logdir):
    """Run name (path relative to logdir, "." for the logdir itself) -> directory."""
    runs = {}
    for directory, _, files in sorted(os.walk(logdir)):
        if any("tfevents" in name for name in files):
            runs[os.path.relpath(directory, logdir)] = directory
    return runs


def scalar_points(accumulator):
    """tag -> [(step, value, wall_time)] in TensorBoard's order."""
    tags = accumulator.Tags()
    points = {}
    for tag in tags.get(event_accumulator.SCALARS, []):
        points[tag] = [(e.step, e.value, e.wall_time) for e in accumulator.Scalars(tag)]
    for tag in tags.get(event_accumulator.TENSORS, []):
        try:
            metadata = accumulator.SummaryMetadata(tag)
        except KeyError:  # a tensor whose tag never carried metadata: not a scalar
            continue
        if metadata.plugin_data.plugin_name != "scalars":
            continue
        # As TensorBoard's scalars data provider converts a point: numpy .item(), which
        # takes any one-element tensor; others are not plotted (skipped here).
        values = []
        for e in accumulator.Tensors(tag):
            array = tensor_util.make_ndarray(e.tensor_proto)
            if array.size == 1:
                values.append((e.step, array.item(), e.wall_time))
        if values:
            points[tag] = values
    return points


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    args = parser.parse_args()

    runs = find_runs(args.logdir)
    if not runs:
        print("no events files under %s" % args.logdir)
        return 1
    total = 0
    for name, directory in sorted(runs.items()):
        accumulator = event_accumulator.EventAccumulator(
            directory, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0},
            purge_orphaned_data=True)
        accumulator.Reload()
        files = sorted(f for f in os.listdir(directory) if "tfevents" in f)
        print("run %s (%d file%s: %s)" % (name, len(files), "" if len(files) == 1 else "s",
                                          ", ".join(files)))
        for tag, points in sorted(scalar_points(accumulator).items()):
            total += len(points)
            # Values as numpy prints a float32 (what NumpyFloat32Str reproduces).
            print("  %s: %s" % (tag, ", ".join("%d=%s" % (step, np.float32(value))
                                               for step, value, _ in points)))
    print("%d runs, %d scalar points" % (len(runs), total))
    return 0 if total else 1


if __name__ == "__main__":
    sys.exit(main())
