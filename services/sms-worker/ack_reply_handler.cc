#include "services/sms-worker/ack_reply_handler.h"

#include <utility>

#include "common/prototime/prototime.h"
#include "common/sms_acks/ack_reply.h"
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
  return publisher_.Publish(
      {.topic = options_.events_topic, .key = alert.alert_id, .value = record.SerializeAsString()},
      options_.publish_timeout);
}

}  // namespace klaxon::sms
