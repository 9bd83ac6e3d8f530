#pragma once
// A Sender over several Twilio accounts (docs/adr/0035): each account has a Sender of its own on
// that account's REST client, and a send goes to the one of the account its sender belongs to
// (PacedSender::account, chosen by the routing rule). A status check reads the account the
// attempt was sent on (AlertRequested::check_account). A settlement asks every account: an
// attempt whose answer was lost is looked for wherever it may have gone, and is never sent again
// before it is settled, on whichever account its next try would take.

#include <map>
#include <memory>
#include <string>

#include "services/delivery/sender.h"

namespace klaxon::delivery {

class AccountSenders final : public Sender {
 public:
  // `senders`: by account name, at least one.
  explicit AccountSenders(std::map<std::string, std::unique_ptr<Sender>> senders);

  // A sender of an account with no Sender is rejected (the settings refuse that configuration).
  SendResult Send(const events::v1::AlertRequested& request,
                  const transit::AlertPersonalData& personal, const PacedSender& from) override;
  // kAccepted from the first account that has the attempt; kRetryable only when every account
  // proves it does not; else kUnknown.
  SendResult Settle(const events::v1::AlertRequested& request,
                    const transit::AlertPersonalData& personal, absl::Time sent_at) override;
  // On request.check_account(); an empty one (a check scheduled before accounts were named) is
  // the only account's, else every account is asked in turn until one knows the SID.
  absl::StatusOr<StatusReadBack> ReadStatus(const events::v1::AlertRequested& request,
                                            const std::string& sid) override;

 private:
  const std::map<std::string, std::unique_ptr<Sender>> senders_;
};

}  // namespace klaxon::delivery
