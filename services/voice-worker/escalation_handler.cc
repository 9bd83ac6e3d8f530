#include "services/voice-worker/escalation_handler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/alert_lifetime/alert_lifetime.h"
#include "common/kafka/request_topics.h"
#include "common/prototime/prototime.h"
#include "common/sms_acks/ack_reply.h"
#include "common/stopped_alerts/escalation_chains.h"
#include "common/twilio/statuses.h"
#include "google/protobuf/util/time_util.h"

namespace klaxon::voice {
namespace {

using events::v1::AlertRequested;
using events::v1::DeliveryOutcome;
using events::v1::TwilioEvent;
using google::protobuf::util::TimeUtil;

using prototime::FromProto;
using prototime::ToProto;

// A final call status after which nobody heard the alert: not answered, or answered by a machine.
bool NotAnswered(const events::v1::CallStatusUpdate& call) {
  const std::optional<twilio::CallStatus> status = twilio::ParseCallStatus(call.call_status());
  if (!status.has_value() || !twilio::IsFinal(*status)) return false;
  if (*status != twilio::CallStatus::kCompleted) return true;
  const std::optional<twilio::AnsweredBy> answered_by = twilio::ParseAnsweredBy(call.answered_by());
  return answered_by.has_value() && twilio::IsMachine(*answered_by);
}

// What the callee did, for the outcome's reason: "no-answer", "machine_start" ...
std::string WhatHappened(const events::v1::CallStatusUpdate& call) {
  return twilio::ParseCallStatus(call.call_status()) == twilio::CallStatus::kCompleted
             ? call.answered_by()
             : call.call_status();
}

// A bare "ACK": one with a code acknowledges the SMS alert that asked for it (sms-worker).
bool IsBareAck(std::string_view body) {
  const std::optional<sms_acks::AckReply> reply = sms_acks::ParseAckReply(body);
  return reply.has_value() && reply->code.empty();
}

uint32_t MaxCalls(const AlertRequested& request) {
  return request.voice().max_calls() == 0 ? kDefaultMaxCalls : request.voice().max_calls();
}

absl::Duration CallSpacing(const AlertRequested& request) {
  if (!request.voice().has_call_spacing()) return kDefaultCallSpacing;
  return absl::Nanoseconds(TimeUtil::DurationToNanoseconds(request.voice().call_spacing()));
}

// `request` as the attempt after `attempt` on `channel`, fresh from any tier it passed through.
AlertRequested NextAttempt(const AlertRequested& request, uint32_t attempt,
                           types::v1::Channel channel, absl::Time now) {
  AlertRequested next = request;
  next.mutable_header()->set_attempt(attempt + 1);
  next.mutable_header()->set_channel(channel);
  *next.mutable_header()->mutable_occurred_at() = ToProto(now);
  next.clear_not_before();
  next.clear_deferred_by();
  next.clear_throttled();
  return next;
}

}  // namespace

absl::Time KeepUntil(const AlertRequested& request, absl::Time now) {
  const absl::Time deadline = request.has_deadline() ? FromProto(request.deadline()) : now;
  return std::max(deadline, now) + kEscalationGrace;
}

EscalationHandler::EscalationHandler(EscalationOptions options, EscalationPorts ports)
    : options_(std::move(options)), ports_(ports) {}

absl::Status EscalationHandler::Handle(const messaging::InboundMessage& message) {
  TwilioEvent event;
  if (!event.ParseFromString(message.value)) {
    return absl::InvalidArgumentError("the message is not a TwilioEvent");
  }
  switch (event.body_case()) {
    case TwilioEvent::kCallStatus:
      return event.header().alert_id().empty() ? absl::OkStatus() : OnCallEnded(event);
    case TwilioEvent::kKeyPress:
      if (event.header().alert_id().empty() || event.key_press().digits().empty()) {
        return absl::OkStatus();
      }
      return Acknowledge(event.header().alert_id(), event.header().attempt(),
                         absl::StrCat("by a key press during call ", event.header().attempt()));
    case TwilioEvent::kInboundMessage: {
      absl::StatusOr<transit::SenderPersonalData> reply =
          ports_.transit.OpenInbound(event.inbound_message());
      if (!reply.ok()) return reply.status();
      return IsBareAck(reply->body) ? OnReply(reply->from) : absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status EscalationHandler::OnCallEnded(const TwilioEvent& event) {
  const events::v1::CallStatusUpdate& call = event.call_status();
  const bool answered =
      twilio::ParseCallStatus(call.call_status()) == twilio::CallStatus::kCompleted &&
      !NotAnswered(call);
  if (!answered && !NotAnswered(call)) return absl::OkStatus();  // still ringing or talking
  absl::StatusOr<std::optional<AlertRequested>> request =
      ports_.store.Find(event.header().alert_id());
  if (!request.ok()) return request.status();
  // Not a call this worker placed, or one whose escalation state has expired.
  if (!*request) return absl::OkStatus();
  if (answered) {
    // Someone heard the alert: it is no longer in escalation, so a later ACK reply is not its.
    return ForgetRecipient(**request);
  }
  absl::StatusOr<std::optional<stopped_alerts::StopReason>> stopped =
      ports_.stopped.Find(event.header().alert_id());
  if (!stopped.ok()) return stopped.status();
  if (*stopped) return absl::OkStatus();
  return OnFailedCall(event, **request);
}

absl::Status EscalationHandler::OnFailedCall(const TwilioEvent& event,
                                             const AlertRequested& request) {
  const std::string& alert_id = event.header().alert_id();
  const uint32_t attempt = event.header().attempt();
  const absl::Time now = ports_.clock.Now();
  const std::string step = absl::StrCat("after-call-", attempt);
  absl::StatusOr<bool> claimed = ports_.store.ClaimStep(alert_id, step, KeepUntil(request, now));
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) return absl::OkStatus();  // a duplicate callback: the step was taken

  const events::v1::CallStatusUpdate& call = event.call_status();
  DeliveryOutcome outcome;
  outcome.set_twilio_sid(call.call_sid());
  outcome.set_twilio_status(call.call_status());
  outcome.set_twilio_error_code(call.error_code());
  const std::string failed =
      absl::StrCat("call ", attempt, " not answered (", WhatHappened(call), ")");
  absl::Status status;
  if (attempt < MaxCalls(request)) {
    const absl::Time call_at = now + CallSpacing(request);
    const AlertRequested next = NextAttempt(request, attempt, types::v1::CHANNEL_VOICE, now);
    status = ports_.scheduler.Schedule(next, call_at);
    outcome.set_kind(DeliveryOutcome::KIND_RETRY_SCHEDULED);
    *outcome.mutable_retry_at() = ToProto(call_at);
    outcome.set_reason(
        absl::StrCat(failed, "; calling again at ",
                     absl::FormatTime("%H:%M:%S UTC", call_at, absl::UTCTimeZone())));
  } else if (request.voice().sms_fallback()) {
    const AlertRequested sms = NextAttempt(request, attempt, types::v1::CHANNEL_SMS, now);
    const std::string& topic = kafka::Urgent(request.priority()) ? options_.sms_urgent_request_topic
                                                                 : options_.sms_request_topic;
    status = ports_.publisher.Publish(
        {.topic = topic, .key = alert_id, .value = sms.SerializeAsString()},
        options_.publish_timeout);
    outcome.set_kind(DeliveryOutcome::KIND_FALLBACK_TO_SMS);
    outcome.set_reason(absl::StrCat(failed, "; that was the last of ", MaxCalls(request),
                                    " calls, sending the text by SMS"));
  } else {
    status = ForgetRecipient(request);
    outcome.set_kind(DeliveryOutcome::KIND_UNREACHED);
    outcome.set_reason(absl::StrCat(failed, "; that was the last of ", MaxCalls(request),
                                    " calls and the alert asked for no SMS"));
  }
  if (status.ok()) {
    events::v1::EventHeader header = request.header();
    header.set_attempt(attempt);
    header.set_channel(types::v1::CHANNEL_VOICE);
    status = PublishOutcome(header, outcome);
  }
  if (!status.ok()) {
    // Taken again on the redelivery; a next call scheduled twice is sent once (its attempt
    // claim), and the outcome is published again.
    ports_.store.ReleaseStep(alert_id, step).IgnoreError();
  }
  return status;
}

absl::Status EscalationHandler::ForgetRecipient(const AlertRequested& request) {
  absl::StatusOr<transit::AlertPersonalData> personal = ports_.transit.OpenAlert(request);
  if (absl::IsUnavailable(personal.status())) return personal.status();
  if (!personal.ok()) return absl::OkStatus();
  return ports_.recipients.Remove(personal->recipient, request.header().alert_id());
}

absl::Status EscalationHandler::OnReply(std::string_view from) {
  absl::StatusOr<std::vector<std::string>> alerts =
      ports_.recipients.List(from, ports_.clock.Now());
  if (!alerts.ok()) return alerts.status();
  for (const std::string& alert_id : *alerts) {
    absl::StatusOr<std::optional<AlertRequested>> request = ports_.store.Find(alert_id);
    if (!request.ok()) return request.status();
    const uint32_t attempt = *request ? (*request)->header().attempt() : 0;
    if (absl::Status acknowledged = Acknowledge(alert_id, attempt, "by an SMS reply of ACK");
        !acknowledged.ok()) {
      return acknowledged;
    }
  }
  return absl::OkStatus();
}

absl::Status EscalationHandler::Acknowledge(const std::string& alert_id, uint32_t attempt,
                                            std::string_view by) {
  absl::StatusOr<std::optional<AlertRequested>> request = ports_.store.Find(alert_id);
  if (!request.ok()) return request.status();
  const absl::Time now = ports_.clock.Now();
  // Without the request its deadline is unknown: keep the stop as long as any alert may live.
  const absl::Time keep_until = *request ? KeepUntil(**request, now)
                                         : now + alert_lifetime::kMaxTimeToLive + kEscalationGrace;
  absl::StatusOr<stopped_alerts::StopReason> stop =
      ports_.stopped.Stop(alert_id, stopped_alerts::StopReason::kAcknowledged, keep_until - now);
  if (!stop.ok()) return stop.status();
  // Cancelled before the key press: the cancellation is the alert's end.
  if (*stop != stopped_alerts::StopReason::kAcknowledged) return absl::OkStatus();
  // Before the step's claim, so that a redelivered acknowledgement, which finds the step claimed,
  // still makes sure the chain is stopped and its record published.
  if (*request && !(*request)->escalation_id().empty()) {
    if (absl::Status chain = StopChain(**request, by); !chain.ok()) return chain;
  }
  if (*request) {
    if (absl::Status removed = ForgetRecipient(**request); !removed.ok()) {
      return removed;
    }
  }
  constexpr std::string_view kStep = "acknowledged";
  absl::StatusOr<bool> claimed = ports_.store.ClaimStep(alert_id, kStep, keep_until);
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) return absl::OkStatus();

  events::v1::EventHeader header;
  if (*request) header = (*request)->header();
  header.set_alert_id(alert_id);
  header.set_channel(types::v1::CHANNEL_VOICE);
  header.set_attempt(attempt);
  DeliveryOutcome outcome;
  outcome.set_kind(DeliveryOutcome::KIND_ACKNOWLEDGED);
  outcome.set_reason(absl::StrCat("acknowledged ", std::string(by)));
  absl::Status published = PublishOutcome(header, outcome);
  if (!published.ok()) ports_.store.ReleaseStep(alert_id, kStep).IgnoreError();
  return published;
}

absl::Status EscalationHandler::StopChain(const AlertRequested& page, std::string_view by) {
  absl::StatusOr<std::optional<events::v1::DeliveryEvent>> record =
      stopped_alerts::AcknowledgeChain(ports_.stopped,
                                       {.escalation_id = page.escalation_id(),
                                        .step = page.escalation_step(),
                                        .alert_id = page.header().alert_id(),
                                        .caller = page.header().caller(),
                                        .channel = types::v1::CHANNEL_VOICE},
                                       by, ports_.clock.Now());
  if (!record.ok()) return record.status();
  // nullopt: the chain was cancelled first, and that is its end.
  if (!record->has_value()) return absl::OkStatus();
  return ports_.publisher.Publish({.topic = options_.outcome_topic,
                                   .key = (*record)->header().alert_id(),
                                   .value = (*record)->SerializeAsString()},
                                  options_.publish_timeout);
}

absl::Status EscalationHandler::PublishOutcome(const events::v1::EventHeader& header,
                                               const DeliveryOutcome& outcome) {
  events::v1::DeliveryEvent event;
  *event.mutable_header() = header;
  *event.mutable_header()->mutable_occurred_at() = ToProto(ports_.clock.Now());
  *event.mutable_outcome() = outcome;
  return ports_.publisher.Publish({.topic = options_.outcome_topic,
                                   .key = header.alert_id(),
                                   .value = event.SerializeAsString()},
                                  options_.publish_timeout);
}

}  // namespace klaxon::voice
