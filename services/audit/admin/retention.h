#pragma once
// Retention of audit's records by class (docs/adr/0008-audit-records.md, "Retention expires
// records by class"): operational records (audit_events, dead_letters) and the data keys of
// personal data live `operational`; compliance metadata (alerts, their attempts) lives
// `compliance`. RunRetention is what `klaxon-audit-admin retention` runs, daily, against the
// RetentionStore port; PostgresRetentionStore is its adapter.
//
// Every step is idempotent and runs in short transactions, so the job can run while audit
// ingests, twice at once, or again after a failure. A partition whose lock could not be had in
// time is left for the next run.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace klaxon::audit {

// Rows that expire one by one, each by its own timestamp column.
enum class ExpiringRecords {
  kDefaultPartitionEvents,  // audit_events_default by occurred_at
  kDeadLetters,             // dead_letters by dead_lettered_at
  kCallerCallbacks,  // caller_callbacks delivered or given up, by finished_at, but an alert's
                     // newest, which numbers its next change (ADR 0028)
  kDataKeys,  // data_keys by created_at: crypto-shredding, what they sealed can never be opened
  kAlerts,    // alerts by created_at; their attempts go with them
};

// Port: the retention job's view of audit's tables.
class RetentionStore {
 public:
  virtual ~RetentionStore() = default;

  // Names of audit_events' partitions, the default one included.
  virtual absl::StatusOr<std::vector<std::string>> ListEventPartitions() = 0;
  // Drops the partition `name` and returns how many events it held. kAborted when it could not
  // lock the table quickly (ingest holds it): the caller tries again on its next run.
  // kNotFound when it no longer exists (another run dropped it).
  virtual absl::StatusOr<int64_t> DropEventPartition(absl::string_view name) = 0;
  // Creates the monthly partition of `month` unless it exists (kAborted as above).
  virtual absl::Status EnsureEventPartition(absl::CivilMonth month) = 0;

  // The events a partition holds (what dropping it would remove).
  virtual absl::StatusOr<int64_t> CountPartitionEvents(absl::string_view name) = 0;

  // Deletes at most `limit` of `records` older than `cutoff` in one transaction and returns how
  // many it deleted; fewer than `limit` means none is left.
  virtual absl::StatusOr<int64_t> DeleteExpired(ExpiringRecords records, absl::Time cutoff,
                                                int64_t limit) = 0;
  // How many of `records` are older than `cutoff`.
  virtual absl::StatusOr<int64_t> CountExpired(ExpiringRecords records, absl::Time cutoff) = 0;
};

struct RetentionPolicy {
  absl::Duration operational = absl::Hours(24 * 90);
  absl::Duration compliance = absl::Hours(24 * 2557);  // 7 years
};

struct RetentionOptions {
  // Rows per delete transaction: short enough never to hold up ingest for long.
  int64_t batch_size = 1000;
  // Months after the current one whose partitions are created ahead.
  int months_ahead = 2;
  // Count what would be removed or created, change nothing.
  bool dry_run = false;
};

struct RetentionCutoffs {
  absl::Time operational;  // events, dead letters and data keys before it go
  absl::Time compliance;   // alerts created before it go
};

RetentionCutoffs ComputeCutoffs(const RetentionPolicy& policy, absl::Time now);

// The month a monthly partition's name ("audit_events_2026_11") stands for; kInvalidArgument for
// any other name (the default partition's among them).
absl::StatusOr<absl::CivilMonth> PartitionMonth(absl::string_view partition_name);

// The name of the monthly partition of `month` (as audit_events_ensure_partition names it).
std::string PartitionName(absl::CivilMonth month);

// The monthly partitions among `partitions` whose upper bound (the first instant of the next
// month, UTC) is at or before `cutoff`, oldest first.
std::vector<std::string> ExpiredPartitions(const std::vector<std::string>& partitions,
                                           absl::Time cutoff);

struct RetentionReport {
  bool dry_run = false;  // the counts are what a real run would remove
  absl::Time now;
  RetentionCutoffs cutoffs;
  std::vector<std::string> partitions_dropped;
  int64_t events_removed = 0;  // held by the dropped partitions, plus default-partition rows
  std::vector<std::string> partitions_busy;     // not locked in time; dropped or created next run
  std::vector<std::string> partitions_created;  // ahead of time
  int64_t dead_letters_deleted = 0;
  int64_t caller_callbacks_deleted = 0;  // finished ones; a pending one or an alert's newest stays
  int64_t data_keys_shredded = 0;
  int64_t alerts_deleted = 0;
  std::vector<std::string> errors;  // steps that failed; the others still ran

  bool ok() const { return errors.empty(); }
  // The report as the JSON object the job logs and prints.
  nlohmann::json ToJson() const;
};

// Runs every step of the retention job as of `now`. A failing step is recorded in the report's
// errors and the remaining steps still run (shredding keys must not wait for a partition).
RetentionReport RunRetention(RetentionStore& store, const RetentionPolicy& policy, absl::Time now,
                             const RetentionOptions& options = {});

}  // namespace klaxon::audit
