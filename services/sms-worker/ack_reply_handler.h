#pragma once
// Acknowledges an SMS alert when its recipient replies "ACK <code>" (docs/adr/0024): the code,
// looked up for the sender's number, names the alert; the alert is stopped as acknowledged, so
// nothing more of it is sent, and a DeliveryEvent{acknowledged} is published for audit (the
// alert's status, not an attempt's). A page of an escalation chain (docs/adr/0029) stops its chain
// as well, and the chain's record is published beside the page's. An alert cancelled first stays
// cancelled. A code the sender does not hold (mistyped, expired, another number's), a bare "ACK"
// (the voice worker's) and every other event are skipped. Every step is idempotent, so a reply
// consumed again converges.

#include <array>
#include <string>

#include "absl/time/time.h"
#include "common/messaging/message.h"
#include "common/sms_acks/ack_codes.h"
#include "common/stopped_alerts/stopped_alerts.h"
#include "common/timing/clock.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::sms {

struct AckReplyOptions {
  std::string events_topic;  // klaxon.delivery.events, with the deployment's prefix
  absl::Duration publish_timeout = absl::Seconds(5);
};

class AckReplyHandler final : public messaging::MessageHandler {
 public:
  // Every reference is borrowed and must outlive the handler. `transit` opens the sender and
  // body sealed in the event (ADR 0013).
  AckReplyHandler(AckReplyOptions options, sms_acks::AckCodes& codes,
                  stopped_alerts::StoppedAlerts& stopped, messaging::Publisher& publisher,
                  transit::TransitCipher& transit, timing::Clock& clock);

  // The TwilioEvent bodies Handle acts on; it answers OK to any other at once.
  static constexpr std::array kActsOn = {events::v1::TwilioEvent::kInboundMessage};

  // kInvalidArgument for a value that is not a TwilioEvent (skipped by the consumer); otherwise
  // the error of the step that failed (kUnavailable for Redis and Kafka), so the consumer retries.
  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  // Publishes `record` to the events topic, keyed by the alert (or chain) it is about.
  absl::Status Publish(const events::v1::DeliveryEvent& record);

  const AckReplyOptions options_;
  sms_acks::AckCodes& codes_;
  stopped_alerts::StoppedAlerts& stopped_;
  messaging::Publisher& publisher_;
  transit::TransitCipher& transit_;
  timing::Clock& clock_;
};

}  // namespace klaxon::sms
