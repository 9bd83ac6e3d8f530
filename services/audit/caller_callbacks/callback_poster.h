#pragma once
// The port through which a caller callback is POSTed (ADR 0028). CurlCallbackPoster is the
// adapter; unit tests script the answers.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace klaxon::audit {

struct CallbackPost {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  std::string body;                                          // application/json
  absl::Duration timeout;                                    // the whole request
};

struct CallbackAnswer {
  enum class Kind {
    kAnswered,      // an HTTP status came back
    kTimedOut,      // no answer within the timeout
    kNetworkError,  // no connection, or it broke
    kNoSecret,      // not sent: this replica has no secret for the caller to sign with
  };
  Kind kind = Kind::kAnswered;
  int http_status = 0;                          // kAnswered only
  std::optional<absl::Duration> retry_after{};  // the answer's Retry-After, in seconds
  std::string error{};                          // kTimedOut and kNetworkError: what went wrong
};

class CallbackPoster {
 public:
  virtual ~CallbackPoster() = default;
  // Blocks until answered, timed out or failed. Safe to call from several threads.
  virtual CallbackAnswer Post(const CallbackPost& post) = 0;
};

}  // namespace klaxon::audit
