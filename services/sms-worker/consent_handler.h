#pragma once
// Applies recipients' consent changes from klaxon.twilio.events to the SuppressionList: an
// opt-out (STOP and its synonyms) suppresses the sender of the SMS, an opt-in (START ...) lifts
// it, each at the time ingress received it so changes consumed out of order keep the latest wish.
// Every other event is not the sms-worker's and is skipped.

#include "common/delivery/suppression_list.h"
#include "common/messaging/message.h"

namespace klaxon::sms {

class ConsentHandler final : public messaging::MessageHandler {
 public:
  // `suppressions` is borrowed and must outlive the handler.
  explicit ConsentHandler(delivery::SuppressionList& suppressions) : suppressions_(suppressions) {}

  // kInvalidArgument for a value that is not a TwilioEvent (skipped by the consumer); the
  // suppression list's kUnavailable otherwise, so the consumer retries.
  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  delivery::SuppressionList& suppressions_;
};

}  // namespace klaxon::sms
