#pragma once
// GetAlert's logic, with read-your-writes (docs/adr/0002): a caller whose SendAlert just
// returned must find its alert, even if audit has not consumed the request yet. When the store
// does not have the alert, AlertReader asks Kafka how far the alert's partition of every request
// topic has been written, and polls the store until audit's recorded progress reaches that point
// (or the alert appears), within a bounded wait. Only a caught-up store can say NOT_FOUND.
//
// Only the request topics are waited for, not klaxon.delivery.events or klaxon.twilio.events:
// read-your-writes is a promise about the caller's own write (SendAlert), whose existence those
// topics cannot decide. What Twilio reports arrives asynchronously, at a time no caller has
// observed, so there is no earlier answer to stay consistent with; a caller that wants the final
// status polls (or watches) until it appears, and waiting on those watermarks would only slow
// every GetAlert by audit's lag on the busiest topic.
//
// An alert known only from an outcome (its request not consumed yet) is waited for the same way,
// so the answer carries the caller's own write; after the wait it is returned as it is.
//
// The alert's recipient and text are opened here (PersonalData, ADR 0008), the one place they
// are decrypted: an alert whose data key retention deleted answers with personal_data_shredded;
// one whose ciphertext or wrapped key does not open (altered, or copied from another row) fails
// with kDataLoss naming the alert and what did not open, never with wrong data.
//
// GetAlert of an escalation chain's id (ADR 0029) also lists the chain's pages, opening each
// page's recipient the same way. The pages are read as the store holds them once the chain's own
// alert is found: each page travels on its own partition, so one whose request audit has not
// consumed yet is missing from the list until it has.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/log/log.h"
#include "common/timing/clock.h"
#include "services/audit/alert.h"
#include "services/audit/alert_store.h"
#include "services/audit/audit_metrics.h"
#include "services/audit/personal_data.h"
#include "services/audit/query/offset_oracle.h"
#include "services/audit/topics.h"

namespace klaxon::audit {

struct AlertReaderOptions {
  Topics topics;
  // Longest time one GetAlert waits for audit to catch up; the RPC's own deadline can shorten it.
  absl::Duration max_wait = absl::Seconds(3);
  // Pause between two looks at the store while waiting.
  absl::Duration poll_interval = absl::Milliseconds(20);
};

// An alert as GetAlert answers it: the record, and its recipient and text opened.
struct AlertView {
  AlertRecord record;
  std::string recipient{};  // E.164; empty before the request is consumed or once shredded
  std::string text{};       // empty on a chain's page (see `pages`)
  // The alert's data key is gone (crypto-shredded by retention), or it never had sealed fields.
  bool personal_data_shredded = false;
  // An escalation chain's own alert (IsEscalationChain): every page of the chain, the first
  // included, in the order they are paged, each with its recipient opened but not its text (who
  // was paged, not what every page said again) and no pages of its own. Empty for any other
  // alert.
  std::vector<AlertView> pages{};
};

// Whether `record` stands for an escalation chain (ADR 0029): the chain's id is its first page's
// alert id, which SendAlert returned. The chain's other pages, and alerts of no chain, do not.
bool IsEscalationChain(const AlertRecord& record);

class AlertReader {
 public:
  // All borrowed; they must outlive the reader. Thread-safe if the ports are.
  AlertReader(AlertStore& store, OffsetOracle& oracle, PersonalData& personal_data,
              timing::Clock& clock, AuditMetrics& metrics, const log::Logger& logger,
              AlertReaderOptions options);

  // The caller's alert; for an escalation chain's id, with the chain's pages (see AlertView).
  //   kInvalidArgument  alert_id is not a canonical UUID (the message names the field)
  //   kNotFound         no such alert for this caller, and audit has consumed everything Kafka
  //                     had acknowledged for its partitions when the call began
  //   kUnavailable      the store or Kafka cannot be reached, or audit did not catch up in time
  //                     (retry may help)
  //   kDataLoss         its recipient or text, or a page's recipient, did not open (see above);
  //                     logged
  //   kInternal         the keyring lacks the key version the alert's data key is wrapped under
  // `deadline` is the caller's; the wait ends a little before it so the answer still arrives.
  absl::StatusOr<AlertView> GetAlert(std::string_view caller, std::string_view alert_id,
                                     absl::Time deadline);

  // The caller's alert as the store holds it now, nullopt when it does not exist or is another
  // caller's: one read, with no wait for read-your-writes and nothing opened (its sealed fields
  // stay sealed). For WatchAlert's re-reads, which follow a GetAlert that already waited.
  // `alert_id` must be a canonical UUID.
  //   kUnavailable  the store cannot be reached (retry may help)
  absl::StatusOr<std::optional<AlertRecord>> Stored(std::string_view caller,
                                                    std::string_view alert_id);

 private:
  struct Target {
    std::string topic{};
    int32_t partition = 0;
    int64_t high_watermark = 0;
  };

  absl::StatusOr<AlertRecord> WaitForAlert(std::string_view caller, std::string_view alert_id,
                                           absl::Time deadline);
  // Whether the store's progress reached every target's high watermark.
  absl::StatusOr<bool> CaughtUp(const std::vector<Target>& targets);
  // Which sealed fields Opened() decrypts.
  enum class Opening { kRecipientAndText, kRecipientOnly };
  // `record` with its personal fields opened.
  absl::StatusOr<AlertView> Opened(AlertRecord record, Opening opening);
  // The pages of the chain `chain` stands for, each opened for its recipient only.
  absl::StatusOr<std::vector<AlertView>> Pages(const AlertRecord& chain);

  AlertStore& store_;
  OffsetOracle& oracle_;
  PersonalData& personal_data_;
  timing::Clock& clock_;
  AuditMetrics& metrics_;
  const log::Logger& logger_;
  const AlertReaderOptions options_;
};

}  // namespace klaxon::audit
