#pragma once
// The sandbox's record of what Klaxon asked Twilio to do: every accepted create request, and
// separately every rejected one (auth, validation, injected fault), and every request, reads too,
// refused past the account's concurrency limit (a read's entry has no `to`). Tests read it through
// the admin endpoint to assert "exactly one SMS went to this number".

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tools/twilio-sandbox/fault_rules.h"

namespace klaxon::sandbox {

struct LedgerEntry {
  std::string sid;
  std::string account;  // the SID of the account it was created on
  ResourceKind kind = ResourceKind::kMessage;
  std::string to;
  std::string from;
  std::string body;   // messages
  std::string twiml;  // calls
  std::string url;    // calls created with Url
  std::string status_callback;
  absl::Time received_at;
  std::vector<std::pair<std::string, std::string>> params;  // every form field, in order
};

struct RejectedEntry {
  std::string
      account;  // the SID of the account it was made on; empty when it authenticated as none
  ResourceKind kind = ResourceKind::kMessage;
  std::string to;
  int http_status = 0;
  int code = 0;
  // auth, malformed (a body that is not a valid form), validation, fault or concurrency
  std::string reason;
  absl::Time received_at;
  std::vector<std::pair<std::string, std::string>> params;
};

// How one sender's messages arrived (the pool's number for a Messaging Service's): how many in
// the interval asked about, and the most that arrived in any window of the length asked about
// (a sender held to N per second has at most N in every window of 1 s).
struct SenderPacing {
  std::string from;
  int messages = 0;
  int busiest = 0;
  absl::Time busiest_at;  // where the first fullest window starts
  friend bool operator==(const SenderPacing&, const SenderPacing&) = default;
};

// Each sender's pacing over the messages of `entries` that arrived in [since, until), windows
// half-open [t, t + window), sorted by sender.
std::vector<SenderPacing> PacingBySender(const std::vector<LedgerEntry>& entries,
                                         absl::Duration window, absl::Time since, absl::Time until);

nlohmann::json LedgerEntryToJson(const LedgerEntry& entry);
nlohmann::json SenderPacingToJson(const SenderPacing& pacing);
nlohmann::json RejectedEntryToJson(const RejectedEntry& entry);

// Thread-safe.
class Ledger {
 public:
  void RecordAccepted(LedgerEntry entry);
  void RecordRejected(RejectedEntry entry);
  // Entries in arrival order; all of them when `to` is empty.
  std::vector<LedgerEntry> Accepted(std::string_view to = "") const;
  std::vector<RejectedEntry> Rejected(std::string_view to = "") const;
  void Clear();

 private:
  mutable std::mutex mutex_;
  std::vector<LedgerEntry> accepted_;
  std::vector<RejectedEntry> rejected_;
};

}  // namespace klaxon::sandbox
