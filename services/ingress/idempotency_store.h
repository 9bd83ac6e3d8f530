#pragma once
// Port: remembers which alert a caller's idempotency key produced, so a repeated SendAlert
// returns the same alert_id and creates no second alert.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::ingress {

struct IdempotencyRecord {
  std::string alert_id;
  std::string request_fingerprint;  // tells a true retry from a key reused for another request
  bool published = false;           // Kafka acknowledged the AlertRequested for alert_id
};

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  // Atomically stores `candidate` for (caller, key) unless a record exists, and returns the
  // record that holds afterwards: `candidate` itself when this call created it.
  virtual absl::StatusOr<IdempotencyRecord> Reserve(std::string_view caller, std::string_view key,
                                                    const IdempotencyRecord& candidate,
                                                    absl::Duration window) = 0;

  // Marks the record published; later repeats return at once without publishing again.
  virtual absl::Status MarkPublished(std::string_view caller, std::string_view key) = 0;
};

}  // namespace klaxon::ingress
