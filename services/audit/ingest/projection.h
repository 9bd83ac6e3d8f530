#pragma once
// The status projection: how one event changes an alert's record. Pure, so every ordering rule
// is tested without a database; the Postgres store runs it inside the transaction that also
// records the consumed offset.
//
// Rules:
//   - Monotonic: the status rank (see Rank) never decreases, for the alert and for each
//     attempt. An event of lower or equal rank changes neither status nor the fields that come
//     with it (sid, error code, reason): a late SENT after DELIVERED changes nothing. The one
//     exception is rank 1 (QUEUED, WAITING): the newer event by occurred_at replaces status and
//     reason (ties broken by status, then reason), so "waiting for X" follows the latest limit
//     or retry whatever order the events arrive in.
//   - An event moves the alert to alert_status (default: the attempt's status) and its attempt
//     to status; either may be UNSPECIFIED to leave that side alone (a voice call's callback
//     moves only its attempt, a cancel_requested only the alert).
//   - Idempotent: applying the same event twice gives the same record as applying it once.
//   - Out-of-order safe: an outcome consumed before its AlertRequested creates the record; the
//     AlertRequested later fills in caller, channel, the recipient fields and created_at without
//     lowering status. Until then the caller may be empty (a status callback does not know it),
//     so GetAlert finds no such alert for anyone.
//   - An escalation chain's acknowledged record (ADR 0029) names the page that stopped the
//     chain: the first one named is kept (acknowledged_by, _step, and _at, the record's
//     occurred_at), whatever records follow.
//   - updated_at is the latest occurred_at of the events that changed the record.

#include <optional>

#include "services/audit/alert.h"

namespace klaxon::audit {

// `current` is the stored record, or nullopt when the alert has not been seen yet. The event must
// be valid (see DecodeAlertRequested / DecodeDeliveryEvent) and, when `current` is set, carry
// the same alert_id.
AlertRecord ApplyEvent(const std::optional<AlertRecord>& current, const AlertEvent& event);

// The status `next` (ApplyEvent's result) moved to from `current`; nullopt when it stayed the same
// (a duplicate, or an event of lower or equal rank).
std::optional<StatusAdvance> AdvancedStatus(const std::optional<AlertRecord>& current,
                                            const AlertRecord& next);

}  // namespace klaxon::audit
