// bench-audit-write: how many events a second audit's write path stores in Postgres (ADR 0008:
// 10,000 a second). Runs audit's own AuditEventHandler, BatchWriter and PostgresAlertStore in
// process against --pg-url (a database of its own: the schema is migrated, the tables are filled),
// with --concurrency handlers at once as the Kafka consumer's max_in_flight would, over synthetic
// alerts of three events each (AlertRequested sealed and indexed, the worker's ACCEPTED, Twilio's
// "delivered" callback). Kafka is left out: it measures what audit adds, sealing included
// (bench-audit-ingest measures a running klaxon-audit through Kafka).
//
//   bench-audit-write --pg-url postgresql://postgres@127.0.0.1:5432/bench --events 100000

#include <atomic>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/crypto/blind_index.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/log/log.h"
#include "common/messaging/testing/handle_and_wait.h"
#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/timing/clock.h"
#include "common/transit/testing.h"
#include "klaxon/events/v1/events.pb.h"
#include "prometheus/registry.h"
#include "services/audit/ingest/audit_event_handler.h"
#include "services/audit/ingest/batch_writer.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/postgres/postgres_alert_store.h"
#include "services/audit/testing/forwarding_alert_store.h"

namespace klaxon::bench {
namespace {

using klaxon::audit::Topics;

void Header(const std::string& alert_id, klaxon::events::v1::EventHeader& header, int64_t second) {
  header.set_alert_id(alert_id);
  header.set_caller("bench");
  header.set_channel(klaxon::types::v1::CHANNEL_SMS);
  header.set_attempt(1);
  header.mutable_occurred_at()->set_seconds(1'700'000'000 + second);
}

// The three messages of alert `n`, in the order audit would consume them.
std::vector<messaging::InboundMessage> AlertMessages(const Topics& topics, int64_t n,
                                                     const std::string& run,
                                                     transit::TransitCipher& transit) {
  const std::string alert_id = absl::StrFormat("%s-0000-7000-8000-%012x", run, n);
  klaxon::events::v1::AlertRequested request;
  Header(alert_id, *request.mutable_header(), 0);
  // Sealed as ingress seals it, so the bench pays for opening it as audit does.
  if (!transit
           .SealAlert({.recipient = absl::StrFormat("+1415%07d", n % 10'000'000),
                       .text = absl::StrFormat("bench alert %d: disk full on db-%d", n, n % 97)},
                      request)
           .ok()) {
    std::abort();
  }
  klaxon::events::v1::DeliveryEvent accepted;
  Header(alert_id, *accepted.mutable_header(), 1);
  accepted.mutable_outcome()->set_kind(klaxon::events::v1::DeliveryOutcome::KIND_ACCEPTED);
  accepted.mutable_outcome()->set_twilio_sid(absl::StrFormat("SM%032x", n));
  klaxon::events::v1::TwilioEvent delivered;
  Header(alert_id, *delivered.mutable_header(), 2);
  delivered.mutable_header()->clear_caller();
  delivered.set_dedupe_key(absl::StrFormat("sid:SM%032x:delivered:0", n));
  delivered.mutable_message_status()->set_message_sid(absl::StrFormat("SM%032x", n));
  delivered.mutable_message_status()->set_message_status("delivered");
  const int32_t partition = static_cast<int32_t>(n % 8);
  return {{.topic = topics.sms_requests,
           .partition = partition,
           .offset = n,
           .key = alert_id,
           .value = request.SerializeAsString()},
          {.topic = topics.delivery_events,
           .partition = partition,
           .offset = n,
           .key = alert_id,
           .value = accepted.SerializeAsString()},
          {.topic = topics.twilio_events,
           .partition = partition,
           .offset = n,
           .key = alert_id,
           .value = delivered.SerializeAsString()}};
}

// Counts the batches the writer hands the store and the time they take.
class TimedStore final : public audit::testing::ForwardingAlertStore {
 public:
  using ForwardingAlertStore::ForwardingAlertStore;

  absl::StatusOr<std::vector<audit::IngestResult>> Write(
      const std::vector<audit::IngestItem>& batch) override {
    const absl::Time start = absl::Now();
    auto written = inner_.Write(batch);
    const absl::Duration took = absl::Now() - start;
    std::lock_guard lock(mutex_);
    ++batches_;
    items_ += static_cast<int64_t>(batch.size());
    writing_ += took;
    return written;
  }

  std::string Summary() const {
    std::lock_guard lock(mutex_);
    if (batches_ == 0) return "no batches";
    return absl::StrFormat("%d batches of %.0f events on average, %.1f ms each", batches_,
                           static_cast<double>(items_) / static_cast<double>(batches_),
                           absl::ToDoubleMilliseconds(writing_) / static_cast<double>(batches_));
  }

 private:
  mutable std::mutex mutex_;
  int64_t batches_ = 0;
  int64_t items_ = 0;
  absl::Duration writing_;
};

struct Flags {
  std::string pg_url;
  int64_t events = 100'000;
  int concurrency = 1000;
  size_t batch_size = 1000;
  int writers = 1;
};

int Run(int argc, char** argv) {
  CLI::App app{"Stores synthetic events through audit's write path and reports events/s"};
  Flags flags;
  app.add_option("--pg-url", flags.pg_url, "libpq URL of a database for the benchmark")->required();
  app.add_option("--events", flags.events, "events to store (three per alert)");
  app.add_option("--concurrency", flags.concurrency,
                 "handlers at once (the consumer's max_in_flight)");
  app.add_option("--batch-size", flags.batch_size, "KLAXON_AUDIT_BATCH_SIZE");
  app.add_option("--writers", flags.writers,
                 "batches written at once (KLAXON_AUDIT_BATCH_WRITERS)");
  CLI11_PARSE(app, argc, argv);
  const std::string& pg_url = flags.pg_url;
  const int64_t events = flags.events;
  const int concurrency = flags.concurrency;
  const size_t batch_size = flags.batch_size;

  auto db = pg::Database::Connect(pg_url, {.max_connections = 4});
  if (!db.ok()) {
    std::cerr << "bench-audit-write: " << db.status() << "\n";
    return 1;
  }
  if (auto migrated = pg::ApplyMigrations(**db, audit::AuditMigrations()); !migrated.ok()) {
    std::cerr << "bench-audit-write: " << migrated.status() << "\n";
    return 1;
  }
  audit::PostgresAlertStore postgres(**db);
  TimedStore store(postgres);
  auto keyring = crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
  audit::PersonalData personal_data(keyring);
  const auto blind_index =
      crypto::BlindIndex::Create("bench-audit-write-blind-index-key-0123456789").value();
  const auto redactor = log::PhoneRedactor::Create("bench-audit-write-token-key").value();
  log::MemorySink sink;
  const log::Logger logger({.service = "audit"}, redactor, sink);
  prometheus::Registry registry;
  audit::AuditMetrics metrics(registry);
  timing::RealClock clock;
  const Topics topics = Topics::WithPrefix("bench.");
  audit::BatchWriter writer(store, {.max_batch = batch_size, .max_writers = flags.writers});
  transit::testing::TestTransit transit;
  audit::AuditEventHandler event_handler(writer, personal_data, blind_index, topics, metrics, clock,
                                         logger, redactor, transit.cipher());

  // A fresh run id per start, so runs against one database do not collide.
  const std::string run = absl::StrFormat("%08x", absl::ToUnixSeconds(absl::Now()) & 0xffffffff);
  const int64_t alerts = (events + 2) / 3;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> failed{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> handlers;
  for (int h = 0; h < concurrency; ++h) {
    handlers.emplace_back([&] {
      // One alert's events one after another, like the consumer's per-key order.
      for (int64_t n = next++; n < alerts; n = next++) {
        for (const messaging::InboundMessage& message :
             AlertMessages(topics, n, run, transit.cipher())) {
          while (!messaging::testing::HandleAndWait(event_handler, message).ok()) ++failed;
        }
      }
    });
  }
  for (std::thread& handler : handlers) handler.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const int64_t stored = alerts * 3;
  std::cout << absl::StrFormat(
      "bench-audit-write: %d events (%d alerts) in %.2f s = %.0f events/s; concurrency %d, "
      "batch size %d, %d retried writes\n",
      stored, alerts, seconds, static_cast<double>(stored) / seconds, concurrency, batch_size,
      failed.load());
  std::cout << "bench-audit-write: " << store.Summary() << "\n";
  return 0;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Run(argc, argv); }
