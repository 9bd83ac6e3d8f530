#include "tools/twilio-sandbox/ledger.h"

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

nlohmann::json LedgerEntryToJson(const LedgerEntry& entry) {
  return {{"sid", entry.sid},
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
  return {{"kind", KindName(entry.kind)},
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
