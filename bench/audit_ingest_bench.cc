// bench-audit-ingest: how fast audit stores events. It publishes N synthetic events into Kafka
// the way the real producers do (per alert: ingress's AlertRequested on klaxon.sms.requests, the
// sms-worker's ACCEPTED DeliveryEvent on klaxon.delivery.events, ingress's "delivered" status
// TwilioEvent on klaxon.twilio.events, each keyed by the alert id), by default all of them
// before the clock starts, and then times audit until its consumer_progress in Postgres covers
// every one. Audit is started by the benchmark (--audit-binary) or already running against the
// same Kafka, Postgres and topic prefix. Prints one JSON line on stdout and a summary on stderr.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/ids/uuid.h"
#include "common/kafka/publisher.h"
#include "common/kafka/topics.h"
#include "common/kafka/watermarks.h"
#include "common/pg/database.h"
#include "common/prototime/prototime.h"
#include "common/transit/transit_cipher.h"
#include "common/transit/transit_keyring.h"
#include "google/protobuf/util/time_util.h"
#include "klaxon/events/v1/events.pb.h"
#include "nlohmann/json.hpp"
#include "services/audit/postgres/postgres_alert_store.h"
#include "services/audit/topics.h"

extern char** environ;

namespace klaxon::bench {
namespace {

constexpr int kExitSetupFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitShortfall = 3;
constexpr int kEventsPerAlert = 3;
constexpr absl::Duration kKafkaTimeout = absl::Seconds(10);
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr int kPublishAttempts = 5;

struct Flags {
  std::string brokers;
  std::string pg_url;
  std::string topic_prefix;
  int64_t events = 300'000;
  double rate = 0;  // events/s; 0 publishes everything before the clock starts
  int producers = 128;
  std::string audit_binary;
  std::string audit_log = "bench-audit-ingest-audit.log";
  double timeout_seconds = 1800;
  double target_rate = 10'000;
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string RandomHex(absl::BitGen& gen, int bytes) {
  std::string hex;
  for (int i = 0; i < bytes; ++i) {
    absl::StrAppendFormat(&hex, "%02x", absl::Uniform<int>(gen, 0, 256));
  }
  return hex;
}

// The three messages one SMS alert makes on its way to "delivered", as ingress and the worker
// publish them (services/ingress/alert_intake.cc, services/delivery/dispatcher.cc,
// services/ingress/twilio_webhook.cc).
std::vector<messaging::OutboundMessage> AlertEvents(const audit::Topics& topics, int64_t index,
                                                    absl::BitGen& gen,
                                                    transit::TransitCipher& transit) {
  const absl::Time accepted_at = absl::Now();
  const std::string alert_id = ids::NewUuidV7(accepted_at, gen);
  const std::string sid = absl::StrCat("SM", RandomHex(gen, 16));

  events::v1::AlertRequested request;
  events::v1::EventHeader& header = *request.mutable_header();
  header.set_alert_id(alert_id);
  header.set_caller("bench");
  header.set_channel(types::v1::CHANNEL_SMS);
  header.set_attempt(1);
  *header.mutable_occurred_at() = prototime::ToProto(accepted_at);
  // Sealed under the transit keyring audit holds, as ingress seals it.
  if (!transit
           .SealAlert(
               {.recipient = absl::StrFormat("+1415555%04d", absl::Uniform<int>(gen, 0, 10'000)),
                .text = absl::StrFormat("[bench] disk %d%% full on db-%d, alert #%d",
                                        90 + index % 10, index % 50, index)},
               request)
           .ok()) {
    std::abort();
  }
  request.set_idempotency_key(absl::StrCat("bench-", alert_id));
  (*request.mutable_metadata())["service"] = "db";
  (*request.mutable_metadata())["severity"] = "critical";
  *request.mutable_accepted_at() = prototime::ToProto(accepted_at);
  *request.mutable_deadline() = prototime::ToProto(accepted_at + absl::Hours(1));

  events::v1::DeliveryEvent outcome;
  *outcome.mutable_header() = header;
  *outcome.mutable_header()->mutable_occurred_at() =
      prototime::ToProto(accepted_at + absl::Milliseconds(60));
  outcome.mutable_outcome()->set_kind(events::v1::DeliveryOutcome::KIND_ACCEPTED);
  outcome.mutable_outcome()->set_twilio_sid(sid);
  outcome.mutable_outcome()->set_twilio_status("queued");

  // A status callback names its alert and attempt in the URL, not its caller.
  events::v1::TwilioEvent status;
  events::v1::EventHeader& status_header = *status.mutable_header();
  status_header.set_alert_id(alert_id);
  status_header.set_channel(types::v1::CHANNEL_SMS);
  status_header.set_attempt(1);
  *status_header.mutable_occurred_at() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(accepted_at + absl::Seconds(2)));
  status.set_dedupe_key(absl::StrCat("token:", ids::NewUuidV7(accepted_at, gen)));
  events::v1::MessageStatusUpdate& update = *status.mutable_message_status();
  update.set_message_sid(sid);
  update.set_account_sid("AC00000000000000000000000000000000");
  update.set_message_status("delivered");

  return {{.topic = topics.sms_requests, .key = alert_id, .value = request.SerializeAsString()},
          {.topic = topics.delivery_events, .key = alert_id, .value = outcome.SerializeAsString()},
          {.topic = topics.twilio_events, .key = alert_id, .value = status.SerializeAsString()}};
}

// Publishes the alerts' events from `producers` threads, each alert's three in order. With a rate,
// alert i is not published before start + i * kEventsPerAlert / rate. False if a publish failed
// for good.
bool Produce(kafka::KafkaPublisher& publisher, const audit::Topics& topics, const Flags& flags,
             int64_t alerts, transit::TransitCipher& transit) {
  std::atomic<bool> failed = false;
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < flags.producers; ++t) {
      threads.emplace_back([&, t] {
        absl::BitGen gen;
        for (int64_t i = t; i < alerts && !failed; i += flags.producers) {
          if (flags.rate > 0) {
            std::this_thread::sleep_until(
                start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(i) * kEventsPerAlert /
                                                          flags.rate)));
          }
          for (const messaging::OutboundMessage& message : AlertEvents(topics, i, gen, transit)) {
            absl::Status published;
            for (int attempt = 0; attempt < kPublishAttempts; ++attempt) {
              published = publisher.Publish(message, kKafkaTimeout);
              if (published.ok() || !kafka::IsRetryable(published)) break;
            }
            if (!published.ok()) {
              std::cerr << "bench-audit-ingest: " << published << "\n";
              failed = true;
              return;
            }
          }
        }
      });
    }
  }
  return !failed;
}

