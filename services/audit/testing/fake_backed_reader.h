#pragma once
// An AlertReader over fakes (the store, Kafka's offsets, the clock) with everything it borrows:
// the base of the fixtures that test the reader and what is built on it (the watcher, the query
// service). Its members are protected so the fixtures use them as their own.

#include <optional>
#include <string>

#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/log/log.h"
#include "common/timing/fake_clock.h"
#include "prometheus/registry.h"
#include "services/audit/audit_metrics.h"
#include "services/audit/ingest/projection.h"
#include "services/audit/personal_data.h"
#include "services/audit/query/alert_reader.h"
#include "services/audit/testing/fake_alert_store.h"
#include "services/audit/testing/fake_offset_oracle.h"
#include "services/audit/topics.h"

namespace klaxon::audit::testing {

class FakeBackedReader {
 protected:
  // The record the event handler and store make of `requested`, with `recipient` and `text`
  // sealed under a data key of the alert's own.
  AlertRecord SealedAlert(const AlertEvent& requested, const std::string& recipient,
                          const std::string& text) {
    AlertRecord record = ApplyEvent(std::nullopt, requested);
    const SealedRecord sealed = personal_data_
                                    .Seal(kAlertsTable, requested.alert_id,
                                          {{kRecipientColumn, recipient}, {kTextColumn, text}})
                                    .value();
    record.recipient_ciphertext = sealed.ciphertext.at(kRecipientColumn);
    record.text_ciphertext = sealed.ciphertext.at(kTextColumn);
    record.data_key = sealed.wrapped_key;
    return record;
  }

  Topics topics_ = Topics::WithPrefix("");
  FakeAlertStore store_;
  FakeOffsetOracle oracle_;
  timing::FakeClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  crypto::LocalKeyring keyring_ =
      crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
  PersonalData personal_data_{keyring_};
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("fake-backed-reader-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
  // Read-your-writes waits at most 3 s, polling every 20 ms, on the fake clock.
  AlertReader reader_{
      store_,
      oracle_,
      personal_data_,
      clock_,
      metrics_,
      logger_,
      {.topics = topics_, .max_wait = absl::Seconds(3), .poll_interval = absl::Milliseconds(20)}};
};

}  // namespace klaxon::audit::testing
