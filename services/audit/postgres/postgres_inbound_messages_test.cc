// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
// Inbound messages and the alerts that make them a caller's go in through audit's real write
// path (AuditEventHandler, BatchWriter, PostgresAlertStore) and come out through
// PostgresInboundMessages and InboundMessageReader, opened.
#include "services/audit/postgres/postgres_inbound_messages.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/messaging/testing/handle_and_wait.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "klaxon/events/v1/events.pb.h"
#include "prometheus/registry.h"
#include "services/audit/inbound/inbound_message_reader.h"
#include "services/audit/ingest/audit_event_handler.h"
#include "services/audit/ingest/batch_writer.h"
#include "services/audit/postgres/postgres_alert_store.h"
#include "services/audit/testing/audit_keys.h"
#include "services/audit/testing/migrated_audit_database.h"

namespace klaxon::audit::postgres_inbound_messages_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kAna[] = "+14155550100";
constexpr char kBen[] = "+442071838750";
constexpr char kStranger[] = "+14155550199";
constexpr int64_t kT0Seconds = 1'700'000'000;

class PostgresInboundMessagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::MigratedAuditDatabase(&scratch_, &db_));
    store_ = std::make_unique<PostgresAlertStore>(*db_);
    writer_ = std::make_unique<BatchWriter>(*store_, BatchWriterOptions{});
    handler_ = std::make_unique<AuditEventHandler>(*writer_, sealing_.personal_data,
                                                   sealing_.blind_index, topics_, metrics_, clock_,
                                                   logger_, redactor_, sealing_.transit.cipher());
    messages_ = std::make_unique<PostgresInboundMessages>(*db_);
    reader_ = std::make_unique<InboundMessageReader>(*messages_, sealing_.personal_data,
                                                     sealing_.blind_index, logger_);
  }

  // `caller` asks for an SMS alert to `recipient`, `seconds` after kT0, as audit consumes it;
  // returns its id. Twilio has not accepted it yet (Accept).
  std::string Request(const std::string& caller, const std::string& recipient, int64_t seconds) {
    const std::string alert_id = absl::StrCat("0190f1c4-7a3e-7b12-9c4d-", 100000000000 + offset_);
    klaxon::events::v1::AlertRequested request;
    *request.mutable_header() = Header(alert_id, caller, seconds);
    sealing_.transit.Seal(request, recipient, "disk full on db-1");
    Handle(topics_.sms_requests, request.SerializeAsString(), alert_id);
    return alert_id;
  }

  // Twilio accepts `caller`'s alert `alert_id`, `seconds` after kT0, as the worker reports it.
  void Accept(const std::string& alert_id, const std::string& caller, int64_t seconds) {
    klaxon::events::v1::DeliveryEvent delivery;
    *delivery.mutable_header() = Header(alert_id, caller, seconds);
    delivery.mutable_outcome()->set_kind(klaxon::events::v1::DeliveryOutcome::KIND_ACCEPTED);
    delivery.mutable_outcome()->set_twilio_sid(absl::StrCat("SMout", offset_));
    Handle(topics_.delivery_events, delivery.SerializeAsString(), alert_id);
  }

  // `caller` pages `recipient`: an SMS alert asked for and accepted by Twilio, `seconds` after kT0.
  void Page(const std::string& caller, const std::string& recipient, int64_t seconds = 0) {
    Accept(Request(caller, recipient, seconds), caller, seconds);
  }

  static klaxon::events::v1::EventHeader Header(const std::string& alert_id,
                                                const std::string& caller, int64_t seconds) {
    klaxon::events::v1::EventHeader header;
    header.set_alert_id(alert_id);
    header.set_caller(caller);
    header.set_channel(klaxon::types::v1::CHANNEL_SMS);
    header.set_attempt(1);
    header.mutable_occurred_at()->set_seconds(kT0Seconds + seconds);
    return header;
  }

  // Twilio posts `body` from `from`, `seconds` after kT0, as ingress publishes it.
  void Receive(const std::string& sid, const std::string& from, const std::string& body,
               int64_t seconds) {
    klaxon::events::v1::TwilioEvent inbound;
    inbound.mutable_header()->mutable_occurred_at()->set_seconds(kT0Seconds + seconds);
    inbound.set_dedupe_key(absl::StrCat("sid:", sid, ":received:0"));
    inbound.mutable_inbound_message()->set_message_sid(sid);
    sealing_.transit.Seal(*inbound.mutable_inbound_message(), from, body);
    Handle(topics_.twilio_events, inbound.SerializeAsString(), sid);
  }

  void Handle(const std::string& topic, std::string value, const std::string& key) {
    const absl::Status handled =
        messaging::testing::HandleAndWait(*handler_, {.topic = topic,
                                                      .partition = 0,
                                                      .offset = offset_++,
                                                      .key = key,
                                                      .value = std::move(value)});
    ASSERT_TRUE(handled.ok()) << handled;
  }

  std::vector<std::string> Sids(const std::string& caller, const ListInboundQuery& query = {}) {
    absl::StatusOr<InboundPage> page = reader_->List(caller, query);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> sids;
    for (const InboundMessageView& message : page.value_or(InboundPage{}).messages) {
      sids.push_back(message.message_sid);
    }
    return sids;
  }

  void Exec(const std::string& sql) {
    const absl::Status done = db_->Transact([&](pqxx::work& txn) {
      txn.exec(sql);
      return absl::OkStatus();
    });
    ASSERT_TRUE(done.ok()) << done;
  }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresAlertStore> store_;
  Topics topics_ = Topics::WithPrefix("");
  testing::AuditKeys sealing_;
  timing::FakeClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("postgres-inbound-test-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
  std::unique_ptr<BatchWriter> writer_;
  std::unique_ptr<AuditEventHandler> handler_;
  std::unique_ptr<PostgresInboundMessages> messages_;
  std::unique_ptr<InboundMessageReader> reader_;
  int64_t offset_ = 0;
};

