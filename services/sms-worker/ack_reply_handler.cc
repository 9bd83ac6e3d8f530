#include "services/sms-worker/ack_reply_handler.h"

#include <optional>
#include <utility>

#include "common/prototime/prototime.h"
#include "common/sms_acks/ack_reply.h"
#include "common/stopped_alerts/escalation_chains.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::sms {

AckReplyHandler::AckReplyHandler(AckReplyOptions options, sms_acks::AckCodes& codes,
                                 stopped_alerts::StoppedAlerts& stopped,
                                 messaging::Publisher& publisher, transit::TransitCipher& transit,
                                 timing::Clock& clock)
    : options_(std::move(options)),
      codes_(codes),
      stopped_(stopped),
      publisher_(publisher),
      transit_(transit),
      clock_(clock) {}

absl::Status AckReplyHandler::Handle(const messaging::InboundMessage& message) {
  events::v1::TwilioEvent event;
  if (!event.ParseFromString(message.value)) {
    return absl::InvalidArgumentError("the message is not a TwilioEvent");
  }
  if (!event.has_inbound_message()) return absl::OkStatus();
  absl::StatusOr<transit::SenderPersonalData> reply = transit_.OpenInbound(event.inbound_message());
  if (!reply.ok()) return reply.status();
  const std::optional<sms_acks::AckReply> ack = sms_acks::ParseAckReply(reply->body);
  if (!ack.has_value() || ack->code.empty()) return absl::OkStatus();
  absl::StatusOr<std::optional<sms_acks::AckTarget>> target =
      codes_.Find(reply->from, ack->code, clock_.Now());
  if (!target.ok()) return target.status();
  if (!target->has_value()) return absl::OkStatus();
  const sms_acks::AckTarget& alert = **target;

  absl::StatusOr<stopped_alerts::StopReason> holding = stopped_.Stop(
      alert.alert_id, stopped_alerts::StopReason::kAcknowledged, stopped_alerts::kKeepStopFor);
  if (!holding.ok()) return holding.status();
  if (*holding != stopped_alerts::StopReason::kAcknowledged) return absl::OkStatus();
  // A page of an escalation chain (docs/adr/0029) stops its chain too, before either record is
  // published: Kafka being down must not let the chain's next page go out meanwhile.
  std::optional<events::v1::DeliveryEvent> chain_record;
  if (!alert.escalation_id.empty()) {
    absl::StatusOr<std::optional<events::v1::DeliveryEvent>> chain =
        stopped_alerts::AcknowledgeChain(stopped_,
                                         {.escalation_id = alert.escalation_id,
                                          .step = alert.escalation_step,
                                          .alert_id = alert.alert_id,
                                          .caller = alert.caller,
                                          .channel = types::v1::CHANNEL_SMS},
                                         "by an SMS reply with its code", clock_.Now());
    if (!chain.ok()) return chain.status();
    chain_record = *std::move(chain);
  }

  events::v1::DeliveryEvent record;
  events::v1::EventHeader& header = *record.mutable_header();
  header.set_alert_id(alert.alert_id);
  header.set_caller(alert.caller);
  header.set_channel(types::v1::CHANNEL_SMS);
  // The record is about the alert (no attempt moves); 1 keeps the header valid.
  header.set_attempt(1);
  *header.mutable_occurred_at() = prototime::ToProto(clock_.Now());
  record.mutable_acknowledged()->set_reason(
      "acknowledged by the recipient's SMS reply with its code");
  if (absl::Status published = Publish(record); !published.ok()) return published;
  // nullopt: the chain was cancelled first, and that is its end.
  return chain_record.has_value() ? Publish(*chain_record) : absl::OkStatus();
}

absl::Status AckReplyHandler::Publish(const events::v1::DeliveryEvent& record) {
  return publisher_.Publish({.topic = options_.events_topic,
                             .key = record.header().alert_id(),
                             .value = record.SerializeAsString()},
                            options_.publish_timeout);
}

}  // namespace klaxon::sms
