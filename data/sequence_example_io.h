// Encoded melodies <-> tensorflow.SequenceExample (shared/spec/encodings.md §8): feature
// lists "inputs" (one float_list per step) and "labels" (one int64_list of one value per
// step), no context.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/melody_encoder.h"
#include "example.pb.h"

namespace melody {

// The proto form of an encoded melody (both feature lists present, even when empty).
tensorflow::SequenceExample MakeSequenceExample(const EncodedMelody& melody);

// The stable byte form: "inputs" map entry before "labels", byte for byte what
// SerializeDeterministic(MakeSequenceExample(melody)) gives, written directly (no proto
// objects) because dataset creation serializes hundreds of megabytes of floats.
std::string SerializeSequenceExample(const EncodedMelody& melody);

// Parses one serialized SequenceExample (map entries in either order). Every step's input
// must have `expected_input_size` values and every label exactly one value, and both lists
// must have the same length; else melody::Error naming `what` (e.g. "<file>: record 3").
EncodedMelody ParseSequenceExample(std::string_view bytes, int expected_input_size,
                                   const std::string& what);

// Every SequenceExample of a TFRecord file, errors naming the file and record index.
std::vector<EncodedMelody> ReadSequenceExampleFile(const std::string& path,
                                                   int expected_input_size);

}  // namespace melody
