// convert_dir_to_note_sequences (data-pipeline.md §6, apps.md §7) against the reference's
// output in shared/golden/convert_dir and a real user's 2019 run in shared/data/compat:
// records byte for byte, walk order, which entries are skipped and why, identity fields,
// thread-count independence, and the failure exits.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glog/logging.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "apps/lib/convert_dir.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "core/tfrecord.h"
#include "music.pb.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using testing::LoadJson;
using testing::SharedPath;
using testing::Sha256Hex;

struct Conversion {
  ConvertDirResult result;
  std::string file;                  // the output TFRecord's bytes
  std::vector<std::string> records;  // its payloads
};

// Quiet the per-file INFO lines while converting whole folders.
class ConvertDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_minloglevel_ = FLAGS_minloglevel;
    FLAGS_minloglevel = google::GLOG_WARNING;
    temp_ = testing::MakeTempDir("convert_dir_test_");
  }
  void TearDown() override {
    FLAGS_minloglevel = saved_minloglevel_;
    std::system(("rm -rf '" + temp_ + "'").c_str());
  }

  Conversion Convert(const std::string& input_dir, bool recursive, int threads = 0,
              const std::string& output_name = "out.tfrecord") {
    ConvertDirOptions options;
    options.input_dir = input_dir;
    options.output_file = JoinPath(temp_, output_name);
    options.recursive = recursive;
    options.num_threads = threads;
    Conversion run;
    run.result = ConvertDirToNoteSequences(options);
    run.file = ReadFileToString(options.output_file);
    run.records = ReadTFRecordFile(options.output_file);
    return run;
  }

  int saved_minloglevel_ = 0;
  std::string temp_;
};

// Paths as the manifests write them: relative to the parent of the input directory.
std::string RelativeToParent(const std::string& path, const std::string& input_dir) {
  std::string prefix = Dirname(input_dir) + "/";
  return path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : path;
}

// The paths a manifest's log lines name, split into skipped-by-converter and
// no-converter, in log order.
struct ManifestLog {
  std::vector<std::string> failed;
  std::vector<std::string> no_converter;
};

ManifestLog ParseManifestLog(const nlohmann::json& manifest) {
  ManifestLog log;
  const std::string no_converter = "Unable to find a converter for file ";
  const std::string unparsable = "Could not parse MIDI file ";
  for (const auto& entry : manifest["warnings_and_errors"]) {
    std::string message = entry[1];
    if (message.rfind(no_converter, 0) == 0) {
      log.no_converter.push_back(message.substr(no_converter.size()));
    } else if (message.rfind(unparsable, 0) == 0) {
      size_t end = message.find(". It will be skipped.");
      log.failed.push_back(message.substr(unparsable.size(), end - unparsable.size()));
    } else if (message.rfind("'", 0) == 0) {  // '<path>' generated an exception: ...
      log.failed.push_back(message.substr(1, message.find('\'', 1) - 1));
    } else {
      ADD_FAILURE() << "unexpected manifest message: " << message;
    }
  }
  return log;
}

// Every record of `run` equals the manifest's record (hash, size, identity fields) and
// the whole file equals the golden TFRecord. Returns the number of matching records.
int ExpectMatchesManifest(const Conversion& run, const std::string& input_dir,
                          const std::string& golden_stem) {
  nlohmann::json manifest = LoadJson(SharedPath("golden/convert_dir/" + golden_stem + ".json"));
  const auto& expected = manifest["records"];
  EXPECT_EQ(run.records.size(), expected.size()) << golden_stem;
  int matched = 0;
  for (size_t i = 0; i < std::min(run.records.size(), expected.size()); ++i) {
    const std::string& record = run.records[i];
    magenta::NoteSequence seq;
    ParseProtoOrThrow(record, &seq, golden_stem + " record " + std::to_string(i));
    EXPECT_EQ(seq.filename(), expected[i]["filename"]) << golden_stem << " record " << i;
    EXPECT_EQ(seq.collection_name(), expected[i]["collection_name"]) << golden_stem;
    EXPECT_EQ(seq.id(), expected[i]["id"]) << golden_stem << " " << seq.filename();
    EXPECT_EQ(seq.notes_size(), expected[i]["num_notes"].get<int>()) << seq.filename();
    EXPECT_EQ(record.size(), expected[i]["record_size"].get<size_t>()) << seq.filename();
    bool same = Sha256Hex(record) == expected[i]["record_sha256"].get<std::string>();
    EXPECT_TRUE(same) << golden_stem << ": record " << i << " (" << seq.filename()
                      << ") differs from the reference";
    matched += same;
  }
  std::string golden = ReadFileToString(SharedPath("golden/convert_dir/" + golden_stem + ".tfrecord"));
  EXPECT_TRUE(run.file == golden) << golden_stem << ".tfrecord differs from the reference file";

  ManifestLog log = ParseManifestLog(manifest);
  std::vector<std::string> failed, no_converter;
  for (const auto& f : run.result.failures) failed.push_back(RelativeToParent(f.path, input_dir));
  for (const auto& p : run.result.no_converter) no_converter.push_back(RelativeToParent(p, input_dir));
  EXPECT_EQ(failed, log.failed) << golden_stem;
  EXPECT_EQ(no_converter, log.no_converter) << golden_stem;
  EXPECT_EQ(run.result.converted, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(run.result.failed, static_cast<int64_t>(log.failed.size()));
  std::cout << golden_stem << ": " << matched << " of " << expected.size()
            << " records match the reference byte for byte\n";
  return matched;
}

TEST_F(ConvertDirTest, TestmidiMatchesReference) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/testmidi.json");
  MELODY_REQUIRE_SHARED("data/testmidi");
  std::string input = SharedPath("data/testmidi");
  ExpectMatchesManifest(Convert(input, false), input, "testmidi");
}

