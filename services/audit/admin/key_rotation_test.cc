#include "services/audit/admin/key_rotation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/timing/fake_clock.h"
#include "services/audit/personal_data.h"

namespace klaxon::audit::key_rotation_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

// data_keys in memory, in owner order, with hooks that let a test act "between" the rotation's
// read of a page and its write. The public members are for the test's own thread.
class FakeDataKeyStore final : public DataKeyStore {
 public:
  absl::StatusOr<std::vector<StoredDataKey>> KeysNotUnder(uint32_t version,
                                                          std::string_view after_owner,
                                                          size_t limit) override {
    std::lock_guard lock(mutex_);
    if (!fail_with.ok()) return fail_with;
    page_limits.push_back(limit);
    std::vector<StoredDataKey> page;
    for (auto row = rows.upper_bound(after_owner); row != rows.end() && page.size() < limit;
         ++row) {
      if (row->second.kek_version != version) page.push_back({row->first, row->second});
    }
    return page;
  }

  absl::StatusOr<size_t> ReplaceIfUnchanged(const std::vector<DataKeyUpdate>& updates) override {
    std::lock_guard lock(mutex_);
    if (before_replace) before_replace(*this);
    size_t written = 0;
    for (const DataKeyUpdate& update : updates) {
      auto row = rows.find(update.owner);
      if (row == rows.end() || row->second != update.expected) continue;
      row->second = update.replacement;
      ++written;
    }
    return written;
  }

  absl::StatusOr<std::map<uint32_t, int64_t>> CountByVersion() override {
    std::lock_guard lock(mutex_);
    if (!fail_with.ok()) return fail_with;
    clock.SleepFor(absl::Seconds(1));  // each count "takes" a second, so elapsed is visible
    std::map<uint32_t, int64_t> counts;
    for (const auto& [owner, wrapped] : rows) ++counts[wrapped.kek_version];
    return counts;
  }

  std::map<std::string, crypto::WrappedKey, std::less<>> rows;
  std::vector<size_t> page_limits;
  std::function<void(FakeDataKeyStore&)> before_replace;
  absl::Status fail_with;
  timing::FakeClock clock;

 private:
  std::mutex mutex_;  // rotation may call from several threads
};

crypto::LocalKeyring Keyring(uint32_t current, std::initializer_list<uint32_t> versions) {
  absl::StatusOr<crypto::LocalKeyring> keyring =
      crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(current, versions));
  EXPECT_TRUE(keyring.ok()) << keyring.status();
  return *std::move(keyring);
}

class KeyRotationTest : public ::testing::Test {
 protected:
  // Seals a record's text under `keyring` and stores its data key as audit would.
  void AddRecord(const std::string& id, crypto::LocalKeyring& keyring) {
    absl::StatusOr<SealedRecord> sealed =
        PersonalData(keyring).Seal("alerts", id, {{"text", "text of " + id}});
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    store_.rows[sealed->owner] = sealed->wrapped_key;
    ciphertext_[id] = sealed->ciphertext;
  }

  void AddRecords(int count, crypto::LocalKeyring& keyring) {
    for (int i = 0; i < count; ++i)
      AddRecord(absl::StrCat("a", 1000 + ciphertext_.size()), keyring);
  }

  // Whether every record opens with `keyring` to the text it was sealed with.
  void ExpectAllOpen(crypto::LocalKeyring& keyring) {
    PersonalData personal_data(keyring);
    for (const auto& [id, ciphertext] : ciphertext_) {
      absl::StatusOr<Fields> opened =
          personal_data.Open("alerts", id, store_.rows.at(DataKeyOwner("alerts", id)), ciphertext);
      ASSERT_TRUE(opened.ok()) << opened.status();
      EXPECT_EQ(opened->at("text"), "text of " + id);
    }
  }

  std::map<uint32_t, int64_t> Versions() { return *store_.CountByVersion(); }

  FakeDataKeyStore store_;
  std::map<std::string, Fields> ciphertext_;
  crypto::LocalKeyring v1_ = Keyring(1, {1});
  crypto::LocalKeyring v1_v2_ = Keyring(2, {1, 2});
  crypto::LocalKeyring v2_ = Keyring(2, {2});
};

