#pragma once
// The voice worker's Sender: before each call is placed, remembers its request in the
// EscalationStore and marks the alert in escalation for its recipient, so the call's status
// callback (which names only the alert and attempt) finds the voice policy, and an SMS reply of
// ACK finds the alert. Remembering first means no callback can come back for a call whose
// request is unknown.

#include "common/timing/clock.h"
#include "services/delivery/sender.h"
#include "services/voice-worker/escalation_store.h"

namespace klaxon::voice {

class EscalationSender final : public delivery::Sender {
 public:
  // Everything is borrowed and must outlive the sender.
  EscalationSender(delivery::Sender& calls, EscalationStore& store, RecipientAlerts& recipients,
                   timing::Clock& clock)
      : calls_(calls), store_(store), recipients_(recipients), clock_(clock) {}

  // kRetryable without calling when the state cannot be written (nothing was sent).
  delivery::SendResult Send(const events::v1::AlertRequested& request,
                            const transit::AlertPersonalData& personal,
                            const delivery::PacedSender& from) override;
  // The state was remembered before the Send being settled.
  delivery::SendResult Settle(const events::v1::AlertRequested& request,
                              const transit::AlertPersonalData& personal,
                              absl::Time sent_at) override {
    return calls_.Settle(request, personal, sent_at);
  }
  absl::StatusOr<delivery::StatusReadBack> ReadStatus(const events::v1::AlertRequested& request,
                                                      const std::string& sid) override {
    return calls_.ReadStatus(request, sid);
  }

 private:
  delivery::Sender& calls_;
  EscalationStore& store_;
  RecipientAlerts& recipients_;
  timing::Clock& clock_;
};

}  // namespace klaxon::voice
