// Fuzzes the HTTP/1.1 request framer of common/http/request_framer.h, which reads every byte a
// client sends to the webhook port: request line, headers, Content-Length and pipelined requests.
// The input is a connection's byte stream; its first byte picks the sizes of the pieces it
// arrives in. Checked beyond "does not crash":
//  - the framer never holds more than its capacity and never stalls: while bytes remain to be
//    given, a full framer yields a request or a refusal;
//  - how the bytes are split makes no difference: the stream in pieces frames to the same
//    requests and the same refusal as the stream given whole;
//  - every request is within the limits (body, header count), has a known method and an
//    origin-form target, and its path and query put together are its target;
//  - a refusal is one of 400, 411, 413, 431 (never a 5xx) and is final;
//  - a request written back out (request line, its headers, its body) frames to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/request_framer.h"
#include "tests/fuzz/fuzz_check.h"

namespace klaxon::fuzz {
namespace {

constexpr http::FramingLimits kLimits{
    .max_head_bytes = 2048, .max_body_bytes = 4096, .max_headers = 16};

struct Framed {
  std::vector<http::Request> requests;
  std::vector<bool> closes;
  int refusal = 0;  // 0 when none
  bool operator==(const Framed& other) const {
    if (requests.size() != other.requests.size() || closes != other.closes ||
        refusal != other.refusal) {
      return false;
    }
    for (size_t i = 0; i < requests.size(); ++i) {
      const http::Request& a = requests[i];
      const http::Request& b = other.requests[i];
      if (a.method != b.method || a.target != b.target || a.headers != b.headers ||
          a.body != b.body) {
        return false;
      }
    }
    return true;
  }
};

void CheckRequest(const http::Request& request) {
  Require(request.body.size() <= kLimits.max_body_bytes, "a body is within max_body_bytes");
  Require(request.headers.size() <= kLimits.max_headers, "headers are within max_headers");
  Require(!request.target.empty() && request.target.front() == '/', "the target is origin-form");
  Require(request.query.empty()
              ? request.target == request.path || request.target == request.path + "?"
              : request.target == request.path + "?" + request.query,
          "path and query make up the target");
  Require(!request.method.empty(), "a request has a method");
}

// Frames `stream`, handed over in pieces of `piece` bytes (all at once when 0).
Framed Frame(std::string_view stream, size_t piece) {
  http::RequestFramer framer(kLimits);
  Framed framed;
  while (true) {
    const std::string_view offered =
        piece == 0 ? stream : stream.substr(0, std::min(piece, stream.size()));
    const size_t taken = framer.Append(offered);
    Require(taken <= offered.size(), "Append keeps no more than it is given");
    Require(framer.buffered() <= framer.capacity(), "the framer holds at most its capacity");
    stream.remove_prefix(taken);
    bool progressed = false;
    while (true) {
      http::FrameEvent event = framer.Next();
      if (event.kind == http::FrameEvent::Kind::kNeedMore) break;
      if (event.kind == http::FrameEvent::Kind::kHead) continue;
      progressed = true;
      if (event.kind == http::FrameEvent::Kind::kRefused) {
        Require(event.status == 400 || event.status == 411 || event.status == 413 ||
                    event.status == 431,
                "a refusal is 400, 411, 413 or 431");
        Require(framer.Next().kind == http::FrameEvent::Kind::kRefused, "a refusal is final");
        Require(framer.Append("GET / HTTP/1.1\r\n\r\n") == 0, "a refused framer keeps nothing");
        framed.refusal = event.status;
        return framed;
      }
      CheckRequest(event.request);
      framed.requests.push_back(std::move(event.request));
      framed.closes.push_back(event.close);
    }
    if (stream.empty()) return framed;
    Require(taken > 0 || progressed, "a framer that is given bytes makes progress");
  }
}

// A request as a client would write it; Content-Length comes from its headers.
std::string Serialize(const http::Request& request) {
  std::string wire = absl::StrCat(request.method, " ", request.target, " HTTP/1.1\r\n");
  for (const auto& [name, value] : request.headers)
    absl::StrAppend(&wire, name, ": ", value, "\r\n");
  absl::StrAppend(&wire, "\r\n", request.body);
  return wire;
}

void CheckStream(std::string_view input) {
  if (input.empty()) return;
  const size_t piece = static_cast<unsigned char>(input.front()) % 64 + 1;
  const std::string_view stream = input.substr(1);
  const Framed whole = Frame(stream, 0);
  Require(Frame(stream, piece) == whole, "framing does not depend on how the bytes arrive");
  for (const http::Request& request : whole.requests) {
    const Framed again = Frame(Serialize(request), 0);
    Require(again.refusal == 0 && again.requests.size() == 1, "a request written out frames again");
    const http::Request& copy = again.requests.front();
    Require(copy.method == request.method && copy.target == request.target &&
                copy.headers == request.headers && copy.body == request.body,
            "a request written out frames to itself");
  }
}

}  // namespace
}  // namespace klaxon::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  klaxon::fuzz::CheckStream(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
