#include "services/ingress/alert_intake.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto/hmac.h"
#include "common/kafka/request_topics.h"
#include "common/prototime/prototime.h"
#include "common/sms_acks/ack_reply.h"
#include "common/twilio/segments.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/ingress/send_alert_validation.h"

namespace klaxon::ingress {

using alerts::v1::SendAlertRequest;
using alerts::v1::SendAlertResponse;

std::string RequestFingerprint(absl::string_view hmac_key, const SendAlertRequest& request) {
  // Length-prefixed fields, metadata in key order: no two different requests share an encoding.
  // The prefix keeps these HMACs apart from the phone tokens made under the same key.
  std::string canonical = "klaxon/send-alert-fingerprint/v1;";
  auto append = [&canonical](const std::string& field) {
    absl::StrAppend(&canonical, field.size(), ":", field, ";");
  };
  append(types::v1::Channel_Name(request.channel()));
  append(request.recipient());
  append(request.text());
  const std::map<std::string, std::string> metadata(request.metadata().begin(),
                                                    request.metadata().end());
  for (const auto& [key, value] : metadata) {
    append(key);
    append(value);
  }
  // Appended only when set, so a request without them keeps the fingerprint it had before they
  // existed (a retry across an upgrade is still recognised).
  if (request.has_ttl()) append(request.ttl().SerializeAsString());
  if (request.has_voice()) append(request.voice().SerializeAsString());
  if (request.ack_by_reply()) append("ack_by_reply");
  if (request.has_send_at()) append(request.send_at().SerializeAsString());
  if (request.priority() != types::v1::PRIORITY_UNSPECIFIED) {
    append(absl::StrCat("priority:", request.priority()));
  }
  if (!request.time_zone().empty()) append(absl::StrCat("time_zone:", request.time_zone()));
  if (!request.callback_url().empty()) {
    append(absl::StrCat("callback_url:", request.callback_url()));
  }
  for (const alerts::v1::EscalationStep& step : request.escalation()) {
    append(absl::StrCat("escalation:", step.SerializeAsString()));
  }
  // The template as named, not its rendering: a retry after a new version is the same request.
  if (request.has_template_()) {
    append(absl::StrCat("template:", request.template_().name()));
    append(request.template_().locale());
    const std::map<std::string, std::string> parameters(request.template_().parameters().begin(),
                                                        request.template_().parameters().end());
    for (const auto& [name, value] : parameters) {
      append(name);
      append(value);
    }
  }
  return absl::BytesToHexString(crypto::HmacSha256(hmac_key, canonical));
}

namespace {

// Where the alert `alert_id` stands in the chain `submission` names, if it names one.
ChainPosition PlaceInChain(const Submission& submission, const std::string& alert_id) {
  if (submission.escalation_step == 0) return {};
  // A chain's first page names the chain with its own id.
  return {.escalation_id =
              submission.escalation_id.empty() ? alert_id : std::string(submission.escalation_id),
          .step = submission.escalation_step};
}

// A port that answers a batch must answer each of its items.
void ExpectOneEach(size_t answers, size_t items) {
  if (answers != items) std::abort();
}

absl::Status KeyReused() {
  return absl::FailedPreconditionError(
      "idempotency_key: was already used for a different request; use a new key");
}

}  // namespace

AlertIntake::AlertIntake(IntakeOptions options, IdempotencyStore& store,
                         messaging::Publisher& publisher, transit::TransitCipher& transit,
                         IntakeObserver& observer, ids::IdGenerator& alert_ids,
                         timing::Clock& clock)
    : options_(std::move(options)),
      store_(store),
      publisher_(publisher),
      transit_(transit),
      observer_(observer),
      alert_ids_(alert_ids),
      clock_(clock) {}

void AlertSubmitter::Send(std::string_view caller, const SendAlertRequest& request,
                          const Submission& submission, SendDone done) {
  std::vector<IntakeCall> call;
  call.push_back({.caller = std::string(caller),
                  .request = &request,
                  .submission = submission,
                  .done = std::move(done)});
  SendAll(std::move(call));
}

void AlertIntake::SendAll(std::vector<IntakeCall> calls) {
  // The calls let in, and beside each the record its key is to hold.
  std::vector<IntakeCall> reserving;
  std::vector<Admitted> admitted;
  std::vector<Reserved> reserved;
  for (IntakeCall& call : calls) {
    absl::StatusOr<Admitted> let_in = Admit(call);
    if (!let_in.ok()) {
      Refuse(call.caller, let_in.status(), std::move(call.done));
    } else if (let_in->published_repeat.has_value()) {
      reserved.push_back({std::move(call), *std::move(let_in->published_repeat)});
    } else {
      reserving.push_back(std::move(call));
      admitted.push_back(*std::move(let_in));
    }
  }
  std::vector<NewRecord> records;
  records.reserve(reserving.size());
  for (size_t i = 0; i < reserving.size(); ++i) {
    records.push_back({.caller = reserving[i].caller,
                       .key = reserving[i].request->idempotency_key(),
                       .candidate = std::move(admitted[i].candidate),
                       .window = admitted[i].window});
  }
  std::vector<absl::StatusOr<IdempotencyRecord>> records_held = store_.ReserveAll(records);
  ExpectOneEach(records_held.size(), reserving.size());
  for (size_t i = 0; i < reserving.size(); ++i) {
    IntakeCall& call = reserving[i];
    Admitted& let_in = admitted[i];
    absl::StatusOr<Reservation> reservation =
        records_held[i].ok() ? ReservationOf(*std::move(records_held[i]), let_in.fingerprint,
                                             records[i].candidate.alert_id, call.submission,
                                             std::move(let_in.alert), std::move(let_in.in_flight))
                             : records_held[i].status();
    if (!reservation.ok()) {
      let_in.in_flight.reset();  // before the answer: the caller may retry at once
      Refuse(call.caller, reservation.status(), std::move(call.done));
      continue;
    }
    reserved.push_back({std::move(call), *std::move(reservation)});
  }
  Charge(std::move(reserved));
}

void AlertIntake::Charge(std::vector<Reserved> batch) {
  const absl::Time started = clock_.Now();
  std::vector<Reserved> charging;
  for (Reserved& next : batch) {
    const SendAlertRequest& request = *next.call.request;
    if (next.reservation.record.published) {
      Answer(next.call.caller, request, next.reservation, clock_.Now() - started,
             std::move(next.call.done));
      continue;
    }
    if (options_.switches != nullptr) {
      if (absl::Status on = options_.switches->CheckOn(request.channel()); !on.ok()) {
        Refuse(next.call.caller, std::move(on), std::move(next.call.done));
        continue;
      }
    }
    charging.push_back(std::move(next));
  }
  // Before the quota, so an alert a budget refuses takes none of it. The estimate is of the text
  // as sent (a template's renders later: estimated as one segment).
  if (options_.budgets != nullptr && !charging.empty()) {
    std::vector<budgets::AlertCharge> charges;
    for (const Reserved& next : charging) {
      const SendAlertRequest& request = *next.call.request;
      charges.push_back({.caller = next.call.caller,
                         .priority = request.priority(),
                         .estimate = options_.budgets->settings().Estimate(
                             request.channel(), request.recipient(), request.text())});
    }
    charging = Passed(std::move(charging), options_.budgets->AdmitAlerts(charges, clock_.Now()));
  }
  // Charged only for alerts about to be made durable: a repeat of an accepted key is free.
  if (options_.quota != nullptr && !charging.empty()) {
    std::vector<std::string_view> callers;
    for (const Reserved& next : charging) callers.push_back(next.call.caller);
    charging = Passed(std::move(charging), options_.quota->AdmitAll(callers));
  }
  for (Reserved& next : charging) Publish(std::move(next), started);
}

std::vector<AlertIntake::Reserved> AlertIntake::Passed(std::vector<Reserved> batch,
                                                       std::vector<absl::Status> checks) {
  ExpectOneEach(checks.size(), batch.size());
  std::vector<Reserved> passed;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (checks[i].ok()) {
      passed.push_back(std::move(batch[i]));
      continue;
    }
    batch[i].reservation.in_flight.reset();  // before the answer: the caller may retry at once
    Refuse(batch[i].call.caller, std::move(checks[i]), std::move(batch[i].call.done));
  }
  return passed;
}

