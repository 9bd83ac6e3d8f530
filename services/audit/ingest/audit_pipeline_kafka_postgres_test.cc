// The consumer path and read-your-writes against the real systems: KafkaPublisher writes events
// to topics of this test's own prefix, a KafkaConsumer runs AuditEventHandler into
// PostgresAlertStore on a scratch database with a ProgressRecorder writing how far it got, and
// AlertReader answers through KafkaOffsetOracle.
// Needs KLAXON_TEST_KAFKA_BROKERS and KLAXON_TEST_PG_URL (scripts/test.sh sets both).

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "common/crypto/blind_index.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/ids/uuid.h"
#include "common/kafka/consumer.h"
#include "common/kafka/partitioner.h"
#include "common/kafka/publisher.h"
#include "common/kafka/topics.h"
#include "common/kafka/watermarks.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "common/transit/testing.h"
#include "gtest/gtest.h"
#include "klaxon/events/v1/events.pb.h"
#include "pqxx/pqxx"
#include "prometheus/registry.h"
#include "services/audit/ingest/audit_event_handler.h"
#include "services/audit/ingest/batch_writer.h"
#include "services/audit/ingest/progress_recorder.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/postgres/postgres_alert_store.h"
#include "services/audit/query/alert_reader.h"
#include "services/audit/query/kafka_offset_oracle.h"
#include "services/audit/testing/forwarding_alert_store.h"
#include "tests/support/kafka.h"
#include "tests/support/support.h"

namespace klaxon::audit::audit_pipeline_kafka_postgres_test {
namespace {

// Long enough for a consumer group join on a loaded two-core machine.
constexpr absl::Duration kWait = absl::Seconds(60);

// The batch writer's store: PostgresAlertStore, except that a batch holding the alert given to
// HoldBack() waits in Write() until Release(), as a slow commit would.
class HeldBackStore final : public testing::ForwardingAlertStore {
 public:
  using ForwardingAlertStore::ForwardingAlertStore;

  absl::StatusOr<std::vector<IngestResult>> Write(const std::vector<IngestItem>& batch) override {
    std::unique_lock lock(mutex_);
    const bool holds = std::any_of(batch.begin(), batch.end(), [&](const IngestItem& item) {
      return item.event.has_value() && item.event->alert_id == held_alert_;
    });
    if (holds) {
      holding_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
    }
    lock.unlock();
    return inner_.Write(batch);
  }

  void HoldBack(const std::string& alert_id) {
    std::lock_guard lock(mutex_);
    held_alert_ = alert_id;
  }
  // Whether the held alert's batch reached Write() within kWait.
  bool WaitUntilHolding() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(kWait), [&] { return holding_; });
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string held_alert_;
  bool holding_ = false;
  bool released_ = false;
};

class AuditPipelineKafkaPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string brokers = klaxon::testing::RequiredEnv("KLAXON_TEST_KAFKA_BROKERS");
    const std::string pg_server = klaxon::testing::RequiredEnv("KLAXON_TEST_PG_URL");
    if (brokers.empty() || pg_server.empty()) return;
    const std::string prefix = klaxon::testing::UniquePrefix();
    topics_deleted_at_end_.Own(brokers, prefix);
    topics_ = Topics::WithPrefix(prefix);
    auto created = kafka::CreateTopics({.brokers = brokers, .prefix = prefix, .partitions = 3});
    ASSERT_TRUE(created.ok()) << created.status();

    auto scratch = pg::testing::TemporaryDatabase::Create(pg_server);
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    auto db = pg::Database::Connect(scratch_->url());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(pg::ApplyMigrations(*db_, AuditMigrations()).ok());
    store_ = std::make_unique<PostgresAlertStore>(*db_);
    held_back_store_ = std::make_unique<HeldBackStore>(*store_);
    progress_ = std::make_unique<ProgressRecorder>(*store_, logger_, ProgressRecorderOptions{});