TEST_F(ConvertDirTest, TreeFlatMatchesReference) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/tree");
  std::string input = SharedPath("golden/convert_dir/tree");
  Conversion run = Convert(input, false);
  ExpectMatchesManifest(run, input, "tree_flat");
  // The directory named dir.mid went to the MIDI converter and failed to read.
  ASSERT_EQ(run.result.failures.size(), 1u);
  EXPECT_FALSE(run.result.failures[0].unparsable);
}

TEST_F(ConvertDirTest, TreeRecursiveMatchesReference) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/tree");
  std::string input = SharedPath("golden/convert_dir/tree");
  Conversion run = Convert(input, true);
  ExpectMatchesManifest(run, input, "tree_recursive");
  // Files of a directory come before its sub-directories' files.
  std::vector<std::string> filenames;
  for (const auto& r : run.records) {
    magenta::NoteSequence seq;
    ParseProtoOrThrow(r, &seq, "record");
    filenames.push_back(seq.filename());
  }
  EXPECT_EQ(filenames, (std::vector<std::string>{"B.MID", "a.mid", "sub/c.midi", "sub/deeper/d.Mid",
                                                 "sub/deeper/e.mid"}));
}

TEST_F(ConvertDirTest, EdgeFilesMatchReference) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/edge.json");
  MELODY_REQUIRE_SHARED("golden/midi/edge");
  std::string input = SharedPath("golden/midi/edge");
  Conversion run = Convert(input, false);
  ExpectMatchesManifest(run, input, "edge");
  for (const auto& f : run.result.failures) EXPECT_TRUE(f.unparsable) << f.path << ": " << f.reason;
}

TEST_F(ConvertDirTest, WholeNottinghamFolderMatchesIndex) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/nottingham_index.json");
  MELODY_REQUIRE_SHARED("data/nottingham");
  nlohmann::json index = LoadJson(SharedPath("golden/convert_dir/nottingham_index.json"));
  const auto& expected = index["records"];
  ASSERT_EQ(expected.size(), 1034u);
  Conversion run = Convert(SharedPath("data/nottingham"), false);
  ASSERT_EQ(run.records.size(), expected.size());
  EXPECT_EQ(run.result.failed, 0);
  // LICENSE.md sits beside the tunes.
  ASSERT_EQ(run.result.no_converter.size(), 1u);
  EXPECT_EQ(Basename(run.result.no_converter[0]), "LICENSE.md");
  int matched = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    magenta::NoteSequence seq;
    ParseProtoOrThrow(run.records[i], &seq, "nottingham record " + std::to_string(i));
    const auto& e = expected[i];
    bool same = seq.filename() == e["filename"] && seq.id() == e["id"] &&
                seq.collection_name() == index["collection_name"] &&
                seq.notes_size() == e["num_notes"].get<int>() &&
                seq.total_time() == e["total_time"].get<double>() &&
                run.records[i].size() == e["serialized_size"].get<size_t>() &&
                Sha256Hex(run.records[i]) == e["serialized_sha256"].get<std::string>();
    EXPECT_TRUE(same) << "record " << i << " (" << seq.filename() << ", expected "
                      << e["filename"] << ") differs from the reference";
    matched += same;
  }
  EXPECT_EQ(matched, 1034);
  std::cout << "nottingham: " << matched << " of " << expected.size() << " records match\n";
}