void AlertIntake::Publish(Reserved reserved, absl::Time started) {
  absl::StatusOr<RequestToPublish> requested =
      RequestMessage(reserved.call.caller, *reserved.call.request, reserved.reservation);
  if (!requested.ok()) {
    reserved.reservation.in_flight.reset();  // before the answer: the caller may retry at once
    return Refuse(reserved.call.caller, requested.status(), std::move(reserved.call.done));
  }
  reserved.reservation.segments = requested->segments;
  publisher_.PublishAsync(requested->message, [this, reserved = std::move(reserved),
                                               started](absl::Status published) mutable {
    IntakeCall& call = reserved.call;
    if (!published.ok()) {
      // Whatever Kafka said, the caller may retry with the same key: it is safe and will
      // converge.
      return Refuse(call.caller,
                    absl::UnavailableError(absl::StrCat(
                        "the alert could not be made durable in Kafka (", published.message(),
                        "); retry with the same idempotency_key")),
                    std::move(call.done));
    }
    RecordKey key{.caller = call.caller, .key = call.request->idempotency_key()};
    Answer(call.caller, *call.request, reserved.reservation, clock_.Now() - started,
           std::move(call.done));
    // Kafka has the request now. Failing to note that only costs a repeat one more publish.
    MarkPublished(std::move(key));
  });
}

