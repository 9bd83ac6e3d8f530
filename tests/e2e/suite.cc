#include "tests/e2e/suite.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <pqxx/pqxx>
#include <stdexcept>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/alert_status/alert_status.h"
#include "common/auth/api_keys.h"
#include "common/crypto/test_keyring.h"
#include "common/http/form.h"
#include "common/twilio/signature.h"
#include "common/twilio/webhook_routes.h"
#include "tests/support/http.h"
#include "tests/support/support.h"

namespace klaxon::e2e {
namespace {

using testing::ChildProcess;
using testing::FreePort;
using testing::HttpGet;
using testing::HttpPost;

// Replaces the database of a libpq URL (the part after the last '/').
std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t slash = url.rfind('/');
  return url.substr(0, slash + 1) + database;
}

std::string Snake(std::string prefix) {
  std::replace_if(
      prefix.begin(), prefix.end(), [](char c) { return !std::isalnum(c); }, '_');
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return prefix.substr(0, 50);
}

}  // namespace

void Suite::Start(const SuiteOptions& options) {
  // Not value_or(): its argument would be evaluated, failing the test when KLAXON_TEST_* is unset
  // although backends were given.
  const Backends backends =
      options.backends.has_value()
          ? *options.backends
          : Backends{.kafka_brokers = testing::RequiredEnv("KLAXON_TEST_KAFKA_BROKERS"),
                     .redis_url = testing::RequiredEnv("KLAXON_TEST_REDIS_URL"),
                     .pg_url = testing::RequiredEnv("KLAXON_TEST_PG_URL")};
  const std::string& kafka = backends.kafka_brokers;
  const std::string& redis = backends.redis_url;
  const std::string& pg = backends.pg_url;
  ASSERT_FALSE(kafka.empty() || redis.empty() || pg.empty());
  const std::string prefix = testing::UniquePrefix();
  if (!options.backends.has_value()) {
    topics_deleted_at_end_.Own(kafka, prefix);
    keys_deleted_at_end_.Own(prefix);
  }

  char dir_template[] = "/tmp/klaxon-e2e-XXXXXX";
  dir_ = mkdtemp(dir_template);
  database_ = "e2e_" + Snake(prefix);
  admin_pg_url_ = pg;
  {
    pqxx::connection admin(admin_pg_url_);
    pqxx::nontransaction(admin).exec0("CREATE DATABASE " + database_);
  }
  sandbox_port_ = FreePort();
  ingress_port_ = FreePort();
  webhook_port_ = FreePort();
  audit_port_ = FreePort();
  http_api_port_ = FreePort();
  env_ = {
      {"PATH", "/usr/bin:/bin"},
      {"KLAXON_LOG_LEVEL", "info"},
      {"KLAXON_PII_HMAC_KEY", "e2e-pii-hmac-key-0123456789"},
      {"KLAXON_KEYRING", crypto::testing::KeyringDocument(1, {1})},
      // Its own key (version 7's), not audit's: Kafka's personal data is sealed under it.
      {"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(7, {7})},
      {"KLAXON_BLIND_INDEX_KEY", "e2e-blind-index-key-0123456789abcdef"},
      {"KLAXON_KAFKA_BROKERS", kafka},
      {"KLAXON_TOPIC_PREFIX", prefix},
      {"KLAXON_REDIS_URL", redis},
      {"KLAXON_REDIS_KEY_PREFIX", prefix},
      {"KLAXON_PG_URL", WithDatabase(pg, database_)},
      // gRPC on loopback to the suite's own clients; TLS is common/grpcutil/tls_test.cc's subject.
      {"KLAXON_GRPC_PLAINTEXT", "true"},
      {"KLAXON_API_KEYS", absl::StrCat("e2e=", auth::HashApiKey(kApiKey),
                                       ",e2e-other=", auth::HashApiKey(kOtherApiKey))},
      {"KLAXON_TWILIO_BASE_URL", absl::StrCat("http://127.0.0.1:", sandbox_port_)},
      {"KLAXON_TWILIO_ACCOUNT_SID", kAccountSid},
      {"KLAXON_TWILIO_AUTH_TOKEN", "sandbox-token"},
      {"KLAXON_SMS_SENDERS", kSender},
      {"KLAXON_VOICE_SENDERS", kSender},
      // Where the sandbox posts status callbacks (the workers name it in each request) and
      // the URL ingress verifies their signatures against.
      {"KLAXON_WEBHOOK_PUBLIC_URL", absl::StrCat("http://127.0.0.1:", webhook_port_)},
      // Tests send bursts and repeat recipients; those that test the limits set their own.
      // The sandbox then keeps no sender queue either (a long code's would fill in bursts),
      // nor dials an account's calls one a second; an answered call lasts 1 s, not 5, as
      // each waits that long before it completes.
      {"KLAXON_SENDER_RATE", "1000/1s"},
      {"KLAXON_RECIPIENT_LIMITS", "none"},
      {"TWILIO_SANDBOX_SENDER_QUEUE_LIMIT_S", "0"},
      {"TWILIO_SANDBOX_CALLS_PER_SECOND", "0"},
      {"TWILIO_SANDBOX_CALL_DURATION_S", "1"}};
  // Sanitizer settings of the test run reach the services too.
  env_.merge(testing::SanitizerEnvironment());
  for (const auto& [name, value] : options.env) env_[name] = value;
  grpc_credentials_ = options.grpc_credentials != nullptr ? options.grpc_credentials
                                                          : grpc::InsecureChannelCredentials();

  // Nothing here needs another part to be up, so every part starts at once and is waited for
  // together: the sandbox, Kafka's topics and the database's schema, then the four services.
  processes_.emplace_back(
      "twilio-sandbox",
      std::make_unique<ChildProcess>(
          std::vector<std::string>{Binary("twilio-sandbox"), "--listen",
                                   absl::StrCat("127.0.0.1:", sandbox_port_), "--callback-delay-ms",
                                   "10", "--numbers", absl::StrCat(kAccountSid, "=", kSender),
                                   "--inbound-url",
                                   absl::StrCat("http://127.0.0.1:", webhook_port_,
                                                std::string(twilio::kInboundMessagePath))},
          env_, LogPath("twilio-sandbox")));
  ChildProcess topics({Binary("klaxon-admin"), "create-topics", "--partitions", "2"}, env_,
                      LogPath("klaxon-admin"));
  ChildProcess migrate({Binary("klaxon-audit-admin"), "migrate"}, env_, LogPath("migrate"));
  ASSERT_EQ(topics.WaitForExit(absl::Seconds(60)), 0) << topics.Log();
  ASSERT_EQ(migrate.WaitForExit(absl::Seconds(60)), 0) << migrate.Log();

  StartService("audit", Binary("klaxon-audit"),
               {{"KLAXON_GRPC_ADDR", absl::StrCat("127.0.0.1:", audit_port_)}});
  StartService("ingress", Binary("klaxon-ingress"),
               {{"KLAXON_GRPC_ADDR", absl::StrCat("127.0.0.1:", ingress_port_)},
                {"KLAXON_WEBHOOK_ADDR", absl::StrCat("127.0.0.1:", webhook_port_)},
                {"KLAXON_HTTP_API_ADDR", HttpApiAddress()},
                {"KLAXON_HTTP_API_AUDIT_TARGET", AuditAddress()},
                // Every callback comes from the sandbox's one address, as Twilio's come from a
                // few: the per-source limit's default holds, since new signed callbacks never
                // count against it.
                {"KLAXON_TWILIO_SANDBOX", "true"}});
  for (int i = 1; i <= options.sms_workers; ++i) {
    StartService(i == 1 ? "sms-worker" : absl::StrCat("sms-worker-", i),
                 Binary("klaxon-sms-worker"), options.worker_env);
  }
  StartService("voice-worker", Binary("klaxon-voice-worker"), options.worker_env);

  ASSERT_NO_FATAL_FAILURE(WaitReady(
      "twilio-sandbox", absl::StrCat("http://127.0.0.1:", sandbox_port_, "/sandbox/ledger")));
  for (const auto& [name, launch] : launches_) {
    ASSERT_NO_FATAL_FAILURE(WaitReady(name, launch.ready_url));
  }
  // Any answer will do (an unsigned GET is refused): the webhook server listens.
  ASSERT_NO_FATAL_FAILURE(WaitReady(
      "ingress", absl::StrCat("http://127.0.0.1:", webhook_port_, "/twilio/messages/status"),
      /*any_status=*/true));
}

void Suite::StartService(const std::string& name, const std::string& binary,
                         std::map<std::string, std::string> extra_env) {
  const int admin_port = FreePort();
  std::map<std::string, std::string> env = env_;
  env["KLAXON_ADMIN_ADDR"] = absl::StrCat("127.0.0.1:", admin_port);
  for (auto& [key, value] : extra_env) env[key] = std::move(value);
  launches_[name] = {.binary = binary,
                     .env = std::move(env),
                     .ready_url = absl::StrCat("http://127.0.0.1:", admin_port, "/readyz")};
  processes_.emplace_back(name, nullptr);
  Spawn(name);
}

void Suite::Spawn(const std::string& name) {
  const LaunchSpec& launch = launches_.at(name);
  NamedProcess(name) = std::make_unique<ChildProcess>(std::vector<std::string>{launch.binary},
                                                      launch.env, LogPath(name));
}

std::unique_ptr<ChildProcess>& Suite::NamedProcess(const std::string& name) {
  auto it = std::find_if(processes_.begin(), processes_.end(),
                         [&](const auto& process) { return process.first == name; });
  if (it == processes_.end()) throw std::out_of_range("the suite has no process " + name);
  return it->second;
}

void Suite::CrashAndRestart(const std::string& name) {
  ASSERT_TRUE(launches_.contains(name)) << "no service " << name;
  NamedProcess(name)->Kill();
  Spawn(name);
  ASSERT_NO_FATAL_FAILURE(WaitReady(name, launches_.at(name).ready_url));
}

void Suite::RestartService(const std::string& name,
                           const std::map<std::string, std::string>& env_overrides) {
  ASSERT_TRUE(launches_.contains(name)) << "no service " << name;
  ChildProcess& process = *NamedProcess(name);
  const int code = process.Stop();
  EXPECT_EQ(code, 0) << name << " did not drain cleanly:\n" << process.Log();
  for (const auto& [key, value] : env_overrides) launches_.at(name).env[key] = value;
  Spawn(name);
  ASSERT_NO_FATAL_FAILURE(WaitReady(name, launches_.at(name).ready_url));
}

std::vector<std::string> Suite::Exited() {
  std::vector<std::string> exited;
  for (const auto& [name, process] : processes_) {
    if (process != nullptr && !process->Running()) exited.push_back(name);
  }
  return exited;
}

void Suite::WaitReady(const std::string& name, const std::string& url, bool any_status) {
  ASSERT_TRUE(testing::WaitUntilServing(
      *NamedProcess(name), url, absl::Seconds(60),
      any_status ? testing::Serving::kAnswersAnything : testing::Serving::kAnswers200))
      << name << " is not ready";
}

Suite::~Suite() {
  // The services drain at once (none needs another to drain) and the sandbox, which their last
  // sends may still reach, stops after them. A slot is empty only if its start threw.
  for (const auto& [name, process] : processes_) {
    if (launches_.contains(name) && process != nullptr) process->RequestStop();
  }
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    if (it->second == nullptr) continue;
    const int code = it->second->Stop();
    EXPECT_EQ(code, 0) << it->first << " did not drain cleanly:\n" << it->second->Log();
  }
  if (!database_.empty()) {
    try {
      pqxx::connection admin(admin_pg_url_);
      pqxx::nontransaction(admin).exec0("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not drop " << database_ << ": " << e.what();
    }
  }
  // A shared suite stops after its file's last test: any failure of the process keeps the logs.
  if (!dir_.empty() && !::testing::UnitTest::GetInstance()->Failed() &&
      !::testing::Test::HasFailure()) {
    std::filesystem::remove_all(dir_);
  }
}

void SharedSuiteTest::StartSharedSuite(const SuiteOptions& options) {
  suite_ = std::make_unique<Suite>();
  ASSERT_NO_FATAL_FAILURE(suite_->Start(options));
  started_ = true;
}

void SharedSuiteTest::TearDownTestSuite() {
  suite_.reset();
  started_ = false;
}

void SharedSuiteTest::SetUp() {
  ASSERT_TRUE(started_) << "the shared suite did not start: see SetUpTestSuite's failures";
  ASSERT_THAT(suite_->Exited(), ::testing::IsEmpty()) << "exited during an earlier test";
  set_up_ = true;
}

void SharedSuiteTest::TearDown() {
  if (set_up_) {
    EXPECT_THAT(suite_->Exited(), ::testing::IsEmpty()) << "exited during this test";
  }
}

std::string Suite::Binary(const std::string& name) {
  // "klaxon-admin=/path/to/klaxon-admin,klaxon-audit=...": every binary the suite runs, by target
  // name (tests/e2e/CMakeLists.txt).
  static const std::map<std::string, std::string> kBinaries = [] {
    std::map<std::string, std::string> binaries;
    for (absl::string_view entry : absl::StrSplit(KLAXON_E2E_BINARIES, ',')) {
      std::pair<std::string, std::string> named = absl::StrSplit(entry, absl::MaxSplits('=', 1));
      binaries.insert(std::move(named));
    }
    return binaries;
  }();
  return kBinaries.at(name);
}

std::string Suite::LogPath(const std::string& name) const { return dir_ + "/" + name + ".log"; }

std::string Suite::ServiceLogs() const {
  std::string logs;
  for (const auto& [name, process] : processes_) {
    if (name != "twilio-sandbox") logs += process->Log();  // the sandbox stands in for Twilio
  }
  return logs;
}

std::unique_ptr<alerts::v1::AlertIntake::Stub> Suite::IntakeStub() const {
  return alerts::v1::AlertIntake::NewStub(grpc::CreateChannel(IngressAddress(), grpc_credentials_));
}

std::unique_ptr<verify::v1::Verification::Stub> Suite::VerificationStub() const {
  return verify::v1::Verification::NewStub(
      grpc::CreateChannel(IngressAddress(), grpc_credentials_));
}

std::unique_ptr<alerts::v1::AlertQuery::Stub> Suite::QueryStub() const {
  return alerts::v1::AlertQuery::NewStub(grpc::CreateChannel(AuditAddress(), grpc_credentials_));
}

std::unique_ptr<alerts::v1::DeadLetters::Stub> Suite::DeadLettersStub() const {
  return alerts::v1::DeadLetters::NewStub(grpc::CreateChannel(AuditAddress(), grpc_credentials_));
}

std::unique_ptr<alerts::v1::Templates::Stub> Suite::TemplatesStub() const {
  return alerts::v1::Templates::NewStub(grpc::CreateChannel(AuditAddress(), grpc_credentials_));
}

std::unique_ptr<alerts::v1::InboundMessages::Stub> Suite::InboundMessagesStub() const {
  return alerts::v1::InboundMessages::NewStub(
      grpc::CreateChannel(AuditAddress(), grpc_credentials_));
}

std::string Suite::AuditAddress() const { return absl::StrCat("127.0.0.1:", audit_port_); }

std::string Suite::HttpApiAddress() const { return absl::StrCat("127.0.0.1:", http_api_port_); }

testing::HttpResponse Suite::CallHttpApi(std::string method, const std::string& path,
                                         std::string body, const std::string& api_key,
                                         absl::Duration timeout) const {
  testing::HttpRequest request{.method = std::move(method),
                               .url = absl::StrCat("http://", HttpApiAddress(), path),
                               .body = std::move(body),
                               .timeout = timeout};
  if (!api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + api_key);
  if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  return testing::SendHttp(request);
}

std::string Suite::IngressAddress() const { return absl::StrCat("127.0.0.1:", ingress_port_); }

std::unique_ptr<grpc::ClientContext> Suite::CallContext(absl::Duration deadline,
                                                        const std::string& api_key) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", api_key));
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return context;
}

