// Personal data end to end (issue 5, docs/adr/0008, docs/adr/0013): alerts with known recipients
// and texts go through the whole suite (SMS delivered and undelivered, a cancelled SMS that waited
// on a retry tier, a dead-lettered SMS, voice calls acknowledged by a key press and by an "ACK"
// reply, a STOP and an ordinary reply from recipients), and then none of a pg_dump of audit's
// database, any line of any service's log, any key or value of any message on any Kafka topic
// (read from the beginning), or any Redis key or value of the suite holds one of those numbers or
// texts, while GetAlert still returns each alert's recipient and text, decrypted. Needs
// KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL, and pg_dump (Debian's
// postgresql-client) in /usr/bin. A phone verification by SMS is part of the scenario: its number
// and its code's text are looked for everywhere, and its bare code in Redis.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/kafka/consumer.h"
#include "common/kafka/topics.h"
#include "common/kafka/watermarks.h"
#include "common/messaging/thread_pool_handler.h"
#include "common/redis/redis_client.h"
#include "google/protobuf/util/time_util.h"
#include "tests/e2e/suite.h"
#include "tests/support/process.h"
#include "tests/support/redis.h"

namespace klaxon::e2e::privacy_leak_test {
namespace {

using alerts::v1::Alert;
using google::protobuf::util::TimeUtil;

// Long enough for consumer group joins on a loaded two-core machine plus the calls' spacing.
constexpr absl::Duration kWait = absl::Seconds(90);
constexpr char kPgDump[] = "/usr/bin/pg_dump";
// A log that names the sandbox: it stands in for Twilio, which is given the numbers and texts
// to send them, so it legitimately logs them. Klaxon's own processes must not.
constexpr char kSandboxLog[] = "twilio-sandbox.log";
// Reported per needle and file before the rest are only counted, so a systematic leak does not
// bury the report.
constexpr int kReportedMatches = 3;

// One alert of the scenario: what was sent, and how it ended in GetAlert.
struct SentAlert {
  std::string label;  // what the failure messages call it
  std::string recipient;
  std::string text;
  types::v1::AlertStatus expected = types::v1::ALERT_STATUS_UNSPECIFIED;
  std::string alert_id;
  Alert final_state;
};

// A string that must not appear: what it is (for the failure message) and its bytes.
struct Needle {
  std::string what;
  std::string value;
};

class PrivacyLeakE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() {
    // The most verbose level the services have, so a leak in any log line shows.
    ASSERT_NO_FATAL_FAILURE(StartSharedSuite({.env = {{"KLAXON_LOG_LEVEL", "debug"}}}));
    ASSERT_NO_FATAL_FAILURE(RunScenario());
    ready_ = true;
  }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedSuiteTest::SetUp());
    ASSERT_TRUE(ready_) << "the scenario did not complete: see the failures reported by "
                           "SetUpTestSuite";
  }

  // Alerts with distinctive numbers (555-97xx, fictional) and texts carrying this run's marker,
  // each driven to a different end; then replies from recipients; then waits until audit has
  // consumed every event the suite published, so every record and log line exists.
  static void RunScenario() {
    marker_ = absl::StrFormat("pii%016x", absl::Uniform<uint64_t>(absl::BitGen()));
    auto text = [](const std::string& what) {
      return absl::StrCat("db-7 disk full (", what, ") ", marker_);
    };
    alerts_ = {
        {.label = "sms delivered",
         .recipient = "+14155559731",
         .text = text("sms delivered"),
         .expected = types::v1::ALERT_STATUS_DELIVERED},
        // Non-ASCII text: a log or dump that escapes it must still not hold it in any form
        // (the marker stays ASCII, so an escaped copy is caught by the marker).
        {.label = "sms delivered, non-ASCII text",
         .recipient = "+14155559732",
         .text = absl::StrCat("Störung im Rechenzentrum ", marker_, " – bitte prüfen"),
         .expected = types::v1::ALERT_STATUS_DELIVERED},
        {.label = "sms undelivered",
         .recipient = "+14155559733",
         .text = text("sms undelivered"),
         .expected = types::v1::ALERT_STATUS_UNDELIVERED},
        {.label = "sms cancelled",
         .recipient = "+14155559734",
         .text = text("sms cancelled"),
         .expected = types::v1::ALERT_STATUS_CANCELLED},
        {.label = "voice acknowledged by key press",
         .recipient = "+14155559735",
         .text = text("voice key press"),
         .expected = types::v1::ALERT_STATUS_ACKNOWLEDGED},
        {.label = "voice acknowledged by ACK reply",
         .recipient = "+14155559736",
         .text = text("voice ack reply"),
         .expected = types::v1::ALERT_STATUS_ACKNOWLEDGED},
        // Refused with a Retry-After past its time to live: it goes to the DLQ at once.
        {.label = "sms dead-lettered",
         .recipient = "+14155559738",
         .text = text("sms dead-lettered"),
         .expected = types::v1::ALERT_STATUS_FAILED},
    };
    // Before the references below are taken: it adds its alert to alerts_.
    ASSERT_NO_FATAL_FAILURE(VerifyAPhone("+14155559739"));
    SentAlert& delivered = alerts_[0];
    SentAlert& delivered_unicode = alerts_[1];
    SentAlert& undelivered = alerts_[2];
    SentAlert& cancelled = alerts_[3];
    SentAlert& key_press = alerts_[4];
    SentAlert& ack_reply = alerts_[5];
    SentAlert& dead_lettered = alerts_[6];

    suite_->AddSandboxFaults(absl::StrFormat(
        R"([{"type": "delivery", "kind": "message", "to": "%s", "outcome": "undelivered",
             "error_code": 30003},
            {"type": "rate_limit", "kind": "message", "to": "%s", "count": 1,
             "retry_after_s": 10},
            {"type": "delivery", "kind": "call", "to": "%s", "outcome": "key-press",
             "digits": "1"},
            {"type": "delivery", "kind": "call", "to": "%s", "outcome": "no-answer"},
            {"type": "rate_limit", "kind": "message", "to": "%s", "count": 1,
             "retry_after_s": 600}])",
        undelivered.recipient, cancelled.recipient, key_press.recipient, ack_reply.recipient,
        dead_lettered.recipient));

    for (SentAlert* alert : {&delivered, &delivered_unicode, &undelivered, &cancelled}) {
      ASSERT_NO_FATAL_FAILURE(Send(types::v1::CHANNEL_SMS, *alert));
    }
    ASSERT_NO_FATAL_FAILURE(Send(types::v1::CHANNEL_VOICE, key_press, /*max_calls=*/2));
    ASSERT_NO_FATAL_FAILURE(Send(types::v1::CHANNEL_VOICE, ack_reply, /*max_calls=*/3));
    ASSERT_NO_FATAL_FAILURE(Send(types::v1::CHANNEL_SMS, dead_lettered, 0, absl::Seconds(60)));

    // The cancelled SMS was refused with Retry-After 10 s: cancel it while it waits on its tier.
    WaitUntil(cancelled.alert_id, [](const Alert& a) { return a.attempts_size() >= 1; });
    alerts::v1::CancelAlertRequest cancel;
    cancel.set_alert_id(cancelled.alert_id);
    alerts::v1::CancelAlertResponse cancel_response;
    const grpc::Status cancel_rpc =
        suite_->IntakeStub()->CancelAlert(Suite::CallContext().get(), cancel, &cancel_response);
    ASSERT_TRUE(cancel_rpc.ok()) << cancel_rpc.error_message();

    // The first call nobody answered: the callee replies ACK, which ends the escalation.
    WaitUntil(ack_reply.alert_id, [](const Alert& a) {
      return a.attempts_size() >= 1 &&
             a.attempts(0).status() == types::v1::ALERT_STATUS_UNDELIVERED;
    });
    ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(ack_reply.recipient, "ACK"));
    // Replies that hold personal data of their own: a recipient's opt-out, and an ordinary
    // message whose body is the sender's words.
    inbound_sender_ = "+14155559737";
    inbound_body_ = absl::StrCat("on my way, ", marker_, " inbound reply");
    ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(delivered.recipient, "STOP"));
    ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(inbound_sender_, inbound_body_));

    auto query = suite_->QueryStub();
    for (SentAlert& alert : alerts_) {
      alert.final_state = WaitForStatus(*query, alert.alert_id, alert.expected, kWait);
    }
    ASSERT_NO_FATAL_FAILURE(WaitUntilAuditCaughtUp());
    ASSERT_NO_FATAL_FAILURE(WaitUntilDeadLettered(dead_lettered.alert_id));
  }

  // A phone verification by SMS, checked once wrong and once right (docs/adr/0022): its code's
  // alert joins the scenario's alerts, and the code itself becomes a needle for Redis.
  static void VerifyAPhone(const std::string& recipient) {
    verify::v1::StartVerificationRequest start;
    start.set_recipient(recipient);
    start.set_channel(types::v1::CHANNEL_SMS);
    verify::v1::StartVerificationResponse started;
    const grpc::Status rpc =
        suite_->VerificationStub()->StartVerification(Suite::CallContext().get(), start, &started);
    ASSERT_TRUE(rpc.ok()) << "StartVerification: " << rpc.error_message();
    std::string body;
    const absl::Time deadline = absl::Now() + kWait;
    while (body.empty() && absl::Now() < deadline) {
      for (const nlohmann::json& entry : suite_->Ledger()) {
        if (entry.value("to", "") == recipient) body = entry.value("body", "");
      }
      if (body.empty()) absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(absl::StartsWith(body, "Your verification code is ")) << body;
    code_ = body.substr(body.size() - 6);
    for (const std::string& code : {std::string(code_ == "000000" ? "111111" : "000000"), code_}) {
      verify::v1::CheckVerificationRequest check;
      check.set_verification_id(started.verification_id());
      check.set_code(code);
      verify::v1::CheckVerificationResponse checked;
      const grpc::Status check_rpc = suite_->VerificationStub()->CheckVerification(
          Suite::CallContext().get(), check, &checked);
      ASSERT_TRUE(check_rpc.ok()) << "CheckVerification: " << check_rpc.error_message();
    }
    alerts_.push_back({.label = "verification code by sms",
                       .recipient = recipient,
                       .text = body,
                       .expected = types::v1::ALERT_STATUS_DELIVERED,
                       .alert_id = started.alert_id()});
  }

  static void Send(types::v1::Channel channel, SentAlert& alert, uint32_t max_calls = 0,
                   std::optional<absl::Duration> ttl = std::nullopt) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_recipient(alert.recipient);
    request.set_text(alert.text);
    if (ttl) *request.mutable_ttl() = TimeUtil::SecondsToDuration(absl::ToInt64Seconds(*ttl));
    // Not personal data (callers choose them to deduplicate), so not derived from the marker.
    request.set_idempotency_key(absl::StrCat("privacy-", alert.recipient.substr(8)));
    if (channel == types::v1::CHANNEL_VOICE) {
      request.mutable_voice()->set_max_calls(max_calls);
      request.mutable_voice()->set_sms_fallback(false);
      *request.mutable_voice()->mutable_call_spacing() = TimeUtil::SecondsToDuration(10);
    }
    alerts::v1::SendAlertResponse response;
    const grpc::Status rpc =
        suite_->IntakeStub()->SendAlert(Suite::CallContext().get(), request, &response);
    ASSERT_TRUE(rpc.ok()) << alert.label << ": " << rpc.error_message();
    alert.alert_id = response.alert_id();
  }

  // Polls GetAlert until `done` holds or kWait passed.
  static void WaitUntil(const std::string& alert_id,
                        const std::function<bool(const Alert&)>& done) {
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      const Alert alert = WaitForStatus(*suite_->QueryStub(), alert_id,
                                        types::v1::ALERT_STATUS_UNSPECIFIED, absl::Seconds(1));
      if (done(alert)) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "alert " << alert_id << " did not get where the scenario needs it in time";
  }

  // Waits until audit's consumer_progress reaches every partition's high watermark on every
  // topic audit consumes: then every event of the scenario, the replies included, is stored.
  static void WaitUntilAuditCaughtUp() {
    const std::string& prefix = suite_->env().at("KLAXON_TOPIC_PREFIX");
    auto offsets =
        kafka::KafkaWatermarks::Create({.brokers = suite_->env().at("KLAXON_KAFKA_BROKERS")});
    ASSERT_TRUE(offsets.ok()) << offsets.status();
    pqxx::connection db(suite_->env().at("KLAXON_PG_URL"));
    const absl::Time deadline = absl::Now() + kWait;
    for (const char* topic : {"klaxon.sms.requests", "klaxon.voice.requests",
                              "klaxon.delivery.events", "klaxon.twilio.events"}) {
      const std::string name = absl::StrCat(prefix, topic);
      auto partitions = (*offsets)->PartitionCount(name, absl::Seconds(10));
      ASSERT_TRUE(partitions.ok()) << partitions.status();
      for (int32_t partition = 0; partition < *partitions; ++partition) {
        auto high = (*offsets)->HighWatermark(name, partition, absl::Seconds(10));
        ASSERT_TRUE(high.ok()) << high.status();
        int64_t consumed = 0;
        while (true) {
          pqxx::nontransaction read(db);
          consumed = read.exec_params1(
                             "SELECT COALESCE(MAX(next_offset), 0) FROM consumer_progress "
                             "WHERE topic = $1 AND partition = $2",
                             name, partition)[0]
                         .as<int64_t>();
          if (consumed >= *high || absl::Now() >= deadline) break;
          absl::SleepFor(absl::Milliseconds(100));
        }
        ASSERT_GE(consumed, *high)
            << "audit has not consumed " << name << " [" << partition << "] up to " << *high;
      }
    }
  }

  // Polls ListDeadLetters until audit stored the dead letter of `alert_id`.
  static void WaitUntilDeadLettered(const std::string& alert_id) {
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      alerts::v1::ListDeadLettersResponse listed;
      const grpc::Status rpc = suite_->DeadLettersStub()->ListDeadLetters(
          Suite::CallContext().get(), alerts::v1::ListDeadLettersRequest(), &listed);
      ASSERT_TRUE(rpc.ok()) << rpc.error_message();
      for (const alerts::v1::DeadLetterRecord& record : listed.dead_letters()) {
        if (record.alert_id() == alert_id) return;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "the dead letter of " << alert_id << " was never stored";
  }

  // Every number in its E.164 form and as national digits, every text, and this run's marker;
  // with `hex`, each also as the lowercase hex pg_dump writes a bytea in (plaintext stored in a
  // binary column).
  static std::vector<Needle> Needles(bool hex) {
    std::vector<Needle> needles;
    auto add = [&](std::string what, const std::string& value) {
      if (hex)
        needles.push_back({absl::StrCat(what, " as bytea hex"), absl::BytesToHexString(value)});
      needles.push_back({std::move(what), value});
    };
    for (const SentAlert& alert : alerts_) {
      add(absl::StrCat("recipient of ", alert.label), alert.recipient);
      add(absl::StrCat("recipient of ", alert.label, " without +1"), alert.recipient.substr(2));
      add(absl::StrCat("text of ", alert.label), alert.text);
    }
    add("inbound sender", inbound_sender_);
    add("inbound sender without +1", inbound_sender_.substr(2));
    add("inbound body", inbound_body_);
    add("the run's text marker", marker_);
    return needles;
  }

  // Records a failure for each needle found in `path`, naming the needle, the file, the line and
  // `where` (what the line belongs to), never the line itself. Returns the lines read.
  static int64_t Scan(const std::filesystem::path& path, const std::vector<Needle>& needles,
                      const std::function<std::string(const std::string& line)>& where) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "cannot read " << path;
    std::map<std::string, int> matches;  // by needle
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      const std::string context = where(line);
      for (const Needle& needle : needles) {
        if (line.find(needle.value) == std::string::npos) continue;
        if (++matches[needle.what] <= kReportedMatches) {
          ADD_FAILURE() << needle.what << " (\"" << needle.value << "\") is in " << path << " line "
                        << number << context;
        }
      }
    }
    for (const auto& [what, count] : matches) {
      if (count > kReportedMatches) {
        ADD_FAILURE() << what << " is in " << count << " lines of " << path << " in all";
      }
    }
    return number;
  }

  // Records a failure for each needle found in `bytes`, naming the needle and `where`.
  static void ScanBytes(std::string_view bytes, const std::vector<Needle>& needles,
                        const std::string& where, std::map<std::string, int>& matches) {
    for (const Needle& needle : needles) {
      if (bytes.find(needle.value) == std::string_view::npos) continue;
      if (++matches[needle.what] <= kReportedMatches) {
        ADD_FAILURE() << needle.what << " (\"" << needle.value << "\") is in " << where;
      }
    }
  }

  static void ReportCounts(const std::map<std::string, int>& matches, const std::string& where) {
    for (const auto& [what, count] : matches) {
      if (count > kReportedMatches) ADD_FAILURE() << what << " is in " << count << " " << where;
    }
  }

  static std::string FileContents(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream contents;
    contents << in.rdbuf();
    return contents.str();
  }

  static bool ready_;
  static std::string marker_;
  static std::vector<SentAlert> alerts_;
  static std::string inbound_sender_;
  static std::string inbound_body_;
  static std::string code_;  // the verification's code
};

