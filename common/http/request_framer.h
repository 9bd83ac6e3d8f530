#pragma once
// Splits one connection's byte stream into HTTP/1.1 requests: the request line, the headers, a
// Content-Length body, and the next pipelined request after it. Pure (no sockets, no clock), so
// every rule is unit-tested and fuzzed (tests/fuzz/request_framer_fuzzer.cc); the server
// (server.h) feeds it what it reads and acts on what it finds.
//
// The framer never holds more than capacity() bytes: one request at the limits. Lengths are
// compared, never added, so no Content-Length can wrap a size check; a body over the limit is
// refused as soon as its head is read, before a byte of it is kept. Refusals are final (the
// server answers and closes), and always 4xx:
//   400 a malformed request line or header, a Content-Length that is not digits, repeated
//       Content-Length headers, Content-Length together with Transfer-Encoding;
//   411 Transfer-Encoding (chunked bodies are not accepted; Twilio sends Content-Length);
//   413 a Content-Length over max_body_bytes;
//   431 a head over max_head_bytes or with more than max_headers header lines.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/message.h"

namespace klaxon::http {

struct FramingLimits {
  size_t max_head_bytes = 16 * 1024;  // request line and headers, up to their blank line
  size_t max_body_bytes = 64 * 1024;
  size_t max_headers = 64;
};

struct FrameEvent {
  enum class Kind {
    kNeedMore,  // no complete request yet: append more bytes
    kHead,      // a complete head whose body has not all arrived: `request` holds the head
                // (body empty), `expect_continue` whether the client awaits 100 Continue. Once
                // per request, before any of its body is kept beyond what came with the head.
    kRequest,   // `request` is complete
    kRefused,   // `status` and `reason`; the framer stays refused
  };
  Kind kind = Kind::kNeedMore;
  Request request{};   // kRequest (peer_address left empty)
  bool close = false;  // kRequest: the client wants the connection closed after the answer
  bool expect_continue = false;  // kHead
  int status = 0;                // kRefused
  std::string reason{};          // kRefused: one short line, safe to send back and to log
};

class RequestFramer {
 public:
  enum class Phase {
    kIdle,     // no byte of the next request yet
    kHead,     // some of a request's head
    kBody,     // a complete head, waiting for its body
    kRefused,  // refused; nothing more is read
  };

  explicit RequestFramer(FramingLimits limits = {});

  // The most bytes held at once: max_head_bytes + max_body_bytes.
  size_t capacity() const { return capacity_; }
  size_t buffered() const { return buffer_.size(); }
  Phase phase() const;

  // Keeps as much of `bytes` as fits within capacity() and returns how many it kept (none once
  // refused).
  size_t Append(std::string_view bytes);

  // The next event in the bytes kept so far. Call until kNeedMore (or kRefused) after each
  // Append and after each request is answered: one Append may hold several pipelined requests.
  FrameEvent Next();

 private:
  struct Head {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    size_t size = 0;  // bytes of the head, blank line included
    size_t content_length = 0;
    bool expect_continue = false;
    bool close = false;
    bool announced = false;  // kHead was returned
  };
  friend struct HeadParser;

  FrameEvent Refuse(int status, std::string reason);

  const FramingLimits limits_;
  const size_t capacity_;
  std::string buffer_;
  size_t scanned_ = 0;  // buffer_[0, scanned_) holds no "\r\n\r\n" start
  std::optional<Head> head_;
  std::optional<FrameEvent> refused_;
};

}  // namespace klaxon::http
