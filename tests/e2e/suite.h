#pragma once
// The whole Klaxon suite started for one end-to-end test, or for one file's tests
// (SharedSuiteTest): the Twilio sandbox and the four services as real processes, against the real
// Kafka, Redis and Postgres that scripts/test.sh started (KLAXON_TEST_*), or against a stack of the
// test's own (a chaos test restarts it). Each Suite gets its own topic prefix, Redis key prefix,
// database and ports, so suites never see each other's data; the database is dropped when it stops,
// and on the test stack its topics and keys are deleted.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "klaxon/alerts/v1/inbound_messages.grpc.pb.h"
#include "klaxon/verify/v1/verify.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/http.h"
#include "tests/support/kafka.h"
#include "tests/support/process.h"
#include "tests/support/redis.h"

namespace klaxon::e2e {

// Where the suite's Kafka, Redis and Postgres listen; the Postgres URL names a database the
// suite may create others next to.
struct Backends {
  std::string kafka_brokers;
  std::string redis_url;
  std::string pg_url;
};

struct SuiteOptions {
  int sms_workers = 1;  // more share the SMS work as replicas do: sms-worker, sms-worker-2, ...
  std::map<std::string, std::string> env;  // added to every process's environment
  // Added to (or overriding) the environment of sms-worker and voice-worker only, e.g. short
  // retry settings.
  std::map<std::string, std::string> worker_env;
  std::optional<Backends> backends;  // unset: the test stack (KLAXON_TEST_*)
  // How the suite's own gRPC clients connect; null: plaintext (the servers then need
  // KLAXON_GRPC_PLAINTEXT=true, the default here). A test that serves TLS sets both.
  std::shared_ptr<grpc::ChannelCredentials> grpc_credentials = nullptr;
};

class Suite {
 public:
  static constexpr char kApiKey[] = "e2e-api-key";
  // A second caller's key, for what one caller must not see of another's alerts.
  static constexpr char kOtherApiKey[] = "e2e-other-api-key";
  static constexpr char kSender[] = "+14155552671";
  // The sandbox's account, which the suite's services send on.
  static constexpr char kAccountSid[] = "AC00000000000000000000000000000000";

  Suite() = default;
  // Stops every process (checking each drained cleanly), drops the database and deletes the
  // topics and keys.
  ~Suite();

  // Starts everything and waits until each service answers /readyz, against options.backends or
  // else the test stack (KLAXON_TEST_*). Records a fatal failure otherwise, so call it as
  // ASSERT_NO_FATAL_FAILURE(suite.Start()).
  void Start(const SuiteOptions& options = {});

  // Kills service `name` (e.g. "sms-worker") with SIGKILL, as a crash or an OOM kill would, then
  // starts it again with the same environment and waits until it is ready. Records a fatal
  // failure if it does not come back.
  void CrashAndRestart(const std::string& name);
  // Stops service `name` as a rolling update would (SIGTERM, checking it drained cleanly), then
  // starts it again with its environment changed by `env_overrides` (e.g. a new keyring) and
  // waits until it is ready. Records a fatal failure if it does not come back.
  void RestartService(const std::string& name,
                      const std::map<std::string, std::string>& env_overrides);
  // Names of the suite's processes that exited by themselves (a crash the test did not cause).
  std::vector<std::string> Exited();

  std::unique_ptr<alerts::v1::AlertIntake::Stub> IntakeStub() const;
  std::unique_ptr<alerts::v1::AlertQuery::Stub> QueryStub() const;
  std::unique_ptr<alerts::v1::DeadLetters::Stub> DeadLettersStub() const;
  std::unique_ptr<alerts::v1::Templates::Stub> TemplatesStub() const;
  std::unique_ptr<alerts::v1::InboundMessages::Stub> InboundMessagesStub() const;
  // Phone verification, served by ingress.
  std::unique_ptr<verify::v1::Verification::Stub> VerificationStub() const;
  // A client context carrying an API key of the suite (the first caller's unless told) and a
  // deadline.
  // Sends `request` through SendAlert (a test failure when it is refused); its alert id.
  std::string SendAlert(const alerts::v1::SendAlertRequest& request) const;