TEST_F(KeyRotationTest, RewrapsEveryKeySoItOpensWithoutTheOldVersion) {
  AddRecords(7, v1_);

  absl::StatusOr<RotationReport> report = RotateDataKeys(store_, v1_v2_, store_.clock);

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->current_version, 2u);
  EXPECT_EQ(report->rewrapped, 7);
  EXPECT_EQ(report->already_current, 0);
  EXPECT_EQ(report->changed_concurrently, 0);
  EXPECT_THAT(report->remaining, IsEmpty());
  EXPECT_EQ(report->passes, 1);
  EXPECT_THAT(Versions(), ElementsAre(Pair(2u, 7)));
  ExpectAllOpen(v2_);
}

TEST_F(KeyRotationTest, ReadsAndWritesInPagesOfTheBatchSize) {
  AddRecords(5, v1_);

  ASSERT_TRUE(RotateDataKeys(store_, v1_v2_, store_.clock, {.batch_size = 2}).ok());

  // 2 + 2 + 1: a short page ends the pass.
  EXPECT_THAT(store_.page_limits, ElementsAre(2u, 2u, 2u));
  EXPECT_THAT(Versions(), ElementsAre(Pair(2u, 5)));
}

TEST_F(KeyRotationTest, KeysAlreadyUnderTheCurrentVersionAreCountedAndLeftAlone) {
  AddRecords(3, v1_);
  AddRecords(4, v1_v2_);
  const std::map<std::string, crypto::WrappedKey, std::less<>> before = store_.rows;

  absl::StatusOr<RotationReport> report = RotateDataKeys(store_, v1_v2_, store_.clock);

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rewrapped, 3);
  EXPECT_EQ(report->already_current, 4);
  for (const auto& [owner, wrapped] : before) {
    if (wrapped.kek_version == 2) {
      EXPECT_EQ(store_.rows.at(owner), wrapped) << owner;
    }
  }
}

TEST_F(KeyRotationTest, SecondRunFindsNothingToDo) {
  AddRecords(4, v1_);
  ASSERT_TRUE(RotateDataKeys(store_, v1_v2_, store_.clock).ok());
  const std::map<std::string, crypto::WrappedKey, std::less<>> after_first = store_.rows;

  absl::StatusOr<RotationReport> again = RotateDataKeys(store_, v1_v2_, store_.clock);

  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->rewrapped, 0);
  EXPECT_EQ(again->already_current, 4);
  EXPECT_EQ(again->passes, 0);
  EXPECT_EQ(store_.rows, after_first);
}

TEST_F(KeyRotationTest, RowChangedBetweenReadAndWriteIsNotOverwritten) {
  AddRecords(3, v1_);
  const std::string changed_owner = store_.rows.begin()->first;
  crypto::WrappedKey written_meanwhile;
  store_.before_replace = [&](FakeDataKeyStore& store) {
    if (!written_meanwhile.sealed.empty()) return;
    // Another writer (a second rotation, say) stores its own key for the row first.
    absl::StatusOr<crypto::NewDataKey> key = crypto::Envelope(v1_v2_).NewKey(changed_owner);
    ASSERT_TRUE(key.ok());
    written_meanwhile = key->wrapped;
    store.rows[changed_owner] = written_meanwhile;
  };

  absl::StatusOr<RotationReport> report = RotateDataKeys(store_, v1_v2_, store_.clock);

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rewrapped, 2);
  EXPECT_EQ(report->changed_concurrently, 1);
  EXPECT_EQ(store_.rows.at(changed_owner), written_meanwhile);
}

TEST_F(KeyRotationTest, RowWrittenUnderTheOldVersionDuringAPassIsRewrappedByTheNext) {
  AddRecords(3, v1_);
  bool inserted = false;
  store_.before_replace = [&](FakeDataKeyStore&) {
    if (inserted) return;
    inserted = true;
    // A replica still on the old keyring writes a key behind the pass's cursor.
    AddRecord("a0000", v1_);
  };

  absl::StatusOr<RotationReport> report = RotateDataKeys(store_, v1_v2_, store_.clock);

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->passes, 2);
  EXPECT_EQ(report->rewrapped, 4);
  ExpectAllOpen(v2_);
}

