#pragma once
// The SendAlert use case: validate, dedupe by (caller, idempotency key), publish the request to
// its channel's Kafka topic and answer only once Kafka has acknowledged it. No thread waits for
// that acknowledgement: the answer comes from the publisher's delivery report (ADR 0019).
//
// A repeat of a request whose first publish may not have completed (the record exists but is not
// marked published) publishes again under the same alert_id. Downstream consumers are idempotent
// by alert_id, so this can only close a gap, never create a second alert.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/budgets/budget_guard.h"
#include "common/channels/channel_switches.h"
#include "common/concurrency/batch_workers.h"
#include "common/ids/id_generator.h"
#include "common/messaging/message.h"
#include "common/sms_acks/ack_codes.h"
#include "common/timing/clock.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "services/ingress/caller_quota.h"
#include "services/ingress/idempotency_store.h"
#include "services/ingress/intake_admission.h"
#include "services/ingress/quiet_hours.h"
#include "services/ingress/send_alert_validation.h"
#include "services/ingress/template_renderer.h"

namespace klaxon::ingress {

// Where requests are published, with the deployment's prefix; kafka::Urgent decides the lane.
struct IntakeTopics {
  std::string sms;           // klaxon.sms.requests
  std::string voice;         // klaxon.voice.requests
  std::string sms_urgent;    // klaxon.sms.requests.urgent, for critical alerts
  std::string voice_urgent;  // klaxon.voice.requests.urgent
};

struct IntakeOptions {
  IntakeTopics topics;
  absl::Duration idempotency_window = absl::Hours(24);
  CallerQuota* quota = nullptr;  // borrowed; none: callers are not limited
  // Borrowed; none: no budgets. A caller whose budget is spent is refused with RESOURCE_EXHAUSTED
  // naming it and when it resets, except for alerts of an exempt priority (docs/adr/0037).
  budgets::BudgetGuard* budgets = nullptr;
  // Borrowed; none: every valid request is taken in. Above capacity a request is refused with
  // RESOURCE_EXHAUSTED before it costs a round trip (intake_admission.h).
  IntakeAdmission* admission = nullptr;
  // Borrowed; none: every channel is on. A new alert for a channel an operator switched off is
  // refused with FAILED_PRECONDITION naming the switch (docs/adr/0012); a repeat of an alert
  // already accepted still answers with its id.
  const channels::ChannelSwitchboard* switches = nullptr;
  // Keys the request fingerprint (RequestFingerprint): KLAXON_PII_HMAC_KEY.
  std::string fingerprint_key;
  // Borrowed; none: a record is marked published on the thread that reports the publish (the
  // in-memory fakes report before PublishAsync returns). Marking waits on the store, which the
  // publisher's delivery thread must not do, so a service queues the marks here, to be made in
  // batches (IdempotencyStore::MarkAllPublished). A mark the queue refuses is skipped: it only
  // costs a repeat of that request one more publish.
  concurrency::BatchWorkers<RecordKey>* published_marks = nullptr;
  // Borrowed; binds the reply code of an SMS alert sent with ack_by_reply (docs/adr/0024). None:
  // such an alert is refused with FAILED_PRECONDITION.
  sms_acks::AckCodeAssigner* ack_codes = nullptr;
  // Borrowed; none: no caller has quiet hours. An alert they hold is published at once, to be
  // sent when they end (docs/adr/0026).
  const QuietHours* quiet_hours = nullptr;
  // Borrowed; renders the template a SendAlert names instead of text (docs/adr/0030). None: such
  // a request is refused with FAILED_PRECONDITION.
  TemplateRenderer* templates = nullptr;
};

// How long after an alert's time to live its recipient's ACK reply still acknowledges it: the
// text may be read late, and the caller still wants to know it was.
inline constexpr absl::Duration kAckReplyGrace = absl::Hours(1);

// What AlertIntake reports for metrics and logs; implemented by the service's observer.
class IntakeObserver {
 public:
  virtual ~IntakeObserver() = default;
  virtual void OnAccepted(std::string_view caller, const alerts::v1::SendAlertRequest& request,
                          std::string_view alert_id, bool duplicate,
                          absl::Duration publish_latency) = 0;
  virtual void OnRejected(std::string_view caller, const absl::Status& status) = 0;
};

// Receives SendAlert's answer: the alert's id, or why it was refused.
using SendDone = absl::AnyInvocable<void(absl::StatusOr<alerts::v1::SendAlertResponse>) &&>;

// What a use case says about an alert it submits, beside the request.
struct Submission {
  // The id the alert takes if its idempotency key is new (a repeat is answered with the id the
  // key got first); empty: the intake mints one. A use case that must know the id before the
  // answer (phone verification files its checks under it) mints its own.
  std::string alert_id;
  // The recipient asked for this message and is waiting for it (a verification code): their
  // quiet hours do not hold it.
  bool awaited_by_recipient = false;
  // A page of an escalation chain (docs/adr/0029): its step, 1 first; 0 for any other alert.
  uint32_t escalation_step = 0;
  // The chain's id, for a page after the first; empty for the first page, whose own id (the one
  // the intake mints, or finds under its key) becomes the chain's.
  std::string escalation_id;
  // The first page of a chain: how long after it the chain's last page comes, so that its record
  // (CancelAlert and AcknowledgeAlert on the chain's id) lasts until the last page is past.
  absl::Duration chain_span = absl::ZeroDuration();
  // The caller's API key, for what the intake asks audit on the caller's behalf (rendering its
  // template); empty where no request names a template (phone verification).
  std::string caller_key;
};

// One SendAlert as AlertIntake takes them in batches (AlertIntake::SendAll).
struct IntakeCall {
  std::string caller;
  const alerts::v1::SendAlertRequest* request = nullptr;  // must stay valid until `done` is called
  Submission submission;
  SendDone done;
};

// Port: SendAlert's use case as other use cases of ingress reach it (phone verification sends
// its codes through it, so they are as durable and as limited as any alert; a bulk send its
// recipients' alerts in batches of 64).
class AlertSubmitter {
 public:
  virtual ~AlertSubmitter() = default;
  // Each call's `done` is called exactly once; its `request` must stay valid until then.
  virtual void SendAll(std::vector<IntakeCall> calls) = 0;
  // SendAll of one call.
  void Send(std::string_view caller, const alerts::v1::SendAlertRequest& request,
            const Submission& submission, SendDone done);
};

class AlertIntake final : public AlertSubmitter {
 public:
  // `transit` seals the recipient and text into the published AlertRequested (ADR 0013).
  AlertIntake(IntakeOptions options, IdempotencyStore& store, messaging::Publisher& publisher,
              transit::TransitCipher& transit, IntakeObserver& observer,
              ids::IdGenerator& alert_ids, timing::Clock& clock);

