#include "bench/callback_tally.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/caller_callbacks/signature.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {
namespace {

// The string member `name` of `body`, or nullopt when missing or not a string.
std::optional<std::string> StringField(const nlohmann::json& body, const char* name) {
  const auto found = body.find(name);
  if (found == body.end() || !found->is_string()) return std::nullopt;
  return found->get<std::string>();
}

absl::Status FieldError(const char* name, const char* what) {
  return absl::InvalidArgumentError(absl::StrCat("callback body: \"", name, "\" ", what));
}

}  // namespace

absl::StatusOr<CallerCallback> ParseCallerCallback(std::string_view text) {
  const nlohmann::json body = nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                                                    /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return absl::InvalidArgumentError("callback body: not a JSON object");
  }
  CallerCallback callback;
  std::optional<std::string> alert_id = StringField(body, "alert_id");
  if (!alert_id.has_value() || alert_id->empty()) {
    return FieldError("alert_id", "is missing or not a string");
  }
  callback.alert_id = *std::move(alert_id);
  const auto sequence = body.find("sequence");
  if (sequence == body.end() || !sequence->is_number_integer() || sequence->get<int64_t>() < 1) {
    return FieldError("sequence", "is missing or not a positive integer");
  }
  callback.sequence = sequence->get<int64_t>();
  std::optional<std::string> status = StringField(body, "status");
  if (!status.has_value() || status->empty()) {
    return FieldError("status", "is missing or not a string");
  }
  callback.status = *std::move(status);
  const std::optional<std::string> occurred_at = StringField(body, "occurred_at");
  std::string error;
  if (!occurred_at.has_value() ||
      !absl::ParseTime(absl::RFC3339_full, absl::string_view(*occurred_at), &callback.occurred_at,
                       &error)) {
    return FieldError("occurred_at", "is missing or not an RFC 3339 time");
  }
  return callback;
}

double WindowRate(const CallbackSummary& summary) {
  const double seconds = std::chrono::duration<double>(summary.window).count();
  return seconds > 0 ? static_cast<double>(summary.changes_in_window) / seconds : 0;
}

void CallbackTally::Sent(const std::string& alert_id) {
  std::lock_guard lock(mutex_);
  alerts_[alert_id].sent = true;
}

void CallbackTally::Received(const CallerCallback& callback, absl::Time received_at) {
  std::lock_guard lock(mutex_);
  ++arrivals_;
  Alert& alert = alerts_[callback.alert_id];
  const bool seen =
      std::any_of(alert.changes.begin(), alert.changes.end(),
                  [&](const Change& change) { return change.sequence == callback.sequence; });
  if (seen) {
    ++alert.repeated;
    return;
  }
  if (callback.sequence != alert.highest + 1) ++alert.out_of_order;
  alert.highest = std::max(alert.highest, callback.sequence);
  alert.changes.push_back({.sequence = callback.sequence,
                           .status = callback.status,
                           .received_at = received_at,
                           .delay = received_at - callback.occurred_at});
}

void CallbackTally::SignatureFailed() {
  std::lock_guard lock(mutex_);
  ++arrivals_;
  ++signature_failures_;
}

void CallbackTally::Malformed() {
  std::lock_guard lock(mutex_);
  ++arrivals_;
  ++malformed_;
}

int64_t CallbackTally::arrivals() const {
  std::lock_guard lock(mutex_);
  return arrivals_;
}

bool CallbackTally::HasCallback(const std::string& alert_id) const {
  std::lock_guard lock(mutex_);
  const auto found = alerts_.find(alert_id);
  return found != alerts_.end() && !found->second.changes.empty();
}

CallbackSummary CallbackTally::Summarize(absl::Time window_start, absl::Time window_end) const {
  std::lock_guard lock(mutex_);
  CallbackSummary summary{.window = absl::ToChronoNanoseconds(window_end - window_start),
                          .signature_failures = signature_failures_,
                          .malformed = malformed_};
  LatencyRecorder delays;
  absl::Time last_received = absl::InfinitePast();
  for (const auto& [id, alert] : alerts_) {
    if (!alert.sent) {
      summary.other_changes += static_cast<int64_t>(alert.changes.size()) + alert.repeated;
      continue;
    }
    ++summary.alerts;
    if (alert.changes.empty()) {
      ++summary.without_callback;
      continue;
    }
    summary.changes += static_cast<int64_t>(alert.changes.size());
    summary.repeated += alert.repeated;
    summary.out_of_order += alert.out_of_order;
    // Sequences are distinct and at least 1, so there are `highest` of them only without a gap.
    if (static_cast<int64_t>(alert.changes.size()) != alert.highest) ++summary.alerts_with_gaps;
    for (const Change& change : alert.changes) {
      ++summary.statuses[change.status];
      delays.RecordSuccess(absl::ToChronoNanoseconds(change.delay));
      if (change.received_at >= window_start && change.received_at <= window_end) {
        ++summary.changes_in_window;
      }
      last_received = std::max(last_received, change.received_at);
      if (change.sequence == alert.highest) {
        ++summary.last_statuses[change.status];
        ++(change.status == kDeliveredStatus ? summary.last_delivered : summary.last_not_delivered);
      }
    }
  }
  summary.delay = delays.Summarize();
  if (last_received > window_end) {
    summary.last_after_window = absl::ToChronoNanoseconds(last_received - window_end);
  }
  return summary;
}

void RecordCallbackRequest(const http::Request& request, std::string_view secret,
                           absl::Time received_at, CallbackTally& tally) {
  if (request.method != "POST") {
    tally.Malformed();
    return;
  }
  const absl::Status verified = caller_callbacks::Verify(
      secret, request.Header(caller_callbacks::kTimestampHeader).value_or(""),
      request.Header(caller_callbacks::kSignatureHeader).value_or(""), request.body, received_at);
  if (!verified.ok()) {
    tally.SignatureFailed();
    return;
  }
  const absl::StatusOr<CallerCallback> callback = ParseCallerCallback(request.body);
  if (!callback.ok() || request.Header(caller_callbacks::kEventIdHeader) !=
                            absl::StrCat(callback->alert_id, "/", callback->sequence)) {
    tally.Malformed();
    return;
  }
  tally.Received(*callback, received_at);
}

}  // namespace klaxon::bench
