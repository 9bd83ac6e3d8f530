#pragma once
// The alert columns both Postgres adapters read, and the one mapping from them to an
// AlertRecord: PostgresAlertQueries lists alerts with these columns alone, PostgresAlertStore reads
// them first and its sealed fields and attempts after them.

#include <pqxx/pqxx>

#include "services/audit/alert.h"

namespace klaxon::audit {

// The alert's own columns, on the alerts table aliased `a`. Timestamps cross the wire as integer
// microseconds since the epoch (NULL for an unset acknowledged_at).
inline constexpr char kAlertColumns[] =
    "a.alert_id::text, a.caller, a.channel, a.status, a.requested, a.recipient_country_code, "
    "a.recipient_last4, a.twilio_sid, a.twilio_error_code, a.reason, "
    "(extract(epoch FROM a.created_at) * 1000000)::bigint, "
    "(extract(epoch FROM a.updated_at) * 1000000)::bigint, "
    "(extract(epoch FROM a.status_at) * 1000000)::bigint, a.callback_url, "
    "a.escalation_id, a.escalation_step, a.acknowledged_by, a.acknowledged_step, "
    "(extract(epoch FROM a.acknowledged_at) * 1000000)::bigint, a.template_name, "
    "a.template_locale, a.template_version";

// How many columns kAlertColumns selects: a row's further columns start at this index.
inline constexpr int kAlertColumnCount = 22;

// The record of a row that starts with kAlertColumns, without attempts or sealed fields.
AlertRecord AlertFromRow(const pqxx::row& row);

}  // namespace klaxon::audit
