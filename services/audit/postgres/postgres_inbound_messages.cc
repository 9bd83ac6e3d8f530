#include "services/audit/postgres/postgres_inbound_messages.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "services/audit/postgres/query_params.h"

namespace klaxon::audit {
namespace {

const std::string kListInboundMessagesSql =
    "SELECT (extract(epoch FROM e.occurred_at) * 1000000)::bigint, e.event_key, e.twilio_sid, "
    "  encode(e.personal_ciphertext, 'hex'), k.kek_version, encode(k.wrapped_key, 'hex') "
    "FROM audit_events e LEFT JOIN data_keys k ON k.owner = e.data_key_owner "
    "WHERE e.kind = 'inbound_message' "
    // The caller of the last alert Twilio accepted for the sender before the message arrived:
    // what the sender last received. An alert only created by then (scheduled, a later page of
    // a chain, cancelled or suppressed before it was sent) reached nobody, so it claims no reply.
    // Each attempt counts from its first acceptance: a worker that meets a request again after
    // its outcome was recorded publishes that outcome again, later, and the repeat must not make
    // an old page look newer than another caller's.
    "AND (SELECT a.caller FROM alerts a CROSS JOIN LATERAL ("
    "    SELECT min(s.occurred_at) AS accepted_at FROM audit_events s "
    "    WHERE s.alert_id = a.alert_id AND s.kind = 'accepted' GROUP BY s.attempt) t "
    "  WHERE a.recipient_index = e.recipient_index AND t.accepted_at <= e.occurred_at "
    "  ORDER BY t.accepted_at DESC, a.alert_id DESC LIMIT 1) = $1 "
    "AND ($2::text IS NULL OR e.recipient_index = decode($2::text, 'hex')) "
    "AND ($3::bigint IS NULL OR "
    "  e.occurred_at >= 'epoch'::timestamptz + $3::bigint * interval '1 microsecond') "
    "AND ($4::bigint IS NULL OR "
    "  e.occurred_at < 'epoch'::timestamptz + $4::bigint * interval '1 microsecond') "
    "AND ($5::bigint IS NULL OR (e.occurred_at, e.event_key) < "
    "  ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::text)) "
    "ORDER BY e.occurred_at DESC, e.event_key DESC LIMIT $7";

std::string Bytes(const pqxx::field& field) {
  return field.is_null() ? std::string() : absl::HexStringToBytes(field.as<std::string>());
}

}  // namespace

const std::string& ListInboundMessagesStatement() { return kListInboundMessagesSql; }

absl::StatusOr<std::vector<StoredInboundMessage>> PostgresInboundMessages::ListInboundMessages(
    const InboundFilter& filter, const std::optional<PagePosition>& after, int32_t limit) {
  const std::optional<std::string> sender =
      filter.sender_index.has_value() ? std::optional(absl::BytesToHexString(*filter.sender_index))
                                      : std::nullopt;
  const std::optional<std::string> from = MicrosParam(filter.received_from);
  const std::optional<std::string> before = MicrosParam(filter.received_before);
  const std::optional<std::string> after_time =
      after.has_value() ? MicrosParam(after->at) : std::nullopt;
  const std::optional<std::string> after_key =
      after.has_value() ? std::optional(after->key) : std::nullopt;
  std::vector<StoredInboundMessage> messages;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result rows =
        txn.exec_params(kListInboundMessagesSql, filter.caller, OrNull(sender), OrNull(from),
                        OrNull(before), OrNull(after_time), OrNull(after_key), limit);
    messages.reserve(rows.size());
    for (const pqxx::row row : rows) {
      StoredInboundMessage message{.event_key = row[1].as<std::string>(),
                                   .received_at = absl::FromUnixMicros(row[0].as<int64_t>()),
                                   .message_sid = row[2].as<std::string>(),
                                   .personal_ciphertext = Bytes(row[3])};
      if (!row[4].is_null()) {
        message.data_key =
            crypto::WrappedKey{.kek_version = row[4].as<uint32_t>(), .sealed = Bytes(row[5])};
      }
      messages.push_back(std::move(message));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return messages;
}

}  // namespace klaxon::audit
