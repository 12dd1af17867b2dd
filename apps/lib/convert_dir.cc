#include "apps/lib/convert_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glog/logging.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <utility>

#include "core/error.h"
#include "core/file_util.h"
#include "core/parallel_for.h"
#include "core/proto_util.h"
#include "core/temp_files.h"
#include "core/tfrecord.h"
#include "data/midi_reader.h"

namespace melody {

std::string MidiNoteSequenceId(const std::string& collection_name, const std::string& filename) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  MELODY_REQUIRE(EVP_Digest(filename.data(), filename.size(), digest, &length, EVP_sha1(), nullptr))
      << "SHA-1 of '" << filename << "' failed";
  static const char* hex = "0123456789abcdef";
  std::string id = "/id/midi/" + collection_name + "/";
  for (unsigned i = 0; i < length; ++i) {
    id.push_back(hex[digest[i] >> 4]);
    id.push_back(hex[digest[i] & 15]);
  }
  return id;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (as protobuf checks proto3 strings:
// shortest form, no surrogates, at most U+10FFFF), or 0 if it is not one.
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    if (b0 == 0xe0) low = 0xa0;   // overlong
    if (b0 == 0xed) high = 0x9f;  // surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    if (b0 == 0xf0) low = 0x90;   // overlong
    if (b0 == 0xf4) high = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return length;
}

}  // namespace

std::string EscapeInvalidUtf8(const std::string& bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const size_t length = Utf8SequenceLength(bytes, i);
    if (length > 0) {
      out.append(bytes, i, length);
      i += length;
    } else {
      const unsigned char b = static_cast<unsigned char>(bytes[i++]);
      out += "\\x";
      out.push_back(hex[b >> 4]);
      out.push_back(hex[b & 15]);
    }
  }
  return out;
}

