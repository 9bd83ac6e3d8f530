#pragma once
// Port: remembers which Twilio callbacks were already published, so a replayed callback is
// acknowledged without a second event. A callback has several keys (its idempotency token or SID
// key, and a digest of what its signature covers); it is a replay when any of them was
// published, so a replay that changes only what the signature does not cover (an unsigned
// header) is still recognised. A callback is first claimed under all its keys for a short lease
// while it is being published, then marked published for the dedupe window; a failed publish
// releases it so Twilio's retry can publish it. Claims and marks take a batch of callbacks, so a
// busy webhook pays one round trip for many.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::ingress {

enum class DedupeClaim {
  kClaimed,           // nobody had it: publish it, then MarkPublished or Release
  kAlreadyPublished,  // a replay: acknowledge without publishing
  kInFlight,          // another request is publishing the same callback right now
};

// One callback's keys, none empty.
using DedupeKeys = std::vector<std::string>;

class CallbackDedupe {
 public:
  virtual ~CallbackDedupe() = default;
  // For each callback, atomically: kAlreadyPublished when any of its keys was published, else
  // kInFlight when any is claimed, else claims them all. One answer per callback, in order.
  // `lease` bounds how long a claim lives if this process dies before finishing it.
  virtual std::vector<absl::StatusOr<DedupeClaim>> Claim(const std::vector<DedupeKeys>& callbacks,
                                                         absl::Duration lease) = 0;
  // Keeps every key of each callback as published for `window`. One status per callback.
  virtual std::vector<absl::Status> MarkPublished(const std::vector<DedupeKeys>& callbacks,
                                                  absl::Duration window) = 0;
  // Drops the claims of callbacks whose publish failed; keys already published are left alone.
  // One status per callback.
  virtual std::vector<absl::Status> Release(const std::vector<DedupeKeys>& callbacks) = 0;
};

}  // namespace klaxon::ingress