    auto publisher = kafka::KafkaPublisher::Create({.brokers = brokers});
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    publisher_ = *std::move(publisher);
    // Many messages at once, as audit runs, so the BatchWriter groups them.
    auto consumer = kafka::KafkaConsumer::Create(
        {.brokers = brokers,
         .group_id = prefix + "audit",
         .topics = topics_.All(),
         .on_offset_stored = [this](const std::string& topic, int32_t partition,
                                    int64_t next) { progress_->Report(topic, partition, next); },
         .max_in_flight = 64});
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    consumer_ = *std::move(consumer);
    writer_ = std::make_unique<BatchWriter>(*held_back_store_,
                                            BatchWriterOptions{.max_batch = 64, .max_writers = 2});
    handler_ = std::make_unique<AuditEventHandler>(*writer_, personal_data_, blind_index_, topics_,
                                                   metrics_, clock_, logger_, redactor_,
                                                   transit_.cipher());
    auto watermarks = kafka::KafkaWatermarks::Create({.brokers = brokers});
    ASSERT_TRUE(watermarks.ok()) << watermarks.status();
    watermarks_ = *std::move(watermarks);
    oracle_ = std::make_unique<KafkaOffsetOracle>(*watermarks_, absl::Seconds(5));
    reader_ = std::make_unique<AlertReader>(
        *store_, *oracle_, personal_data_, clock_, metrics_, logger_,
        AlertReaderOptions{.topics = topics_, .max_wait = absl::Seconds(20)});
    progress_thread_ = std::jthread([this](std::stop_token stop) { progress_->Run(stop); });
    consumer_thread_ = std::jthread(
        [this](std::stop_token stop) { consumer_result_ = consumer_->Run(*handler_, stop); });
  }

  void TearDown() override {
    if (held_back_store_ != nullptr) held_back_store_->Release();
    if (consumer_thread_.joinable()) {
      consumer_thread_.request_stop();
      consumer_thread_.join();
      EXPECT_TRUE(consumer_result_.ok()) << consumer_result_;
    }
  }

  // A new alert id whose requests land on the same sms partition as `other`'s.
  std::string AlertIdOnThePartitionOf(const std::string& other) {
    while (true) {
      std::string alert_id = NewAlertId();
      if (kafka::PartitionForKey(alert_id, 3) == kafka::PartitionForKey(other, 3)) return alert_id;
    }
  }

  std::string NewAlertId() { return ids::NewUuidV7(absl::Now(), random_); }

  void FillHeader(const std::string& alert_id, klaxon::events::v1::EventHeader& header) {
    header.set_alert_id(alert_id);
    header.set_caller("billing");
    header.set_channel(klaxon::types::v1::CHANNEL_SMS);
    header.set_attempt(1);
    header.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  }

  void PublishRequest(const std::string& alert_id) {
    klaxon::events::v1::AlertRequested request;
    FillHeader(alert_id, *request.mutable_header());
    transit_.Seal(request, "+14155550100", "db-7 disk full");
    ASSERT_TRUE(publisher_
                    ->Publish({.topic = topics_.sms_requests,
                               .key = alert_id,
                               .value = request.SerializeAsString()},
                              absl::Seconds(10))
                    .ok());
  }

  void PublishAccepted(const std::string& alert_id) {
    klaxon::events::v1::DeliveryEvent delivery;
    FillHeader(alert_id, *delivery.mutable_header());
    delivery.mutable_outcome()->set_kind(klaxon::events::v1::DeliveryOutcome::KIND_ACCEPTED);
    delivery.mutable_outcome()->set_twilio_sid("SM0123456789abcdef0123456789abcdef");
    ASSERT_TRUE(publisher_
                    ->Publish({.topic = topics_.delivery_events,
                               .key = alert_id,
                               .value = delivery.SerializeAsString()},
                              absl::Seconds(10))
                    .ok());
  }

  // A message status callback as ingress publishes it: keyed by the alert named in the callback
  // URL (or by the SID when it named none), without a caller.
  void PublishMessageStatus(const std::string& alert_id, const std::string& status,
                            int32_t error_code) {
    klaxon::events::v1::TwilioEvent event;
    event.mutable_header()->set_alert_id(alert_id);
    if (!alert_id.empty()) event.mutable_header()->set_attempt(1);
    event.mutable_header()->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
    event.set_dedupe_key("token:" + alert_id + status);
    auto& update = *event.mutable_message_status();
    update.set_message_sid("SM0123456789abcdef0123456789abcdef");
    update.set_message_status(status);
    update.set_error_code(error_code);
    const std::string key = alert_id.empty() ? update.message_sid() : alert_id;
    ASSERT_TRUE(
        publisher_
            ->Publish(
                {.topic = topics_.twilio_events, .key = key, .value = event.SerializeAsString()},
                absl::Seconds(10))
            .ok());
  }

  // An opt-out or opt-in of +14155550100 as ingress publishes it, received `at`.
  void PublishKeyword(bool opt_out, absl::Time at) {
    klaxon::events::v1::TwilioEvent event;
    event.mutable_header()->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(at));
    auto& message = opt_out ? *event.mutable_opt_out() : *event.mutable_opt_in();
    message.set_message_sid(opt_out ? "SMstop" : "SMstart");
    message.set_keyword(opt_out ? "STOP" : "START");
    transit_.Seal(message, "+14155550100");
    ASSERT_TRUE(publisher_
                    ->Publish({.topic = topics_.twilio_events,
                               .key = redactor_.Token("+14155550100"),
                               .value = event.SerializeAsString()},
                              absl::Seconds(10))
                    .ok());
  }

  // The keyword of the recipient's opt_outs row, "" without one.
  std::string StoredKeyword(const std::string& recipient_token) {
    std::string stored;
    absl::Status read = db_->Transact([&](pqxx::work& txn) {
      const pqxx::result rows = txn.exec_params(
          "SELECT keyword FROM opt_outs WHERE recipient_token = $1", recipient_token);
      if (!rows.empty()) stored = rows[0][0].as<std::string>();
      return absl::OkStatus();
    });
    EXPECT_TRUE(read.ok()) << read;
    return stored;
  }

  // Polls the store until it has consumed `count` messages of the Twilio topic (3 partitions);
  // false after kWait.
  bool WaitForTwilioEventsConsumed(int64_t count) {
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      int64_t consumed = 0;
      for (int32_t partition = 0; partition < 3; ++partition) {
        consumed += store_->NextOffset(topics_.twilio_events, partition).value_or(0);
      }
      if (consumed >= count) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // Polls the store until the alert reaches `status`; false after kWait.
  bool WaitForStatus(const std::string& alert_id, AlertStatus status) {
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      absl::StatusOr<std::optional<AlertRecord>> alert = store_->GetAlert("billing", alert_id);
      if (alert.ok() && alert->has_value() && (*alert)->status == status) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // The test's topics go after everything else of it.
  klaxon::testing::TopicsDeletedAtEnd topics_deleted_at_end_;
  Topics topics_;
  absl::BitGen random_;
  timing::RealClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  log::MemorySink log_sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("audit-pipeline-test-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, log_sink_};
  crypto::LocalKeyring keyring_ =
      crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
  PersonalData personal_data_{keyring_};
  transit::testing::TestTransit transit_;
  crypto::BlindIndex blind_index_ =
      crypto::BlindIndex::Create("audit-pipeline-test-blind-index-key-0123456789").value();
  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresAlertStore> store_;
  std::unique_ptr<HeldBackStore> held_back_store_;
  std::unique_ptr<ProgressRecorder> progress_;
  std::unique_ptr<kafka::KafkaPublisher> publisher_;
  std::unique_ptr<kafka::KafkaConsumer> consumer_;
  std::unique_ptr<BatchWriter> writer_;
  std::unique_ptr<AuditEventHandler> handler_;
  std::unique_ptr<kafka::KafkaWatermarks> watermarks_;
  std::unique_ptr<KafkaOffsetOracle> oracle_;
  std::unique_ptr<AlertReader> reader_;
  absl::Status consumer_result_;
  std::jthread progress_thread_;  // declared before consumer_thread_, so it stops after it
  std::jthread consumer_thread_;
};

TEST_F(AuditPipelineKafkaPostgresTest, RequestThenAcceptedOutcomeEndsSent) {
  const std::string alert_id = NewAlertId();
  PublishRequest(alert_id);
  PublishAccepted(alert_id);
  ASSERT_TRUE(WaitForStatus(alert_id, klaxon::types::v1::ALERT_STATUS_SENT));
  // The request and the outcome come from different topics; reading through the reader waits
  // until both are consumed, so the recipient fields the request brings are there too.
  absl::StatusOr<AlertView> alert =
      reader_->GetAlert("billing", alert_id, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->record.recipient_country_code, "1");
  EXPECT_EQ(alert->record.recipient_last4, "0100");
  EXPECT_EQ(alert->record.twilio_sid, "SM0123456789abcdef0123456789abcdef");
  EXPECT_EQ(alert->recipient, "+14155550100");
  EXPECT_EQ(alert->text, "db-7 disk full");
}

TEST_F(AuditPipelineKafkaPostgresTest, StatusCallbacksEndTheAlertDeliveredOrUndelivered) {
  const std::string delivered = NewAlertId();
  PublishRequest(delivered);
  PublishAccepted(delivered);
  PublishMessageStatus("", "delivered", 0);  // a console-configured callback: acknowledged only
  PublishMessageStatus(delivered, "sent", 0);
  PublishMessageStatus(delivered, "delivered", 0);
  // Consumed before its request: the record waits for the request to learn its caller.
  const std::string undelivered = NewAlertId();
  PublishMessageStatus(undelivered, "undelivered", 30003);
  PublishRequest(undelivered);

  ASSERT_TRUE(WaitForStatus(delivered, klaxon::types::v1::ALERT_STATUS_DELIVERED));
  ASSERT_TRUE(WaitForStatus(undelivered, klaxon::types::v1::ALERT_STATUS_UNDELIVERED));
  absl::StatusOr<AlertView> alert =
      reader_->GetAlert("billing", undelivered, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->record.twilio_error_code, 30003);
  EXPECT_EQ(alert->record.reason,
            "Twilio reported undelivered, error 30003: the destination handset is unreachable");
  EXPECT_EQ(alert->record.recipient_last4, "0100");
  ASSERT_EQ(alert->record.attempts.size(), 1u);
  EXPECT_EQ(alert->record.attempts[0].status, klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
}

TEST_F(AuditPipelineKafkaPostgresTest, GetAlertRightAfterPublishSeesTheAlert) {
  // Once the group has joined, the next request is the one read-your-writes must cover.
  const std::string warm_up = NewAlertId();
  PublishRequest(warm_up);
  ASSERT_TRUE(WaitForStatus(warm_up, klaxon::types::v1::ALERT_STATUS_QUEUED));

  const std::string alert_id = NewAlertId();
  PublishRequest(alert_id);
  absl::StatusOr<AlertView> alert =
      reader_->GetAlert("billing", alert_id, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->record.alert_id, alert_id);
}

// Audit writes many messages of a partition at once, so a later request's batch can commit before
// an earlier one's. GetAlert must then wait for the earlier alert, not call it missing.
TEST_F(AuditPipelineKafkaPostgresTest, RequestCommittedAfterALaterOneIsWaitedForNotNotFound) {
  const std::string warm_up = NewAlertId();
  PublishRequest(warm_up);
  ASSERT_TRUE(WaitForStatus(warm_up, klaxon::types::v1::ALERT_STATUS_QUEUED));

  const std::string slow = NewAlertId();
  const std::string fast = AlertIdOnThePartitionOf(slow);
  held_back_store_->HoldBack(slow);
  PublishRequest(slow);
  ASSERT_TRUE(held_back_store_->WaitUntilHolding());
  PublishRequest(fast);
  ASSERT_TRUE(WaitForStatus(fast, klaxon::types::v1::ALERT_STATUS_QUEUED));
  // The later request is stored, and its offset with it would pass the held one's.
  std::jthread release([&] {
    absl::SleepFor(absl::Milliseconds(500));
    held_back_store_->Release();
  });
  absl::StatusOr<AlertView> alert =
      reader_->GetAlert("billing", slow, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->record.alert_id, slow);
}

TEST_F(AuditPipelineKafkaPostgresTest, NeverPublishedAlertIsNotFoundOnceCaughtUp) {
  const std::string warm_up = NewAlertId();
  PublishRequest(warm_up);
  ASSERT_TRUE(WaitForStatus(warm_up, klaxon::types::v1::ALERT_STATUS_QUEUED));
  absl::StatusOr<AlertView> alert =
      reader_->GetAlert("billing", NewAlertId(), absl::Now() + absl::Seconds(30));
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kNotFound) << alert.status();
}

TEST_F(AuditPipelineKafkaPostgresTest, AlertNotConsumedYetIsUnavailableNotNotFound) {
  const std::string warm_up = NewAlertId();
  PublishRequest(warm_up);
  ASSERT_TRUE(WaitForStatus(warm_up, klaxon::types::v1::ALERT_STATUS_QUEUED));
  consumer_thread_.request_stop();  // audit stops consuming; Kafka keeps accepting requests
  consumer_thread_.join();
  ASSERT_TRUE(consumer_result_.ok()) << consumer_result_;

  const std::string alert_id = NewAlertId();
  PublishRequest(alert_id);
  AlertReader impatient(*store_, *oracle_, personal_data_, clock_, metrics_, logger_,
                        {.topics = topics_, .max_wait = absl::Milliseconds(300)});
  absl::StatusOr<AlertView> alert =
      impatient.GetAlert("billing", alert_id, absl::Now() + absl::Seconds(30));
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable) << alert.status();
}

// The STOP arrives after the START that followed it (Twilio retried it): START stays the record.
TEST_F(AuditPipelineKafkaPostgresTest, OptInConsumedBeforeAnOlderOptOutStaysTheRecord) {
  const absl::Time now = absl::Now();
  PublishKeyword(/*opt_out=*/false, now);
  PublishKeyword(/*opt_out=*/true, now - absl::Minutes(1));
  ASSERT_TRUE(WaitForTwilioEventsConsumed(2));
  EXPECT_EQ(StoredKeyword(redactor_.Token("+14155550100")), "START");
}

}  // namespace
}  // namespace klaxon::audit::audit_pipeline_kafka_postgres_test
