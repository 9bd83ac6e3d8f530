#pragma once
// The chaos run of issue 4, shared by the short chaos test (ctest) and bench-chaos (a long run):
// a private Kafka + Redis + Postgres (scripts/stack.sh), the whole suite against it
// (tests/e2e/Suite), alerts sent at a steady rate through SendAlert while the workers are killed
// with SIGKILL and the broker, Redis and Postgres are restarted, then a report built from GetAlert
// and the sandbox ledger: every accepted alert must end in a final status (lost == 0), and the
// ledger must hold at most one send per (alert, attempt) (duplicates == 0).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/suite.h"

namespace klaxon::chaos {

enum class Backend { kKafka, kRedis, kPostgres };
// How a process goes away: SIGTERM (a controlled shutdown) or a crash (kill -9; Postgres's
// immediate shutdown, which is its crash without a checkpoint).
enum class Ending { kTerm, kKill };

// Kafka, Redis and Postgres of one run, started with `scripts/stack.sh up` into a directory and
// stopped with `down` when destroyed. Redis runs as scripts/stack.sh configures it, with the
// append-only file ADR 0004 requires for attempt claims.
class PrivateStack {
 public:
  explicit PrivateStack(std::string dir) : dir_(std::move(dir)) {}
  ~PrivateStack();
  PrivateStack(const PrivateStack&) = delete;
  PrivateStack& operator=(const PrivateStack&) = delete;

  // Records a fatal failure when the stack does not come up.
  void Up();
  // `scripts/stack.sh restart`: same port, same data; returns once it serves again.
  void Restart(Backend backend, Ending ending);
  const e2e::Backends& backends() const { return backends_; }

 private:
  std::string dir_;
  e2e::Backends backends_;
};

// One disruption of the schedule, started `at` after the load began.
struct ChaosStep {
  enum class Action { kCrashSmsWorker, kCrashVoiceWorker, kRestartBackend };
  absl::Duration at;
  Action action = Action::kCrashSmsWorker;
  Backend backend = Backend::kKafka;  // kRestartBackend only
  Ending ending = Ending::kKill;      // kRestartBackend only
};
std::string StepName(const ChaosStep& step);

// `rounds` rounds spread evenly over `duration`. Each round kills each worker twice and restarts
// Kafka (SIGTERM and kill -9 on alternate rounds), Redis (kill -9) and Postgres (immediate
// shutdown on alternate rounds), interleaved so the workers also die while a backend is back
// only a moment.
std::vector<ChaosStep> ChaosSchedule(absl::Duration duration, int rounds);

struct ChaosOptions {
  // The stack's directory (scripts/stack.sh up DIR): its data, and the logs of its scripts.
  std::string dir;
  absl::Duration duration = absl::Seconds(60);
  double rate = 20;          // alerts per second offered to SendAlert
  double voice_share = 0.1;  // every n-th alert a voice alert, n = round(1 / voice_share)
  int rounds = 1;            // of ChaosSchedule
  int senders = 16;          // concurrent SendAlert callers, so an outage does not stop the load
  // How long, after the load stopped, every accepted alert has to reach a final status. A worker
  // killed mid-send leaves a claim that only its lease (ADR 0004: 2 minutes) settles.
  absl::Duration settle_timeout = absl::Minutes(4);
};

// What the run shows. Counts are of alerts unless they say sends.
struct ChaosReport {
  int64_t offered = 0;   // SendAlert calls started (one idempotency key each)
  int64_t accepted = 0;  // keys that got OK, possibly after retries of UNAVAILABLE
  int64_t refused = 0;   // keys that never got OK (not accepted, not counted further)
  std::map<std::string, int64_t> final_by_status;   // accepted alerts, by final status
  std::map<std::string, int64_t> failed_by_reason;  // final but not delivered, by reason
  int64_t sends = 0;         // ledger entries (messages and calls Twilio accepted)
  int64_t duplicates = 0;    // ledger entries beyond the first for one (alert, attempt)
  int64_t unattributed = 0;  // ledger entries whose status callback names no alert and attempt
  int64_t lost = 0;          // accepted alerts with no final status at the end
  std::map<std::string, int64_t> lost_by_status;  // the status each lost alert was left in
  std::vector<std::string> steps;                 // the chaos steps done, with their times
  std::vector<std::string> exited;                // processes that died by themselves
  // The workers' status checks by result, from their status_checked log lines (docs/adr/0014);
  // final, pending and unreadable read Twilio, so their sum over `sends` is reads per attempt.
  std::map<std::string, int64_t> status_checks_by_result;
  // From the end of the last chaos step until GetAlert showed every accepted alert final (the
  // load ran on after that step); 0 when some alert never became final.
  absl::Duration final_after_last_fault;

  nlohmann::json ToJson() const;
};

// Fills the alert and send counts of `report` from the last GetAlert answer of each accepted
// alert (an alert never answered counts as lost) and the sandbox ledger.
void Tally(const std::vector<alerts::v1::Alert>& alerts, const nlohmann::json& ledger,
           ChaosReport& report);

// Adds the status_checked lines of a worker's log (JSON lines) to
// `report.status_checks_by_result`.
void TallyStatusChecks(std::string_view worker_log, ChaosReport& report);

// The whole run: stack, suite, load and schedule, settling, report. Setup problems are fatal
// test failures, and so is a report with a duplicate send, an unattributed send, a lost alert or
// a process that died by itself (judged before the suite stops, so its logs are kept).
ChaosReport RunChaos(const ChaosOptions& options);

}  // namespace klaxon::chaos
