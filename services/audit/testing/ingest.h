#pragma once
// Helpers for tests that write single events through AlertStore::Write, as the event handler would
// hand them over one at a time.

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/audit/alert_store.h"
#include "services/audit/ingest/audit_event_handler.h"

namespace klaxon::audit::testing {

// `event` with its log row. An event built by hand without an event key gets one
// from everything that tells it apart, so distinct events are not taken for duplicates.
inline IngestItem EventItem(AlertEvent event) {
  if (event.event_key.empty()) {
    event.event_key =
        absl::StrCat("test:", event.alert_id, ":", event.attempt, ":",
                     static_cast<int>(event.status), ":", absl::ToUnixMicros(event.occurred_at),
                     ":", event.twilio_sid, ":", event.reason, ":", event.caller);
  }
  if (event.log_kind.empty()) event.log_kind = "test";
  EventLogEntry entry = LogEntryOf(event);
  return {.entry = std::move(entry), .event = std::move(event)};
}

// Writes `item` alone; the error of the batch, or its one result.
inline absl::StatusOr<IngestResult> WriteOne(AlertStore& store, IngestItem item) {
  absl::StatusOr<std::vector<IngestResult>> results = store.Write({std::move(item)});
  if (!results.ok()) return results.status();
  return results->front();
}

// Applies `event`, like the store's former Apply().
inline absl::StatusOr<std::optional<StatusAdvance>> Apply(AlertStore& store,
                                                          const AlertEvent& event) {
  absl::StatusOr<IngestResult> result = WriteOne(store, EventItem(event));
  if (!result.ok()) return result.status();
  return result->advanced;
}

// Records `change` as an opt-out or opt-in event; whether the consent changed.
inline absl::StatusOr<bool> RecordConsent(AlertStore& store, const ConsentChange& change) {
  EventLogEntry entry{
      .event_key = absl::StrCat("test:", change.recipient_token, ":", change.opted_out, ":",
                                absl::ToUnixMicros(change.changed_at), ":", change.keyword),
      .kind = change.opted_out ? "opt_out" : "opt_in",
      .recipient_country_code = change.country_code,
      .recipient_last4 = change.last4,
      .occurred_at = change.changed_at};
  absl::StatusOr<IngestResult> result =
      WriteOne(store, {.entry = std::move(entry), .consent = change});
  if (!result.ok()) return result.status();
  return result->consent_changed;
}

}  // namespace klaxon::audit::testing