void Suite::ReceiveSms(const std::string& from, const std::string& body, std::string* twiml) const {
  static int received = 0;
  const std::string url =
      absl::StrCat("http://127.0.0.1:", webhook_port_, std::string(twilio::kInboundMessagePath));
  const http::FormParams params = {{"AccountSid", kAccountSid},
                                   {"Body", body},
                                   {"From", from},
                                   {"MessageSid", absl::StrCat("SMe2e", getpid(), "x", ++received)},
                                   {"To", kSender}};
  const testing::HttpResponse response = testing::SendHttp(
      {.method = "POST",
       .url = url,
       .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"X-Twilio-Signature",
                    twilio::ComputeSignature(twilio::kSandboxAuthToken, url, params)}},
       .body = http::EncodeForm(params)});
  ASSERT_EQ(response.status, 200) << response.error << response.body;
  if (twiml != nullptr) *twiml = response.body;
}

void Suite::TextFromPerson(const std::string& from, const std::string& body) const {
  const nlohmann::json text = {{"from", from}, {"to", kSender}, {"body", body}};
  std::string answer;
  const long status = HttpPost(absl::StrCat("http://127.0.0.1:", sandbox_port_, "/sandbox/inbound"),
                               text.dump(), &answer);
  ASSERT_EQ(status, 201) << "the sandbox refused the text: " << answer;
}

