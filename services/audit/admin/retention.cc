#include "services/audit/admin/retention.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace klaxon::audit {
namespace {

constexpr absl::string_view kPartitionPrefix = "audit_events_";

absl::Time MonthStart(absl::CivilMonth month) {
  return absl::FromCivil(month, absl::UTCTimeZone());
}

// RFC 3339 in UTC with a "Z", as operators and log queries expect.
std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

// Runs `batch` until it deletes fewer than `limit` rows, so each transaction stays short. Adds
// what it deleted to `total`, also the batches before a failure.
absl::Status DeleteInBatches(int64_t limit, int64_t& total,
                             absl::FunctionRef<absl::StatusOr<int64_t>(int64_t)> batch) {
  while (true) {
    absl::StatusOr<int64_t> deleted = batch(limit);
    if (!deleted.ok()) return deleted.status();
    total += *deleted;
    if (*deleted < limit) return absl::OkStatus();
  }
}

}  // namespace

RetentionCutoffs ComputeCutoffs(const RetentionPolicy& policy, absl::Time now) {
  return {.operational = now - policy.operational, .compliance = now - policy.compliance};
}

absl::StatusOr<absl::CivilMonth> PartitionMonth(absl::string_view partition_name) {
  absl::string_view rest = partition_name;
  int year = 0;
  int month = 0;
  // audit_events_YYYY_MM exactly: four digits, underscore, two digits.
  if (!absl::ConsumePrefix(&rest, kPartitionPrefix) || rest.size() != 7 || rest[4] != '_' ||
      !std::all_of(rest.begin(), rest.begin() + 4, absl::ascii_isdigit) ||
      !std::all_of(rest.begin() + 5, rest.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(rest.substr(0, 4), &year) || !absl::SimpleAtoi(rest.substr(5), &month) ||
      month < 1 || month > 12) {
    return absl::InvalidArgumentError(
        absl::StrCat(partition_name, " is not a monthly partition (audit_events_YYYY_MM)"));
  }
  return absl::CivilMonth(year, month);
}

std::string PartitionName(absl::CivilMonth month) {
  return absl::StrFormat("%s%04d_%02d", kPartitionPrefix, month.year(), month.month());
}

std::vector<std::string> ExpiredPartitions(const std::vector<std::string>& partitions,
                                           absl::Time cutoff) {
  std::vector<std::pair<absl::CivilMonth, std::string>> expired;
  for (const std::string& name : partitions) {
    absl::StatusOr<absl::CivilMonth> month = PartitionMonth(name);
    if (!month.ok()) continue;  // the default partition: only its old rows go
    if (MonthStart(*month + 1) <= cutoff) expired.emplace_back(*month, name);
  }
  std::sort(expired.begin(), expired.end());
  std::vector<std::string> names;
  for (auto& [month, name] : expired) names.push_back(std::move(name));
  return names;
}

nlohmann::json RetentionReport::ToJson() const {
  return {{"dry_run", dry_run},
          {"now", Rfc3339(now)},
          {"operational_cutoff", Rfc3339(cutoffs.operational)},
          {"compliance_cutoff", Rfc3339(cutoffs.compliance)},
          {"partitions_dropped", partitions_dropped},
          {"events_removed", events_removed},
          {"partitions_busy", partitions_busy},
          {"partitions_created", partitions_created},
          {"dead_letters_deleted", dead_letters_deleted},
          {"caller_callbacks_deleted", caller_callbacks_deleted},
          {"data_keys_shredded", data_keys_shredded},
          {"alerts_deleted", alerts_deleted},
          {"errors", errors}};
}

RetentionReport RunRetention(RetentionStore& store, const RetentionPolicy& policy, absl::Time now,
                             const RetentionOptions& options) {
  RetentionReport report{
      .dry_run = options.dry_run, .now = now, .cutoffs = ComputeCutoffs(policy, now)};
  auto fail = [&report](absl::string_view step, const absl::Status& status) {
    report.errors.push_back(absl::StrCat(step, ": ", status.ToString()));
  };

  absl::StatusOr<std::vector<std::string>> partitions = store.ListEventPartitions();
  if (!partitions.ok()) {
    fail("list partitions", partitions.status());
  } else {
    for (const std::string& name : ExpiredPartitions(*partitions, report.cutoffs.operational)) {
      absl::StatusOr<int64_t> events =
          options.dry_run ? store.CountPartitionEvents(name) : store.DropEventPartition(name);
      if (events.ok()) {
        report.partitions_dropped.push_back(name);
        report.events_removed += *events;
      } else if (events.status().code() == absl::StatusCode::kAborted) {
        report.partitions_busy.push_back(name);
      } else if (events.status().code() != absl::StatusCode::kNotFound) {
        // kNotFound: a run at the same time dropped it, and reports it.
        fail(absl::StrCat("drop ", name), events.status());
      }
    }
    // Created ahead, so events land in a monthly partition rather than the default one.
    const std::set<std::string> existing(partitions->begin(), partitions->end());
    const absl::CivilMonth current = absl::ToCivilMonth(now, absl::UTCTimeZone());
    for (int ahead = 0; ahead <= options.months_ahead; ++ahead) {
      const std::string name = PartitionName(current + ahead);
      if (existing.contains(name)) continue;
      const absl::Status created =
          options.dry_run ? absl::OkStatus() : store.EnsureEventPartition(current + ahead);
      if (created.ok()) {
        report.partitions_created.push_back(name);
      } else if (created.code() == absl::StatusCode::kAborted) {
        report.partitions_busy.push_back(name);
      } else {
        fail(absl::StrCat("create ", name), created);
      }
    }
  }

  const struct {
    ExpiringRecords records;
    absl::Time cutoff;
    int64_t& removed;
    absl::string_view name;
  } steps[] = {
      {ExpiringRecords::kDefaultPartitionEvents, report.cutoffs.operational, report.events_removed,
       "delete default-partition events"},
      {ExpiringRecords::kDeadLetters, report.cutoffs.operational, report.dead_letters_deleted,
       "delete dead letters"},
      {ExpiringRecords::kCallerCallbacks, report.cutoffs.operational,
       report.caller_callbacks_deleted, "delete caller callbacks"},
      {ExpiringRecords::kDataKeys, report.cutoffs.operational, report.data_keys_shredded,
       "shred data keys"},
      {ExpiringRecords::kAlerts, report.cutoffs.compliance, report.alerts_deleted, "delete alerts"},
  };
  for (const auto& step : steps) {
    absl::Status status;
    if (options.dry_run) {
      absl::StatusOr<int64_t> count = store.CountExpired(step.records, step.cutoff);
      if (count.ok()) step.removed += *count;
      status = count.status();
    } else {
      status = DeleteInBatches(options.batch_size, step.removed, [&](int64_t limit) {
        return store.DeleteExpired(step.records, step.cutoff, limit);
      });
    }
    if (!status.ok()) fail(step.name, status);
  }
  return report;
}

}  // namespace klaxon::audit