absl::StatusOr<AlertIntake::Admitted> AlertIntake::Admit(const IntakeCall& call) {
  const std::string& caller = call.caller;
  const SendAlertRequest& request = *call.request;
  const Submission& submission = call.submission;
  const absl::Time now = clock_.Now();
  absl::StatusOr<ValidatedAlert> alert = ValidateSendAlert(request, now);
  if (!alert.ok()) return alert.status();
  std::string fingerprint = RequestFingerprint(options_.fingerprint_key, request);
  if (request.has_template_()) {
    // A retry of an alert already taken in is answered from its record, never rendered again:
    // audit may be out of reach, or the template changed since (docs/adr/0030).
    absl::StatusOr<std::optional<Reservation>> repeat =
        PublishedRepeat(caller, request, submission, fingerprint, *alert);
    if (!repeat.ok()) return repeat.status();
    if (repeat->has_value()) return Admitted{.published_repeat = *std::move(repeat)};
    if (absl::Status rendered = Render(request, submission, *alert); !rendered.ok()) {
      return rendered;
    }
  }
  if (options_.quiet_hours != nullptr && !submission.awaited_by_recipient) {
    // Held to the end of the recipient's quiet hours as if the caller had scheduled it then.
    if (std::optional<QuietHold> hold =
            options_.quiet_hours->Hold(caller, alert->recipient, alert->time_zone, alert->priority,
                                       alert->send_at.value_or(now))) {
      alert->send_at = hold->until;
      alert->quiet_hours = std::move(hold->why);
    }
  }
  std::optional<IntakeAdmission::Ticket> in_flight;
  if (options_.admission != nullptr) {
    absl::StatusOr<IntakeAdmission::Ticket> ticket =
        options_.admission->Admit(request.channel(), request.priority());
    if (!ticket.ok()) return ticket.status();
    in_flight.emplace(*std::move(ticket));
  }

  IdempotencyRecord candidate{
      .alert_id = submission.alert_id.empty() ? alert_ids_.Next() : submission.alert_id,
      .request_fingerprint = fingerprint,
      .channel = request.channel()};
  candidate.chain = PlaceInChain(submission, candidate.alert_id);
  const absl::Duration window = RecordWindow(*alert, submission.chain_span, now);
  return Admitted{.fingerprint = std::move(fingerprint),
                  .alert = *std::move(alert),
                  .in_flight = std::move(in_flight),
                  .candidate = std::move(candidate),
                  .window = window};
}