void Suite::AddSandboxFaults(const std::string& rules_json) const {
  std::string body;
  const long status = HttpPost(absl::StrCat("http://127.0.0.1:", sandbox_port_, "/sandbox/faults"),
                               rules_json, &body);
  EXPECT_EQ(status, 201) << "the sandbox refused the fault rules: " << body;
}

std::string Suite::SendAlert(const alerts::v1::SendAlertRequest& request) const {
  alerts::v1::SendAlertResponse response;
  const grpc::Status rpc = IntakeStub()->SendAlert(CallContext().get(), request, &response);
  EXPECT_TRUE(rpc.ok()) << "SendAlert refused: " << rpc.error_message();
  return response.alert_id();
}

alerts::v1::SendAlertRequest SmsAlert(std::string recipient, std::string text,
                                      std::string idempotency_key) {
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient(std::move(recipient));
  request.set_text(std::move(text));
  request.set_idempotency_key(std::move(idempotency_key));
  return request;
}

void Suite::ClearSandboxFaults() const {
  const testing::HttpResponse response = testing::SendHttp(
      {.method = "DELETE",
       .url = absl::StrCat("http://127.0.0.1:", sandbox_port_, "/sandbox/faults")});
  EXPECT_EQ(response.status, 204) << "the sandbox kept its fault rules: " << response.body;
}