TEST_F(PostgresInboundMessagesTest, EachReplyBelongsToTheCallerWhoPagedTheSenderLast) {
  Page("billing", kAna, 0);
  Page("payments", kBen, 0);
  Receive("SM1", kAna, "on my way", 1);
  Page("payments", kAna, 2);
  Receive("SM2", kAna, "which one?", 3);
  Receive("SM3", kBen, "wrong number", 4);
  Receive("SM4", kStranger, "hello?", 5);

  absl::StatusOr<InboundPage> billing = reader_->List("billing", {});
  ASSERT_TRUE(billing.ok()) << billing.status();
  ASSERT_EQ(billing->messages.size(), 1u);
  EXPECT_EQ(billing->messages[0].message_sid, "SM1");
  EXPECT_EQ(billing->messages[0].from, kAna);
  EXPECT_EQ(billing->messages[0].body, "on my way");
  EXPECT_EQ(billing->messages[0].received_at, absl::FromUnixSeconds(kT0Seconds + 1));
  // Ana's later reply answers payments' page, the latest she had.
  EXPECT_THAT(Sids("payments"), ElementsAre("SM3", "SM2"));
  EXPECT_THAT(Sids("nobody"), IsEmpty());
}

TEST_F(PostgresInboundMessagesTest, AMessageBeforeAnyAlertToItsSenderBelongsToNobody) {
  Receive("SM1", kAna, "hi, new phone", 1);
  Page("billing", kAna, 2);
  EXPECT_THAT(Sids("billing"), IsEmpty());
}

// A scheduled alert, or a later page of an escalation chain, is stored when it is asked for but
// reaches the sender only when sent: until Twilio accepts it, the sender's replies answer the
// alert they last received.
TEST_F(PostgresInboundMessagesTest, AnAlertNotSentYetClaimsNoReply) {
  Page("billing", kAna, 0);
  const std::string scheduled = Request("payments", kAna, 1);
  Receive("SM1", kAna, "on my way", 2);
  Accept(scheduled, "payments", 3);
  Receive("SM2", kAna, "which one?", 4);
  EXPECT_THAT(Sids("billing"), ElementsAre("SM1"));
  EXPECT_THAT(Sids("payments"), ElementsAre("SM2"));
}

// A worker that meets a request again after its outcome was recorded (a rebalance, a crash before
// the offset commit) publishes the outcome again, with a later time: the page still counts from
// when Twilio first accepted it.
TEST_F(PostgresInboundMessagesTest, AnAcceptanceRepeatedLaterDoesNotMakeAPageNewer) {
  const std::string billing = Request("billing", kAna, 0);
  Accept(billing, "billing", 0);
  Page("payments", kAna, 2);
  Accept(billing, "billing", 3);
  Receive("SM1", kAna, "on my way", 4);
  EXPECT_THAT(Sids("payments"), ElementsAre("SM1"));
  EXPECT_THAT(Sids("billing"), IsEmpty());
}

