// The whole suite with every link encrypted and authenticated, as production runs it
// (docs/adr/0011-encrypted-links.md): the test starts a stack of its own with
// `KLAXON_STACK_TLS=1 scripts/stack.sh up` (a CA and certificates made with openssl; Kafka with
// only a SASL_SSL listener and a SCRAM-SHA-512 user; Redis with TLS only and ACL users, reached
// through an stunnel client; Postgres with ssl=on that takes TCP logins only over TLS), runs
// ingress, both workers, audit and the Twilio sandbox against it and delivers an alert. Then each
// link refuses a client with wrong credentials or an untrusted server certificate, and the
// service says which link and which settings. One stack serves every test of this binary: the
// Kafka JVM's start is the slow part.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/api_keys.h"
#include "common/crypto/test_keyring.h"
#include "tests/e2e/suite.h"
#include "tests/support/process.h"
#include "tests/support/support.h"

namespace klaxon::e2e::encrypted_links_test {
namespace {

using ::testing::AllOf;
using testing::ChildProcess;
using testing::FreePort;
using ::testing::HasSubstr;
using ::testing::Not;

// Generous for a broker's JVM, a Postgres cluster and certificates on a loaded two-core machine.
constexpr absl::Duration kStackStart = absl::Minutes(4);
constexpr absl::Duration kRefusal = absl::Seconds(60);

// The test's own stack: started once for the binary, stopped when it ends.
class EncryptedStack {
 public:
  void Start() {
    char dir_template[] = "/tmp/klaxon-tls-stack-XXXXXX";
    dir_ = mkdtemp(dir_template);
    std::map<std::string, std::string> env = testing::ToolEnvironment();
    env["KLAXON_STACK_TLS"] = "1";
    ChildProcess up({KLAXON_STACK_SCRIPT, "up", dir_}, env, dir_ + "/stack-up.log");
    const std::optional<int> code = up.WaitForExit(kStackStart);
    ASSERT_EQ(code, 0) << up.Log();
    std::ifstream file(dir_ + "/env");
    for (std::string line; std::getline(file, line);) {
      const std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits('=', 1));
      if (parts.size() == 2) env_[parts[0]] = parts[1];
    }
    ASSERT_TRUE(env_.contains("KLAXON_STACK_TLS_DIR")) << "no TLS stack in " << dir_;
    // The test's own Postgres connections (creating the suite's database) verify the server as
    // the services do.
    setenv("PGSSLMODE", "verify-full", 1);
    setenv("PGSSLROOTCERT", Tls("ca.crt").c_str(), 1);
  }

  void Stop() {
    if (dir_.empty()) return;
    ChildProcess down({KLAXON_STACK_SCRIPT, "down", dir_}, testing::ToolEnvironment(),
                      dir_ + "/stack-down.log");
    EXPECT_EQ(down.WaitForExit(absl::Minutes(2)), 0) << down.Log();
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir_);
  }

