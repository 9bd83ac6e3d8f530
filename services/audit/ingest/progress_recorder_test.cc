#include "services/audit/ingest/progress_recorder.h"

#include <algorithm>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/audit/testing/fake_alert_store.h"
#include "tests/support/support.h"

namespace klaxon::audit::progress_recorder_test {
namespace {

using klaxon::testing::PollUntil;

constexpr char kTopic[] = "klaxon.sms.requests";

class ProgressRecorderTest : public ::testing::Test {
 protected:
  int64_t Stored(int32_t partition) { return store_.NextOffset(kTopic, partition).value_or(-1); }

  int LogLines(const std::string& event) {
    const std::vector<std::string> lines = sink_.Lines();
    return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.find("\"event\":\"" + event + "\"") != std::string::npos;
    }));
  }

  FakeAlertStore store_;
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("progress-recorder-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
};

TEST_F(ProgressRecorderTest, FlushWritesTheHighestOffsetReportedForEachPartition) {
  ProgressRecorder recorder(store_, logger_, {});
  // Reports of one partition arrive out of order from the consumer's threads.
  recorder.Report(kTopic, 0, 5);
  recorder.Report(kTopic, 0, 3);
  recorder.Report(kTopic, 1, 2);
  ASSERT_TRUE(recorder.Flush().ok());
  EXPECT_EQ(Stored(0), 5);
  EXPECT_EQ(Stored(1), 2);
  EXPECT_EQ(Stored(2), 0);
}

TEST_F(ProgressRecorderTest, NothingReportedWritesNothing) {
  ProgressRecorder recorder(store_, logger_, {});
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  EXPECT_TRUE(recorder.Flush().ok());
}

TEST_F(ProgressRecorderTest, FailedWriteKeepsTheOffsetsForTheNextFlush) {
  ProgressRecorder recorder(store_, logger_, {});
  recorder.Report(kTopic, 0, 5);
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  EXPECT_EQ(recorder.Flush().code(), absl::StatusCode::kUnavailable);
  recorder.Report(kTopic, 0, 4);
  store_.FailWith(absl::OkStatus());
  ASSERT_TRUE(recorder.Flush().ok());
  EXPECT_EQ(Stored(0), 5);
}

TEST_F(ProgressRecorderTest, RunWritesWhileRunningAndOnceMoreWhenStopped) {
  ProgressRecorder recorder(store_, logger_, {.flush_interval = absl::Milliseconds(1)});
  std::jthread runner([&](std::stop_token stop) { recorder.Run(stop); });
  recorder.Report(kTopic, 0, 7);
  EXPECT_TRUE(PollUntil([&] { return Stored(0) == 7; }));
  runner.request_stop();
  runner.join();

  ProgressRecorder slow(store_, logger_, {.flush_interval = absl::Hours(1)});
  std::jthread slow_runner([&](std::stop_token stop) { slow.Run(stop); });
  slow.Report(kTopic, 0, 9);
  slow_runner.request_stop();
  slow_runner.join();
  EXPECT_EQ(Stored(0), 9);
}

TEST_F(ProgressRecorderTest, FailingStoreIsLoggedOnceUntilItRecovers) {
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  ProgressRecorder recorder(store_, logger_, {.flush_interval = absl::Milliseconds(1)});
  recorder.Report(kTopic, 0, 3);
  std::jthread runner([&](std::stop_token stop) { recorder.Run(stop); });
  ASSERT_TRUE(PollUntil([&] { return LogLines("consumer_progress_write_failed") == 1; }));
  absl::SleepFor(absl::Milliseconds(50));  // dozens of failed flushes
  EXPECT_EQ(LogLines("consumer_progress_write_failed"), 1);
  EXPECT_THAT(sink_.Lines().front(), ::testing::HasSubstr("KLAXON_PG_URL"));
  store_.FailWith(absl::OkStatus());
  EXPECT_TRUE(PollUntil([&] { return Stored(0) == 3; }));
  EXPECT_TRUE(PollUntil([&] { return LogLines("consumer_progress_written_again") == 1; }));
}

}  // namespace
}  // namespace klaxon::audit::progress_recorder_test
