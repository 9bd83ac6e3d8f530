#pragma once
// The read-side port behind ListInboundMessages (ADR 0032): the inbound SMS audit recorded, as
// stored, their sender and body still sealed. Each message belongs to one caller: the caller of
// the last alert to its sender (the blind indexes match) that Twilio accepted before the message
// arrived, the page the person was answering. A message from a number no alert reached before it
// arrived belongs to nobody.
// PostgresInboundMessages is the adapter; tests use FakeInboundMessages (services/audit/testing).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/key_wrapper.h"
#include "services/audit/query/page_token.h"

namespace klaxon::audit {

// Which of a caller's inbound messages to list; an unset field does not filter.
struct InboundFilter {
  std::string caller{};
  std::optional<std::string> sender_index{};    // crypto::BlindIndex of the sender's E.164
  std::optional<absl::Time> received_from{};    // inclusive
  std::optional<absl::Time> received_before{};  // exclusive
};

// One inbound message as audit stored it.
struct StoredInboundMessage {
  std::string event_key{};  // its audit_events row, and the record its data key is owned by
  absl::Time received_at{};
  std::string message_sid{};
  // The column personal_ciphertext (kEventPersonalColumn) and the data key of
  // "audit_events/<event_key>"; nullopt once retention destroyed that key.
  std::string personal_ciphertext{};
  std::optional<crypto::WrappedKey> data_key{};

  friend bool operator==(const StoredInboundMessage&, const StoredInboundMessage&) = default;
};

class InboundMessages {
 public:
  virtual ~InboundMessages() = default;

  // Up to `limit` of the filter's messages, newest first (received_at, then event_key, both
  // descending), strictly after `after` when set (PagePosition: received_at and event_key).
  // Safe to call from several threads.
  virtual absl::StatusOr<std::vector<StoredInboundMessage>> ListInboundMessages(
      const InboundFilter& filter, const std::optional<PagePosition>& after, int32_t limit) = 0;
};

}  // namespace klaxon::audit
