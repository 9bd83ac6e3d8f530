#include "services/ingress/callback_witness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <optional>
#include <thread>

#include "absl/time/clock.h"
#include "common/callbacks/in_memory_callback_ledger.h"
#include "common/log/log.h"
#include "common/timing/fake_clock.h"

namespace klaxon::ingress {
namespace {

class CallbackWitnessTest : public ::testing::Test {
 protected:
  std::optional<absl::Time> LostAt() { return ledger_.Read("SM1").value().lost_at; }
  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  const absl::Time start_ = absl::FromUnixSeconds(1'700'000'000);
  timing::FakeClock clock_{start_};
  log::MemorySink sink_;
  log::Logger logger_{
      {.service = "ingress"}, *log::PhoneRedactor::Create("0123456789abcdef0123"), sink_};
  prometheus::Registry registry_;
  WebhookTelemetry telemetry_{registry_, logger_, clock_};
  callbacks::InMemoryCallbackLedger ledger_;
  CallbackWitness witness_{ledger_, telemetry_, clock_};
};

TEST_F(CallbackWitnessTest, AFinalStatusIsRecordedForItsSid) {
  ASSERT_TRUE(witness_.RecordFinal({"SM1"}).front().ok());
  EXPECT_TRUE(ledger_.Read("SM1")->final_arrived);
}

TEST_F(CallbackWitnessTest, NothingNotedWritesNothing) {
  ASSERT_TRUE(witness_.Flush().ok());
  EXPECT_EQ(LostAt(), std::nullopt);
}

TEST_F(CallbackWitnessTest, ANotedLossIsWrittenAtTheTimeOfTheWrite) {
  witness_.NoteLoss();
  EXPECT_EQ(LostAt(), std::nullopt) << "noting never waits on the ledger";
  EXPECT_THAT(Metrics(),
              ::testing::HasSubstr("klaxon_webhook_callbacks_lost_timestamp_seconds 1700000000"));
  clock_.SleepFor(absl::Seconds(3));
  ASSERT_TRUE(witness_.Flush().ok());
  EXPECT_EQ(LostAt(), start_ + absl::Seconds(3));
}

TEST_F(CallbackWitnessTest, ALossIsWrittenOnce) {
  witness_.NoteLoss();
  ASSERT_TRUE(witness_.Flush().ok());
  clock_.SleepFor(absl::Seconds(3));
  ASSERT_TRUE(witness_.Flush().ok());
  EXPECT_EQ(LostAt(), start_);
}

TEST_F(CallbackWitnessTest, ALossNotedWhileRedisIsDownIsWrittenWhenItAnswers) {
  ledger_.FailWith(absl::UnavailableError("redis down"));
  witness_.NoteLoss();
  EXPECT_EQ(witness_.Flush().code(), absl::StatusCode::kUnavailable);
  clock_.SleepFor(absl::Seconds(30));
  ledger_.FailWith(absl::OkStatus());
  ASSERT_TRUE(witness_.Flush().ok());
  EXPECT_EQ(LostAt(), start_ + absl::Seconds(30));
}

TEST_F(CallbackWitnessTest, RunFlushesUntilStopped) {
  witness_.NoteLoss();
  std::jthread flusher([this](std::stop_token stop) { witness_.Run(stop, absl::Milliseconds(1)); });
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!LostAt().has_value() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(LostAt(), start_);
}

}  // namespace
}  // namespace klaxon::ingress
