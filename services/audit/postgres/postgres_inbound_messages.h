#pragma once
// The InboundMessages adapter for Postgres (ADR 0032). One statement: the inbound messages
// (audit_events rows of kind inbound_message, newest first through the partial index
// audit_events_inbound of migration 0009), each kept when the latest alert to its sender created
// by then is the caller's (alerts_recipient_created, also 0009), with its data key (data_keys, by
// the row's data_key_owner). Every filter is a bound parameter that may be NULL, as in
// PostgresAlertQueries. Inbound messages are few beside alerts, so walking them newest first and
// looking up each one's alert costs little.

#include <string>

#include "common/pg/database.h"
#include "services/audit/inbound/inbound_messages.h"

namespace klaxon::audit {

// The statement ($1 caller, $2 sender index in hex, $3 received from and $4 before in µs, $5 and
// $6 the position's received_at µs and event key, $7 limit), for tests that EXPLAIN it.
const std::string& ListInboundMessagesStatement();

class PostgresInboundMessages final : public InboundMessages {
 public:
  // `db` is borrowed and must outlive the adapter.
  explicit PostgresInboundMessages(pg::Database& db) : db_(db) {}

  absl::StatusOr<std::vector<StoredInboundMessage>> ListInboundMessages(
      const InboundFilter& filter, const std::optional<PagePosition>& after,
      int32_t limit) override;

 private:
  pg::Database& db_;
};

}  // namespace klaxon::audit
