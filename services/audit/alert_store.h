#pragma once
// The port between audit's logic and its database. PostgresAlertStore is the adapter; tests use
// FakeAlertStore (services/audit/testing). Every method is safe to call from several threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/audit/alert.h"
#include "services/audit/consent.h"
#include "services/audit/personal_data.h"

namespace klaxon::audit {

// How far audit has consumed one partition: every message below next_offset is reflected in the
// store (ProgressRecorder writes only offsets the consumer stored, i.e. every message before them
// finished). Read-your-writes for GetAlert compares it with Kafka's high watermark (ADR 0002).
struct ConsumedOffset {
  std::string topic{};
  int32_t partition = 0;
  int64_t next_offset = 0;
};

// One audit_events row as the event handler makes it (ADR 0008). Fields the event does not carry
// (an outcome's caller or recipient, a callback's channel) are taken from its alert's record by
// the store; retry_count always is.
struct EventLogEntry {
  std::string event_key{};
  std::string kind{};
  std::string alert_id{};  // empty for an event about no alert
  std::string caller{};
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  uint32_t attempt = 0;
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  std::string twilio_sid{};
  int32_t twilio_error_code = 0;
  std::string reason{};
  std::string recipient_index{};  // blind index (crypto::BlindIndex), raw bytes
  std::string recipient_country_code{};
  std::string recipient_last4{};
  absl::Time occurred_at{};
  // Set by the store: how many times the alert went back to a retry tier before this event.
  uint32_t retry_count = 0;
  // Personal data of an event about no alert (an inbound message's sender and body), sealed as
  // the one column "personal_ciphertext" under the data key of "audit_events/<event_key>".
  std::optional<SealedRecord> personal{};

  friend bool operator==(const EventLogEntry&, const EventLogEntry&) = default;
};

// One consumed message as the store writes it.
struct IngestItem {
  // The event's log row.
  EventLogEntry entry{};
  // What the event does to its alert's record; nullopt for an event about no alert.
  std::optional<AlertEvent> event{};
  // An AlertRequested's recipient and text, sealed ("recipient_ciphertext", "text_ciphertext")
  // under the data key of "alerts/<alert_id>"; stored with entry.recipient_index unless the
  // alert already holds sealed fields (the first write wins).
  std::optional<SealedRecord> alert_personal{};
  // An opt-out or opt-in.
  std::optional<ConsentChange> consent{};
};

// What writing one IngestItem did.
struct IngestResult {
  // The status the alert moved to (AdvancedStatus), nullopt when it did not move.
  std::optional<StatusAdvance> advanced{};
  // The event log already held the event: nothing of it was applied again.
  bool duplicate = false;
  // An opt-out or opt-in became its recipient's recorded consent (see Supersedes()).
  bool consent_changed = false;

  friend bool operator==(const IngestResult&, const IngestResult&) = default;
};

// A status an alert moved to, as its caller is told of it by a caller callback (ADR 0028).
struct StatusChange {
  std::string alert_id{};
  std::string caller{};
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  uint32_t attempt = 0;
  int32_t twilio_error_code = 0;
  std::string reason{};
  absl::Time occurred_at{};
  std::string
      callback_url{};  // the alert's own URL (SendAlert's callback_url); empty: the caller's

  friend bool operator==(const StatusChange&, const StatusChange&) = default;
};

class AlertStore {
 public:
  virtual ~AlertStore() = default;

  // Writes a batch of consumed messages in one transaction: each new event's log row (an event
  // whose key is stored already is a duplicate and changes nothing), its alert's record folded
  // in batch order (ApplyEvent; alerts.retry_count counting new RETRY_SCHEDULED and DEFERRED
  // events), sealed personal fields and their data keys (first write wins), consent changes, and
  // the status changes of callers that take caller callbacks (PlanIngest's status_changes) into
  // their outbox.
  // After a crash either all of it happened or none. One result per item, in order.
  //   kUnavailable      the database is unreachable (retry)
  //   kInvalidArgument  the database refused a value (that item can never be written)
  virtual absl::StatusOr<std::vector<IngestResult>> Write(const std::vector<IngestItem>& batch) = 0;

  // The alert if it exists AND belongs to `caller`, with its sealed fields and data key;
  // nullopt otherwise, so callers cannot probe for each other's ids. `alert_id` must be a
  // canonical UUID.
  virtual absl::StatusOr<std::optional<AlertRecord>> GetAlert(std::string_view caller,
                                                              std::string_view alert_id) = 0;

  // Every alert of `caller` whose escalation_id is `escalation_id` (ADR 0029): the pages of that
  // chain, its first included, ordered by escalation_step, then created_at, then alert_id, each
  // read like GetAlert's (attempts, sealed fields, data key). Empty for an empty id, and for a
  // chain of another caller's. kUnavailable when the database is unreachable (retry).
  virtual absl::StatusOr<std::vector<AlertRecord>> EscalationPages(
      std::string_view caller, std::string_view escalation_id) = 0;

  // Advances each partition's stored next_offset to the one given, never backwards, in one
  // transaction. kUnavailable when the database is unreachable (retry).
  virtual absl::Status AdvanceProgress(const std::vector<ConsumedOffset>& progress) = 0;

  // The stored next_offset of a partition, 0 when nothing was consumed from it yet.
  virtual absl::StatusOr<int64_t> NextOffset(std::string_view topic, int32_t partition) = 0;
};

}  // namespace klaxon::audit
