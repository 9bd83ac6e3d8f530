#include "tests/chaos/chaos.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/alert_status/alert_status.h"
#include "common/http/form.h"
#include "common/twilio/webhook_routes.h"
#include "tests/support/process.h"
#include "tests/support/support.h"

namespace klaxon::chaos {
namespace {

using alerts::v1::Alert;
using testing::ChildProcess;

constexpr absl::Duration kStackTimeout = absl::Minutes(3);
// A SendAlert key is retried this long at most; past it the alert counts as refused.
constexpr absl::Duration kSendGiveUp = absl::Minutes(2);

// Runs `scripts/stack.sh args...` to completion; a non-zero exit is a failure with its output.
void RunStackScript(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> argv = {KLAXON_STACK_SCRIPT};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess script(argv, testing::ToolEnvironment(), log_path);
  const std::optional<int> code = script.WaitForExit(kStackTimeout);
  ASSERT_EQ(code, 0) << "scripts/stack.sh " << args[0] << " failed:\n" << script.Log();
}

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kKafka:
      return "kafka";
    case Backend::kRedis:
      return "redis";
    case Backend::kPostgres:
      return "pg";
  }
  return "";
}

// Retryable answers of SendAlert: the same key is sent again, and intake's idempotency makes it
// one alert however often it arrives.
bool RetrySend(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

// Sends alert after alert at `rate` from `senders` threads, each alert under its own idempotency
// key and recipient (so no per-recipient limit holds it), for the options' duration.
class LoadDriver {
 public:
  LoadDriver(const e2e::Suite& suite, const ChaosOptions& options, std::string prefix)
      : suite_(suite), options_(options), prefix_(std::move(prefix)) {}

  void Start() {
    start_ = absl::Now();
    for (int i = 0; i < options_.senders; ++i) threads_.emplace_back([this] { Send(); });
  }
  // Waits until the duration is over and every started send ended (accepted or given up).
  void Wait() {
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }
  int64_t offered() const { return next_.load(); }
  std::vector<std::string> accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }

 private:
  alerts::v1::SendAlertRequest Request(int64_t n) const {
    alerts::v1::SendAlertRequest request;
    const int64_t voice_every =
        options_.voice_share > 0 ? std::llround(1 / options_.voice_share) : 0;
    const bool voice = voice_every > 0 && n % voice_every == voice_every - 1;
    request.set_channel(voice ? types::v1::CHANNEL_VOICE : types::v1::CHANNEL_SMS);
    request.set_recipient(absl::StrFormat("+1415%07d", 2000000 + n % 7000000));
    request.set_text(absl::StrCat("chaos alert ", n));
    request.set_idempotency_key(absl::StrCat(prefix_, n));
    return request;
  }

  void Send() {
    auto intake = suite_.IntakeStub();
    while (true) {
      const int64_t n = next_.fetch_add(1);
      const absl::Time due = start_ + absl::Seconds(static_cast<double>(n) / options_.rate);
      if (due >= start_ + options_.duration) {
        next_.fetch_sub(1);  // never started: not offered
        return;
      }
      absl::SleepFor(due - absl::Now());
      const alerts::v1::SendAlertRequest request = Request(n);
      const absl::Time give_up = absl::Now() + kSendGiveUp;
      while (true) {
        alerts::v1::SendAlertResponse response;
        const grpc::Status rpc =
            intake->SendAlert(e2e::Suite::CallContext().get(), request, &response);
        if (rpc.ok()) {
          std::lock_guard lock(mutex_);
          accepted_.push_back(response.alert_id());
          break;
        }
        if (!RetrySend(rpc.error_code()) || absl::Now() >= give_up) break;
        absl::SleepFor(absl::Milliseconds(200));
      }
    }
  }

  const e2e::Suite& suite_;
  const ChaosOptions& options_;
  const std::string prefix_;
  absl::Time start_;
  std::atomic<int64_t> next_{0};
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::vector<std::string> accepted_;  // alert ids; a retried key answers the same id
};

// The alert and attempt a ledger entry was sent for, from its status callback URL.
std::optional<std::pair<std::string, std::string>> AlertAttempt(const std::string& callback) {
  const size_t query = callback.find('?');
  if (query == std::string::npos) return std::nullopt;
  absl::StatusOr<http::FormParams> params = http::DecodeForm(callback.substr(query + 1));
  if (!params.ok()) return std::nullopt;
  std::string alert_id;
  std::string attempt;
  for (const auto& [name, value] : *params) {
    if (name == twilio::kAlertIdParameter) alert_id = value;
    if (name == twilio::kAttemptParameter) attempt = value;
  }
  if (alert_id.empty() || attempt.empty()) return std::nullopt;
  return std::make_pair(alert_id, attempt);
}