  // Makes the steps that wait on Redis (the idempotency records, the quota) on the calling thread,
  // the records of all `calls` in one round trip (ADR 0039), then publishes without holding it:
  // each call's `done` is called exactly once, before SendAll returns for a refusal or a repeat of
  // a published request, otherwise from the publisher's delivery thread once Kafka has answered.
  void SendAll(std::vector<IntakeCall> calls) override;

 private:
  // A request let in and reserved under its idempotency key.
  struct Reservation {
    IdempotencyRecord record;  // record.chain: the page's place in its chain, if it is one
    bool duplicate = false;
    ValidatedAlert alert;
    std::optional<IntakeAdmission::Ticket> in_flight;  // held until Kafka answers
    uint32_t segments = 0;  // of the text as published, for the answer; 0 for voice or a repeat
  };

  // A call let in, with the record to reserve under its key; or, for a repeat of a template's
  // request already published, its reservation.
  struct Admitted {
    std::string fingerprint;
    ValidatedAlert alert;
    std::optional<IntakeAdmission::Ticket> in_flight;  // held until Kafka answers
    IdempotencyRecord candidate;
    absl::Duration window;
    std::optional<Reservation> published_repeat;
  };

  // A call reserved under its key.
  struct Reserved {
    IntakeCall call;
    Reservation reservation;
  };