// One partition audit consumes, and its end before this run published.
struct PartitionRange {
  std::string topic;
  int32_t partition = 0;
  int64_t begin = 0;
};

absl::StatusOr<std::vector<PartitionRange>> HighWatermarks(kafka::KafkaWatermarks& kafka,
                                                           const audit::Topics& topics) {
  std::vector<PartitionRange> ranges;
  for (const std::string& topic :
       {topics.sms_requests, topics.delivery_events, topics.twilio_events}) {
    absl::StatusOr<int32_t> partitions = kafka.PartitionCount(topic, kKafkaTimeout);
    if (!partitions.ok()) return partitions.status();
    for (int32_t partition = 0; partition < *partitions; ++partition) {
      // A topic created a moment ago may have no leader yet: HighWatermark asks again.
      absl::StatusOr<int64_t> high = kafka.HighWatermark(topic, partition, kKafkaTimeout);
      if (!high.ok()) return high.status();
      ranges.push_back({.topic = topic, .partition = partition, .begin = *high});
    }
  }
  return ranges;
}

// How many events audit has stored since `ranges` were read: its progress past each partition's
// old end. The topics carry only this run's events (audit's prefix, nothing else publishing).
absl::StatusOr<int64_t> Stored(audit::AlertStore& store,
                               const std::vector<PartitionRange>& ranges) {
  int64_t stored = 0;
  for (const PartitionRange& range : ranges) {
    absl::StatusOr<int64_t> next = store.NextOffset(range.topic, range.partition);
    if (!next.ok()) return next.status();
    stored += std::max(*next, range.begin) - range.begin;
  }
  return stored;
}

