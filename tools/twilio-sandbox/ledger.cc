#include "tools/twilio-sandbox/ledger.h"

#include <algorithm>
#include <map>

namespace klaxon::sandbox {
namespace {

std::string Rfc3339Millis(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

const char* KindName(ResourceKind kind) {
  return kind == ResourceKind::kMessage ? "message" : "call";
}

nlohmann::json ParamsToJson(const std::vector<std::pair<std::string, std::string>>& params) {
  nlohmann::json json = nlohmann::json::array();
  for (const auto& [key, value] : params) json.push_back({key, value});
  return json;
}

template <typename Entry>
std::vector<Entry> Filter(const std::vector<Entry>& entries, std::string_view to) {
  if (to.empty()) return entries;
  std::vector<Entry> matching;
  for (const Entry& entry : entries) {
    if (entry.to == to) matching.push_back(entry);
  }
  return matching;
}

}  // namespace

std::vector<SenderPacing> PacingBySender(const std::vector<LedgerEntry>& entries,
                                         absl::Duration window, absl::Time since,
                                         absl::Time until) {
  std::map<std::string, std::vector<absl::Time>> arrivals;
  for (const LedgerEntry& entry : entries) {
    if (entry.kind == ResourceKind::kMessage && entry.received_at >= since &&
        entry.received_at < until) {
      arrivals[entry.from].push_back(entry.received_at);
    }
  }
  std::vector<SenderPacing> pacing;
  for (auto& [from, times] : arrivals) {
    std::sort(times.begin(), times.end());
    SenderPacing sender{.from = from, .messages = static_cast<int>(times.size())};
    // A fullest window can always be slid to start at an arrival, so only those are tried.
    size_t end = 0;
    for (size_t start = 0; start < times.size(); ++start) {
      while (end < times.size() && times[end] < times[start] + window) ++end;
      if (static_cast<int>(end - start) > sender.busiest) {
        sender.busiest = static_cast<int>(end - start);
        sender.busiest_at = times[start];
      }
    }
    pacing.push_back(std::move(sender));
  }
  return pacing;
}

nlohmann::json SenderPacingToJson(const SenderPacing& pacing) {
  return {{"from", pacing.from},
          {"messages", pacing.messages},
          {"busiest", pacing.busiest},
          {"busiest_at", Rfc3339Millis(pacing.busiest_at)}};
}

nlohmann::json LedgerEntryToJson(const LedgerEntry& entry) {
  return {{"sid", entry.sid},
          {"account", entry.account},
          {"kind", KindName(entry.kind)},
          {"to", entry.to},
          {"from", entry.from},
          {"body", entry.body},
          {"twiml", entry.twiml},
          {"url", entry.url},
          {"status_callback", entry.status_callback},
          {"received_at", Rfc3339Millis(entry.received_at)},
          {"params", ParamsToJson(entry.params)}};
}

nlohmann::json RejectedEntryToJson(const RejectedEntry& entry) {
  return {{"account", entry.account},
          {"kind", KindName(entry.kind)},
          {"to", entry.to},
          {"status", entry.http_status},
          {"code", entry.code},
          {"reason", entry.reason},
          {"received_at", Rfc3339Millis(entry.received_at)},
          {"params", ParamsToJson(entry.params)}};
}

void Ledger::RecordAccepted(LedgerEntry entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  accepted_.push_back(std::move(entry));
}

void Ledger::RecordRejected(RejectedEntry entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  rejected_.push_back(std::move(entry));
}

std::vector<LedgerEntry> Ledger::Accepted(std::string_view to) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return Filter(accepted_, to);
}

std::vector<RejectedEntry> Ledger::Rejected(std::string_view to) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return Filter(rejected_, to);
}

void Ledger::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  accepted_.clear();
  rejected_.clear();
}

}  // namespace klaxon::sandbox
