#include "services/audit/admin/retention.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::audit::retention_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::Time At(absl::string_view rfc3339) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) << error;
  return time;
}

// Rows by kind, each with the time it expires by; partitions by name with their event counts.
class FakeRetentionStore final : public RetentionStore {
 public:
  absl::StatusOr<std::vector<std::string>> ListEventPartitions() override {
    std::vector<std::string> names;
    for (const auto& [name, events] : partitions) names.push_back(name);
    return names;
  }
  absl::StatusOr<int64_t> DropEventPartition(absl::string_view name) override {
    if (busy.contains(std::string(name))) return absl::AbortedError("locked");
    auto found = partitions.find(std::string(name));
    if (found == partitions.end()) return absl::NotFoundError("gone");
    const int64_t events = found->second;
    partitions.erase(found);
    return events;
  }
  absl::Status EnsureEventPartition(absl::CivilMonth month) override {
    ensured.push_back(month);
    partitions.emplace(PartitionName(month), 0);
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> CountPartitionEvents(absl::string_view name) override {
    return partitions.at(std::string(name));
  }
  absl::StatusOr<int64_t> DeleteExpired(ExpiringRecords records, absl::Time cutoff,
                                        int64_t limit) override {
    ++delete_calls;
    if (failing == records) return absl::UnavailableError("connection lost");
    std::vector<absl::Time>& times = rows[records];
    int64_t deleted = 0;
    for (auto it = times.begin(); it != times.end() && deleted < limit;) {
      if (*it < cutoff) {
        it = times.erase(it);
        ++deleted;
      } else {
        ++it;
      }
    }
    return deleted;
  }
  absl::StatusOr<int64_t> CountExpired(ExpiringRecords records, absl::Time cutoff) override {
    int64_t count = 0;
    for (absl::Time time : rows[records]) count += time < cutoff ? 1 : 0;
    return count;
  }

  std::map<std::string, int64_t> partitions;
  std::set<std::string> busy;
  std::map<ExpiringRecords, std::vector<absl::Time>> rows;
  std::optional<ExpiringRecords> failing;
  std::vector<absl::CivilMonth> ensured;
  int delete_calls = 0;
};

const RetentionPolicy kPolicy{.operational = absl::Hours(24 * 90),
                              .compliance = absl::Hours(24 * 2557)};

TEST(RetentionCutoffsTest, SubtractsEachRetentionFromNow) {
  const RetentionCutoffs cutoffs = ComputeCutoffs(kPolicy, At("2026-11-21T08:00:00Z"));
  EXPECT_EQ(cutoffs.operational, At("2026-08-23T08:00:00Z"));
  EXPECT_EQ(cutoffs.compliance, At("2019-11-21T08:00:00Z"));
}

TEST(PartitionMonthTest, ParsesMonthlyPartitionNames) {
  absl::StatusOr<absl::CivilMonth> month = PartitionMonth("audit_events_2026_07");
  ASSERT_TRUE(month.ok()) << month.status();
  EXPECT_EQ(*month, absl::CivilMonth(2026, 7));
  EXPECT_EQ(PartitionName(absl::CivilMonth(2026, 7)), "audit_events_2026_07");
}

TEST(PartitionMonthTest, RefusesOtherNames) {
  for (const char* name : {"audit_events_default", "audit_events_2026_13", "audit_events_2026_7",
                           "audit_events_+026_07", "audit_events_2026_07x", "events_2026_07"}) {
    EXPECT_EQ(PartitionMonth(name).status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST(ExpiredPartitionsTest, SelectsMonthsThatEndedAtOrBeforeTheCutoffOldestFirst) {
  const std::vector<std::string> partitions = {"audit_events_2026_08", "audit_events_default",
                                               "audit_events_2026_07", "audit_events_2026_06",
                                               "audit_events_2026_09"};
  // July ends at 2026-08-01T00:00Z exactly; August has not ended by the cutoff.
  EXPECT_THAT(ExpiredPartitions(partitions, At("2026-08-01T00:00:00Z")),
              ElementsAre("audit_events_2026_06", "audit_events_2026_07"));
  EXPECT_THAT(ExpiredPartitions(partitions, At("2026-07-31T23:59:59Z")),
              ElementsAre("audit_events_2026_06"));
}

class RunRetentionTest : public ::testing::Test {
 protected:
  RunRetentionTest() {
    for (const char* name : {"audit_events_2026_06", "audit_events_2026_07", "audit_events_2026_08",
                             "audit_events_2026_09", "audit_events_2026_10", "audit_events_2026_11",
                             "audit_events_default"}) {
      store_.partitions[name] = 10;
    }
  }

  // Operational cutoff 2026-08-23T08:00Z: June and July have ended before it.
  const absl::Time now_ = At("2026-11-21T08:00:00Z");
  FakeRetentionStore store_;
};

TEST_F(RunRetentionTest, DropsExpiredPartitionsAndCountsTheirEvents) {
  const RetentionReport report = RunRetention(store_, kPolicy, now_);
  EXPECT_TRUE(report.ok()) << report.ToJson();
  EXPECT_THAT(report.partitions_dropped,
              ElementsAre("audit_events_2026_06", "audit_events_2026_07"));
  EXPECT_EQ(report.events_removed, 20);
  EXPECT_FALSE(store_.partitions.contains("audit_events_2026_07"));
  EXPECT_TRUE(store_.partitions.contains("audit_events_2026_08"));
  EXPECT_TRUE(store_.partitions.contains("audit_events_default"));
}

TEST_F(RunRetentionTest, CreatesTheCurrentAndNextTwoMonthsWhenMissing) {
  const RetentionReport report = RunRetention(store_, kPolicy, now_);
  EXPECT_THAT(report.partitions_created,
              ElementsAre("audit_events_2026_12", "audit_events_2027_01"));
  EXPECT_THAT(store_.ensured, ElementsAre(absl::CivilMonth(2026, 12), absl::CivilMonth(2027, 1)));
}

TEST_F(RunRetentionTest, LeavesABusyPartitionForTheNextRun) {
  store_.busy.insert("audit_events_2026_06");
  const RetentionReport report = RunRetention(store_, kPolicy, now_);
  EXPECT_TRUE(report.ok()) << report.ToJson();
  EXPECT_THAT(report.partitions_busy, ElementsAre("audit_events_2026_06"));
  EXPECT_THAT(report.partitions_dropped, ElementsAre("audit_events_2026_07"));
  EXPECT_TRUE(store_.partitions.contains("audit_events_2026_06"));
}

TEST_F(RunRetentionTest, DeletesRowsOlderThanEachClassCutoffInBatches) {
  const absl::Time old_operational = At("2026-08-01T00:00:00Z");
  const absl::Time recent = At("2026-11-01T00:00:00Z");
  store_.rows[ExpiringRecords::kDefaultPartitionEvents] = {old_operational, recent};
  store_.rows[ExpiringRecords::kDeadLetters] = {old_operational, old_operational, recent};
  store_.rows[ExpiringRecords::kCallerCallbacks] = {old_operational, recent};
  store_.rows[ExpiringRecords::kDataKeys] = {old_operational, old_operational, old_operational,
                                             recent};
  // Alerts older than 90 days but inside 7 years stay.
  store_.rows[ExpiringRecords::kAlerts] = {At("2019-01-01T00:00:00Z"), old_operational};

  const RetentionReport report = RunRetention(store_, kPolicy, now_, {.batch_size = 2});
  EXPECT_TRUE(report.ok()) << report.ToJson();
  EXPECT_EQ(report.events_removed, 20 + 1);
  EXPECT_EQ(report.dead_letters_deleted, 2);
  EXPECT_EQ(report.caller_callbacks_deleted, 1);
  EXPECT_EQ(report.data_keys_shredded, 3);
  EXPECT_EQ(report.alerts_deleted, 1);
  EXPECT_THAT(store_.rows[ExpiringRecords::kDataKeys], ElementsAre(recent));
  EXPECT_THAT(store_.rows[ExpiringRecords::kAlerts], ElementsAre(old_operational));
}

TEST_F(RunRetentionTest, AFailingStepIsReportedAndTheOthersStillRun) {
  store_.rows[ExpiringRecords::kDeadLetters] = {At("2026-01-01T00:00:00Z")};
  store_.rows[ExpiringRecords::kDataKeys] = {At("2026-01-01T00:00:00Z")};
  store_.failing = ExpiringRecords::kDeadLetters;
  const RetentionReport report = RunRetention(store_, kPolicy, now_);
  EXPECT_FALSE(report.ok());
  EXPECT_THAT(report.errors, ElementsAre(HasSubstr("delete dead letters")));
  EXPECT_EQ(report.data_keys_shredded, 1);
}

TEST_F(RunRetentionTest, DryRunCountsWithoutChangingAnything) {
  store_.rows[ExpiringRecords::kDataKeys] = {At("2026-01-01T00:00:00Z")};
  const RetentionReport report = RunRetention(store_, kPolicy, now_, {.dry_run = true});
  EXPECT_TRUE(report.dry_run);
  EXPECT_THAT(report.partitions_dropped,
              ElementsAre("audit_events_2026_06", "audit_events_2026_07"));
  EXPECT_EQ(report.events_removed, 20);
  EXPECT_EQ(report.data_keys_shredded, 1);
  EXPECT_THAT(report.partitions_created,
              ElementsAre("audit_events_2026_12", "audit_events_2027_01"));
  EXPECT_EQ(store_.partitions.size(), 7u);
  EXPECT_THAT(store_.ensured, IsEmpty());
  EXPECT_EQ(store_.delete_calls, 0);
  EXPECT_EQ(store_.rows[ExpiringRecords::kDataKeys].size(), 1u);
}

TEST_F(RunRetentionTest, ASecondRunRemovesNothing) {
  store_.rows[ExpiringRecords::kDataKeys] = {At("2026-01-01T00:00:00Z")};
  ASSERT_TRUE(RunRetention(store_, kPolicy, now_).ok());
  const RetentionReport again = RunRetention(store_, kPolicy, now_);
  EXPECT_TRUE(again.ok());
  EXPECT_THAT(again.partitions_dropped, IsEmpty());
  EXPECT_THAT(again.partitions_created, IsEmpty());
  EXPECT_EQ(again.events_removed, 0);
  EXPECT_EQ(again.data_keys_shredded, 0);
}

TEST_F(RunRetentionTest, ReportsAsJsonWithCutoffs) {
  const nlohmann::json json = RunRetention(store_, kPolicy, now_).ToJson();
  EXPECT_EQ(json["now"], "2026-11-21T08:00:00Z");
  EXPECT_EQ(json["operational_cutoff"], "2026-08-23T08:00:00Z");
  EXPECT_EQ(json["partitions_dropped"],
            nlohmann::json::array({"audit_events_2026_06", "audit_events_2026_07"}));
  EXPECT_EQ(json["events_removed"], 20);
}

}  // namespace
}  // namespace klaxon::audit::retention_test
