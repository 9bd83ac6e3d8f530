#pragma once
// Port: which alert a recipient's reply code acknowledges (docs/adr/0024). Ingress binds a code
// to each SMS alert sent with ack_by_reply, one that no other open alert to that number holds, so
// "ACK 4821" from that number names exactly one alert; sms-worker looks the code up when the
// reply comes. Shared by every replica (Redis), keyed by the recipient's phone token.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/digit_codes.h"

namespace klaxon::sms_acks {

// The alert a code acknowledges, and the caller that sent it (for the outcome's header).
struct AckTarget {
  std::string alert_id;
  std::string caller;
  // When the alert is a page of an escalation chain (docs/adr/0029): the chain's id and the
  // page's step (1 first), so that the reply stops the chain too. Empty and 0 otherwise.
  std::string escalation_id;
  uint32_t escalation_step = 0;
  bool operator==(const AckTarget&) const = default;
};

// Errors are kUnavailable throughout.
class AckCodes {
 public:
  // A code stays taken this long after its binding ended, acknowledging nothing: a late reply to
  // an old text must not be read as acknowledging a newer alert that drew the same code.
  static constexpr absl::Duration kQuarantine = absl::Hours(24 * 7);

  virtual ~AckCodes() = default;
  // Binds `code` of `recipient` (E.164) to `target` until `until`; false, binding nothing, when
  // another alert holds that code of that recipient, or held it less than kQuarantine ago.
  virtual absl::StatusOr<bool> Bind(std::string_view recipient, std::string_view code,
                                    const AckTarget& target, absl::Time until) = 0;
  // The alert `code` of `recipient` acknowledges at `now`, or nullopt (never bound, or its
  // binding ended).
  virtual absl::StatusOr<std::optional<AckTarget>> Find(std::string_view recipient,
                                                        std::string_view code, absl::Time now) = 0;
};

// Draws codes until one is free for the recipient and binds it.
class AckCodeAssigner {
 public:
  // How many codes are drawn before giving up: with 10,000 codes, only a recipient with
  // thousands of open acknowledgeable alerts runs out.
  static constexpr int kDraws = 8;

  // Both borrowed; they must outlive the assigner.
  AckCodeAssigner(AckCodes& codes, crypto::CodeSource& source) : codes_(codes), source_(source) {}

  // The code bound to `target`. kFailedPrecondition when kDraws codes in a row were taken (a state
  // that lasts: retrying soon does not help); the store's kUnavailable, or kInternal when the
  // CSPRNG fails.
  absl::StatusOr<std::string> Assign(std::string_view recipient, const AckTarget& target,
                                     absl::Time until);

 private:
  AckCodes& codes_;
  crypto::CodeSource& source_;
};

}  // namespace klaxon::sms_acks