TEST_F(KeyRotationTest, FailsWhileKeysUnderAnOldVersionKeepAppearing) {
  AddRecords(2, v1_);
  int inserted = 0;
  store_.before_replace = [&](FakeDataKeyStore&) {
    AddRecord(absl::StrCat("a000", inserted++), v1_);
  };

  absl::StatusOr<RotationReport> report =
      RotateDataKeys(store_, v1_v2_, store_.clock, {.max_passes = 2});

  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(), HasSubstr("remain under key version(s) 1"));
}

TEST_F(KeyRotationTest, KeyUnderAVersionTheKeyringLacksFailsNamingTheVersion) {
  AddRecords(2, v1_);
  crypto::LocalKeyring v3 = Keyring(3, {3});
  AddRecord("a9999", v3);

  absl::StatusOr<RotationReport> report =
      RotateDataKeys(store_, v1_v2_, store_.clock, {.batch_size = 2});

  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(), HasSubstr("key version 3"));
  EXPECT_THAT(report.status().message(), HasSubstr("alerts/a9999"));
  // The page before the failing one was written back.
  EXPECT_THAT(Versions(), ElementsAre(Pair(2u, 2), Pair(3u, 1)));
}

TEST_F(KeyRotationTest, AlteredWrappedKeyIsDataLossNamingTheOwner) {
  AddRecords(2, v1_);
  std::string& sealed = store_.rows.begin()->second.sealed;
  sealed.back() = static_cast<char>(sealed.back() ^ 1);

  absl::StatusOr<RotationReport> report = RotateDataKeys(store_, v1_v2_, store_.clock);

  EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(report.status().message(), HasSubstr(store_.rows.begin()->first));
}

TEST_F(KeyRotationTest, RewrapsPagesOnSeveralThreads) {
  AddRecords(53, v1_);

  absl::StatusOr<RotationReport> report =
      RotateDataKeys(store_, v1_v2_, store_.clock, {.batch_size = 5, .threads = 4});

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rewrapped, 53);
  EXPECT_EQ(report->passes, 1);
  ExpectAllOpen(v2_);
}

TEST_F(KeyRotationTest, FailureOnOneThreadStopsTheRotationWithItsCode) {
  AddRecords(30, v1_);
  crypto::LocalKeyring v3 = Keyring(3, {3});
  AddRecord("a1012x", v3);

  absl::StatusOr<RotationReport> report =
      RotateDataKeys(store_, v1_v2_, store_.clock, {.batch_size = 3, .threads = 3});

  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(), HasSubstr("alerts/a1012x"));
}

TEST_F(KeyRotationTest, StoreFailureIsReturnedWithItsCode) {
  AddRecords(2, v1_);
  store_.fail_with = absl::UnavailableError("connection refused");

  absl::StatusOr<RotationReport> report = RotateDataKeys(store_, v1_v2_, store_.clock);

  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(KeyRotationTest, ReportsTheTimeTakenOnTheClock) {
  AddRecords(2, v1_);

  absl::StatusOr<RotationReport> report = RotateDataKeys(store_, v1_v2_, store_.clock);

  ASSERT_TRUE(report.ok()) << report.status();
  // One count before, one after the pass, a second each on the fake clock.
  EXPECT_EQ(report->elapsed, absl::Seconds(2));
}

TEST(RotationReportTest, JsonNamesEveryCountAndTheRemainingVersions) {
  const RotationReport report{.current_version = 3,
                              .rewrapped = 10,
                              .already_current = 4,
                              .changed_concurrently = 1,
                              .remaining = {{1, 2}},
                              .passes = 3,
                              .elapsed = absl::Milliseconds(1500)};

  EXPECT_EQ(ToJson(report), nlohmann::json::parse(R"({"current_version": 3, "rewrapped": 10,
      "already_current": 4, "changed_concurrently": 1, "remaining": {"1": 2}, "passes": 3,
      "seconds": 1.5})"));
}

}  // namespace
}  // namespace klaxon::audit::key_rotation_test
