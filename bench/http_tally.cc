#include "bench/http_tally.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace klaxon::bench {

void HttpTally::Record(const HttpOutcome& outcome, bool replay) {
  if (outcome.index < first_measured_) {
    ++warmup_requests_;
    return;
  }
  ++requests_;
  first_due_ = first_due_ ? std::min(*first_due_, outcome.due) : outcome.due;
  last_done_ = std::max(last_done_, outcome.done);
  max_send_lag_ = std::max(max_send_lag_, std::chrono::nanoseconds(outcome.sent - outcome.due));
  const bool ok = outcome.status >= 200 && outcome.status <= 299;
  if (outcome.status != 0) ++statuses_[outcome.status];
  if (ok) {
    recorder_.RecordSuccess(outcome.done - outcome.due);
  } else if (outcome.status != 0) {
    recorder_.RecordError(absl::StrCat("HTTP ", outcome.status));
  } else {
    recorder_.RecordError(outcome.error);
  }
  if (replay) {
    ++replays_.sent;
    if (ok) ++replays_.acknowledged;
  }
}

LoadReport HttpTally::Complete(LoadReport report) const {
  report.requests = requests_;
  report.errors = recorder_.errors();
  report.latency = recorder_.Summarize();
  report.elapsed = first_due_ ? last_done_ - *first_due_ : std::chrono::nanoseconds::zero();
  report.max_send_lag = max_send_lag_;
  return report;
}

void AddHttpFields(const HttpTally& tally, nlohmann::json& json) {
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, count] : tally.statuses()) statuses[std::to_string(status)] = count;
  json["statuses"] = statuses;
  json["replays"] = {{"sent", tally.replays().sent},
                     {"acknowledged", tally.replays().acknowledged}};
  json["warmup_requests"] = tally.warmup_requests();
}

std::string HttpSummary(const HttpTally& tally) {
  const std::string statuses =
      absl::StrJoin(tally.statuses(), ", ", [](std::string* out, const auto& entry) {
        absl::StrAppend(out, entry.first, " ", entry.second);
      });
  return absl::StrFormat("  statuses %s\n  replays %d sent, %d acknowledged\n",
                         statuses.empty() ? "none" : statuses, tally.replays().sent,
                         tally.replays().acknowledged);
}

}  // namespace klaxon::bench