  // How every Klaxon process authenticates and protects its links (DIR/env less the addresses,
  // which Backends carries, and the stack's own lines).
  std::map<std::string, std::string> LinkSettings() const {
    std::map<std::string, std::string> settings;
    for (const auto& [name, value] : env_) {
      if (name.starts_with("KLAXON_STACK_") || name == "KLAXON_KAFKA_BROKERS" ||
          name == "KLAXON_REDIS_URL" || name == "KLAXON_PG_URL") {
        continue;
      }
      settings[name] = value;
    }
    return settings;
  }
  Backends backends() const {
    return {.kafka_brokers = env_.at("KLAXON_KAFKA_BROKERS"),
            .redis_url = env_.at("KLAXON_REDIS_URL"),
            .pg_url = env_.at("KLAXON_PG_URL")};
  }
  std::string Tls(const std::string& file) const {
    return env_.at("KLAXON_STACK_TLS_DIR") + "/" + file;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::map<std::string, std::string> env_;
};

EncryptedStack* stack = nullptr;

class EncryptedLinksE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack = new EncryptedStack();
    stack->Start();
  }
  static void TearDownTestSuite() {
    stack->Stop();
    delete stack;
    stack = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_NE(stack, nullptr);
  }

  // Runs `binary` with the encrypted stack's settings changed by `overrides` (an empty value
  // removes a variable) and returns its log once it exited; a process that keeps running, or
  // exits 0, fails the test.
  std::string RunUntilRefused(const std::string& name, const std::string& binary,
                              const std::map<std::string, std::string>& overrides) {
    std::map<std::string, std::string> env = ServiceEnvironment();
    for (const auto& [key, value] : overrides) {
      if (value.empty()) {
        env.erase(key);
      } else {
        env[key] = value;
      }
    }
    ChildProcess process({binary}, env, stack->dir() + "/" + name + ".log");
    const std::optional<int> code = process.WaitForExit(kRefusal);
    if (!code.has_value()) process.Stop();
    EXPECT_TRUE(code.has_value() && *code != 0)
        << name << " was not refused (exit " << code.value_or(-1) << "):\n"
        << process.Log();
    return process.Log();
  }

  // What ingress and audit need to start, with the stack's addresses and link settings.
  static std::map<std::string, std::string> ServiceEnvironment() {
    std::map<std::string, std::string> env = stack->LinkSettings();
    const Backends backends = stack->backends();
    env.merge(std::map<std::string, std::string>{
        {"PATH", "/usr/bin:/bin"},
        {"KLAXON_KAFKA_BROKERS", backends.kafka_brokers},
        {"KLAXON_REDIS_URL", backends.redis_url},
        {"KLAXON_PG_URL", backends.pg_url},
        {"KLAXON_PII_HMAC_KEY", "e2e-pii-hmac-key-0123456789"},
        {"KLAXON_KEYRING", crypto::testing::KeyringDocument(1, {1})},
        {"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(7, {7})},
        {"KLAXON_BLIND_INDEX_KEY", "e2e-blind-index-key-0123456789abcdef"},
        {"KLAXON_API_KEYS", "e2e=" + auth::HashApiKey(Suite::kApiKey)},
        {"KLAXON_GRPC_ADDR", absl::StrCat("127.0.0.1:", FreePort())},
        {"KLAXON_ADMIN_ADDR", absl::StrCat("127.0.0.1:", FreePort())},
        {"KLAXON_WEBHOOK_ADDR", absl::StrCat("127.0.0.1:", FreePort())},
        {"KLAXON_HTTP_API_ADDR", absl::StrCat("127.0.0.1:", FreePort())},
        {"KLAXON_REDIS_KEY_PREFIX", testing::UniquePrefix()},
        {"KLAXON_GRPC_PLAINTEXT", "true"},  // gRPC TLS is the delivering test's part
        {"KLAXON_TWILIO_SANDBOX", "true"}});
    env.merge(testing::SanitizerEnvironment());
    return env;
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// What klaxonctl printed and its exit code.
struct CtlRun {
  int code = -1;
  std::string output;
};

TEST_F(EncryptedLinksE2eTest, DeliversAnAlertWithEveryLinkEncryptedAndAuthenticated) {
  // gRPC with TLS and client certificates (mTLS) of the stack's CA, on top of the API keys.
  std::map<std::string, std::string> env = stack->LinkSettings();
  env["KLAXON_GRPC_PLAINTEXT"] = "";  // the suite's default; empty counts as unset
  env["KLAXON_GRPC_TLS_CERT_FILE"] = stack->Tls("server.crt");
  env["KLAXON_GRPC_TLS_KEY_FILE"] = stack->Tls("server.key");
  env["KLAXON_GRPC_TLS_CLIENT_CA_FILE"] = stack->Tls("ca.crt");
  Suite suite;
  ASSERT_NO_FATAL_FAILURE(suite.Start(
      {.env = env,
       .backends = stack->backends(),
       .grpc_credentials =
           grpc::SslCredentials({.pem_root_certs = ReadFile(stack->Tls("ca.crt")),
                                 .pem_private_key = ReadFile(stack->Tls("client.key")),
                                 .pem_cert_chain = ReadFile(stack->Tls("client.crt"))})}));

  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient("+14155550123");
  request.set_text("every link encrypted");
  request.set_idempotency_key("encrypted-links-1");
  alerts::v1::SendAlertResponse response;
  const grpc::Status sent =
      suite.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &response);
  ASSERT_TRUE(sent.ok()) << sent.error_message();
  const alerts::v1::Alert alert =
      WaitForStatus(*suite.QueryStub(), response.alert_id(), types::v1::ALERT_STATUS_DELIVERED,
                    absl::Seconds(60));
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED) << alert.DebugString();

  // Audit's connections to Postgres are encrypted (the server would refuse others anyway).
  pqxx::connection admin(stack->backends().pg_url);
  const pqxx::row ssl = pqxx::nontransaction(admin).exec1(
      "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) "
      "FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
      "WHERE a.datname <> 'klaxon' AND a.backend_type = 'client backend'");
  EXPECT_GT(ssl[0].as<int>(), 0);
  EXPECT_EQ(ssl[1].as<int>(), 0);

  // klaxonctl with the CA and a client certificate reads the alert; without a certificate, or
  // with one of another CA, ingress refuses it and klaxonctl names the link.
  const auto ctl = [&](const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        suite.Binary("klaxonctl"), "--api-key", Suite::kApiKey,       "--ingress",
        suite.IngressAddress(),    "--audit",   suite.AuditAddress(), "--ca",
        stack->Tls("ca.crt")};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> ctl_env = {{"PATH", "/usr/bin:/bin"}};
    ctl_env.merge(testing::SanitizerEnvironment());
    ChildProcess process(argv, ctl_env, stack->dir() + "/klaxonctl-" + name + ".log");
    const std::optional<int> code = process.WaitForExit(absl::Seconds(30));
    return CtlRun{.code = code.value_or(-1), .output = process.Log()};
  };
  const CtlRun get = ctl("get", {"--cert", stack->Tls("client.crt"), "--key",
                                 stack->Tls("client.key"), "get", response.alert_id()});
  EXPECT_EQ(get.code, 0) << get.output;
  const std::vector<std::string> send = {"send", "--to", "+14155550123", "--text", "x"};
  const CtlRun without_certificate = ctl("no-certificate", send);
  EXPECT_NE(without_certificate.code, 0) << without_certificate.output;
  EXPECT_THAT(without_certificate.output, HasSubstr("ingress gRPC at " + suite.IngressAddress()));
  std::vector<std::string> other_ca = {"--cert", stack->Tls("other-client.crt"), "--key",
                                       stack->Tls("other-client.key")};
  other_ca.insert(other_ca.end(), send.begin(), send.end());
  const CtlRun other = ctl("other-ca", other_ca);
  EXPECT_NE(other.code, 0) << other.output;
  EXPECT_THAT(other.output, HasSubstr("ingress gRPC at " + suite.IngressAddress()));
}