nlohmann::json Suite::Ledger() const { return SandboxEntries("/sandbox/ledger"); }

std::vector<nlohmann::json> Suite::LedgerTo(const std::string& to, const std::string& kind) const {
  std::vector<nlohmann::json> entries;
  for (const nlohmann::json& entry : Ledger()) {
    if (entry.value("to", "") == to && entry.value("kind", "") == kind) entries.push_back(entry);
  }
  return entries;
}

nlohmann::json Suite::Rejected() const { return SandboxEntries("/sandbox/rejected"); }

nlohmann::json Suite::SenderPacing(absl::Duration window, absl::Time since,
                                   absl::Time until) const {
  std::string query = absl::StrCat("window_ms=", absl::ToInt64Milliseconds(window));
  if (since != absl::InfinitePast())
    absl::StrAppend(&query, "&since_ms=", absl::ToUnixMillis(since));
  if (until != absl::InfiniteFuture())
    absl::StrAppend(&query, "&until_ms=", absl::ToUnixMillis(until));
  std::string body;
  const long status =
      HttpGet(absl::StrCat("http://127.0.0.1:", sandbox_port_, "/sandbox/pacing?", query), &body);
  nlohmann::json pacing = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status != 200 || !pacing.is_object() || !pacing.contains("senders")) {
    ADD_FAILURE() << "/sandbox/pacing of the sandbox could not be read: " << body;
    return nlohmann::json::array();
  }
  return pacing["senders"];
}

