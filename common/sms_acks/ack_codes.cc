#include "common/sms_acks/ack_codes.h"

#include "common/sms_acks/ack_reply.h"

namespace klaxon::sms_acks {

absl::StatusOr<std::string> AckCodeAssigner::Assign(std::string_view recipient,
                                                    const AckTarget& target, absl::Time until) {
  for (int draw = 0; draw < kDraws; ++draw) {
    absl::StatusOr<std::string> code = source_.Mint(kAckCodeLength);
    if (!code.ok()) return code.status();
    absl::StatusOr<bool> bound = codes_.Bind(recipient, *code, target, until);
    if (!bound.ok()) return bound.status();
    if (*bound) return code;
  }
  return absl::FailedPreconditionError(
      "ack_by_reply: this recipient holds too many open alerts that await an ACK reply to give "
      "this one a code of its own; send it without ack_by_reply, or wait for those to end");
}

}  // namespace klaxon::sms_acks