// GetAlert for each of `ids` until all are final or `deadline`; an answer that fails (Postgres
// restarting) is asked again. Returns the last answer of each (an empty Alert if none).
std::vector<Alert> Settle(const e2e::Suite& suite, const std::vector<std::string>& ids,
                          absl::Time deadline) {
  auto query = suite.QueryStub();
  std::vector<Alert> alerts(ids.size());
  std::vector<size_t> pending(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) pending[i] = i;
  while (!pending.empty()) {
    std::vector<size_t> still;
    for (const size_t i : pending) {
      alerts::v1::GetAlertRequest request;
      request.set_alert_id(ids[i]);
      Alert alert;
      if (query->GetAlert(e2e::Suite::CallContext().get(), request, &alert).ok()) {
        alerts[i] = alert;
      }
      if (!alert_status::IsFinal(alerts[i].status())) still.push_back(i);
    }
    pending = std::move(still);
    if (pending.empty() || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Seconds(1));
  }
  return alerts;
}

}  // namespace

PrivateStack::~PrivateStack() {
  if (!backends_.kafka_brokers.empty()) RunStackScript({"down", dir_}, dir_ + "/stack-down.log");
}

void PrivateStack::Up() {
  ASSERT_NO_FATAL_FAILURE(RunStackScript({"up", dir_}, dir_ + "/stack-up.log"));
  std::ifstream env(dir_ + "/env");
  std::string line;
  while (std::getline(env, line)) {
    const std::pair<std::string, std::string> entry = absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (entry.first == "KLAXON_KAFKA_BROKERS") backends_.kafka_brokers = entry.second;
    if (entry.first == "KLAXON_REDIS_URL") backends_.redis_url = entry.second;
    if (entry.first == "KLAXON_PG_URL") backends_.pg_url = entry.second;
  }
  ASSERT_FALSE(backends_.kafka_brokers.empty() || backends_.redis_url.empty() ||
               backends_.pg_url.empty())
      << "no addresses in " << dir_ << "/env";
}

void PrivateStack::Restart(Backend backend, Ending ending) {
  RunStackScript({"restart", dir_, BackendName(backend), ending == Ending::kKill ? "kill" : "term"},
                 dir_ + "/stack-restart.log");
}

std::string StepName(const ChaosStep& step) {
  switch (step.action) {
    case ChaosStep::Action::kCrashSmsWorker:
      return "kill -9 sms-worker";
    case ChaosStep::Action::kCrashVoiceWorker:
      return "kill -9 voice-worker";
    case ChaosStep::Action::kRestartBackend:
      return absl::StrCat("restart ", BackendName(step.backend),
                          step.ending == Ending::kKill ? " (crash)" : " (SIGTERM)");
  }
  return "";
}

std::vector<ChaosStep> ChaosSchedule(absl::Duration duration, int rounds) {
  using Action = ChaosStep::Action;
  std::vector<ChaosStep> steps;
  const absl::Duration round = duration / rounds;
  for (int r = 0; r < rounds; ++r) {
    const Ending alternate = r % 2 == 0 ? Ending::kTerm : Ending::kKill;
    const std::vector<ChaosStep> plan = {
        {.action = Action::kCrashSmsWorker},
        {.action = Action::kCrashVoiceWorker},
        {.action = Action::kRestartBackend, .backend = Backend::kKafka, .ending = alternate},
        {.action = Action::kCrashSmsWorker},
        {.action = Action::kRestartBackend, .backend = Backend::kRedis, .ending = Ending::kKill},
        {.action = Action::kCrashVoiceWorker},
        {.action = Action::kRestartBackend, .backend = Backend::kPostgres, .ending = alternate}};
    // The last step of a round still leaves load after it to recover under.
    const absl::Duration gap = round / static_cast<int64_t>(plan.size() + 1);
    for (size_t i = 0; i < plan.size(); ++i) {
      ChaosStep step = plan[i];
      step.at = round * r + gap * static_cast<int64_t>(i + 1);
      steps.push_back(step);
    }
  }
  return steps;
}

void Tally(const std::vector<Alert>& alerts, const nlohmann::json& ledger, ChaosReport& report) {
  report.accepted = static_cast<int64_t>(alerts.size());
  for (const Alert& alert : alerts) {
    const std::string status = types::v1::AlertStatus_Name(alert.status());
    if (!alert_status::IsFinal(alert.status())) {
      ++report.lost;
      ++report.lost_by_status[status];
      continue;
    }
    ++report.final_by_status[status];
    if (alert.status() != types::v1::ALERT_STATUS_DELIVERED &&
        alert.status() != types::v1::ALERT_STATUS_ACKNOWLEDGED) {
      ++report.failed_by_reason[absl::StrCat(status, ": ", alert.reason())];
    }
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const nlohmann::json& entry : ledger) {
    ++report.sends;
    const auto key = AlertAttempt(entry.value("status_callback", ""));
    if (!key) {
      ++report.unattributed;
    } else if (!seen.insert(*key).second) {
      ++report.duplicates;
    }
  }
}

