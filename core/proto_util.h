// Protobuf helpers. SerializeDeterministic gives the byte form the reference's files use:
// fields in number order, defaults omitted, packed repeated scalars, map entries sorted by
// key (shared/spec/formats.md §1) — e.g. SequenceExample "inputs" before "labels".
#pragma once

#include <google/protobuf/message_lite.h>

#include <string>
#include <string_view>

namespace melody {

std::string SerializeDeterministic(const google::protobuf::MessageLite& message);

// Parses `bytes` into *message; throws melody::Error naming `what` (e.g. "<file>: record 3")
// when the bytes are not a valid serialization.
void ParseProtoOrThrow(std::string_view bytes, google::protobuf::MessageLite* message,
                       const std::string& what);

}  // namespace melody
