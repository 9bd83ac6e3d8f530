// Key rotation while alerts flow (docs/adr/0008-audit-records.md, "Rotation rewraps, never
// re-encrypts"): a caller keeps sending alerts while audit is rolled to a keyring with a new
// current version, `klaxon-audit-admin rotate` rewraps the data keys, and audit is rolled again
// with the old version removed. Every accepted alert still reaches a final status that GetAlert
// reports, none is lost, and every data key in Postgres is under the new version and opens with
// it alone. Besides the keys audit writes itself, the test seeds keys sealed under the old
// version so the rotation always has work. Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL,
// KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/alert_status/alert_status.h"
#include "common/crypto/envelope.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"
#include "services/audit/personal_data.h"
#include "tests/e2e/suite.h"
#include "tests/support/process.h"

namespace klaxon::e2e::key_rotation_test {
namespace {

constexpr char kSeededTable[] = "e2e_seeded";
constexpr int kSeededKeys = 3000;
// Each step waits for this many more accepted alerts, so alerts are in flight across it.
constexpr size_t kAlertsPerStep = 10;
// Consumer group joins on a loaded two-core machine, then a few sends.
constexpr absl::Duration kWait = absl::Seconds(120);

struct Sent {
  std::string alert_id;
  std::string recipient;
  std::string text;
};

crypto::LocalKeyring Keyring(uint32_t current, std::initializer_list<uint32_t> versions) {
  return crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(current, versions)).value();
}

class KeyRotationE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(suite_.Start()); }

  void TearDown() override { sender_ = {}; }

  // Sends SMS alerts, each under its own key, until stopped; remembers those accepted.
  void StartSending() {
    sender_ = std::jthread([this](std::stop_token stop) {
      auto intake = suite_.IntakeStub();
      for (int i = 0; !stop.stop_requested(); ++i) {
        alerts::v1::SendAlertRequest request;
        request.set_channel(types::v1::CHANNEL_SMS);
        request.set_recipient(absl::StrCat("+1415555", 1000 + i % 9000));
        request.set_text(absl::StrCat("rotation check ", i));
        request.set_idempotency_key(absl::StrCat("rotation-", i));
        alerts::v1::SendAlertResponse response;
        const grpc::Status rpc = intake->SendAlert(Suite::CallContext().get(), request, &response);
        std::lock_guard lock(mutex_);
        if (rpc.ok()) {
          sent_.push_back({response.alert_id(), request.recipient(), request.text()});
        } else {
          refused_.push_back(absl::StrCat(rpc.error_code(), " ", rpc.error_message()));
        }
        // Pacing, not waiting for anything: a steady trickle of alerts across every step.
        absl::SleepFor(absl::Milliseconds(30));
      }
    });
  }

  size_t Accepted() {
    std::lock_guard lock(mutex_);
    return sent_.size();
  }

  // Polls until `more` alerts beyond those accepted now are accepted.
  void WaitForMoreAlerts(size_t more) {
    const size_t target = Accepted() + more;
    const absl::Time deadline = absl::Now() + kWait;
    while (Accepted() < target && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
    ASSERT_GE(Accepted(), target) << "the sender stalled";
  }

  // Data keys sealed under version 1 straight into the suite's database, as an audit on the old
  // keyring would have left them; remembers each record's ciphertext.
  void SeedKeys(crypto::LocalKeyring& v1) {
    audit::PersonalData personal_data(v1);
    pqxx::connection connection(suite_.env().at("KLAXON_PG_URL"));
    pqxx::work txn(connection);
    for (int i = 0; i < kSeededKeys; ++i) {
      const std::string id = absl::StrCat("record-", i);
      absl::StatusOr<audit::SealedRecord> sealed =
          personal_data.Seal(kSeededTable, id, {{"text", "seeded " + id}});
      ASSERT_TRUE(sealed.ok()) << sealed.status();
      txn.exec_params(
          "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) "
          "VALUES ($1, $2, $3, now())",
          sealed->owner, static_cast<int64_t>(sealed->wrapped_key.kek_version),
          pqxx::binarystring(sealed->wrapped_key.sealed.data(), sealed->wrapped_key.sealed.size()));
      seeded_[id] = sealed->ciphertext;
    }
    txn.commit();
  }

  // Runs `klaxon-audit-admin rotate` as an operator would, against the suite's database.
  nlohmann::json Rotate(const std::string& keyring) {
    std::map<std::string, std::string> env = suite_.env();
    env["KLAXON_KEYRING"] = keyring;
    testing::ChildProcess rotate(
        {suite_.Binary("klaxon-audit-admin"), "rotate", "--batch-size", "500"}, env,
        suite_.LogPath("audit-admin-rotate"));
    EXPECT_EQ(rotate.WaitForExit(kWait), 0) << rotate.Log();
    const std::string log = rotate.Log();
    const size_t last_line = log.rfind('\n', log.size() - 2);
    return nlohmann::json::parse(log.substr(last_line == std::string::npos ? 0 : last_line + 1),
                                 nullptr, /*allow_exceptions=*/false);
  }

  Suite suite_;
  std::jthread sender_;
  std::mutex mutex_;
  std::vector<Sent> sent_;
  std::vector<std::string> refused_;
  std::map<std::string, audit::Fields> seeded_;
};