  static std::unique_ptr<grpc::ClientContext> CallContext(
      absl::Duration deadline = absl::Seconds(10), const std::string& api_key = kApiKey);
  // host:port of audit's gRPC server (AlertQuery, DeadLetters), for clients a test runs.
  std::string AuditAddress() const;
  // host:port of ingress's gRPC server (AlertIntake).
  std::string IngressAddress() const;
  // host:port of the caller API as HTTP/JSON (served by ingress).
  std::string HttpApiAddress() const;
  // Calls the caller API over HTTP/JSON: `method` `path` (e.g. "/v1/alerts") with `body` as JSON
  // if any, and `api_key` as the Bearer token unless empty.
  testing::HttpResponse CallHttpApi(std::string method, const std::string& path,
                                    std::string body = "", const std::string& api_key = kApiKey,
                                    absl::Duration timeout = absl::Seconds(10)) const;

  // The sandbox ledger (every message and call it accepted); an unreadable one fails the test.
  nlohmann::json Ledger() const;
  // The sandbox's pacing of each sender's messages received in [since, until) (GET
  // /sandbox/pacing): by sender, how many, and the most in any window of `window`.
  nlohmann::json SenderPacing(absl::Duration window, absl::Time since = absl::InfinitePast(),
                              absl::Time until = absl::InfiniteFuture()) const;
  // The ledger's entries to `to` of `kind` ("message" or "call"), in the order received.
  std::vector<nlohmann::json> LedgerTo(const std::string& to, const std::string& kind) const;
  // The requests the sandbox refused (injected faults, validation), read the same way.
  nlohmann::json Rejected() const;
  // Adds fault rules (tools/twilio-sandbox/fault_rules.h: one JSON rule object or an array) to
  // the running sandbox; a refusal fails the test.
  void AddSandboxFaults(const std::string& rules_json) const;
  // Removes every fault rule of the sandbox.
  void ClearSandboxFaults() const;
  // The /metrics text of service `name` (e.g. "sms-worker"); one that does not answer fails the
  // test.
  std::string Metrics(const std::string& name) const;
  // Posts an SMS from `from` to the suite's number to ingress's inbound webhook, signed as Twilio
  // would (a STOP, a START, an ACK ...); a refusal fails the test. The TwiML ingress answered goes
  // to `twiml` if given.
  void ReceiveSms(const std::string& from, const std::string& body,
                  std::string* twiml = nullptr) const;
  // A person texts `body` from `from` to the suite's number through the sandbox, which applies
  // Advanced Opt-Out itself (a STOP makes its later sends to them 21610) and posts the message,
  // signed, to ingress as Twilio would; a refusal by the sandbox fails the test.
  void TextFromPerson(const std::string& from, const std::string& body) const;

  // The environment every service of this suite runs with; tests start extra processes with it.
  const std::map<std::string, std::string>& env() const { return env_; }
  // The path of a binary the suite or a test runs, by its target name (e.g. "klaxon-ingress").
  static std::string Binary(const std::string& name);
  std::string LogPath(const std::string& name) const;
  // Where every process of the suite (and the setup tools) writes its log.
  const std::string& LogDir() const { return dir_; }
  // Concatenated logs of Klaxon's own services (not the sandbox), for leak checks.
  std::string ServiceLogs() const;

 private:
  nlohmann::json SandboxEntries(const std::string& path) const;
  // Registers service `name` (how to start it again) and starts its process.
  void StartService(const std::string& name, const std::string& binary,
                    std::map<std::string, std::string> extra_env);
  // Starts the process of `launches_[name]`, without waiting for it to serve.
  void Spawn(const std::string& name);
  // The process slot of `name` (a service or the sandbox); std::out_of_range if there is none.
  std::unique_ptr<testing::ChildProcess>& NamedProcess(const std::string& name);
  // Polls `url` until it answers 200, or any HTTP status when `any_status`, while process `name`
  // runs; a fatal failure otherwise.
  void WaitReady(const std::string& name, const std::string& url, bool any_status = false);

