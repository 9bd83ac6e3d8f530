#pragma once
// Audit's Kafka message handler: decodes each message by its topic (AlertRequested on the request
// topics, DeliveryEvent on the delivery topic, TwilioEvent on the Twilio events topic), seals its
// personal fields (ADR 0008: an alert's recipient and text under the data key of
// "alerts/<alert_id>", an inbound message's sender and body under that of
// "audit_events/<event_key>"), computes the recipient's blind index, and hands the result to the
// BatchWriter, so the store never sees plaintext. Every event, whatever it is about, becomes one
// event log row. How far audit has consumed is not written here but by the ProgressRecorder,
// from the offsets the consumer stores once every earlier message finished (ADR 0002).
//
// It is an asynchronous handler (ADR 0017): Handle() decodes and seals on the calling thread, the
// consumer's dispatching thread, then queues the item in the BatchWriter and returns; the
// message completes on a writer thread once its batch committed. Decoding and sealing stay on
// the dispatching thread because they are in-process CPU work of microseconds (a protobuf
// parse, AES-GCM under keys held in memory, an HMAC): a pool for them would cost more threads
// than it saves, and the one place audit waits, the commit, holds no thread per message.
//
// An inbound message's one sealed column, personal_ciphertext, opens to the JSON object
// {"from": "<E.164>", "body": "<text>"}.
//
// Result contract (see messaging::MessageHandler), handed to the completion:
//   OK                  applied (or a duplicate, which changes nothing); an opt-out or opt-in
//                       recorded as its recipient's consent (or older than the record: kept out
//                       of it); or a valid Twilio event that concerns no alert's status (a
//                       callback whose URL named no alert, an inbound message or key press, a
//                       status word audit does not map): it is counted and logged, never failed
//   kInvalidArgument    undecodable message; it is counted, then the consumer skips it
//   kUnavailable        the store failed, or sealing did (the keyring); the consumer retries the
//                       same message. Audit is the system of record, so a store error is never a
//                       reason to drop an event: errors other than bad input are reported as
//                       retryable, and a persistent one shows up as consumer lag rather than as a
//                       silent gap.

#include <cstdint>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "common/crypto/blind_index.h"
#include "common/log/log.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "services/audit/alert_store.h"
#include "services/audit/audit_metrics.h"
#include "services/audit/ingest/batch_writer.h"
#include "services/audit/ingest/event_decoder.h"
#include "services/audit/personal_data.h"
#include "services/audit/topics.h"

namespace klaxon::audit {

// The log row of an event about an alert: its key and kind, the attempt's status (the alert's for
// an event that moves no attempt), and the alert's reason when it has its own (a retry's
// "...; retrying at ...").
EventLogEntry LogEntryOf(const AlertEvent& event);

class AuditEventHandler final : public messaging::AsyncMessageHandler {
 public:
  // All borrowed; they must outlive the handler. `redactor` (KLAXON_PII_HMAC_KEY) turns an
  // opt-out's number into the token its consent is recorded under; `blind_index`
  // (KLAXON_BLIND_INDEX_KEY) gives the recipient's index in alerts and the event log; `transit`
  // (KLAXON_TRANSIT_KEYRING) opens the personal data sealed in Kafka values, which is re-sealed
  // under `personal_data`'s keyring for Postgres.
  AuditEventHandler(BatchWriter& writer, PersonalData& personal_data,
                    const crypto::BlindIndex& blind_index, const Topics& topics,
                    AuditMetrics& metrics, timing::Clock& clock, const log::Logger& logger,
                    const log::PhoneRedactor& redactor, transit::TransitCipher& transit);

  void Handle(const messaging::InboundMessage& message, messaging::HandleDone done) override;

 private:
  // What happens with a written item's result before its message completes OK: metrics and
  // log lines that need the result. Runs on a writer thread.
  using AfterWrite = absl::AnyInvocable<void(const IngestResult&) &&>;

  void HandleRequest(const messaging::InboundMessage& message, messaging::HandleDone done);
  void HandleTwilioEvent(const messaging::InboundMessage& message, messaging::HandleDone done);
  // Counts and logs a recorded consent change, once written.
  void ConsentRecorded(const TwilioEventReading& reading, const IngestResult& written);
  // Counts and logs a Twilio event that moves no alert, once written.
  void TwilioEventIgnored(const messaging::InboundMessage& message,
                          const TwilioEventReading& reading);
  // Writes `item`; completes `done` with OK (the result counted as `consumed_as`, then handed
  // to `after_write`) or with the error for the consumer (see the contract above).
  void Ingest(const messaging::InboundMessage& message, IngestItem item,
              std::string_view consumed_as, AfterWrite after_write, messaging::HandleDone done);
  // The log row of a Twilio event that moves no alert, its sender sealed and indexed.
  absl::StatusOr<EventLogEntry> TwilioEntry(const TwilioEventReading& reading);
  // Counts a message that does not decode, then returns `invalid`: the consumer skips it, and
  // the progress recorder moves past it like past any finished message.
  absl::Status SkipInvalid(const messaging::InboundMessage& message, const absl::Status& invalid);
  absl::Status Retryable(const messaging::InboundMessage& message, const absl::Status& status);

  BatchWriter& writer_;
  PersonalData& personal_data_;
  const crypto::BlindIndex& blind_index_;
  const Topics& topics_;
  AuditMetrics& metrics_;
  timing::Clock& clock_;
  const log::Logger& logger_;
  const log::PhoneRedactor& redactor_;
  transit::TransitCipher& transit_;
};

}  // namespace klaxon::audit
