"""Opens MIDI files written by our melody_rnn_generate with mido and pretty_midi and checks
that they have the structure of the files Magenta's melody_rnn_generate writes
(shared/spec/formats.md §10): format 1, 2 tracks, 220 ticks per quarter, track 0 = tempo +
4/4 at tick 0 and end of track at tick 1, track 1 = program change 0 then note-on /
velocity-0 note-on pairs at velocity 100 on channel 0, running status, one instrument in
pretty_midi whose notes are monophonic and lie on the 16th-note grid.

Usage: tests/reference/.venv/bin/python tests/reference/check_generated_midi.py DIR_OR_FILES...
With no argument it runs build/apps/melody_rnn_generate (or $GENERATE) on the shared 2019
bundle into a temporary directory first, and also checks Magenta's own generated files.
Exit status 0 when every file passes.
"""
import glob
import os
import subprocess
import sys
import tempfile

import mido
import pretty_midi

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("MELODY_SHARED_DIR", os.path.join(os.path.dirname(ROOT), "shared"))
PIPELINE = os.path.join(SHARED, "data/compat/attention_rnn_pipeline_2019")


def check(path):
  problems = []
  mid = mido.MidiFile(path)
  if mid.type != 1: problems.append("format %d" % mid.type)
  if len(mid.tracks) != 2: problems.append("%d tracks" % len(mid.tracks))
  if mid.ticks_per_beat != 220: problems.append("division %d" % mid.ticks_per_beat)
  t0 = [(m.type, m.time) for m in mid.tracks[0]]
  if sorted(t0[:2]) != sorted([("set_tempo", 0), ("time_signature", 0)]) or t0[2] != ("end_of_track", 1):
    problems.append("track 0 is %s" % t0)
  msgs = list(mid.tracks[1])
  if msgs[0].type != "program_change" or msgs[0].program != 0 or msgs[0].time != 0:
    problems.append("track 1 starts with %s" % msgs[0])
  if msgs[-1].type != "end_of_track" or msgs[-1].time != 1:
    problems.append("track 1 ends with %s" % msgs[-1])
  for m in msgs[1:-1]:
    if m.type != "note_on" or m.channel != 0 or m.velocity not in (0, 100):
      problems.append("unexpected message %s" % m)
      break
  with open(path, "rb") as f:
    raw = f.read()
  if raw.count(b"\x90") != 1: problems.append("running status not used (%d note-on statuses)" % raw.count(b"\x90"))
  pm = pretty_midi.PrettyMIDI(path)
  if len(pm.instruments) != 1: problems.append("%d instruments" % len(pm.instruments))
  notes = sorted(pm.instruments[0].notes, key=lambda n: n.start) if pm.instruments else []
  if not notes: problems.append("no notes")
  tempo = pm.get_tempo_changes()[1][0]
  step = 60.0 / tempo / 4
  for a, b in zip(notes, notes[1:]):
    if b.start < a.end - 1e-9: problems.append("overlapping notes at %.3f" % b.start); break
  for n in notes:
    if abs(n.start / step - round(n.start / step)) > 1e-6 or n.velocity != 100:
      problems.append("note off the grid or velocity %d at %.4f" % (n.velocity, n.start)); break
  return problems


def main():
  paths = []
  for arg in sys.argv[1:]:
    paths += sorted(glob.glob(os.path.join(arg, "*.mid"))) if os.path.isdir(arg) else [arg]
  if not paths:
    tool = os.environ.get("GENERATE", os.path.join(ROOT, "build/apps/melody_rnn_generate"))
    out = tempfile.mkdtemp(prefix="check_generated_midi_")
    subprocess.run([tool, "--bundle_file=" + os.path.join(PIPELINE, "my_model.mag"),
                    "--output_dir=" + out, "--num_outputs=10", "--seed=7"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([tool, "--bundle_file=" + os.path.join(PIPELINE, "my_model.mag"),
                    "--output_dir=" + out, "--num_outputs=5", "--seed=8", "--beam_size=3",
                    "--branch_factor=2", "--primer_melody=[67, -2, 64, -1, 62]", "--qpm=96"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    paths = sorted(glob.glob(os.path.join(out, "*.mid")))
    paths += sorted(glob.glob(os.path.join(PIPELINE, "generated_midi/2019-02-20_*.mid")))
  failed = 0
  for p in paths:
    problems = check(p)
    if problems:
      failed += 1
      print("FAIL", p, "; ".join(problems))
  print("%d files checked with mido %s and pretty_midi %s, %d failed" %
        (len(paths), mido.version_info if hasattr(mido, "version_info") else mido.__version__,
         pretty_midi.__version__, failed))
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
