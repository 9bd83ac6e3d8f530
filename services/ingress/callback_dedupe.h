#pragma once
// Port: remembers which Twilio callbacks were already published, so a replayed callback is
// acknowledged without a second event. A callback is first claimed for a short lease while it is
// being published, then marked published for the dedupe window; a failed publish releases it so
// Twilio's retry can publish it.

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::ingress {

enum class DedupeClaim {
  kClaimed,           // nobody had it: publish it, then MarkPublished or Release
  kAlreadyPublished,  // a replay: acknowledge without publishing
  kInFlight,          // another request is publishing the same callback right now
};

class CallbackDedupe {
 public:
  virtual ~CallbackDedupe() = default;
  // `lease` bounds how long a claim lives if this process dies before finishing it.
  virtual absl::StatusOr<DedupeClaim> Claim(std::string_view key, absl::Duration lease) = 0;
  // Keeps `key` as published for `window`.
  virtual absl::Status MarkPublished(std::string_view key, absl::Duration window) = 0;
  // Drops a claim whose publish failed; a key already published is left alone.
  virtual absl::Status Release(std::string_view key) = 0;
};

}  // namespace klaxon::ingress