absl::StatusOr<AlertIntake::Reservation> AlertIntake::ReservationOf(
    IdempotencyRecord record, std::string_view fingerprint, std::string_view candidate_id,
    const Submission& submission, ValidatedAlert alert,
    std::optional<IntakeAdmission::Ticket> in_flight) {
  if (record.request_fingerprint != fingerprint) return KeyReused();
  const bool duplicate = record.alert_id != candidate_id;
  // The store answers with the alert's id, not its place in a chain: the same request (same
  // fingerprint) has the same place, a first page's chain named by the id the key holds.
  record.chain = PlaceInChain(submission, record.alert_id);
  return Reservation{.record = std::move(record),
                     .duplicate = duplicate,
                     .alert = std::move(alert),
                     .in_flight = std::move(in_flight)};
}

absl::StatusOr<std::optional<AlertIntake::Reservation>> AlertIntake::PublishedRepeat(
    std::string_view caller, const SendAlertRequest& request, const Submission& submission,
    const std::string& fingerprint, const ValidatedAlert& alert) {
  absl::StatusOr<std::optional<IdempotencyRecord>> earlier =
      store_.Find(caller, request.idempotency_key());
  if (!earlier.ok()) return earlier.status();
  if (!earlier->has_value() || !(*earlier)->published) return std::nullopt;
  return ReservationOf(**std::move(earlier), fingerprint, submission.alert_id, submission, alert);
}

absl::Status AlertIntake::Render(const SendAlertRequest& request, const Submission& submission,
                                 ValidatedAlert& alert) {
  if (options_.templates == nullptr) {
    return absl::FailedPreconditionError(
        "template: this ingress cannot reach the templates; send the text itself");
  }
  absl::StatusOr<alerts::v1::RenderedTemplate> rendered =
      options_.templates->Render(submission.caller_key, request.channel(), request.template_());
  if (!rendered.ok()) return rendered.status();
  return UseRendering(request, *rendered, alert);
}

absl::Duration AlertIntake::RecordWindow(const ValidatedAlert& alert, absl::Duration chain_span,
                                         absl::Time now) const {
  if (!alert.send_at.has_value() && chain_span == absl::ZeroDuration()) {
    return options_.idempotency_window;
  }
  // Until a scheduled alert, or the last page of the chain it heads, can no longer be sent: a
  // retried SendAlert still finds it, and CancelAlert still knows whose it is.
  const absl::Duration ahead =
      alert.send_at.has_value() ? *alert.send_at - now : absl::ZeroDuration();
  return std::max(options_.idempotency_window, ahead + chain_span + alert.ttl + absl::Hours(1));
}

