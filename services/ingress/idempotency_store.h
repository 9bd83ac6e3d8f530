#pragma once
// Port: remembers which alert a caller's idempotency key produced, so a repeated SendAlert
// returns the same alert_id and creates no second alert; and which caller an alert belongs to,
// so CancelAlert and AcknowledgeAlert can refuse anyone else.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::ingress {

// Where an alert stands in an escalation chain (docs/adr/0029): the chain's id (its first page's
// alert id) and the page's step, 1 first. Step 0: the alert is not a page of a chain.
struct ChainPosition {
  std::string escalation_id;
  uint32_t step = 0;

  friend bool operator==(const ChainPosition&, const ChainPosition&) = default;
};

struct IdempotencyRecord {
  std::string alert_id;
  std::string request_fingerprint;  // tells a true retry from a key reused for another request
  bool published = false;           // Kafka acknowledged the AlertRequested for alert_id
  types::v1::Channel channel = types::v1::CHANNEL_UNSPECIFIED;  // recorded with the alert's owner
  ChainPosition
      chain;  // recorded with the alert's owner: AcknowledgeAlert of a page stops its chain
};

// Whose an alert is, for CancelAlert and AcknowledgeAlert.
struct AlertOwner {
  std::string caller;
  types::v1::Channel channel = types::v1::CHANNEL_UNSPECIFIED;
  ChainPosition chain;

  friend bool operator==(const AlertOwner&, const AlertOwner&) = default;
};

// A record to create unless its key has one (IdempotencyStore::ReserveAll).
struct NewRecord {
  std::string_view caller;
  std::string_view key;
  IdempotencyRecord candidate;
  absl::Duration window;
};

// The key of a record, for marking it published later (IdempotencyStore::MarkAllPublished).
struct RecordKey {
  std::string caller;
  std::string key;
};

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  // For each of `records`: atomically stores its candidate for (caller, key) unless a record
  // exists, and answers with the record that holds afterwards: the candidate itself when this call
  // created it. Creating it also records candidate.alert_id as the caller's, in the same step and
  // for the same window. One answer per record, in order; a store that can makes one round trip
  // for all of them.
  virtual std::vector<absl::StatusOr<IdempotencyRecord>> ReserveAll(
      std::span<const NewRecord> records) = 0;

  // ReserveAll of one record.
  absl::StatusOr<IdempotencyRecord> Reserve(std::string_view caller, std::string_view key,
                                            const IdempotencyRecord& candidate,
                                            absl::Duration window) {
    const NewRecord record{.caller = caller, .key = key, .candidate = candidate, .window = window};
    return std::move(ReserveAll({&record, 1}).front());
  }

  // The record of (caller, key), without creating one; nullopt when there is none.
  virtual absl::StatusOr<std::optional<IdempotencyRecord>> Find(std::string_view caller,
                                                                std::string_view key) = 0;

  // Marks each record of `keys` published; later repeats return at once without publishing again.
  // One answer per key, in order.
  virtual std::vector<absl::Status> MarkAllPublished(std::span<const RecordKey> keys) = 0;

  // MarkAllPublished of one record.
  absl::Status MarkPublished(std::string_view caller, std::string_view key) {
    const RecordKey record{.caller = std::string(caller), .key = std::string(key)};
    return MarkAllPublished({&record, 1}).front();
  }

  // The caller (channel and chain position) whose Reserve created `alert_id`; nullopt when none did
  // within the window.
  virtual absl::StatusOr<std::optional<AlertOwner>> FindOwner(std::string_view alert_id) = 0;
};

}  // namespace klaxon::ingress
