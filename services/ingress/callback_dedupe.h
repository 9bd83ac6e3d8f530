#pragma once
// Port: remembers which Twilio callbacks were already published, so a replayed callback is
// acknowledged without a second event. A callback has several keys (its idempotency token or SID
// key, and a digest of what its signature covers); it is a replay when any of them was
// published, so a replay that changes only what the signature does not cover (an unsigned
// header) is still recognised. A callback is first claimed under all its keys for a short lease
// while it is being published, then marked published for the dedupe window; a failed publish
// releases it so Twilio's retry can publish it. Claims, marks and releases take a batch of
// callbacks, so a busy webhook pays one round trip for many.
//
// A claim is owned by a token of its own. A release can come after the claim's lease (a settle
// queue behind a slow Redis) when another copy of the callback may have claimed the keys since:
// it drops only the keys that still hold its token, so the newer copy's claim stands (ADR 0038).
// A mark needs no token: it is only made once the callback is durable in Kafka, so "published"
// is true whoever claimed the keys since, and that copy's own release then leaves it.

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

// What Claim answered for one callback.
struct ClaimAnswer {
  DedupeClaim outcome;
  std::string token = {};  // kClaimed only: the claim's owner, for Release
};

// A callback this caller claimed: its keys and the token Claim answered for them.
struct HeldClaim {
  DedupeKeys keys;
  std::string token;
};

class CallbackDedupe {
 public:
  virtual ~CallbackDedupe() = default;
  // For each callback, atomically: kAlreadyPublished when any of its keys was published, else
  // kInFlight when any is claimed, else claims them all under a new token. One answer per
  // callback, in order. `lease` bounds how long a claim lives if this process dies before
  // finishing it.
  virtual std::vector<absl::StatusOr<ClaimAnswer>> Claim(const std::vector<DedupeKeys>& callbacks,
                                                         absl::Duration lease) = 0;
  // Keeps every key of each callback as published for `window`, whoever holds a claim on it. One
  // status per callback.
  virtual std::vector<absl::Status> MarkPublished(const std::vector<DedupeKeys>& callbacks,
                                                  absl::Duration window) = 0;
  // Drops the keys of each claim that still hold its token: keys published, free, or claimed by
  // another copy since the lease ended are left alone. One status per claim.
  virtual std::vector<absl::Status> Release(const std::vector<HeldClaim>& claims) = 0;
};

}  // namespace klaxon::ingress