absl::StatusOr<AlertIntake::RequestToPublish> AlertIntake::RequestMessage(
    std::string_view caller, const SendAlertRequest& request, const Reservation& reservation) {
  const IdempotencyRecord& record = reservation.record;
  const ValidatedAlert& alert = reservation.alert;
  const std::string& alert_id = record.alert_id;
  const absl::Time accepted_at = clock_.Now();
  events::v1::AlertRequested event;
  events::v1::EventHeader& header = *event.mutable_header();
  header.set_alert_id(alert_id);
  header.set_caller(std::string(caller));
  header.set_channel(request.channel());
  header.set_attempt(1);
  *header.mutable_occurred_at() = prototime::ToProto(accepted_at);
  std::string text = alert.text;
  if (request.ack_by_reply()) {
    absl::StatusOr<std::string> code = AckCode(caller, record, alert, accepted_at);
    if (!code.ok()) return code.status();
    text += sms_acks::AckInstruction(*code);
    event.set_ack_code(*code);
  }
  const uint32_t segments = request.channel() == types::v1::CHANNEL_SMS
                                ? static_cast<uint32_t>(twilio::SmsSegments(text))
                                : 0;
  if (absl::Status sealed = transit_.SealAlert({.recipient = alert.recipient, .text = text}, event);
      !sealed.ok()) {
    return sealed;
  }
  event.set_idempotency_key(request.idempotency_key());
  event.mutable_metadata()->insert(request.metadata().begin(), request.metadata().end());
  *event.mutable_accepted_at() = prototime::ToProto(accepted_at);
  // A scheduled alert is worth sending for its time to live from when it may be sent.
  const absl::Time sendable_from = alert.send_at.value_or(accepted_at);
  if (alert.send_at.has_value()) {
    *event.mutable_send_at() = prototime::ToProto(*alert.send_at);
    *event.mutable_not_before() = event.send_at();
  }
  event.set_quiet_hours(alert.quiet_hours);
  *event.mutable_deadline() = prototime::ToProto(sendable_from + alert.ttl);
  if (alert.voice.has_value()) *event.mutable_voice() = *alert.voice;

  event.set_priority(alert.priority);
  event.set_callback_url(request.callback_url());
  event.set_escalation_id(record.chain.escalation_id);
  event.set_escalation_step(record.chain.step);
  if (alert.template_use.has_value()) {
    event.set_template_name(alert.template_use->name);
    event.set_template_locale(alert.template_use->locale);
    event.set_template_version(alert.template_use->version);
  }
  const bool voice = request.channel() == types::v1::CHANNEL_VOICE;
  const IntakeTopics& topics = options_.topics;
  const std::string& topic = kafka::Urgent(alert.priority)
                                 ? (voice ? topics.voice_urgent : topics.sms_urgent)
                                 : (voice ? topics.voice : topics.sms);
  return RequestToPublish{
      .message = {.topic = topic, .key = alert_id, .value = event.SerializeAsString()},
      .segments = segments};
}

absl::StatusOr<std::string> AlertIntake::AckCode(std::string_view caller,
                                                 const IdempotencyRecord& record,
                                                 const ValidatedAlert& alert,
                                                 absl::Time accepted_at) {
  if (options_.ack_codes == nullptr) {
    return absl::FailedPreconditionError(
        "ack_by_reply: this ingress is not configured to take replies; send without it");
  }
  return options_.ack_codes->Assign(
      alert.recipient,
      {.alert_id = record.alert_id,
       .caller = std::string(caller),
       .escalation_id = record.chain.escalation_id,
       .escalation_step = record.chain.step},
      alert.send_at.value_or(accepted_at) + alert.ttl + kAckReplyGrace);
}

void AlertIntake::Answer(std::string_view caller, const SendAlertRequest& request,
                         const Reservation& reservation, absl::Duration publish_latency,
                         SendDone done) {
  SendAlertResponse response;
  response.set_alert_id(reservation.record.alert_id);
  response.set_duplicate(reservation.duplicate);
  response.set_segments(reservation.segments);
  observer_.OnAccepted(caller, request, reservation.record.alert_id, reservation.duplicate,
                       publish_latency);
  std::move(done)(std::move(response));
}

void AlertIntake::Refuse(std::string_view caller, absl::Status status, SendDone done) {
  observer_.OnRejected(caller, status);
  std::move(done)(std::move(status));
}

void AlertIntake::MarkPublished(RecordKey key) {
  if (options_.published_marks == nullptr) {
    (void)store_.MarkPublished(key.caller, key.key);
    return;
  }
  // A mark the queue refuses is skipped (IntakeOptions::published_marks).
  (void)options_.published_marks->Submit(key);
}

}  // namespace klaxon::ingress
