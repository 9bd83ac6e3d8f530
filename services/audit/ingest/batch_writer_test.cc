#include "services/audit/ingest/batch_writer.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/audit/testing/fake_alert_store.h"
#include "services/audit/testing/forwarding_alert_store.h"
#include "services/audit/testing/ingest.h"
#include "tests/support/support.h"

namespace klaxon::audit::batch_writer_test {
namespace {

using klaxon::testing::PollUntil;

using ::testing::ElementsAre;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";

// A store whose first Write waits until Open(), so a test can line items up behind it; it
// records each batch's event keys and can refuse one key like a database refusing a value.
class GatedStore final : public testing::ForwardingAlertStore {
 public:
  using ForwardingAlertStore::ForwardingAlertStore;

  absl::StatusOr<std::vector<IngestResult>> Write(const std::vector<IngestItem>& batch) override {
    {
      std::unique_lock lock(mutex_);
      std::vector<std::string> keys;
      for (const IngestItem& item : batch) keys.push_back(item.entry.event_key);
      batches_.push_back(keys);
      ++writes_started_;
      opened_.wait(lock, [&] { return open_; });
      for (const std::string& key : keys) {
        if (!refused_key_.empty() && key == refused_key_) {
          return absl::InvalidArgumentError("value too long for type character varying(2)");
        }
      }
      if (!fail_after_first_.ok() && batches_.size() > 1) return fail_after_first_;
    }
    return inner_.Write(batch);
  }

  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }
  void FailAfterFirst(absl::Status status) {
    std::lock_guard lock(mutex_);
    fail_after_first_ = std::move(status);
  }
  void Refuse(std::string key) {
    std::lock_guard lock(mutex_);
    refused_key_ = std::move(key);
  }
  int writes_started() const {
    std::lock_guard lock(mutex_);
    return writes_started_;
  }
  std::vector<std::vector<std::string>> batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
  absl::Status fail_after_first_;
  std::string refused_key_;
  int writes_started_ = 0;
  std::vector<std::vector<std::string>> batches_;
};

// The accepted outcome numbered `n` of the alert.
IngestItem Accepted(int n) {
  AlertEvent event{.kind = AlertEvent::Kind::kOutcome,
                   .alert_id = kAlertId,
                   .caller = "billing",
                   .channel = klaxon::types::v1::CHANNEL_SMS,
                   .attempt = static_cast<uint32_t>(n),
                   .occurred_at = absl::FromUnixSeconds(1'700'000'000 + n),
                   .status = klaxon::types::v1::ALERT_STATUS_SENT,
                   .event_key = absl::StrCat("outcome:", n)};
  return testing::EventItem(std::move(event));
}

// Each item's result, as its completion hands it over (on a writer thread).
class Results {
 public:
  WriteDone For(int n) {
    return [this, n](absl::StatusOr<IngestResult> result) {
      std::lock_guard lock(mutex_);
      results_.at(static_cast<size_t>(n)) = std::move(result);
      threads_.push_back(std::this_thread::get_id());
    };
  }
  // Waits until items 0..last all have their result.
  bool WaitThrough(int last) {
    return PollUntil([&] {
      std::lock_guard lock(mutex_);
      return std::all_of(results_.begin(), results_.begin() + last + 1,
                         [](const auto& result) { return result.has_value(); });
    });
  }
  absl::StatusOr<IngestResult> at(int n) {
    std::lock_guard lock(mutex_);
    return results_.at(static_cast<size_t>(n)).value_or(absl::UnknownError("no result"));
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  std::mutex mutex_;
  std::array<std::optional<absl::StatusOr<IngestResult>>, 8> results_;
  std::vector<std::thread::id> threads_;
};

class BatchWriterTest : public ::testing::Test {
 protected:
  // Writes item 0, whose batch blocks in the store, then `count` more items, which wait behind
  // it; returns once all of them wait.
  void LineUp(int count) {
    writer_.Write(Accepted(0), results_.For(0));
    ASSERT_TRUE(PollUntil([&] { return store_.writes_started() == 1; }));
    for (int n = 1; n <= count; ++n) writer_.Write(Accepted(n), results_.For(n));
    EXPECT_EQ(writer_.waiting(), static_cast<size_t>(count));
    last_ = count;
  }

  void Finish() {
    store_.Open();
    ASSERT_TRUE(results_.WaitThrough(last_));
  }

  FakeAlertStore fake_;
  GatedStore store_{fake_};
  BatchWriter writer_{store_, {.max_batch = 3}};
  Results results_;
  int last_ = 0;
};

TEST_F(BatchWriterTest, LoneItemIsWrittenAtOnce) {
  store_.Open();
  writer_.Write(Accepted(1), results_.For(1));
  ASSERT_TRUE(
      PollUntil([&] { return results_.at(1).status().code() != absl::StatusCode::kUnknown; }));
  absl::StatusOr<IngestResult> result = results_.at(1);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->advanced->status, klaxon::types::v1::ALERT_STATUS_SENT);
  EXPECT_THAT(store_.batches(), ElementsAre(ElementsAre("outcome:1")));
}

TEST_F(BatchWriterTest, WriteReturnsBeforeTheBatchCommitsAndCompletesOnAWriterThread) {
  // The store holds the batch, yet Write() returned: the caller's thread is not held.
  writer_.Write(Accepted(0), results_.For(0));
  ASSERT_TRUE(PollUntil([&] { return store_.writes_started() == 1; }));
  EXPECT_EQ(results_.at(0).status().code(), absl::StatusCode::kUnknown);
  Finish();
  EXPECT_TRUE(results_.at(0).ok());
  ASSERT_EQ(results_.threads().size(), 1u);
  EXPECT_NE(results_.threads()[0], std::this_thread::get_id());
}

TEST_F(BatchWriterTest, ItemsArrivingDuringAWriteFormTheNextBatchInArrivalOrder) {
  LineUp(3);
  Finish();
  EXPECT_THAT(store_.batches(), ElementsAre(ElementsAre("outcome:0"),
                                            ElementsAre("outcome:1", "outcome:2", "outcome:3")));
  for (int n = 0; n <= 3; ++n) EXPECT_TRUE(results_.at(n).ok()) << n;
  EXPECT_EQ(fake_.Events().size(), 4);
}

TEST_F(BatchWriterTest, BatchNeverExceedsMaxBatch) {
  LineUp(5);
  Finish();
  ASSERT_EQ(store_.batches().size(), 3);
  EXPECT_EQ(store_.batches()[1].size(), 3);
  EXPECT_EQ(store_.batches()[2].size(), 2);
}

TEST_F(BatchWriterTest, FailedBatchFailsEveryItemAndStoresNothingOfIt) {
  store_.FailAfterFirst(absl::UnavailableError("Postgres is unreachable"));
  LineUp(3);
  Finish();
  EXPECT_TRUE(results_.at(0).ok());
  for (int n = 1; n <= 3; ++n) {
    EXPECT_EQ(results_.at(n).status().code(), absl::StatusCode::kUnavailable) << n;
  }
  EXPECT_EQ(fake_.Events().size(), 1);
}

TEST_F(BatchWriterTest, RefusedValueFailsOnlyItsOwnItem) {
  store_.Refuse("outcome:2");
  LineUp(3);
  Finish();
  EXPECT_TRUE(results_.at(1).ok());
  EXPECT_EQ(results_.at(2).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(results_.at(3).ok());
  EXPECT_EQ(fake_.Events().size(), 3);
}

TEST(BatchWriterWritersTest, SecondWriterWritesWhileTheFirstBatchCommits) {
  FakeAlertStore fake;
  GatedStore store(fake);
  BatchWriter writer(store, {.max_batch = 3, .max_writers = 2});
  Results results;
  for (int n = 0; n < 2; ++n) {
    writer.Write(Accepted(n), results.For(n));
    ASSERT_TRUE(PollUntil([&] { return store.writes_started() == n + 1; }));
  }
  // Both batches are in the store at once; a third item waits for one of them.
  writer.Write(Accepted(2), results.For(2));
  EXPECT_EQ(writer.waiting(), 1u);
  store.Open();
  ASSERT_TRUE(results.WaitThrough(2));
  for (int n = 0; n <= 2; ++n) EXPECT_TRUE(results.at(n).ok()) << n;
  EXPECT_EQ(store.batches().size(), 3);
}

TEST(BatchWriterWritersTest, DestructionWritesWhatStillWaits) {
  FakeAlertStore fake;
  Results results;
  {
    BatchWriter writer(fake, {.max_batch = 2, .max_writers = 1});
    for (int n = 0; n < 5; ++n) writer.Write(Accepted(n), results.For(n));
  }
  for (int n = 0; n < 5; ++n) EXPECT_TRUE(results.at(n).ok()) << n;
  EXPECT_EQ(fake.Events().size(), 5);
}

TEST(BatchWriterLingerTest, ItemsArrivingWithinTheLingerShareABatchWrittenOnceFull) {
  FakeAlertStore fake;
  GatedStore store(fake);
  store.Open();
  // An hour's linger: the batch is written when it is full, not when the linger ends.
  BatchWriter writer(store, {.max_batch = 2, .max_writers = 1, .linger = absl::Hours(1)});
  Results results;
  writer.Write(Accepted(0), results.For(0));
  writer.Write(Accepted(1), results.For(1));
  ASSERT_TRUE(results.WaitThrough(1));
  EXPECT_THAT(store.batches(), ElementsAre(ElementsAre("outcome:0", "outcome:1")));
}

TEST(BatchWriterLingerTest, TwoLingeringWritersNeverWriteAnEmptyBatch) {
  FakeAlertStore fake;
  GatedStore store(fake);  // closed: the first batch's writer waits in the store
  Results results;
  {
    // An hour's linger: a writer ends it only with a full batch, or when stopped.
    BatchWriter writer(store, {.max_batch = 2, .max_writers = 2, .linger = absl::Hours(1)});
    // A failed assertion below still opens the store before the writer stops, or its held
    // writer would hang the test instead of failing it.
    const absl::Cleanup open_store = [&store] { store.Open(); };
    writer.Write(Accepted(0), results.For(0));
    writer.Write(Accepted(1), results.For(1));
    ASSERT_TRUE(PollUntil([&] { return store.writes_started() == 1; }));
    // The other writer lingers over item 2 while the first is held in the store...
    writer.Write(Accepted(2), results.For(2));
    ASSERT_TRUE(PollUntil([&] { return writer.lingering() == 1; }));
    // ...and the first, released, lingers over it too: both wait for the same batch to fill.
    store.Open();
    ASSERT_TRUE(PollUntil([&] { return writer.lingering() == 2; }))
        << "both writers must be lingering at once";
    // Item 3 fills it: one writer takes both items, the other is left lingering over nothing.
    writer.Write(Accepted(3), results.For(3));
    ASSERT_TRUE(results.WaitThrough(3));
    ASSERT_TRUE(PollUntil([&] { return writer.lingering() == 1; }));
    EXPECT_EQ(writer.waiting(), 0u);
  }  // stopping ends the other writer's linger with nothing to write
  EXPECT_THAT(store.batches(), ElementsAre(ElementsAre("outcome:0", "outcome:1"),
                                           ElementsAre("outcome:2", "outcome:3")));
}

TEST(BatchWriterLingerTest, StoppingCutsTheLingerShortAndWritesWhatWaits) {
  FakeAlertStore fake;
  Results results;
  {
    BatchWriter writer(fake, {.max_batch = 10, .max_writers = 1, .linger = absl::Hours(1)});
    writer.Write(Accepted(0), results.For(0));
  }
  EXPECT_TRUE(results.at(0).ok());
  EXPECT_EQ(fake.Events().size(), 1);
}

}  // namespace
}  // namespace klaxon::audit::batch_writer_test
