#pragma once
// The port between audit's DLQ logic and its database (docs/adr/0008-audit-records.md, "The DLQ
// is a table, and a replay is a new alert"): one row per dead-lettered alert, the whole request
// sealed, plus the new alert's id once it was replayed. PostgresDeadLetterStore is the adapter;
// tests use FakeDeadLetterStore (services/audit/testing). Every method is safe to call from
// several threads.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto/key_wrapper.h"
#include "services/audit/alert.h"

namespace klaxon::audit {

// PersonalData's naming of a dead letter's sealed request: the data_keys owner is
// "dead_letters/<alert id>".
inline constexpr char kDeadLettersTable[] = "dead_letters";
inline constexpr char kRequestColumn[] = "request_ciphertext";

// What may be shown of a dead letter without opening its request.
struct DeadLetterSummary {
  std::string alert_id{};
  std::string caller{};
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  uint32_t attempt = 0;  // the attempt that was dead-lettered
  std::string reason{};
  int32_t twilio_error_code = 0;
  std::string recipient_country_code{};
  std::string recipient_last4{};
  absl::Time dead_lettered_at = absl::InfinitePast();
  // The new alert once replayed, when the replay claimed it and who asked for it (the caller,
  // or an operator acting on the caller's dead letter).
  std::optional<std::string> replayed_as{};
  std::optional<absl::Time> replayed_at{};
  // Why the worker gave up, "deadline" or "max_attempts"; "" for dead letters from before it was
  // recorded.
  std::string cause{};
  std::optional<std::string> replayed_by{};

  friend bool operator==(const DeadLetterSummary&, const DeadLetterSummary&) = default;
};

// A dead letter as the handler stores it: the summary (never replayed yet), the recipient's
// blind index and the request sealed by PersonalData.
struct NewDeadLetter {
  DeadLetterSummary summary{};
  std::string recipient_index{};
  std::string request_ciphertext{};
  crypto::WrappedKey wrapped_key{};  // the data_keys row, owner "dead_letters/<alert id>"
};

// A dead letter as read back for GetDeadLetter and a replay.
struct StoredDeadLetter {
  DeadLetterSummary summary{};
  std::string request_ciphertext{};
  // nullopt once retention deleted the data key (crypto-shredding): the request is gone.
  std::optional<crypto::WrappedKey> wrapped_key{};
};

// Where a page of ListDeadLetters ended: the last row's sort key (newest first).
struct DeadLetterCursor {
  absl::Time dead_lettered_at = absl::InfinitePast();
  std::string alert_id{};

  friend bool operator==(const DeadLetterCursor&, const DeadLetterCursor&) = default;
};

// Which dead letters; every field set must match.
struct DeadLetterFilter {
  std::string cause{};                 // "" any
  int32_t twilio_error_code = 0;       // 0 any
  std::optional<absl::Time> from{};    // dead_lettered_at at or after
  std::optional<absl::Time> before{};  // dead_lettered_at before

  friend bool operator==(const DeadLetterFilter&, const DeadLetterFilter&) = default;
};

struct DeadLetterQuery {
  std::string caller{};
  bool all_callers = false;  // every caller's (an operator's query), not only `caller`'s
  bool include_replayed = false;
  DeadLetterFilter filter{};
  std::optional<DeadLetterCursor> after{};  // rows strictly after it in the order
  int limit = 50;
};

// Who a dead letter was replayed as, after a claim.
struct ReplayClaim {
  std::string replayed_as{};
  absl::Time replayed_at = absl::InfinitePast();
  bool claimed = false;  // this call set it; false when an earlier replay had
};

class DeadLetterStore {
 public:
  virtual ~DeadLetterStore() = default;

  // Stores the dead letter and its data key in one transaction, unless a row for the alert
  // exists (then nothing changes and it returns false). kUnavailable when the database is
  // unreachable (retry); kInvalidArgument when it refused a value.
  virtual absl::StatusOr<bool> Add(const NewDeadLetter& letter) = 0;

  // The caller's dead letters, newest first (dead_lettered_at, then alert_id, descending), not
  // yet replayed unless query.include_replayed.
  virtual absl::StatusOr<std::vector<DeadLetterSummary>> List(const DeadLetterQuery& query) = 0;

  // The dead letter if it exists AND belongs to `caller`; nullopt otherwise. `alert_id` must be a
  // canonical UUID.
  virtual absl::StatusOr<std::optional<StoredDeadLetter>> Get(absl::string_view caller,
                                                              absl::string_view alert_id) = 0;

  // Whose dead letter `alert_id` (a canonical UUID) is; nullopt when there is none. For an
  // operator, who may act on any caller's.
  virtual absl::StatusOr<std::optional<std::string>> FindOwner(absl::string_view alert_id) = 0;

  // Records `new_alert_id`, `now` and `replayed_by` as the replay of the caller's dead letter
  // unless one is recorded already (a conditional update, so of concurrent claims exactly one
  // wins and all return its id), and with the claim, in the same transaction, the event
  // "dead_letter_replayed" in the dead letter's audit trail (who, when, the new alert).
  // kNotFound when the caller has no such dead letter.
  virtual absl::StatusOr<ReplayClaim> ClaimReplay(absl::string_view caller,
                                                  absl::string_view alert_id,
                                                  absl::string_view new_alert_id, absl::Time now,
                                                  absl::string_view replayed_by) = 0;

  // Dead letters of every caller not replayed yet: the DLQ's depth.
  virtual absl::StatusOr<int64_t> CountPending() = 0;
};

}  // namespace klaxon::audit