  // On the test stack, the topics and keys go once every process has stopped (a test's own stack
  // goes whole).
  testing::TopicsDeletedAtEnd topics_deleted_at_end_;
  testing::KeysDeletedAtEnd keys_deleted_at_end_;
  std::string dir_;
  std::string database_;
  std::string admin_pg_url_;
  std::map<std::string, std::string> env_;
  int sandbox_port_ = 0;
  int ingress_port_ = 0;
  int webhook_port_ = 0;
  int audit_port_ = 0;
  int http_api_port_ = 0;
  std::shared_ptr<grpc::ChannelCredentials> grpc_credentials_;
  std::vector<std::pair<std::string, std::unique_ptr<testing::ChildProcess>>> processes_;
  // How each service was started, so it can be started again the same way.
  struct LaunchSpec {
    std::string binary;
    std::map<std::string, std::string> env;
    std::string ready_url;
  };
  std::map<std::string, LaunchSpec> launches_;
};

// The fixture of a file whose tests each look only at their own alerts, recipients and sandbox
// rules: they share one running suite, started before the file's first test and stopped after its
// last, since a start and a stop take seconds under the sanitizers (ADR 0047). A test that counts
// something of the whole suite (the ledger's size, a metric) needs a suite of its own instead. The
// derived fixture starts it, and seeds what its tests share after it:
//   static void SetUpTestSuite() { ASSERT_NO_FATAL_FAILURE(StartSharedSuite({...})); }
// If that fails, gtest skips the file's tests and the file fails on SetUpTestSuite's failure.
class SharedSuiteTest : public ::testing::Test {
 protected:
  static void StartSharedSuite(const SuiteOptions& options = {});
  static void TearDownTestSuite();
  // Each test fails at once when a service of the suite exited during an earlier one, and a test
  // during which one exited fails itself, so a crash is charged to the test that caused it.
  void SetUp() override;
  void TearDown() override;

  static inline std::unique_ptr<Suite> suite_;

 private:
  static inline bool started_ = false;
  bool set_up_ = false;  // SetUp passed: the test ran with every service up
};

// An SMS alert of `text` to `recipient` under `idempotency_key`.
alerts::v1::SendAlertRequest SmsAlert(std::string recipient, std::string text,
                                      std::string idempotency_key);

// Polls GetAlert until the alert has `status`, or any final status, or `timeout` passed; returns
// the last answer. GetAlert's UNAVAILABLE is retried until then, as a caller would; any other
// failing GetAlert is a test failure.
alerts::v1::Alert WaitForStatus(alerts::v1::AlertQuery::Stub& query, const std::string& alert_id,
                                types::v1::AlertStatus status, absl::Duration timeout);

// Polls GetAuditTrail (as the suite's first caller) until `complete` holds for the trail, or
// `timeout` passed; returns the last trail read, for the caller to check. Audit records events
// asynchronously and may be slow on a loaded machine, so NOT_FOUND, UNAVAILABLE and
// DEADLINE_EXCEEDED are retried until then; any other failing call is a test failure.
alerts::v1::AuditTrail WaitForTrail(
    alerts::v1::AlertQuery::Stub& query, const std::string& alert_id,
    const std::function<bool(const alerts::v1::AuditTrail&)>& complete, absl::Duration timeout);

// Polls GetAlert until the alert's first attempt shows what Twilio charged for it (a worker read it
// back, docs/adr/0036), or `timeout` passed (a test failure); returns the last answer.
alerts::v1::Alert WaitForCharge(alerts::v1::AlertQuery::Stub& query, const std::string& alert_id,
                                absl::Duration timeout);

// The value of `series` (a metric name with its labels, as exported) in the /metrics text
// `metrics`; 0 if absent.
double MetricValue(const std::string& metrics, const std::string& series);

// When the sandbox received each of the ledger `entries` (their received_at), in order.
std::vector<absl::Time> ReceivedTimes(const std::vector<nlohmann::json>& entries);

}  // namespace klaxon::e2e
