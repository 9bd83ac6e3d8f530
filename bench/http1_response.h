// Framing of HTTP/1.1 responses read from a keep-alive connection (RFC 9112): where a response
// ends and the next one begins, its status, and whether the server closes the connection after
// it. A load generator needs no more: bodies are stepped over, never kept.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::bench {

struct ResponseFrame {
  int status = 0;
  // Bytes from the start of the buffer to the end of this response, interim 1xx responses
  // before it included.
  std::size_t size = 0;
  // The server closes the connection after this response ("Connection: close", an HTTP/1.0
  // answer without keep-alive, or a body that only the end of the connection delimits).
  bool closes = false;
};

// Parses the final response at the start of `buffer`, skipping interim 1xx responses. nullopt
// while it is incomplete. `at_eof` says the server has closed the connection, which is what ends
// a body that has neither Content-Length nor chunked encoding. kInvalidArgument, saying what is
// wrong, for bytes that are not an HTTP/1.x response or a head over 64 KiB.
absl::StatusOr<std::optional<ResponseFrame>> ParseResponse(std::string_view buffer, bool at_eof);

}  // namespace klaxon::bench
