#pragma once
// The DLQ's use cases, behind the DeadLetters RPCs (docs/adr/0008-audit-records.md, "The DLQ is
// a table, and a replay is a new alert"): list a caller's dead letters, show one with its
// recipient and text opened, and replay one as a new alert. Every call is scoped to the caller:
// another caller's dead letter is NOT_FOUND, exactly like one that does not exist. A requester
// holding the operator role (docs/adr/0012) may list, show and replay every caller's, and replay
// in bulk by cause and time range; each replay records who asked in the dead letter's audit trail.
//
// A replay publishes the request again as a NEW alert: a new UUIDv7, attempt 1, the same caller,
// channel, recipient, text, metadata and voice policy, idempotency key "replay:<old id>",
// accepted now and with the original time to live (old deadline - old accepted_at). The new id
// is claimed in the store (a conditional update) before anything is published, so repeated or
// concurrent replays all answer with the same id. The request is published whenever it may
// still be sent, i.e. by the first replay and by any later one before the new alert's deadline,
// always with the same id, attempt and deadline: a crash between claim and publish is closed by
// replaying again, and a copy the first publish already delivered sends nothing twice because
// the workers claim each (alert, attempt) once (docs/adr/0004). After the deadline a worker
// could only dead-letter the copy, so a late replay just answers with the id.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/ids/id_generator.h"
#include "common/log/log.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/audit/dead_letters/dead_letter_metrics.h"
#include "services/audit/dead_letters/dead_letters.h"
#include "services/audit/dead_letters/stored_dead_letter.h"
#include "services/audit/personal_data.h"
#include "services/audit/query/page_token.h"
#include "services/audit/topics.h"

namespace klaxon::audit {

struct DeadLetterQueueOptions {
  Topics topics{};  // where a replay is published: its channel's request topic
  absl::Duration publish_timeout = absl::Seconds(5);
};

// Who asks: the authenticated caller, and whether it holds the operator role.
struct Requester {
  std::string caller{};
  bool is_operator = false;
};

// Which dead letters a List or a bulk replay walks through, one page at a time.
struct DeadLetterSelection {
  bool include_replayed = false;  // List only; a bulk replay takes the pending ones
  bool all_callers = false;       // every caller's, not only the requester's: operators only
  std::string caller{};           // with all_callers: only this caller's ("" every caller)
  DeadLetterFilter filter{};
  int page_size = 0;  // 1 to 500; 0 means 50
  std::string page_token{};
};

struct DeadLetterPage {
  std::vector<DeadLetterSummary> dead_letters{};
  std::string next_page_token{};  // empty on the last page
};

struct DeadLetterDetail {
  DeadLetterSummary summary{};
  // Opened from the sealed request; empty, with shredded set, once retention destroyed its key.
  std::string recipient{};
  std::string text{};
  bool shredded = false;
};

struct ReplayResult {
  std::string alert_id{};         // the new alert
  bool already_replayed = false;  // an earlier replay claimed it
};

// One dead letter of a bulk replay: its new alert, or why it was not replayed.
struct BulkReplayItem {
  std::string dead_letter_id{};
  std::string caller{};
  absl::StatusOr<ReplayResult> result = absl::UnknownError("not replayed");
};

struct BulkReplayPage {
  std::vector<BulkReplayItem> replayed{};
  std::string next_page_token{};  // empty once every match was handled
};

// The AlertRequested a replay publishes for `request` (see the header comment); `new_alert_id`
// and `accepted_at` come from the replay's claim. Its recipient and text are not set: the queue
// seals them for the new alert id (ADR 0013).
events::v1::AlertRequested ReplayRequest(const events::v1::AlertRequested& request,
                                         absl::string_view new_alert_id, absl::Time accepted_at);

class DeadLetterQueue {
 public:
  // All borrowed; they must outlive the queue. `alert_ids` mints the replays' alert ids.
  // `transit` seals a replay's recipient and text under KLAXON_TRANSIT_KEYRING.
  DeadLetterQueue(DeadLetterQueueOptions options, DeadLetterStore& store,
                  PersonalData& personal_data, messaging::Publisher& publisher,
                  DeadLetterMetrics& metrics, timing::Clock& clock, ids::IdGenerator& alert_ids,
                  const log::Logger& logger, transit::TransitCipher& transit);

  // kInvalidArgument for a page size outside 0 to 500 (0 means 50) or a token this queue did not
  // hand out; kPermissionDenied for all_callers without the operator role. A page of other
  // callers' dead letters (an operator's) is logged: dead_letters_listed, with listed_by and the
  // selection.
  absl::StatusOr<DeadLetterPage> List(const Requester& requester,
                                      const DeadLetterSelection& selection);

  // kInvalidArgument for an id that is not a canonical UUID; kNotFound for another caller's
  // (unless the requester is an operator).
  absl::StatusOr<DeadLetterDetail> Get(const Requester& requester, absl::string_view alert_id);

  // kNotFound like Get; kFailedPrecondition when the request was shredded (nothing left to
  // send); kUnavailable when the store or Kafka failed (replaying again is safe and answers
  // with the same id).
  absl::StatusOr<ReplayResult> Replay(const Requester& requester, absl::string_view alert_id);

  // Operators only (kPermissionDenied otherwise): replays one page of the pending dead letters of
  // every caller (or selection.caller's) that match selection.filter, each like Replay; one that
  // fails is reported in its item and the page goes on. kInvalidArgument for a filter with neither
  // a cause nor a whole time range (from and before): a bulk replay is never unbounded.
  absl::StatusOr<BulkReplayPage> ReplayMatching(const Requester& requester,
                                                DeadLetterSelection selection);

  // Reads the DLQ's depth into klaxon_audit_dead_letters_pending.
  absl::Status RefreshPending();

 private:
  // The caller whose dead letter the requester may act on: its own, or for an operator the
  // dead letter's owner. kInvalidArgument for a malformed id, kNotFound when there is none.
  absl::StatusOr<std::string> Owner(const Requester& requester, absl::string_view alert_id);
  absl::StatusOr<StoredDeadLetter> Find(const Requester& requester, absl::string_view alert_id);
  absl::StatusOr<ReplayResult> ReplayOwned(absl::string_view owner, absl::string_view alert_id,
                                           absl::string_view replayed_by);
  // The page of `selection` the store holds, one row beyond to know whether another follows;
  // its token is bound to `rpc`, the requester and the selection's filters.
  absl::StatusOr<DeadLetterPage> Page(absl::string_view rpc, const Requester& requester,
                                      const DeadLetterSelection& selection);
  // Records an operator's page of other callers' dead letters (`listed` of them).
  void LogListing(const Requester& requester, const DeadLetterSelection& selection, size_t listed);
  // The sealed request, opened; kFailedPrecondition once shredded.
  absl::StatusOr<OpenedDeadLetterRequest> OpenRequest(const StoredDeadLetter& stored);

  const DeadLetterQueueOptions options_;
  DeadLetterStore& store_;
  PersonalData& personal_data_;
  messaging::Publisher& publisher_;
  DeadLetterMetrics& metrics_;
  timing::Clock& clock_;
  ids::IdGenerator& alert_ids_;
  const log::Logger& logger_;
  transit::TransitCipher& transit_;
};

}  // namespace klaxon::audit