  // Validates and admits `call`, up to the step that reserves its key.
  absl::StatusOr<Admitted> Admit(const IntakeCall& call);
  // The rest of reserved calls: a repeat of a published one answered, the checks that charge the
  // caller (budgets, quota: one round trip each for the batch), then each published.
  void Charge(std::vector<Reserved> batch);
  // The calls of `batch` whose check in `checks` (one each, in order) passed; the others are
  // refused with what their check said.
  std::vector<Reserved> Passed(std::vector<Reserved> batch, std::vector<absl::Status> checks);
  // Publishes `reserved`; its answer comes from Kafka's delivery report. `started`: when its
  // checks began, for the publish latency.
  void Publish(Reserved reserved, absl::Time started);
  // The reservation of a repeat of a request whose alert Kafka already has (nullopt when the key
  // holds none yet, or one not yet published), looked up without reserving.
  absl::StatusOr<std::optional<Reservation>> PublishedRepeat(
      std::string_view caller, const alerts::v1::SendAlertRequest& request,
      const Submission& submission, const std::string& fingerprint, const ValidatedAlert& alert);
  // The reservation `record`, as the store holds it for the request's key, makes for this
  // request: kAlreadyExists when the key was used for another request (its fingerprint), a
  // duplicate unless the record holds `candidate_id`. It keeps `in_flight` until Kafka answers.
  static absl::StatusOr<Reservation> ReservationOf(
      IdempotencyRecord record, std::string_view fingerprint, std::string_view candidate_id,
      const Submission& submission, ValidatedAlert alert,
      std::optional<IntakeAdmission::Ticket> in_flight = std::nullopt);
  // Puts the rendering of the request's template into `alert` (UseRendering).
  absl::Status Render(const alerts::v1::SendAlertRequest& request, const Submission& submission,
                      ValidatedAlert& alert);
  // How long the idempotency and owner records of `alert` are kept.
  absl::Duration RecordWindow(const ValidatedAlert& alert, absl::Duration chain_span,
                              absl::Time now) const;
  // The AlertRequested to publish for a new alert, its recipient and text sealed, and the SMS
  // segments of the text as sent (its ACK line included).
  struct RequestToPublish {
    messaging::OutboundMessage message;
    uint32_t segments = 0;  // 0 for voice
  };
  absl::StatusOr<RequestToPublish> RequestMessage(std::string_view caller,
                                                  const alerts::v1::SendAlertRequest& request,
                                                  const Reservation& reservation);
  // Binds a reply code of the recipient to the alert (ack_by_reply).
  absl::StatusOr<std::string> AckCode(std::string_view caller, const IdempotencyRecord& record,
                                      const ValidatedAlert& alert, absl::Time accepted_at);
  void Answer(std::string_view caller, const alerts::v1::SendAlertRequest& request,
              const Reservation& reservation, absl::Duration publish_latency, SendDone done);
  void Refuse(std::string_view caller, absl::Status status, SendDone done);
  void MarkPublished(RecordKey key);

  const IntakeOptions options_;
  IdempotencyStore& store_;
  messaging::Publisher& publisher_;
  transit::TransitCipher& transit_;
  IntakeObserver& observer_;
  ids::IdGenerator& alert_ids_;
  timing::Clock& clock_;
};

// A stable digest of what the caller asked for, so that reusing an idempotency key for a
// different request is refused instead of silently answered with the first alert.
// HMAC-SHA256 under `key` of the request's canonical encoding, hex: equal for equal requests, and
// without the key it says nothing about the recipient or the text kept beside it in Redis.
std::string RequestFingerprint(absl::string_view hmac_key,
                               const alerts::v1::SendAlertRequest& request);

}  // namespace klaxon::ingress