// The 2019 user's own converter output for their 10 files (collection "raw"). That
// Magenta did not write instrument_infos (field 23) yet, so ours are compared with it
// cleared; record order was their file system's, so compare as a multiset.
TEST_F(ConvertDirTest, RealUserRunReproducedWithoutInstrumentInfos) {
  const std::string compat = "data/compat/attention_rnn_pipeline_2019";
  MELODY_REQUIRE_SHARED(compat + "/raw_midi");
  MELODY_REQUIRE_SHARED(compat + "/notesequences.tfrecord");
  std::string raw = JoinPath(temp_, "raw");
  MakeDirectories(raw);
  std::string source = SharedPath(compat + "/raw_midi");
  DIR* dir = ::opendir(source.c_str());
  ASSERT_NE(dir, nullptr) << source;
  int linked = 0;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string target = JoinPath(source, name);
    ASSERT_EQ(::symlink(target.c_str(), JoinPath(raw, name).c_str()), 0) << target;
    ++linked;
  }
  ::closedir(dir);
  ASSERT_EQ(linked, 10);
  Conversion run = Convert(raw, false);
  std::vector<std::string> ours;
  for (const auto& record : run.records) {
    magenta::NoteSequence seq;
    ParseProtoOrThrow(record, &seq, "record");
    EXPECT_EQ(seq.collection_name(), "raw");
    seq.clear_instrument_infos();
    ours.push_back(SerializeDeterministic(seq));
  }
  std::vector<std::string> theirs = ReadTFRecordFile(SharedPath(compat + "/notesequences.tfrecord"));
  ASSERT_EQ(theirs.size(), 10u);
  std::sort(ours.begin(), ours.end());
  std::sort(theirs.begin(), theirs.end());
  int matched = 0;
  for (const auto& record : ours) matched += std::binary_search(theirs.begin(), theirs.end(), record);
  EXPECT_EQ(matched, 10);
  EXPECT_TRUE(ours == theirs);
  std::cout << "raw_midi: " << matched << " of 10 records match the 2019 file\n";
}

TEST_F(ConvertDirTest, OutputDoesNotDependOnThreadCount) {
  MELODY_REQUIRE_SHARED("golden/midi/edge");
  MELODY_REQUIRE_SHARED("data/testmidi");
  for (const std::string& input : {SharedPath("golden/midi/edge"), SharedPath("data/testmidi")}) {
    Conversion one = Convert(input, false, 1, "one.tfrecord");
    Conversion four = Convert(input, false, 4, "four.tfrecord");
    EXPECT_EQ(one.result.num_threads, 1);
    EXPECT_EQ(four.result.num_threads, 4);
    EXPECT_GT(one.records.size(), 0u) << input;
    EXPECT_TRUE(one.file == four.file) << input;
    EXPECT_EQ(one.result.converted, four.result.converted);
    EXPECT_EQ(one.result.failed, four.result.failed);
  }
}

// The shipped example tunes convert cleanly, and are the same tunes as the reference's
// Nottingham set: with the identity fields set as the reference's index has them, every
// record equals the reference's record for that file.
TEST_F(ConvertDirTest, ShippedExamplesConvertAndMatchNottinghamIndex) {
  Conversion run = Convert(testing::SourcePath("examples/midi"), false);
  EXPECT_EQ(run.result.converted, 32);
  EXPECT_EQ(run.result.failed, 0);
  ASSERT_EQ(run.result.no_converter.size(), 1u);
  EXPECT_EQ(Basename(run.result.no_converter[0]), "LICENSE.md");
  if (!testing::HaveShared("golden/convert_dir/nottingham_index.json"))
    GTEST_SKIP() << "shared data not found: golden/convert_dir/nottingham_index.json";
  nlohmann::json index = LoadJson(SharedPath("golden/convert_dir/nottingham_index.json"));
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& e : index["records"]) by_name[e["filename"]] = e;
  for (const auto& record : run.records) {
    magenta::NoteSequence seq;
    ParseProtoOrThrow(record, &seq, "example record");
    EXPECT_EQ(seq.collection_name(), "midi");
    ASSERT_TRUE(by_name.count(seq.filename())) << seq.filename();
    const auto& expected = by_name[seq.filename()];
    seq.set_collection_name(index["collection_name"]);
    seq.set_id(expected["id"]);
    EXPECT_EQ(Sha256Hex(SerializeDeterministic(seq)), expected["serialized_sha256"]) << seq.filename();
  }
}

// A small tree made here: identity fields, the trailing-slash collection quirk, `~`,
// and which names count as MIDI.
class ConvertDirMadeTreeTest : public ConvertDirTest {
 protected:
  void SetUp() override {
    ConvertDirTest::SetUp();
    MELODY_REQUIRE_SHARED("golden/convert_dir/tree/a.mid");
    midi_ = ReadFileToString(SharedPath("golden/convert_dir/tree/a.mid"));
    input_ = JoinPath(temp_, "songs");
    MakeDirectories(JoinPath(input_, "inner"));
    WriteFileAtomically(JoinPath(input_, "x.MIDI"), midi_);
    WriteFileAtomically(JoinPath(input_, "score.xml"), "<score/>");
    WriteFileAtomically(JoinPath(input_, "inner/y.mid"), midi_);
  }
  std::string midi_, input_;
};