void TallyStatusChecks(std::string_view worker_log, ChaosReport& report) {
  for (const absl::string_view line : absl::StrSplit(
           absl::string_view(worker_log.data(), worker_log.size()), '\n', absl::SkipEmpty())) {
    const nlohmann::json entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (entry.is_object() && entry.value("event", "") == "status_checked") {
      ++report.status_checks_by_result[entry.value("result", "")];
    }
  }
}

nlohmann::json ChaosReport::ToJson() const {
  int64_t status_reads = 0;
  for (const char* read : {"final", "pending", "unreadable"}) {
    if (auto it = status_checks_by_result.find(read); it != status_checks_by_result.end()) {
      status_reads += it->second;
    }
  }
  return {{"offered", offered},
          {"accepted", accepted},
          {"refused", refused},
          {"final_by_status", final_by_status},
          {"failed_by_reason", failed_by_reason},
          {"sends", sends},
          {"duplicates", duplicates},
          {"unattributed_sends", unattributed},
          {"lost", lost},
          {"lost_by_status", lost_by_status},
          {"chaos_steps", steps},
          {"exited_by_themselves", exited},
          {"status_checks_by_result", status_checks_by_result},
          {"status_reads_per_send",
           sends > 0 ? static_cast<double>(status_reads) / static_cast<double>(sends) : 0.0},
          {"final_after_last_fault_s", absl::ToDoubleSeconds(final_after_last_fault)}};
}

ChaosReport RunChaos(const ChaosOptions& options) {
  ChaosReport report;
  PrivateStack stack(options.dir);
  stack.Up();
  if (::testing::Test::HasFatalFailure()) return report;
  e2e::Suite suite;
  // A status callback ingress refused during an outage is never retried: the status check
  // settles it, sooner than in production (5 min) so that it falls within settle_timeout.
  suite.Start({.worker_env = {{"KLAXON_STATUS_CHECK_AFTER", "30s"}}, .backends = stack.backends()});
  if (::testing::Test::HasFatalFailure()) return report;

  LoadDriver load(suite, options, testing::UniquePrefix());
  const absl::Time start = absl::Now();
  absl::Time last_fault_ended = start;
  load.Start();
  for (const ChaosStep& step : ChaosSchedule(options.duration, options.rounds)) {
    absl::SleepFor(start + step.at - absl::Now());
    const absl::Time began = absl::Now();
    switch (step.action) {
      case ChaosStep::Action::kCrashSmsWorker:
        suite.CrashAndRestart("sms-worker");
        break;
      case ChaosStep::Action::kCrashVoiceWorker:
        suite.CrashAndRestart("voice-worker");
        break;
      case ChaosStep::Action::kRestartBackend:
        stack.Restart(step.backend, step.ending);
        break;
    }
    last_fault_ended = absl::Now();
    report.steps.push_back(absl::StrFormat("%s at %.1fs, back after %.1fs", StepName(step),
                                           absl::ToDoubleSeconds(began - start),
                                           absl::ToDoubleSeconds(last_fault_ended - began)));
    if (::testing::Test::HasFatalFailure()) break;
  }
  load.Wait();

  const std::vector<std::string> ids = load.accepted();
  report.offered = load.offered();
  report.refused = report.offered - static_cast<int64_t>(ids.size());
  const std::vector<Alert> alerts = Settle(suite, ids, absl::Now() + options.settle_timeout);
  const absl::Time settled = absl::Now();
  Tally(alerts, suite.Ledger(), report);
  if (report.lost == 0) report.final_after_last_fault = settled - last_fault_ended;
  for (const char* worker : {"sms-worker", "voice-worker"}) {
    std::ifstream log(suite.LogPath(worker));
    std::stringstream text;
    text << log.rdbuf();
    TallyStatusChecks(text.str(), report);
  }
  report.exited = suite.Exited();
  // Judged here, while the suite still runs: a failure keeps the services' logs.
  EXPECT_GT(report.accepted, 0);
  EXPECT_EQ(report.duplicates, 0);
  EXPECT_EQ(report.unattributed, 0);
  EXPECT_EQ(report.lost, 0);
  EXPECT_TRUE(report.exited.empty());
  if (::testing::Test::HasFailure()) {
    std::cerr << "the services' logs are kept in " << suite.LogPath("*") << "\n";
  }
  return report;
}

}  // namespace klaxon::chaos