std::string EscapeForLog(const std::string& text) {
  static const char* hex = "0123456789abcdef";
  auto escape_byte = [&](std::string* out, unsigned char b) {
    *out += "\\x";
    out->push_back(hex[b >> 4]);
    out->push_back(hex[b & 15]);
  };
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (length > 1) {
      out.append(text, i, length);
    } else if (length == 0) {
      escape_byte(&out, c);  // not UTF-8
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\'') {
      out += "\\'";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      escape_byte(&out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
    i += length ? length : 1;
  }
  return out;
}

std::string QuoteForLog(const std::string& text) { return "'" + EscapeForLog(text) + "'"; }

namespace {

// ---- walk ----------------------------------------------------------------------------

// One step of the walk, in the order the reference would log/convert it.
struct WalkItem {
  enum Kind { kEnterDirectory, kMidiFile, kNoConverter, kUnlistable } kind;
  std::string path;      // as shown in messages: input_dir/sub/name
  std::string filename;  // kMidiFile: relative to input_dir, '/'-separated
  std::string reason;    // kUnlistable
};

bool EndsWithIgnoringCase(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  // `suffix` is lower case.
  return std::equal(suffix.begin(), suffix.end(), s.end() - suffix.size(), [](char lower, char c) {
    return std::tolower(static_cast<unsigned char>(c)) == lower;
  });
}

bool IsMidiName(const std::string& path) {
  return EndsWithIgnoringCase(path, ".mid") || EndsWithIgnoringCase(path, ".midi");
}

// MusicXML and ABC files go to converters of their own in the reference, even when they
// are directories; this port has none, so they get the "no converter" warning.
bool IsOtherScoreName(const std::string& path) {
  return EndsWithIgnoringCase(path, ".xml") || EndsWithIgnoringCase(path, ".mxl") ||
         EndsWithIgnoringCase(path, ".abc");
}

// Entry names of `dir` (without "." and ".."), sorted byte-wise. The reference uses the
// file system's order, which is not defined; sorting makes output reproducible.
std::vector<std::string> ListSorted(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) MELODY_FAIL() << QuoteForLog(dir) << ": cannot list directory: " << std::strerror(errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(d);
  if (err)
    MELODY_FAIL() << QuoteForLog(dir) << ": error while listing directory: " << std::strerror(err);
  std::sort(names.begin(), names.end());
  return names;
}

class DirectoryWalker {
 public:
  DirectoryWalker(std::string root, bool recursive) : root_(std::move(root)), recursive_(recursive) {}

  std::vector<WalkItem> Walk() {
    Visit("");
    return std::move(items_);
  }

 private:
  // The directory as the reference names it: os.path.join(root, sub), so the top level
  // ends with a separator ("midis/").
  std::string DirectoryPath(const std::string& sub) const {
    std::string base = root_.empty() || root_.back() == '/' ? root_ : root_ + "/";
    return base + sub;
  }

  void Visit(const std::string& sub) {
    std::string dir = DirectoryPath(sub);
    std::vector<std::string> names;
    if (sub.empty()) {
      FirstVisit(dir);
      names = ListSorted(dir);  // the top level must be listable: let the error out
    } else {
      try {
        if (!FirstVisit(dir))
          MELODY_FAIL() << QuoteForLog(dir) << ": directory already visited (link cycle)";
        names = ListSorted(dir);
      } catch (const Error& e) {
        items_.push_back({WalkItem::kUnlistable, dir, "", e.what()});
        return;
      }
    }
    items_.push_back({WalkItem::kEnterDirectory, dir, "", ""});
    std::vector<std::string> subdirectories;
    for (const std::string& name : names) {
      std::string path = JoinPath(dir, name);
      std::string relative = JoinPath(sub, name);
      if (IsMidiName(path)) {
        items_.push_back({WalkItem::kMidiFile, path, relative, ""});
      } else if (!IsOtherScoreName(path) && recursive_ && IsDirectory(path)) {
        subdirectories.push_back(relative);
      } else if (std::string why; recursive_ && !IsOtherScoreName(path) && CannotLook(path, &why)) {
        // Not "no converter": it may well be a directory we cannot open (a tree deeper
        // than PATH_MAX, a loop of links); say what stopped us.
        items_.push_back({WalkItem::kUnlistable, path, "", QuoteForLog(path) + ": cannot open: " + why});
      } else {
        items_.push_back({WalkItem::kNoConverter, path, "", ""});
      }
    }
    for (const std::string& s : subdirectories) Visit(s);
  }

  // True (with the reason) when stat() of an existing entry fails for another reason
  // than the entry being gone (a dangling link stays "no converter").
  static bool CannotLook(const std::string& path, std::string* why) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 || errno == ENOENT) return false;
    *why = std::strerror(errno);
    if (errno == ENAMETOOLONG)
      *why += " (the path is " + std::to_string(path.size()) +
              " bytes: the directory tree is too deep to open)";
    return true;
  }

  // Symbolic links can make a directory its own descendant; visit each directory once.
  bool FirstVisit(const std::string& dir) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return true;  // ListSorted reports the error
    return visited_.insert({st.st_dev, st.st_ino}).second;
  }

  std::string root_;
  bool recursive_;
  std::vector<WalkItem> items_;
  std::set<std::pair<dev_t, ino_t>> visited_;
};

// ---- conversion ------------------------------------------------------------------------

struct Outcome {
  std::string record;  // serialized NoteSequence when ok
  std::string error;   // otherwise: why it failed, or why it was skipped
  bool ok = false;
  bool unparsable = false;
  bool skipped = false;  // not handed to the converter: not a regular file, too large
  uint64_t input_bytes = 0;
};

