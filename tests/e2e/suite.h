#pragma once
// The whole Klaxon suite started for one end-to-end test: the Twilio sandbox and the four
// services as real processes, against the real Kafka, Redis and Postgres that scripts/test.sh
// started (KLAXON_TEST_*). Each Suite gets its own topic prefix, Redis key prefix, database and
// ports, so suites never see each other's data; the database is dropped when it stops.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/process.h"

namespace klaxon::e2e {

class Suite {
 public:
  static constexpr char kApiKey[] = "e2e-api-key";
  static constexpr char kSender[] = "+14155552671";

  Suite() = default;
  // Stops every process (checking each drained cleanly) and drops the database.
  ~Suite();

  // Starts everything and waits until each service answers /readyz. Records a fatal failure
  // otherwise, so call it as ASSERT_NO_FATAL_FAILURE(suite.Start()).
  void Start();

  std::unique_ptr<alerts::v1::AlertIntake::Stub> IntakeStub() const;
  std::unique_ptr<alerts::v1::AlertQuery::Stub> QueryStub() const;
  // A client context carrying the suite's API key and a deadline.
  static std::unique_ptr<grpc::ClientContext> CallContext(
      absl::Duration deadline = absl::Seconds(10));

  // The sandbox ledger (every message and call it accepted); an unreadable one fails the test.
  nlohmann::json Ledger() const;
  // Adds fault rules (tools/twilio-sandbox/fault_rules.h: one JSON rule object or an array) to
  // the running sandbox; a refusal fails the test.
  void AddSandboxFaults(const std::string& rules_json) const;

  // The environment every service of this suite runs with; tests start extra processes with it.
  const std::map<std::string, std::string>& env() const { return env_; }
  std::string Binary(const std::string& name) const;
  std::string LogPath(const std::string& name) const;
  // Concatenated logs of Klaxon's own services (not the sandbox), for leak checks.
  std::string ServiceLogs() const;

 private:
  void StartService(const std::string& name, const std::string& binary,
                    std::map<std::string, std::string> extra_env);
  // Polls `url` until it answers 200, or any HTTP status when `any_status`.
  void WaitReady(const std::string& name, const std::string& url, bool any_status = false);

  std::string dir_;
  std::string database_;
  std::string admin_pg_url_;
  std::map<std::string, std::string> env_;
  int sandbox_port_ = 0;
  int ingress_port_ = 0;
  int webhook_port_ = 0;
  int audit_port_ = 0;
  std::vector<std::pair<std::string, std::unique_ptr<ChildProcess>>> processes_;
};

// Polls GetAlert until the alert has `status`, or any final status, or `timeout` passed; returns
// the last answer. A failing GetAlert is a test failure.
alerts::v1::Alert WaitForStatus(alerts::v1::AlertQuery::Stub& query, const std::string& alert_id,
                                types::v1::AlertStatus status, absl::Duration timeout);

}  // namespace klaxon::e2e