TEST_F(EncryptedLinksE2eTest, KafkaRefusesAWrongPasswordAndTheServiceNamesTheLink) {
  const std::string log = RunUntilRefused(
      "ingress-wrong-kafka-password", Suite::Binary("klaxon-ingress"),
      {{"KLAXON_KAFKA_SASL_PASSWORD_FILE", ""}, {"KLAXON_KAFKA_SASL_PASSWORD", "wrong-kafka-pw"}});
  EXPECT_THAT(log, HasSubstr(absl::StrCat(
                       "kafka: SASL authentication failed for user \\\"klaxon\\\" at ",
                       stack->backends().kafka_brokers,
                       ": check KLAXON_KAFKA_SASL_USERNAME and KLAXON_KAFKA_SASL_PASSWORD")));
  EXPECT_THAT(log, Not(HasSubstr("wrong-kafka-pw"))) << "the password was logged";
}

TEST_F(EncryptedLinksE2eTest, RedisRefusesAWrongPasswordAndTheServiceNamesTheLink) {
  const std::string log = RunUntilRefused(
      "ingress-wrong-redis-password", Suite::Binary("klaxon-ingress"),
      {{"KLAXON_REDIS_PASSWORD_FILE", ""}, {"KLAXON_REDIS_PASSWORD", "wrong-redis-pw"}});
  EXPECT_THAT(log, AllOf(HasSubstr("redis: AUTH as user \\\"klaxon\\\" refused at 127.0.0.1:"),
                         HasSubstr("check KLAXON_REDIS_USERNAME and KLAXON_REDIS_PASSWORD")));
  EXPECT_THAT(log, Not(HasSubstr("wrong-redis-pw"))) << "the password was logged";
}

TEST_F(EncryptedLinksE2eTest, PostgresVerifyFullRefusesAServerCertificateOfAnotherCa) {
  const std::string log =
      RunUntilRefused("audit-other-ca", Suite::Binary("klaxon-audit"),
                      {{"KLAXON_PG_SSLROOTCERT_FILE", stack->Tls("other-ca.crt")}});
  EXPECT_THAT(
      log, AllOf(HasSubstr("postgres: the TLS link was refused"),
                 HasSubstr("certificate verify failed"), HasSubstr("KLAXON_PG_SSLROOTCERT_FILE")));
}

TEST_F(EncryptedLinksE2eTest, PostgresRefusesAPlaintextConnection) {
  const std::string log =
      RunUntilRefused("audit-plaintext-pg", Suite::Binary("klaxon-audit"),
                      {{"KLAXON_PG_SSLMODE", "disable"}, {"KLAXON_PG_SSLROOTCERT_FILE", ""}});
  EXPECT_THAT(log,
              AllOf(HasSubstr("postgres: the TLS link was refused"), HasSubstr("no encryption")));
}

}  // namespace
}  // namespace klaxon::e2e::encrypted_links_test