const char* FileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// The bytes of a regular file of at most `max_bytes`. Returns false with *why set for
// anything else (a device, FIFO or socket is never read: /dev/zero never ends and a FIFO
// may block forever). A directory throws, as in the reference's read.
bool ReadRegularFile(const std::string& path, uint64_t max_bytes, std::string* bytes,
                     std::string* why) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    MELODY_FAIL() << "cannot open for reading: " << std::strerror(errno);
  // A directory with a MIDI-like name reaches here, as in the reference; say so plainly.
  if (S_ISDIR(st.st_mode)) MELODY_FAIL() << "is a directory, not a MIDI file";
  if (!S_ISREG(st.st_mode)) {
    *why = std::string("is ") + FileTypeName(st.st_mode) + ", not a regular file";
    return false;
  }
  // O_NONBLOCK: should the entry have become a FIFO since the stat, opening it must not
  // wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) MELODY_FAIL() << "cannot open for reading: " << std::strerror(errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *why = std::string("is ") + FileTypeName(st.st_mode) + ", not a regular file";
    return false;
  }
  auto too_large = [&](uint64_t size) {
    *why = "is " + std::to_string(size) + " bytes, larger than the limit of " +
           std::to_string(max_bytes) + " bytes (--max_midi_file_mb)";
    return false;
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return too_large(st.st_size);
  bytes->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  // Read to the end, but never past the limit, should the file grow meanwhile.
  for (;;) {
    if (done == bytes->size()) {
      if (done > max_bytes) return too_large(done);
      bytes->resize(done + std::min<uint64_t>(1 << 16, max_bytes + 1 - done));
    }
    const ssize_t n = ::read(fd, &(*bytes)[done], bytes->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) MELODY_FAIL() << "read error: " << std::strerror(errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes->resize(done);
  return true;
}

Outcome ConvertMidiFile(const WalkItem& item, const std::string& collection_name,
                        uint64_t max_file_bytes) {
  Outcome out;
  try {
    std::string bytes;
    if (!ReadRegularFile(item.path, max_file_bytes, &bytes, &out.error)) {
      out.skipped = true;
      return out;
    }
    out.input_bytes = bytes.size();
    magenta::NoteSequence sequence;
    try {
      sequence = MidiToNoteSequence(bytes);
    } catch (const MidiConversionError& e) {
      out.unparsable = true;
      out.error = e.what();
      return out;
    }
    // Proto3 strings must be UTF-8 (a record with other bytes parses nowhere): a name
    // that is not is stored with its invalid bytes escaped, and the id hashes that form.
    const std::string filename = EscapeInvalidUtf8(item.filename);
    sequence.set_id(MidiNoteSequenceId(collection_name, filename));
    sequence.set_filename(filename);
    sequence.set_collection_name(collection_name);
    out.record = SerializeDeterministic(sequence);
    out.ok = true;
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

// Starts the parsing threads before any file is read, so a thread that cannot start is an
// error whatever the number of files.
void StartParsingThreads(int num_threads) {
  try {
    EnsurePoolThreads(num_threads);
  } catch (const ThreadStartError& e) {
    MELODY_FAIL() << "cannot start parsing thread " << e.thread() << " of " << num_threads << ": "
                  << e.reason()
                  << " (the limit on processes/threads, ulimit -u, may be too low; "
                     "try a smaller --num_threads)";
  }
}

// Writes (or reports) the outcome of one MIDI file, in walk order.
void WriteOutcome(const WalkItem& item, Outcome&& outcome, TFRecordWriter* writer,
                  ConvertDirResult* result) {
  result->input_bytes += outcome.input_bytes;
  if (outcome.ok) {
    writer->Write(outcome.record);
    ++result->converted;
    if (EscapeInvalidUtf8(item.filename) != item.filename) {
      ++result->escaped_names;
      LOG(WARNING) << "The name of " << QuoteForLog(item.path)
                   << " is not valid UTF-8; it is stored as "
                   << QuoteForLog(EscapeInvalidUtf8(item.filename));
    }
    LOG(INFO) << "Converted MIDI file " << QuoteForLog(item.path) << ".";
  } else if (outcome.skipped) {
    LOG(WARNING) << "Skipping " << QuoteForLog(item.path) << ": it " << outcome.error << ".";
    result->skipped.push_back({item.path, outcome.error});
  } else if (outcome.unparsable) {
    LOG(WARNING) << "Could not parse MIDI file " << QuoteForLog(item.path)
                 << ". It will be skipped. Error was: " << outcome.error;
    result->failures.push_back({item.path, outcome.error, true});
  } else {
    LOG(ERROR) << QuoteForLog(item.path) << " generated an exception: " << outcome.error;
    result->failures.push_back({item.path, outcome.error, false});
  }
}

}  // namespace

ConvertDirResult ConvertDirToNoteSequences(const ConvertDirOptions& options) {
  auto start = std::chrono::steady_clock::now();
  MELODY_REQUIRE(!options.input_dir.empty()) << "input directory not given";
  MELODY_REQUIRE(!options.output_file.empty()) << "output file not given";
  const std::string input_dir = ExpandUser(options.input_dir);
  const std::string output_file = ExpandUser(options.output_file);
  MELODY_REQUIRE(PathExists(input_dir)) << input_dir << ": input directory does not exist";
  MELODY_REQUIRE(IsDirectory(input_dir)) << input_dir << ": input path is not a directory";
  MELODY_REQUIRE(!IsDirectory(output_file)) << output_file << ": output file is a directory";

  ConvertDirResult result;
  result.num_threads = ResolveThreadCount(options.num_threads, kMaxConvertThreads);
  // As in the reference: the base name of the path as given, so "data/" gives "".
  const std::string collection_name = EscapeInvalidUtf8(Basename(input_dir));

  // Open the output first so an unwritable destination fails before any work.
  MakeDirectories(Dirname(output_file));
  TFRecordWriter writer(output_file);

  std::vector<WalkItem> items = DirectoryWalker(input_dir, options.recursive).Walk();
  std::vector<const WalkItem*> tasks;
  for (const WalkItem& item : items)
    if (item.kind == WalkItem::kMidiFile) tasks.push_back(&item);
  LOG(INFO) << "Found " << tasks.size() << " MIDI files; converting with "
            << result.num_threads << " thread(s).";

  // The MIDI files are converted on the pool's threads, at most max(64, 8 N) ahead of
  // the writer, and written here in walk order, between the walk's other log lines.
  StartParsingThreads(result.num_threads);
  const int64_t window = std::max<int64_t>(64, 8 * static_cast<int64_t>(result.num_threads));
  size_t next_item = 0;
  // Logs the walk's items up to (not including) the next MIDI file.
  auto report_until_midi_file = [&] {
    for (; next_item < items.size() && items[next_item].kind != WalkItem::kMidiFile; ++next_item) {
      const WalkItem& item = items[next_item];
      switch (item.kind) {
        case WalkItem::kEnterDirectory:
          LOG(INFO) << "Converting files in " << QuoteForLog(item.path) << ".";
          break;
        case WalkItem::kNoConverter:
          LOG(WARNING) << "Unable to find a converter for file " << QuoteForLog(item.path);
          result.no_converter.push_back(item.path);
          break;
        case WalkItem::kUnlistable:
          LOG(ERROR) << "Skipping directory: " << item.reason;
          result.failures.push_back({item.path, item.reason, false});
          break;
        case WalkItem::kMidiFile:
          break;
      }
    }
  };
  OrderedParallelMap<Outcome>(
      result.num_threads, static_cast<int64_t>(tasks.size()), window,
      [&](int64_t task) {
        return ConvertMidiFile(*tasks[task], collection_name, options.max_file_bytes);
      },
      [&](int64_t, Outcome&& outcome) {
        report_until_midi_file();
        const WalkItem& item = items[next_item++];
        WriteOutcome(item, std::move(outcome), &writer, &result);
      });
  report_until_midi_file();
  writer.Close();
  // A run killed with SIGKILL could not remove its temporary file; this one can.
  for (const std::string& stale : RemoveStaleTempFiles(output_file))
    LOG(INFO) << "Removed the temporary file of an earlier, killed run: " << QuoteForLog(stale);
  result.failed = static_cast<int64_t>(result.failures.size());
  struct stat st;
  if (::stat(output_file.c_str(), &st) == 0) result.output_bytes = static_cast<uint64_t>(st.st_size);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LOG(INFO) << "Converted " << result.converted << " file(s)"
            << (result.escaped_names
                    ? " (" + std::to_string(result.escaped_names) +
                          " stored under a name with its non-UTF-8 bytes escaped)"
                    : std::string())
            << ", " << result.failed << " failed, " << result.skipped.size()
            << " skipped (not a regular file, or too large), in " << result.seconds << " s; wrote "
            << QuoteForLog(output_file) << ".";
  return result;
}

}  // namespace melody