TEST_F(PostgresInboundMessagesTest, AnAlertNeverSentClaimsNoReply) {
  Request("payments", kAna, 0);
  Receive("SM1", kAna, "who is this?", 1);
  EXPECT_THAT(Sids("payments"), IsEmpty());
}

TEST_F(PostgresInboundMessagesTest, FiltersAndPagesNewestFirst) {
  Page("billing", kAna);
  Page("billing", kBen);
  for (int i = 0; i < 5; ++i) Receive(absl::StrCat("SMa", i), kAna, "reply", 10 + i);
  Receive("SMb", kBen, "reply", 12);

  EXPECT_THAT(Sids("billing", {.from = kBen}), ElementsAre("SMb"));
  EXPECT_THAT(Sids("billing", {.received_from = absl::FromUnixSeconds(kT0Seconds + 12),
                               .received_before = absl::FromUnixSeconds(kT0Seconds + 14)}),
              ElementsAre("SMa3", "SMb", "SMa2"));
  std::vector<std::string> paged;
  std::string token;
  do {
    absl::StatusOr<InboundPage> page =
        reader_->List("billing", {.from = kAna, .page_size = 2, .page_token = token});
    ASSERT_TRUE(page.ok()) << page.status();
    for (const InboundMessageView& message : page->messages) paged.push_back(message.message_sid);
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_THAT(paged, ElementsAre("SMa4", "SMa3", "SMa2", "SMa1", "SMa0"));
}

TEST_F(PostgresInboundMessagesTest, AShreddedMessageIsListedWithoutSenderOrBody) {
  Page("billing", kAna);
  Receive("SM1", kAna, "on my way", 1);
  Exec("DELETE FROM data_keys WHERE owner LIKE 'audit_events/%'");

  absl::StatusOr<InboundPage> page = reader_->List("billing", {});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->messages.size(), 1u);
  EXPECT_TRUE(page->messages[0].personal_data_shredded);
  EXPECT_THAT(page->messages[0].body, IsEmpty());
}

TEST_F(PostgresInboundMessagesTest, AMessageMovedToAnotherRowDoesNotOpen) {
  Page("billing", kAna);
  Receive("SM1", kAna, "on my way", 1);
  Receive("SM2", kAna, "call me", 2);
  // SM2's row now holds SM1's ciphertext: sealed for another record, it must not open.
  Exec(
      "UPDATE audit_events SET personal_ciphertext = (SELECT personal_ciphertext "
      "FROM audit_events WHERE twilio_sid = 'SM1') WHERE twilio_sid = 'SM2'");

  absl::StatusOr<InboundPage> page = reader_->List("billing", {});
  EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(page.status().message(), HasSubstr("inbound message SM2"));
  EXPECT_THAT(page.status().message(), Not(HasSubstr("on my way")));
}

TEST_F(PostgresInboundMessagesTest, ThePlanReadsTheInboundIndexNotTheWholeEventLog) {
  Page("billing", kAna);
  Receive("SM1", kAna, "on my way", 1);
  // Many events of other kinds beside the few inbound ones, as in a real event log: this
  // month's partition holds 20,000 of them.
  Exec(
      "INSERT INTO audit_events (occurred_at, event_key, kind, caller) "
      "SELECT now() - n * interval '1 millisecond', 'filler:' || n, 'message_status', 'billing' "
      "FROM generate_series(1, 20000) AS n");
  Exec("ANALYZE audit_events");
  Exec("ANALYZE alerts");
  std::string plan;
  std::string partition;
  const absl::Status explained = db_->Transact([&](pqxx::work& txn) {
    partition = txn.exec(
                       "SELECT tableoid::regclass::text FROM audit_events "
                       "WHERE event_key = 'filler:1'")[0][0]
                    .as<std::string>();
    for (const pqxx::row row :
         txn.exec_params(absl::StrCat("EXPLAIN ", ListInboundMessagesStatement()), "billing",
                         nullptr, nullptr, nullptr, nullptr, nullptr, 51)) {
      absl::StrAppend(&plan, row[0].as<std::string>(), "\n");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(explained.ok()) << explained;
  EXPECT_THAT(plan, HasSubstr(absl::StrCat("Index Scan using ", partition))) << plan;
  EXPECT_THAT(plan, Not(HasSubstr(absl::StrCat("Seq Scan on ", partition)))) << plan;
}

}  // namespace
}  // namespace klaxon::audit::postgres_inbound_messages_test
