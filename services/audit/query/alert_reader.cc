#include "services/audit/query/alert_reader.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "services/audit/personal_data.h"
#include "services/audit/query/alert_not_found.h"

namespace klaxon::audit {
namespace {

// Kept back from the caller's deadline so the NOT_FOUND or UNAVAILABLE still reaches it.
constexpr absl::Duration kDeadlineMargin = absl::Milliseconds(50);

}  // namespace

bool IsEscalationChain(const AlertRecord& record) {
  return record.escalation_step == 1 && record.escalation_id == record.alert_id;
}

AlertReader::AlertReader(AlertStore& store, OffsetOracle& oracle, PersonalData& personal_data,
                         timing::Clock& clock, AuditMetrics& metrics, const log::Logger& logger,
                         AlertReaderOptions options)
    : store_(store),
      oracle_(oracle),
      personal_data_(personal_data),
      clock_(clock),
      metrics_(metrics),
      logger_(logger),
      options_(std::move(options)) {}

absl::StatusOr<AlertView> AlertReader::GetAlert(std::string_view caller, std::string_view alert_id,
                                                absl::Time deadline) {
  if (!ids::IsUuid(alert_id)) {
    return absl::InvalidArgumentError("alert_id must be a UUID in canonical lowercase form");
  }
  absl::StatusOr<std::optional<AlertRecord>> stored = store_.GetAlert(caller, alert_id);
  if (!stored.ok()) return stored.status();
  // An alert known only from an outcome waits for its request like a missing one, so the
  // caller's own write (recipient, text, created_at) is in the answer.
  absl::StatusOr<AlertRecord> found = stored->has_value() && (*stored)->requested
                                          ? **std::move(stored)
                                          : WaitForAlert(caller, alert_id, deadline);
  if (!found.ok()) return found.status();
  absl::StatusOr<AlertView> view = Opened(*std::move(found), Opening::kRecipientAndText);
  if (!view.ok() || !IsEscalationChain(view->record)) return view;
  absl::StatusOr<std::vector<AlertView>> pages = Pages(view->record);
  if (!pages.ok()) return pages.status();
  view->pages = *std::move(pages);
  return view;
}

absl::StatusOr<std::vector<AlertView>> AlertReader::Pages(const AlertRecord& chain) {
  absl::StatusOr<std::vector<AlertRecord>> records =
      store_.EscalationPages(chain.caller, chain.escalation_id);
  if (!records.ok()) return records.status();
  std::vector<AlertView> pages;
  pages.reserve(records->size());
  for (AlertRecord& record : *records) {
    absl::StatusOr<AlertView> page = Opened(std::move(record), Opening::kRecipientOnly);
    if (!page.ok()) return page.status();
    pages.push_back(*std::move(page));
  }
  return pages;
}

absl::StatusOr<std::optional<AlertRecord>> AlertReader::Stored(std::string_view caller,
                                                               std::string_view alert_id) {
  return store_.GetAlert(caller, alert_id);
}

absl::StatusOr<AlertView> AlertReader::Opened(AlertRecord record, Opening opening) {
  AlertView view{.record = std::move(record)};
  const AlertRecord& alert = view.record;
  // An outcome consumed before its request: nothing was sealed yet.
  if (!alert.requested) return view;
  if (alert.recipient_ciphertext.empty() || !alert.data_key.has_value()) {
    view.personal_data_shredded = true;
    return view;
  }
  Fields sealed = {{kRecipientColumn, alert.recipient_ciphertext}};
  if (opening == Opening::kRecipientAndText) sealed.emplace(kTextColumn, alert.text_ciphertext);
  absl::StatusOr<Fields> opened =
      personal_data_.Open(kAlertsTable, alert.alert_id, *alert.data_key, sealed);
  if (!opened.ok()) {
    // The message names the alert, the column or the data key, and the key version: never
    // the ciphertext nor anything it holds.
    logger_.Error("personal_data_unreadable",
                  {{"alert_id", alert.alert_id},
                   {"code", absl::StatusCodeToString(opened.status().code())},
                   {"error", std::string(opened.status().message())}});
    const std::string message =
        absl::StrCat("alert ", alert.alert_id, ": its ",
                     opening == Opening::kRecipientAndText ? "recipient and text" : "recipient",
                     " cannot be opened: ", opened.status().message());
    if (absl::IsDataLoss(opened.status())) return absl::DataLossError(message);
    return absl::InternalError(message);
  }
  view.recipient = (*opened)[kRecipientColumn];
  if (opening == Opening::kRecipientAndText) view.text = (*opened)[kTextColumn];
  return view;
}

absl::StatusOr<AlertRecord> AlertReader::WaitForAlert(std::string_view caller,
                                                      std::string_view alert_id,
                                                      absl::Time deadline) {
  const absl::Time start = clock_.Now();
  // Watermarks are read after the first miss, so they cover every request acknowledged before
  // this call began, which is all read-your-writes promises.
  std::vector<Target> targets;
  for (const std::string& topic : options_.topics.Requests()) {
    absl::StatusOr<int32_t> partition = oracle_.PartitionFor(topic, alert_id);
    if (!partition.ok()) return partition.status();
    absl::StatusOr<int64_t> high_watermark = oracle_.HighWatermark(topic, *partition);
    if (!high_watermark.ok()) return high_watermark.status();
    targets.push_back({.topic = topic, .partition = *partition, .high_watermark = *high_watermark});
  }

  const absl::Time give_up = std::min(start + options_.max_wait, deadline - kDeadlineMargin);
  while (true) {
    // Progress first, then the alert: progress and projection commit together, so an alert
    // missing after the progress was seen caught up does not exist.
    absl::StatusOr<bool> caught_up = CaughtUp(targets);
    if (!caught_up.ok()) return caught_up.status();
    absl::StatusOr<std::optional<AlertRecord>> stored = store_.GetAlert(caller, alert_id);
    if (!stored.ok()) return stored.status();
    if (stored->has_value() && (*stored)->requested) {
      metrics_.ReadYourWritesWait("found", clock_.Now() - start);
      return **std::move(stored);
    }
    if (*caught_up) {
      if (stored->has_value()) {
        metrics_.ReadYourWritesWait("found", clock_.Now() - start);
        return **std::move(stored);
      }
      metrics_.ReadYourWritesWait("not_found", clock_.Now() - start);
      return AlertNotFound(alert_id);
    }
    const absl::Time now = clock_.Now();
    if (now >= give_up && stored->has_value()) {
      // What is known beats no answer: the request is still on its way.
      metrics_.ReadYourWritesWait("timed_out", now - start);
      return **std::move(stored);
    }
    if (now >= give_up) {
      metrics_.ReadYourWritesWait("timed_out", now - start);
      return absl::UnavailableError(
          absl::StrCat("alert ", std::string(alert_id),
                       " is not recorded yet and audit is behind Kafka; retry shortly"));
    }
    clock_.SleepFor(std::min(options_.poll_interval, give_up - now));
  }
}

absl::StatusOr<bool> AlertReader::CaughtUp(const std::vector<Target>& targets) {
  for (const Target& target : targets) {
    absl::StatusOr<int64_t> next_offset = store_.NextOffset(target.topic, target.partition);
    if (!next_offset.ok()) return next_offset.status();
    if (*next_offset < target.high_watermark) return false;
  }
  return true;
}

}  // namespace klaxon::audit