std::string Suite::Metrics(const std::string& name) const {
  std::string body;
  const long status = HttpGet(
      absl::StrCat("http://", launches_.at(name).env.at("KLAXON_ADMIN_ADDR"), "/metrics"), &body);
  EXPECT_EQ(status, 200) << "/metrics of " << name;
  return body;
}

nlohmann::json Suite::SandboxEntries(const std::string& path) const {
  // After a long load the ledger is large (bench-chaos at 1,000/s: 68 MB in 2 minutes).
  const testing::HttpResponse response = testing::SendHttp(
      {.url = absl::StrCat("http://127.0.0.1:", sandbox_port_, path), .timeout = absl::Minutes(2)});
  nlohmann::json entries =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!entries.is_array()) {
    ADD_FAILURE() << path << " of the sandbox could not be read (HTTP " << response.status << " "
                  << response.error << ", " << response.body.size()
                  << " bytes): " << response.body.substr(0, 500);
    return nlohmann::json::array();
  }
  return entries;
}

namespace {

// Whether `current` can no longer become `wanted`: the projection never lowers a rank (ADR 0007),
// so a final status stays, except that a DELIVERED call may still be ACKNOWLEDGED.
bool IsSettled(types::v1::AlertStatus current, types::v1::AlertStatus wanted) {
  if (current == types::v1::ALERT_STATUS_DELIVERED) {
    return wanted != types::v1::ALERT_STATUS_ACKNOWLEDGED;
  }
  return alert_status::IsFinal(current);
}

}  // namespace

