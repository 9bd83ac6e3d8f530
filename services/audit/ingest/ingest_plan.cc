#include "services/audit/ingest/ingest_plan.h"

#include <algorithm>

#include "services/audit/ingest/projection.h"

namespace klaxon::audit {
namespace {

// The sealed column `column` of `sealed`, empty when it has none.
std::string Column(const SealedRecord& sealed, const std::string& column) {
  auto found = sealed.ciphertext.find(column);
  return found == sealed.ciphertext.end() ? std::string() : found->second;
}

// Stores an AlertRequested's sealed fields on the record unless it holds some already (a
// redelivered request, or one whose data key retention shredded): the first write wins.
bool SealInto(AlertRecord& record, const SealedRecord& sealed, const std::string& index) {
  if (!record.recipient_ciphertext.empty() || record.data_key.has_value()) return false;
  record.recipient_index = index;
  record.recipient_ciphertext = Column(sealed, kRecipientColumn);
  record.text_ciphertext = Column(sealed, kTextColumn);
  record.data_key = sealed.wrapped_key;
  return true;
}

// What the event does not carry, taken from its alert.
void FillFromAlert(EventLogEntry& row, const AlertRecord& alert) {
  if (row.caller.empty()) row.caller = alert.caller;
  if (row.channel == klaxon::types::v1::CHANNEL_UNSPECIFIED) row.channel = alert.channel;
  if (row.recipient_index.empty()) row.recipient_index = alert.recipient_index;
  if (row.recipient_country_code.empty()) row.recipient_country_code = alert.recipient_country_code;
  if (row.recipient_last4.empty()) row.recipient_last4 = alert.recipient_last4;
}

// The status `next` holds, as its caller is told of it: moved there by attempt `attempt`'s event,
// at status_at (the event's time when this event moved it).
StatusChange ChangeOf(const AlertRecord& next, uint32_t attempt) {
  return {.alert_id = next.alert_id,
          .caller = next.caller,
          .channel = next.channel,
          .status = next.status,
          .attempt = attempt,
          .twilio_error_code = next.twilio_error_code,
          .reason = next.reason,
          .occurred_at = next.status_at,
          .callback_url = next.callback_url};
}

}  // namespace

std::vector<std::string> AlertIdsOf(const std::vector<IngestItem>& batch) {
  std::set<std::string> ids;
  for (const IngestItem& item : batch) {
    if (item.event.has_value()) ids.insert(item.event->alert_id);
  }
  return {ids.begin(), ids.end()};
}

std::vector<std::string> EventKeysOf(const std::vector<IngestItem>& batch) {
  std::vector<std::string> keys;
  for (const IngestItem& item : batch) keys.push_back(item.entry.event_key);
  return keys;
}

IngestPlan PlanIngest(const std::vector<IngestItem>& batch,
                      const std::map<std::string, std::optional<AlertRecord>>& current,
                      const std::set<std::string>& stored_event_keys) {
  IngestPlan plan;
  plan.results.resize(batch.size());
  std::map<std::string, std::optional<AlertRecord>> records = current;
  std::set<std::string> keys = stored_event_keys;
  std::set<std::string> advanced;
  for (size_t i = 0; i < batch.size(); ++i) {
    const IngestItem& item = batch[i];
    if (!keys.insert(item.entry.event_key).second) {
      plan.results[i].duplicate = true;
      continue;
    }
    EventLogEntry row = item.entry;
    if (item.event.has_value()) {
      std::optional<AlertRecord>& record = records[item.event->alert_id];
      AlertRecord next = ApplyEvent(record, *item.event);
      row.retry_count = next.retry_count;
      if (item.event->counts_retry) ++next.retry_count;
      if (item.alert_personal.has_value() &&
          SealInto(next, *item.alert_personal, item.entry.recipient_index)) {
        plan.data_keys.emplace_back(item.alert_personal->owner, item.alert_personal->wrapped_key);
      }
      plan.results[i].advanced = AdvancedStatus(record, next);
      if (plan.results[i].advanced.has_value()) advanced.insert(next.alert_id);
      const bool caller_learned = record.has_value() && record->caller.empty();
      if (!next.caller.empty() && plan.results[i].advanced.has_value()) {
        plan.status_changes.push_back(ChangeOf(next, item.event->attempt));
      } else if (!next.caller.empty() && caller_learned) {
        // The request came after other events: the status they left, from the latest attempt.
        plan.status_changes.push_back(ChangeOf(
            next, next.attempts.empty() ? item.event->attempt : next.attempts.back().number));
      }
      FillFromAlert(row, next);
      plan.alerts[next.alert_id] = next;
      record = std::move(next);
    } else if (row.personal.has_value()) {
      plan.data_keys.emplace_back(row.personal->owner, row.personal->wrapped_key);
    }
    if (item.consent.has_value()) plan.consents.emplace_back(i, *item.consent);
    plan.events.push_back(std::move(row));
  }
  plan.advanced_alerts.assign(advanced.begin(), advanced.end());
  return plan;
}

}  // namespace klaxon::audit