// klaxon-audit started with this process's environment (brokers, Postgres, keys, prefix), its
// output to a file; stopped with SIGTERM when the run ends.
class AuditProcess {
 public:
  static std::unique_ptr<AuditProcess> Start(const std::string& binary, const std::string& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::string path = binary;
    char* argv[] = {path.data(), nullptr};
    pid_t pid = -1;
    const int error = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) return nullptr;
    return std::unique_ptr<AuditProcess>(new AuditProcess(pid));
  }

  AuditProcess(const AuditProcess&) = delete;
  AuditProcess& operator=(const AuditProcess&) = delete;
  ~AuditProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }

  // True while the process runs.
  bool Running() {
    if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;  // reaped: gone
    return pid_ > 0;
  }

 private:
  explicit AuditProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Times how fast klaxon-audit stores a backlog of events.", "bench-audit-ingest"};
  app.add_option("--brokers", flags.brokers, "Kafka bootstrap servers [env KLAXON_KAFKA_BROKERS]")
      ->envname("KLAXON_KAFKA_BROKERS")
      ->required();
  app.add_option("--pg-url", flags.pg_url, "audit's Postgres URL [env KLAXON_PG_URL]")
      ->envname("KLAXON_PG_URL")
      ->required();
  app.add_option("--topic-prefix", flags.topic_prefix,
                 "audit's topic prefix [env KLAXON_TOPIC_PREFIX]; with --audit-binary and none "
                 "given, a new one")
      ->envname("KLAXON_TOPIC_PREFIX");
  app.add_option("--events", flags.events, "events to publish (three per alert)")
      ->check(CLI::Range(int64_t{kEventsPerAlert}, int64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--rate", flags.rate,
                 "events published per second while audit runs; 0: all before the clock starts")
      ->check(CLI::Range(0.0, 10'000'000.0))
      ->capture_default_str();
  app.add_option("--producers", flags.producers, "publishing threads (each waits for its acks)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--audit-binary", flags.audit_binary,
                 "start this klaxon-audit (with this environment) once the events are published; "
                 "without it a running audit is expected")
      ->check(CLI::ExistingFile);
  app.add_option("--audit-log", flags.audit_log, "where the started audit's output goes")
      ->capture_default_str();
  app.add_option("--timeout", flags.timeout_seconds, "most seconds to wait for audit, seconds")
      ->check(CLI::Range(1.0, 86'400.0))
      ->capture_default_str();
  app.add_option("--target-rate", flags.target_rate, "events/s audit must store to pass")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kExitUsage;
  }
  auto fail = [](std::string_view what, const absl::Status& status) {
    std::cerr << "bench-audit-ingest: " << what << ": " << status << "\n";
    return kExitSetupFailed;
  };
  if (!flags.audit_binary.empty() && flags.rate > 0) {
    std::cerr << "bench-audit-ingest: --rate needs a running audit; drop --audit-binary\n";
    return kExitUsage;
  }
  if (flags.topic_prefix.empty() && !flags.audit_binary.empty()) {
    flags.topic_prefix =
        absl::StrFormat("bench-audit-%08x.", absl::Uniform<uint32_t>(absl::BitGen()));
  }
  // The started audit reads its prefix from the environment it inherits.
  setenv("KLAXON_TOPIC_PREFIX", flags.topic_prefix.c_str(), 1);
  // Requests are sealed under the transit keyring audit holds (the one it inherits or runs with).
  config::Reader environment(config::FromProcessEnvironment());
  const std::shared_ptr<crypto::LocalKeyring> transit_keyring =
      transit::ReadTransitKeyring(environment);
  if (absl::Status read = environment.Finish(); !read.ok()) return fail("read the keyring", read);
  transit::TransitCipher transit(*transit_keyring);
  const audit::Topics topics = audit::Topics::WithPrefix(flags.topic_prefix);
  const int64_t alerts = flags.events / kEventsPerAlert;
  const int64_t events = alerts * kEventsPerAlert;

  kafka::LogFn log = [](std::string_view level, std::string_view event, std::string_view detail) {
    if (level != "debug" && level != "info") {
      std::cerr << "bench-audit-ingest: " << event << ": " << detail << "\n";
    }
  };
  if (auto created =
          kafka::CreateTopics({.brokers = flags.brokers, .prefix = flags.topic_prefix, .log = log});
      !created.ok()) {
    return fail("create topics", created.status());
  }
  auto kafka = kafka::KafkaWatermarks::Create(
      {.brokers = flags.brokers, .client_id = "bench-audit-ingest", .log = log});
  if (!kafka.ok()) return fail("create Kafka client", kafka.status());
  auto db = pg::Database::Connect(flags.pg_url);
  if (!db.ok()) return fail("connect to Postgres", db.status());
  audit::PostgresAlertStore store(**db);
  auto publisher = kafka::KafkaPublisher::Create({.brokers = flags.brokers,
                                                  .client_id = "bench-audit-ingest",
                                                  .delivery_timeout = kKafkaTimeout,
                                                  .properties = {{"linger.ms", "5"}},
                                                  .log = log});
  if (!publisher.ok()) return fail("create Kafka publisher", publisher.status());

  absl::StatusOr<std::vector<PartitionRange>> ranges = HighWatermarks(**kafka, topics);
  if (!ranges.ok()) return fail("read high watermarks", ranges.status());
  if (absl::Status schema = Stored(store, *ranges).status(); !schema.ok()) {
    return fail("read consumer_progress (has `klaxon-audit-admin migrate` run?)", schema);
  }
  std::cerr << absl::StrFormat("bench-audit-ingest: %d events (%d alerts) to topics %s*, %s\n",
                               events, alerts, flags.topic_prefix,
                               flags.rate > 0 ? absl::StrFormat("at %.0f/s", flags.rate)
                                              : std::string("all before the clock starts"));

  // With --rate the clock starts with the first publish and audit stores while they go on;
  // otherwise everything is published first and the clock starts after.
  const auto produce_start = std::chrono::steady_clock::now();
  std::atomic<bool> produced = false;
  std::atomic<bool> produced_ok = true;
  std::optional<std::jthread> producing;
  auto produce = [&] {
    produced_ok = Produce(**publisher, topics, flags, alerts, transit);
    produced = true;
  };
  if (flags.rate > 0) {
    producing.emplace(produce);
  } else {
    produce();
    if (!produced_ok) return fail("publish", absl::UnavailableError("a publish failed"));
    const double produce_s = Seconds(std::chrono::steady_clock::now() - produce_start);
    std::cerr << absl::StrFormat("bench-audit-ingest: published in %.1f s (%.0f events/s)\n",
                                 produce_s, static_cast<double>(events) / produce_s);
  }

  // With a rate, audit stores while the clock runs: everything counts.
  const int64_t stored_before = flags.rate > 0 ? 0 : Stored(store, *ranges).value_or(0);
  if (stored_before > 0) {
    std::cerr << "bench-audit-ingest: warning: audit stored " << stored_before
              << " events while they were published; the figures cover the rest only (start "
                 "audit after the publishing, or use --audit-binary)\n";
  }
  const auto clock_start = flags.rate > 0 ? produce_start : std::chrono::steady_clock::now();
  std::unique_ptr<AuditProcess> audit;
  if (flags.audit_binary.empty() && flags.rate == 0) {
    std::cerr << "bench-audit-ingest: waiting for klaxon-audit to store the events\n";
  } else if (!flags.audit_binary.empty()) {
    audit = AuditProcess::Start(flags.audit_binary, flags.audit_log);
    if (!audit) return fail("start audit", absl::InternalError(flags.audit_binary));
  }
  const auto give_up =
      clock_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(flags.timeout_seconds));
  std::optional<std::chrono::steady_clock::time_point> first_stored;
  int64_t first_count = 0;
  int64_t stored = stored_before;
  auto now = clock_start;
  while (true) {
    absl::StatusOr<int64_t> read = Stored(store, *ranges);
    if (!read.ok()) return fail("read consumer_progress", read.status());
    stored = *read;
    now = std::chrono::steady_clock::now();
    if (!first_stored && stored > stored_before) {
      first_stored = now;
      first_count = stored;
    }
    if ((stored >= events && produced) || now >= give_up || !produced_ok) break;
    if (audit && !audit->Running()) {
      std::cerr << "bench-audit-ingest: audit exited; see " << flags.audit_log << "\n";
      return kExitSetupFailed;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  if (!produced_ok) return fail("publish", absl::UnavailableError("a publish failed"));

  // An audit started by hand after the publishing: its clock starts with the first event stored,
  // not with whenever the operator got to it.
  const bool from_first_stored =
      flags.rate == 0 && flags.audit_binary.empty() && first_stored.has_value();
  const int64_t measured = from_first_stored ? stored - first_count : stored - stored_before;
  const double elapsed_s = Seconds(now - (from_first_stored ? *first_stored : clock_start));
  const double rate = static_cast<double>(measured) / elapsed_s;
  // From the first stored event on: audit's start-up (schema, group join) left out.
  const double steady_s = first_stored ? Seconds(now - *first_stored) : 0;
  const double steady_rate =
      steady_s > 0 ? static_cast<double>(stored - first_count) / steady_s : 0;
  const bool complete = stored >= events;
  nlohmann::json line = {
      {"events", events},
      {"alerts", alerts},
      {"stored", stored - stored_before},
      {"timed", measured},
      {"stored_before_clock", stored_before},
      {"complete", complete},
      {"rate", flags.rate},
      {"elapsed_s", elapsed_s},
      {"events_per_s", rate},
      {"first_stored_s", first_stored ? Seconds(*first_stored - clock_start) : -1},
      {"steady_events_per_s", steady_rate},
      {"topic_prefix", flags.topic_prefix}};
  std::cout << line.dump() << std::endl;
  std::cerr << absl::StrFormat(
      "audit stored %d of %d events; %d of them in %.2f s: %.0f events/s (target %.0f)\n"
      "  first event stored after %.2f s; from then on %.0f events/s\n",
      stored - stored_before, events - stored_before, measured, elapsed_s, rate, flags.target_rate,
      first_stored ? Seconds(*first_stored - clock_start) : -1.0, steady_rate);
  if (!complete) std::cerr << "FAIL: audit did not store every event within --timeout\n";
  if (rate < flags.target_rate) std::cerr << "FAIL: below --target-rate\n";
  return complete && rate >= flags.target_rate ? EXIT_SUCCESS : kExitShortfall;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