alerts::v1::Alert WaitForStatus(alerts::v1::AlertQuery::Stub& query, const std::string& alert_id,
                                types::v1::AlertStatus status, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  alerts::v1::Alert alert;
  while (true) {
    alerts::v1::GetAlertRequest request;
    request.set_alert_id(alert_id);
    const grpc::Status rpc = query.GetAlert(Suite::CallContext().get(), request, &alert);
    // UNAVAILABLE is audit asking the caller to retry (it is behind Kafka under load); a caller
    // retries until its own deadline, and so does this helper.
    const bool retry = rpc.error_code() == grpc::StatusCode::UNAVAILABLE && absl::Now() < deadline;
    EXPECT_TRUE(rpc.ok() || retry) << rpc.error_code() << " " << rpc.error_message();
    if (rpc.ok() && (alert.status() == status || IsSettled(alert.status(), status) ||
                     absl::Now() >= deadline)) {
      return alert;
    }
    if (!rpc.ok() && !retry) return alert;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

alerts::v1::AuditTrail WaitForTrail(
    alerts::v1::AlertQuery::Stub& query, const std::string& alert_id,
    const std::function<bool(const alerts::v1::AuditTrail&)>& complete, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  alerts::v1::GetAuditTrailRequest request;
  request.set_alert_id(alert_id);
  alerts::v1::AuditTrail trail;
  while (true) {
    trail.Clear();
    const grpc::Status rpc = query.GetAuditTrail(Suite::CallContext().get(), request, &trail);
    const bool not_yet = rpc.error_code() == grpc::StatusCode::NOT_FOUND ||
                         rpc.error_code() == grpc::StatusCode::UNAVAILABLE ||
                         rpc.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    EXPECT_TRUE(rpc.ok() || not_yet) << rpc.error_code() << " " << rpc.error_message();
    if ((rpc.ok() && complete(trail)) || (!rpc.ok() && !not_yet) || absl::Now() >= deadline) {
      return trail;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

alerts::v1::Alert WaitForCharge(alerts::v1::AlertQuery::Stub& query, const std::string& alert_id,
                                absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  alerts::v1::Alert alert;
  while (absl::Now() < give_up) {
    alerts::v1::GetAlertRequest request;
    request.set_alert_id(alert_id);
    alert.Clear();
    const grpc::Status rpc = query.GetAlert(Suite::CallContext().get(), request, &alert);
    if (rpc.ok() && alert.attempts_size() > 0 && alert.attempts(0).has_charge()) return alert;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ADD_FAILURE() << "no charge for " << alert_id << " in " << timeout << ": " << alert.DebugString();
  return alert;
}

double MetricValue(const std::string& metrics, const std::string& series) {
  for (const absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value = 0;
      EXPECT_TRUE(absl::SimpleAtod(line.substr(series.size() + 1), &value)) << line;
      return value;
    }
  }
  return 0;
}

std::vector<absl::Time> ReceivedTimes(const std::vector<nlohmann::json>& entries) {
  std::vector<absl::Time> times;
  for (const nlohmann::json& entry : entries) {
    absl::Time at;
    std::string error;
    EXPECT_TRUE(
        absl::ParseTime(absl::RFC3339_full, entry["received_at"].get<std::string>(), &at, &error))
        << error;
    times.push_back(at);
  }
  std::sort(times.begin(), times.end());
  return times;
}

}  // namespace klaxon::e2e