TEST_F(KeyRotationE2eKafkaRedisPostgresTest, AlertsFlowAndEveryKeyEndsUnderTheNewVersion) {
  crypto::LocalKeyring v1 = Keyring(1, {1});
  crypto::LocalKeyring v2_only = Keyring(2, {2});
  ASSERT_NO_FATAL_FAILURE(SeedKeys(v1));
  StartSending();
  ASSERT_NO_FATAL_FAILURE(WaitForMoreAlerts(kAlertsPerStep));

  // 1. Version 2 becomes current; audit still holds version 1 to open older records.
  ASSERT_NO_FATAL_FAILURE(suite_.RestartService(
      "audit", {{"KLAXON_KEYRING", crypto::testing::KeyringDocument(2, {1, 2})}}));
  ASSERT_NO_FATAL_FAILURE(WaitForMoreAlerts(kAlertsPerStep));
  // 2. Rotate while alerts keep coming.
  const nlohmann::json rotated = Rotate(crypto::testing::KeyringDocument(2, {1, 2}));
  ASSERT_NO_FATAL_FAILURE(WaitForMoreAlerts(kAlertsPerStep));
  // 3. Version 1 leaves the keyring.
  ASSERT_NO_FATAL_FAILURE(suite_.RestartService(
      "audit", {{"KLAXON_KEYRING", crypto::testing::KeyringDocument(2, {2})}}));
  ASSERT_NO_FATAL_FAILURE(WaitForMoreAlerts(kAlertsPerStep));
  sender_.request_stop();
  sender_.join();

  ASSERT_TRUE(rotated.is_object() && rotated.value("event", "") == "keys_rotated")
      << rotated.dump();
  EXPECT_EQ(rotated["report"]["current_version"], 2);
  EXPECT_EQ(rotated["report"]["remaining"], nlohmann::json::object());
  EXPECT_GE(rotated["report"]["rewrapped"].get<int64_t>(), kSeededKeys);
  EXPECT_THAT(refused_, ::testing::IsEmpty());

  auto query = suite_.QueryStub();
  for (const Sent& sent : sent_) {
    const alerts::v1::Alert alert =
        WaitForStatus(*query, sent.alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
    EXPECT_TRUE(alert_status::IsFinal(alert.status()))
        << sent.alert_id << " is " << types::v1::AlertStatus_Name(alert.status());
    // GetAlert decrypts with the version-2-only keyring once audit stores personal data.
    if (!alert.recipient().empty()) {
      EXPECT_EQ(alert.recipient(), sent.recipient);
    }
    if (!alert.text().empty()) {
      EXPECT_EQ(alert.text(), sent.text);
    }
  }

  pqxx::connection connection(suite_.env().at("KLAXON_PG_URL"));
  pqxx::work txn(connection);
  EXPECT_EQ(txn.exec1("SELECT count(*) FROM alerts")[0].as<size_t>(), sent_.size())
      << "accepted alerts and alerts in Postgres differ";
  crypto::Envelope envelope(v2_only);
  audit::PersonalData personal_data(v2_only);
  size_t keys = 0;
  for (const pqxx::row row : txn.exec("SELECT owner, kek_version, wrapped_key FROM data_keys")) {
    ++keys;
    const std::string owner = row[0].as<std::string>();
    const crypto::WrappedKey wrapped{.kek_version = row[1].as<uint32_t>(),
                                     .sealed = pqxx::binarystring(row[2]).str()};
    EXPECT_EQ(wrapped.kek_version, 2u) << owner;
    EXPECT_TRUE(envelope.OpenKey(wrapped, owner).ok()) << owner;
    const std::string prefix = absl::StrCat(kSeededTable, "/");
    if (owner.starts_with(prefix)) {
      const std::string id = owner.substr(prefix.size());
      absl::StatusOr<audit::Fields> opened =
          personal_data.Open(kSeededTable, id, wrapped, seeded_.at(id));
      ASSERT_TRUE(opened.ok()) << opened.status();
      EXPECT_EQ(opened->at("text"), "seeded " + id);
    }
  }
  EXPECT_GE(keys, static_cast<size_t>(kSeededKeys));
  EXPECT_THAT(suite_.Exited(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace klaxon::e2e::key_rotation_test