TEST_F(ConvertDirMadeTreeTest, IdentityFields) {
  Conversion run = Convert(input_, true);
  ASSERT_EQ(run.records.size(), 2u);
  magenta::NoteSequence first, second;
  ParseProtoOrThrow(run.records[0], &first, "record 0");
  ParseProtoOrThrow(run.records[1], &second, "record 1");
  EXPECT_EQ(first.filename(), "x.MIDI");
  EXPECT_EQ(first.collection_name(), "songs");
  EXPECT_EQ(first.id(), "/id/midi/songs/" + testing::Sha1Hex("x.MIDI"));
  EXPECT_EQ(second.filename(), "inner/y.mid");
  EXPECT_EQ(second.id(), "/id/midi/songs/" + testing::Sha1Hex("inner/y.mid"));
  EXPECT_EQ(run.result.no_converter, std::vector<std::string>{JoinPath(input_, "score.xml")});
  EXPECT_EQ(run.result.input_bytes, 2 * midi_.size());
  EXPECT_EQ(run.result.output_bytes, run.file.size());
}

TEST_F(ConvertDirMadeTreeTest, TrailingSlashGivesEmptyCollectionAsTheReferenceDoes) {
  Conversion run = Convert(input_ + "/", false);
  ASSERT_EQ(run.records.size(), 1u);
  magenta::NoteSequence seq;
  ParseProtoOrThrow(run.records[0], &seq, "record 0");
  EXPECT_EQ(seq.collection_name(), "");
  EXPECT_EQ(seq.id(), "/id/midi//" + testing::Sha1Hex("x.MIDI"));
}

TEST_F(ConvertDirMadeTreeTest, ExpandsHomeInBothPaths) {
  const char* old_home = std::getenv("HOME");
  std::string saved = old_home ? old_home : "";
  ::setenv("HOME", temp_.c_str(), 1);
  ConvertDirOptions options;
  options.input_dir = "~/songs";
  options.output_file = "~/made/by/tool.tfrecord";
  ConvertDirResult result;
  EXPECT_NO_THROW(result = ConvertDirToNoteSequences(options));
  if (old_home) ::setenv("HOME", saved.c_str(), 1); else ::unsetenv("HOME");
  EXPECT_EQ(result.converted, 1);
  EXPECT_EQ(ReadTFRecordFile(JoinPath(temp_, "made/by/tool.tfrecord")).size(), 1u);
}

TEST_F(ConvertDirMadeTreeTest, MissingInputOrUnwritableOutputThrowsAndWritesNothing) {
  ConvertDirOptions options;
  options.input_dir = JoinPath(temp_, "no_such_dir");
  options.output_file = JoinPath(temp_, "out.tfrecord");
  EXPECT_THROW(ConvertDirToNoteSequences(options), Error);
  EXPECT_FALSE(PathExists(options.output_file));

  options.input_dir = input_;
  options.output_file = JoinPath(input_, "x.MIDI/out.tfrecord");  // parent is a file
  try {
    ConvertDirToNoteSequences(options);
    ADD_FAILURE() << "no error for an output below a file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.MIDI"), std::string::npos) << e.what();
  }
  options.output_file = "";
  EXPECT_THROW(ConvertDirToNoteSequences(options), Error);
}

// The built binary: a missing required flag or a bad --log is an error exit, unlike the
// reference's exit 0. Skips when the binary has not been built.
TEST(ConvertDirBinary, RequiredFlagsAndLogLevel) {
  std::string binary = std::string(MELODY_BINARY_DIR) + "/apps/convert_dir_to_note_sequences";
  if (::access(binary.c_str(), X_OK) != 0) GTEST_SKIP() << "binary not built: " << binary;
  std::string temp = testing::MakeTempDir("convert_dir_bin_");
  auto status = [&](const std::string& args) {
    int rc = std::system((binary + " " + args + " 2>/dev/null").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  EXPECT_EQ(status("--output_file=" + temp + "/o.tfrecord"), 1);
  EXPECT_EQ(status("--input_dir=" + temp), 1);
  EXPECT_EQ(status("--input_dir=" + temp + " --output_file=" + temp + "/o.tfrecord --log=info"), 1);
  EXPECT_EQ(status("--input_dir=" + temp + "/missing --output_file=" + temp + "/o.tfrecord"), 1);
  EXPECT_EQ(status("--input_dir=" + temp + " --output_file=" + temp + "/o.tfrecord --log=WARNING"), 0);
  EXPECT_TRUE(PathExists(temp + "/o.tfrecord"));
  std::system(("rm -rf '" + temp + "'").c_str());
}

}  // namespace
}  // namespace melody
