#pragma once
// Applies recipients' consent changes from klaxon.twilio.events to the SuppressionList: an
// opt-out (STOP and its synonyms) suppresses the sender of the SMS, an opt-in (START ...) lifts
// it, each at the time ingress received it so changes consumed out of order keep the latest wish.
// Every other event is not the sms-worker's and is skipped.

#include <array>

#include "common/messaging/message.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/delivery/suppression_list.h"

namespace klaxon::sms {

class ConsentHandler final : public messaging::MessageHandler {
 public:
  // Borrowed, must outlive the handler. `transit` opens the sender sealed in the event (ADR 0013).
  ConsentHandler(delivery::SuppressionList& suppressions, transit::TransitCipher& transit)
      : suppressions_(suppressions), transit_(transit) {}

  // The TwilioEvent bodies Handle acts on; it answers OK to any other at once.
  static constexpr std::array kActsOn = {events::v1::TwilioEvent::kOptOut,
                                         events::v1::TwilioEvent::kOptIn};

  // kInvalidArgument for a value that is not a TwilioEvent (skipped by the consumer); the
  // suppression list's kUnavailable otherwise, so the consumer retries; the transit cipher's
  // error when the sender cannot be opened (kUnavailable while a rotation rolls out).
  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  delivery::SuppressionList& suppressions_;
  transit::TransitCipher& transit_;
};

}  // namespace klaxon::sms
