#pragma once
// Drives a voice alert's escalation from klaxon.twilio.events (docs/adr/0007, Voice escalation).
// A call that ended busy, no-answer, failed or canceled, or that a machine or fax answered, is
// followed by the next call `call_spacing` later through the voice retry tier, up to the policy's
// `max_calls`; after the last one the text goes by SMS (FALLBACK_TO_SMS) when the policy asks
// for it, else the alert ends UNREACHED. A human answering ends the escalation (the call's own
// status says DELIVERED). A key press in the call's <Gather>, or an SMS reply of ACK from a
// recipient with alerts in escalation, stops those alerts as acknowledged (ACKNOWLEDGED), and the
// escalation chain of each that is a page of one (docs/adr/0029).
// Each step is claimed in the EscalationStore first, so duplicate or late callbacks, and any
// number of replicas, take it once.

#include <array>
#include <string>

#include "common/messaging/message.h"
#include "common/stopped_alerts/stopped_alerts.h"
#include "common/timing/clock.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/delivery/retry_scheduler.h"
#include "services/voice-worker/escalation_store.h"

namespace klaxon::voice {

// Calls of a policy that leaves max_calls at 0, and the spacing when call_spacing is unset.
inline constexpr uint32_t kDefaultMaxCalls = 3;
inline constexpr absl::Duration kDefaultCallSpacing = absl::Seconds(60);
// How long escalation state outlives an alert's deadline, for callbacks that arrive late.
inline constexpr absl::Duration kEscalationGrace = absl::Hours(1);

// How long to keep a request's escalation state: its deadline (or now, when it has none or it
// passed) plus kEscalationGrace.
absl::Time KeepUntil(const events::v1::AlertRequested& request, absl::Time now);

struct EscalationOptions {
  std::string outcome_topic;  // prefixed klaxon.delivery.events
  // For the SMS fallback, prefixed: klaxon.sms.requests, and klaxon.sms.requests.urgent for a
  // critical alert (docs/adr/0027).
  std::string sms_request_topic;
  std::string sms_urgent_request_topic;
  absl::Duration publish_timeout = absl::Seconds(10);
};

struct EscalationPorts {
  EscalationStore& store;
  RecipientAlerts& recipients;
  stopped_alerts::StoppedAlerts& stopped;
  delivery::RetryScheduler& scheduler;
  messaging::Publisher& publisher;
  timing::Clock& clock;
  // Opens the recipient of a remembered request and the sender and body of an SMS reply; the
  // SMS fallback republishes the request's sealed fields as they are (same alert id).
  transit::TransitCipher& transit;
};

class EscalationHandler final : public messaging::MessageHandler {
 public:
  // The ports are borrowed and must outlive the handler.
  EscalationHandler(EscalationOptions options, EscalationPorts ports);

  // The TwilioEvent bodies Handle acts on; it answers OK to any other at once.
  static constexpr std::array kActsOn = {events::v1::TwilioEvent::kCallStatus,
                                         events::v1::TwilioEvent::kKeyPress,
                                         events::v1::TwilioEvent::kInboundMessage};

  // kInvalidArgument for a value that is not a TwilioEvent (skipped by the consumer); a port's
  // retryable error otherwise, after giving back any step it claimed.
  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  absl::Status OnCallEnded(const events::v1::TwilioEvent& event);
  absl::Status OnFailedCall(const events::v1::TwilioEvent& event,
                            const events::v1::AlertRequested& request);
  absl::Status OnReply(std::string_view from);
  // Takes the alert out of its recipient's alerts in escalation. A request that can no longer be
  // opened (its transit key version was removed) is left to the index's own expiry.
  absl::Status ForgetRecipient(const events::v1::AlertRequested& request);
  // Stops the alert as acknowledged, and its escalation chain when it is a page of one, and
  // reports it once, as `attempt` acknowledged `by` ("by a key press during call 2").
  absl::Status Acknowledge(const std::string& alert_id, uint32_t attempt, std::string_view by);
  // Stops `page`'s escalation chain as acknowledged `by` its recipient and publishes the chain's
  // record (docs/adr/0029). Again on every acknowledgement of the page: both are idempotent.
  absl::Status StopChain(const events::v1::AlertRequested& page, std::string_view by);
  absl::Status PublishOutcome(const events::v1::EventHeader& header,
                              const events::v1::DeliveryOutcome& outcome);

  const EscalationOptions options_;
  EscalationPorts ports_;
};

}  // namespace klaxon::voice
