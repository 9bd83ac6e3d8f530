#pragma once
// The in-memory half of AlertStore::Write (ADR 0008, group commit): given the stored records of
// the alerts a batch names and which of its event keys the log already holds, what the batch
// writes. Pure, so the rules (duplicates change nothing, several events of one alert fold in
// batch order, retry_count counts each new retry once, the first sealed fields win) are tested
// without a database; the Postgres adapter runs it between locking and loading the alerts and
// writing the rows back, in one transaction.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "services/audit/alert_store.h"
#include "services/audit/personal_data.h"

namespace klaxon::audit {

struct IngestPlan {
  // One per item; consent_changed is left for the store, which applies `consents`.
  std::vector<IngestResult> results{};
  // Every record the batch changed, by alert id, as it is to be written back.
  std::map<std::string, AlertRecord> alerts{};
  // The log rows to insert (new events only), in batch order, retry_count and the fields taken
  // from the alert filled in.
  std::vector<EventLogEntry> events{};
  // New data_keys rows: owner -> wrapped key.
  std::vector<std::pair<std::string, crypto::WrappedKey>> data_keys{};
  // Consent changes of new events, in batch order, with the index of their item.
  std::vector<std::pair<size_t, ConsentChange>> consents{};
  // The alerts whose status advanced, sorted (pg_notify).
  std::vector<std::string> advanced_alerts{};
  // What each alert's caller is to be told, in batch order (caller callbacks, ADR 0028): every
  // status an alert of a known caller moved to, and, for an alert whose request is consumed after
  // other events of it (its caller unknown until then), the status it holds when the caller
  // becomes known.
  std::vector<StatusChange> status_changes{};
};

// The ids of the alerts the batch's events name, sorted and unique: the order the store locks
// them in, so that two writers of overlapping batches cannot deadlock.
std::vector<std::string> AlertIdsOf(const std::vector<IngestItem>& batch);

// The event keys of the batch's log entries.
std::vector<std::string> EventKeysOf(const std::vector<IngestItem>& batch);

// `current` holds the stored record of every id AlertIdsOf names (absent or nullopt when not
// stored yet); `stored_event_keys` those of EventKeysOf the log already holds.
IngestPlan PlanIngest(const std::vector<IngestItem>& batch,
                      const std::map<std::string, std::optional<AlertRecord>>& current,
                      const std::set<std::string>& stored_event_keys);

}  // namespace klaxon::audit