bool PrivacyLeakE2eKafkaRedisPostgresTest::ready_ = false;
std::string PrivacyLeakE2eKafkaRedisPostgresTest::marker_;
std::vector<SentAlert> PrivacyLeakE2eKafkaRedisPostgresTest::alerts_;
std::string PrivacyLeakE2eKafkaRedisPostgresTest::inbound_sender_;
std::string PrivacyLeakE2eKafkaRedisPostgresTest::inbound_body_;
std::string PrivacyLeakE2eKafkaRedisPostgresTest::code_;

TEST_F(PrivacyLeakE2eKafkaRedisPostgresTest, EveryAlertEndedAsTheScenarioDroveIt) {
  for (const SentAlert& alert : alerts_) {
    EXPECT_EQ(alert.final_state.status(), alert.expected)
        << alert.label << " (" << alert.alert_id << "): " << alert.final_state.DebugString();
  }
}

TEST_F(PrivacyLeakE2eKafkaRedisPostgresTest, DatabaseDumpHoldsNoNumberOrText) {
  char dir_template[] = "/tmp/klaxon-privacy-dump-XXXXXX";
  const std::filesystem::path dir = mkdtemp(dir_template);
  const std::filesystem::path dump = dir / "audit.sql";
  testing::ChildProcess pg_dump(
      {kPgDump, "--no-owner", "--file", dump.string(), suite_->env().at("KLAXON_PG_URL")},
      {{"PATH", "/usr/bin:/bin"}}, (dir / "pg_dump.log").string());
  ASSERT_EQ(pg_dump.WaitForExit(absl::Seconds(120)), 0) << pg_dump.Log();

  // The dump is the right database, with the scenario's records in it.
  const std::string contents = FileContents(dump);
  for (const SentAlert& alert : alerts_) {
    EXPECT_NE(contents.find(alert.alert_id), std::string::npos)
        << "the dump holds no row of " << alert.label << " (" << alert.alert_id << ")";
  }
  // Name the table of each matching line: its COPY block or, outside one, the statement.
  std::string table;
  Scan(dump, Needles(/*hex=*/true), [&](const std::string& line) -> std::string {
    if (line.starts_with("COPY ")) table = line.substr(5, line.find(' ', 5) - 5);
    if (line == "\\.") table.clear();
    return table.empty() ? " (outside table data)" : absl::StrCat(" (data of ", table, ")");
  });
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

TEST_F(PrivacyLeakE2eKafkaRedisPostgresTest, NoServiceLogLineHoldsANumberOrText) {
  const std::filesystem::path dir = suite_->LogDir();
  std::vector<std::string> scanned;
  std::string logs;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == kSandboxLog) continue;
    scanned.push_back(name);
    logs += FileContents(entry.path());
    Scan(entry.path(), Needles(/*hex=*/false), [](const std::string& line) -> std::string {
      // The log event's name says where the leak is without repeating the line.
      const size_t event = line.find("\"event\":\"");
      if (event == std::string::npos) return "";
      const size_t start = event + 9;
      return absl::StrCat(" (event ", line.substr(start, line.find('"', start) - start), ")");
    });
  }
  // The scan read the services' real logs: every service's file, mentioning every alert.
  EXPECT_THAT(scanned, ::testing::IsSupersetOf(
                           {"ingress.log", "sms-worker.log", "voice-worker.log", "audit.log"}));
  for (const SentAlert& alert : alerts_) {
    EXPECT_NE(logs.find(alert.alert_id), std::string::npos)
        << "no log names " << alert.label << " (" << alert.alert_id << ")";
  }
  // The suite removes its directory when it stops, which is after this test: keep a copy.
  if (HasFailure()) {
    const std::string kept = absl::StrCat(dir.string(), "-kept");
    std::filesystem::copy(dir, kept, std::filesystem::copy_options::recursive);
    std::cerr << "the logs scanned are kept in " << kept << "\n";
  }
}

