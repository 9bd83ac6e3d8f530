#pragma once
// Port: where verifications live between StartVerification and the last CheckVerification
// (docs/adr/0022). Shared by every ingress replica; a restart loses none. A verification is kept
// until forget_at (a while past its expiry, so a late check still answers EXPIRED) and then
// vanishes on its own. Nothing in it names the recipient or the code in clear: the recipient is
// its blind index, the code a keyed digest plus a sealed copy (so a repeat Start can send the same
// code again).

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::ingress::verification {

enum class VerificationState { kPending, kApproved, kCancelled };

struct Verification {
  std::string id;
  std::string caller;
  std::string recipient_index;  // blind index of the E.164 number, hex
  types::v1::Channel channel = types::v1::CHANNEL_UNSPECIFIED;
  std::string code_digest;  // CodeDigest(key, id, code), hex
  std::string sealed_code;  // the code, sealed under the transit keyring, bound to id
  absl::Time created_at;
  absl::Time expires_at;  // checks after it answer EXPIRED
  absl::Time forget_at;   // the store drops the verification then
  int checks = 0;         // checks made so far, right or wrong
  int sends = 0;          // how many times its code was sent
  // The alert that carries its code's latest send: audit files the verification's checks under
  // it. Set by the start that sends, before the send, so no check can find it missing.
  std::string alert_id;
  VerificationState state = VerificationState::kPending;

  friend bool operator==(const Verification&, const Verification&) = default;
};

// A start as the store kept it: the verification (fresh, or the pending one it resends) now
// names the start's alert, and the alert it named before, for putting back should that send be
// refused.
struct StartedSend {
  Verification verification;
  std::string previous_alert_id;  // empty for a fresh verification
};

// A check as the store counted it. Only a counted check may approve: the one that finds the
// checks used up (or the verification expired or ended) is not counted.
struct CountedCheck {
  Verification verification;  // with this check in `checks` when counted
  bool counted = false;
};

class VerificationStore {
 public:
  virtual ~VerificationStore() = default;

  // Keeps `fresh` as the caller's pending verification for its recipient, unless one is already
  // pending and not expired at `now`: then that one is returned and `fresh` is not kept. Either
  // way the returned verification's send count includes this start and its alert is
  // `fresh.alert_id`, the alert about to carry this send. kUnavailable when the store is down.
  virtual absl::StatusOr<StartedSend> StartOrResend(const Verification& fresh, absl::Time now) = 0;

  // The caller's verification `id`, or nullopt (unknown, forgotten, or another caller's).
  virtual absl::StatusOr<std::optional<Verification>> Find(std::string_view caller,
                                                           std::string_view id) = 0;
  // The id of the caller's pending verification for a recipient, or nullopt.
  virtual absl::StatusOr<std::optional<std::string>> FindPending(
      std::string_view caller, std::string_view recipient_index) = 0;

  // Counts one check of a pending verification that has not expired at `now` and has had fewer
  // than `max_checks`, all in one step, so concurrent checks never exceed the maximum. Returns the
  // verification as it is after this call and whether this check was counted, or nullopt as Find
  // does.
  virtual absl::StatusOr<std::optional<CountedCheck>> CountCheck(std::string_view caller,
                                                                 std::string_view id,
                                                                 int max_checks,
                                                                 absl::Time now) = 0;

  // Makes `to` the alert of the caller's verification `id` if its alert is still `from` (a later
  // start may have named its own meanwhile). False when it was not replaced: another alert, an
  // unknown verification (forgotten meanwhile) or another caller's.
  virtual absl::StatusOr<bool> ReplaceAlert(std::string_view caller, std::string_view id,
                                            std::string_view from, std::string_view to) = 0;

  // Moves a pending verification to `to` (kApproved or kCancelled) and frees its recipient for a
  // new one. False when it was not pending (already approved or cancelled: of two concurrent
  // right checks only one approves) or is unknown.
  virtual absl::StatusOr<bool> Finish(std::string_view caller, std::string_view id,
                                      VerificationState to) = 0;
};

}  // namespace klaxon::ingress::verification
