#pragma once
// The port between audit's logic and its database. PostgresAlertStore is the adapter; tests use
// FakeAlertStore (services/audit/testing). Every method is safe to call from several threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/audit/alert.h"
#include "services/audit/consent.h"

namespace klaxon::audit {

// How far audit has consumed one partition: every message below next_offset is reflected in the
// store. Read-your-writes for GetAlert compares it with Kafka's high watermark.
struct ConsumedOffset {
  std::string topic{};
  int32_t partition = 0;
  int64_t next_offset = 0;
};

class AlertStore {
 public:
  virtual ~AlertStore() = default;

  // Folds `event` into its alert's record (ApplyEvent) and advances the partition's progress to
  // `progress` (never backwards), atomically: after a crash either both happened or neither.
  // Returns the status the alert moved to (AdvancedStatus), nullopt when it did not move.
  // kUnavailable when the database is unreachable (retry).
  virtual absl::StatusOr<std::optional<StatusAdvance>> Apply(const AlertEvent& event,
                                                             const ConsumedOffset& progress) = 0;

  // Makes `change` its recipient's recorded consent unless the record already holds one that
  // Supersedes it (so an older or duplicate change alters nothing), and advances the partition's
  // progress, atomically. Returns whether the record changed. kUnavailable like Apply.
  virtual absl::StatusOr<bool> RecordConsent(const ConsentChange& change,
                                             const ConsumedOffset& progress) = 0;

  // Advances progress past a message that carries no applicable event (one that failed to
  // decode), so read-your-writes does not wait for it.
  virtual absl::Status RecordProgress(const ConsumedOffset& progress) = 0;

  // The alert if it exists AND belongs to `caller`; nullopt otherwise, so callers cannot probe
  // for each other's ids. `alert_id` must be a canonical UUID.
  virtual absl::StatusOr<std::optional<AlertRecord>> GetAlert(std::string_view caller,
                                                              std::string_view alert_id) = 0;

  // The stored next_offset of a partition, 0 when nothing was consumed from it yet.
  virtual absl::StatusOr<int64_t> NextOffset(std::string_view topic, int32_t partition) = 0;
};

}  // namespace klaxon::audit