// Every message of every Kafka topic, read from the beginning of each partition up to the high
// watermark it had once the scenario was over: keys and values.
TEST_F(PrivacyLeakE2eKafkaRedisPostgresTest, NoKafkaKeyOrValueHoldsANumberOrText) {
  const std::string& prefix = suite_->env().at("KLAXON_TOPIC_PREFIX");
  const std::string& brokers = suite_->env().at("KLAXON_KAFKA_BROKERS");
  auto offsets = kafka::KafkaWatermarks::Create({.brokers = brokers});
  ASSERT_TRUE(offsets.ok()) << offsets.status();
  std::map<std::pair<std::string, int32_t>, int64_t> ends;  // partitions with messages
  std::vector<std::string> topics;
  for (const kafka::TopicSpec& spec : kafka::kTopics) {
    const std::string name = absl::StrCat(prefix, std::string(spec.name));
    topics.push_back(name);
    auto partitions = (*offsets)->PartitionCount(name, absl::Seconds(10));
    ASSERT_TRUE(partitions.ok()) << partitions.status();
    for (int32_t partition = 0; partition < *partitions; ++partition) {
      auto high = (*offsets)->HighWatermark(name, partition, absl::Seconds(10));
      ASSERT_TRUE(high.ok()) << high.status();
      if (*high > 0) ends[{name, partition}] = *high;
    }
  }
  // The scenario put something on the request topics, a retry tier and the DLQ.
  std::set<std::string> with_messages;
  for (const auto& [where, end] : ends) with_messages.insert(where.first);
  for (std::string_view topic :
       {kafka::kSmsRequests, kafka::kVoiceRequests, kafka::kTwilioEvents, kafka::kDeliveryEvents,
        kafka::kSmsRetryTiers[1].topic, kafka::kDlq}) {
    EXPECT_TRUE(with_messages.contains(absl::StrCat(prefix, std::string(topic))))
        << "nothing on " << topic;
  }

  // A consumer group of its own reads every topic from the start (auto.offset.reset earliest).
  class Recorder final : public messaging::MessageHandler {
   public:
    absl::Status Handle(const messaging::InboundMessage& message) override {
      std::lock_guard lock(mutex_);
      messages_.push_back(message);
      int64_t& next = next_[{message.topic, message.partition}];
      next = std::max(next, message.offset + 1);
      return absl::OkStatus();
    }
    bool Reached(const std::map<std::pair<std::string, int32_t>, int64_t>& ends) {
      std::lock_guard lock(mutex_);
      for (const auto& [where, end] : ends) {
        auto it = next_.find(where);
        if (it == next_.end() || it->second < end) return false;
      }
      return true;
    }
    std::vector<messaging::InboundMessage> messages() {
      std::lock_guard lock(mutex_);
      return messages_;
    }

   private:
    std::mutex mutex_;
    std::vector<messaging::InboundMessage> messages_;
    std::map<std::pair<std::string, int32_t>, int64_t> next_;
  };
  Recorder recorder;
  auto consumer = kafka::KafkaConsumer::Create(
      {.brokers = brokers,
       .group_id = absl::StrCat(prefix, "privacy-dump"),
       .topics = topics,
       .client_id = "privacy-dump",
       .log = [](std::string_view, std::string_view, std::string_view) {}});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  {
    messaging::ThreadPoolHandler pooled(recorder, {.threads = 1});
    std::jthread reading(
        [&](std::stop_token stop) { EXPECT_TRUE((*consumer)->Run(pooled, stop).ok()); });
    const absl::Time deadline = absl::Now() + kWait;
    while (!recorder.Reached(ends) && absl::Now() < deadline)
      absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(recorder.Reached(ends)) << "the dump did not reach every partition's end in time";

  const std::vector<Needle> needles = Needles(/*hex=*/false);
  std::map<std::string, int> matches;
  std::set<std::string> alert_ids_seen;
  for (const messaging::InboundMessage& message : recorder.messages()) {
    const std::string where =
        absl::StrCat(message.topic, " [", message.partition, "] @", message.offset);
    ScanBytes(message.key, needles, absl::StrCat("the key of ", where), matches);
    ScanBytes(message.value, needles, absl::StrCat("the value of ", where), matches);
    for (const SentAlert& alert : alerts_) {
      if (message.key == alert.alert_id) alert_ids_seen.insert(alert.alert_id);
    }
  }
  ReportCounts(matches, "Kafka messages in all");
  // The dump read the scenario's messages: each alert's are keyed by its id.
  for (const SentAlert& alert : alerts_) {
    EXPECT_TRUE(alert_ids_seen.contains(alert.alert_id)) << "no message of " << alert.label;
  }
}

// Every key of the suite in Redis (SCAN over its prefix) and its value, read by type.
TEST_F(PrivacyLeakE2eKafkaRedisPostgresTest, NoRedisKeyOrValueHoldsANumberOrText) {
  auto redis = redis::RedisClient::Create({.url = suite_->env().at("KLAXON_REDIS_URL")});
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string scan_all = absl::StrCat(testing::kScanLua, R"lua(
local keys = {}
scan(ARGV[1], function(page) for _, key in ipairs(page) do keys[#keys + 1] = key end end)
return keys)lua");
  const std::string pattern = testing::KeysUnder(suite_->env().at("KLAXON_REDIS_KEY_PREFIX"));
  absl::StatusOr<redis::Reply> keys = (*redis)->Command({"EVAL", scan_all, "0", pattern});
  ASSERT_TRUE(keys.ok()) << keys.status();
  std::vector<Needle> needles = Needles(/*hex=*/false);
  // The bare code only here: six digits alone would match by chance in logs and dumps full of
  // timestamps, but Redis holds the verification itself, so this is where it would leak.
  needles.push_back({"the verification's code", code_});
  std::map<std::string, int> matches;
  std::set<std::string> types_seen;
  for (const std::optional<std::string>& key : keys->elements) {
    ASSERT_TRUE(key.has_value());
    ScanBytes(*key, needles, absl::StrCat("the Redis key ", *key), matches);
    absl::StatusOr<redis::Reply> type = (*redis)->Command({"TYPE", *key});
    ASSERT_TRUE(type.ok()) << type.status();
    std::vector<std::string> read;
    if (type->str == "string") {
      read = {"GET", *key};
    } else if (type->str == "hash") {
      read = {"HGETALL", *key};
    } else if (type->str == "zset") {
      read = {"ZRANGE", *key, "0", "-1", "WITHSCORES"};
    } else if (type->str == "set") {
      read = {"SMEMBERS", *key};
    } else if (type->str == "list") {
      read = {"LRANGE", *key, "0", "-1"};
    } else if (type->str == "none") {
      continue;  // expired since the scan
    } else {
      ADD_FAILURE() << "the Redis key " << *key << " is a " << type->str << ", which this test "
                    << "cannot read";
      continue;
    }
    types_seen.insert(type->str);
    absl::StatusOr<redis::Reply> value = (*redis)->Command(read);
    ASSERT_TRUE(value.ok()) << value.status();
    const std::string where = absl::StrCat("the value of the Redis ", type->str, " ", *key);
    ScanBytes(value->str, needles, where, matches);
    for (const std::optional<std::string>& element : value->elements) {
      if (element) ScanBytes(*element, needles, where, matches);
    }
  }
  ReportCounts(matches, "Redis keys and values in all");
  // The scan read the suite's state: idempotency records (hashes) and the voice worker's
  // remembered requests (strings) among them. (Its recipients in escalation, sorted sets, are
  // gone once both voice alerts were acknowledged; the suite sets no recipient limits.)
  EXPECT_GE(keys->elements.size(), alerts_.size()) << "too few Redis keys scanned";
  EXPECT_THAT(types_seen, ::testing::IsSupersetOf({"string", "hash"}));
}

TEST_F(PrivacyLeakE2eKafkaRedisPostgresTest, GetAlertReturnsTheDecryptedRecipientAndText) {
  auto query = suite_->QueryStub();
  for (const SentAlert& alert : alerts_) {
    alerts::v1::GetAlertRequest request;
    request.set_alert_id(alert.alert_id);
    Alert answer;
    const grpc::Status rpc = query->GetAlert(Suite::CallContext().get(), request, &answer);
    ASSERT_TRUE(rpc.ok()) << alert.label << ": " << rpc.error_message();
    EXPECT_EQ(answer.recipient(), alert.recipient) << "recipient of " << alert.label;
    EXPECT_EQ(answer.text(), alert.text) << "text of " << alert.label;
    EXPECT_FALSE(answer.personal_data_shredded()) << alert.label;
  }
}

}  // namespace
}  // namespace klaxon::e2e::privacy_leak_test
