#include "core/proto_util.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "core/error.h"

namespace melody {

std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

void ParseProtoOrThrow(std::string_view bytes, google::protobuf::MessageLite* message,
                       const std::string& what) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    MELODY_FAIL() << what << ": not a valid " << message->GetTypeName() << " ("
                  << bytes.size() << " bytes)";
}

}  // namespace melody
