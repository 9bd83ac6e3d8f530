#pragma once
// SendLimiter on Redis, so every worker replica shares one pace per sender and one set of windows
// per recipient. One Lua script checks the recipient's windows, then chooses a sender by its next
// slot, and only when both fit records the send in both: a deferred send reserves nothing. Another
// runs the send-time guard on the sender's log of actual sends, recording a send only when it fits.
// Both are built from redis_limit_scripts.h, which RedisSendGate's one script shares.
//
// Clock: the script reads Redis's own clock (TIME) and answers in durations (wait this long,
// retry in that long), which Reserve and ClearToSend add to the caller's `now`. The schedule
// therefore lives on one clock, and replicas whose clocks disagree still wait the right amount in
// their own.
//
// Keys: <prefix>limits:sender:<channel>:<sender> holds the sender's next free slot;
// <prefix>limits:recipient:<channel>:<token> is a sorted set of sends by slot time, keyed by the
// recipient's HMAC token (log::PhoneRedactor), never the number; <prefix>limits:sent:<channel>:
// <sender> is the guard's sorted set of sends by the time they were cleared;
// <prefix>limits:sticky:<channel>:<token> names the recipient's sender of last time, kept only
// when the channel has several senders. All expire once idle.

#include <span>
#include <string>
#include <vector>

#include "common/log/log.h"
#include "common/redis/redis_client.h"
#include "services/delivery/send_limiter.h"
#include "services/delivery/send_limits.h"

namespace klaxon::delivery {

// The keys and the reservation's wire format, one definition shared by RedisSendLimiter and
// RedisSendGate.
class RedisLimitKeys {
 public:
  RedisLimitKeys(std::string key_prefix, SendLimits limits, const log::PhoneRedactor& tokens);

  const SendLimits& limits() const { return limits_; }

  // reserve()'s keys and arguments (limits_from(), redis_limit_scripts.h) to choose among
  // `among` (the routing rule's senders), appended after a script's own. kFailedPrecondition when
  // `among` is empty, kInvalidArgument naming a sender that is none of the limits'. Keys: the
  // recipient's sends, the recipient's sender of last time, then for each sender its next free
  // slot in `request`'s lane and its guard's log. A critical alert's slots
  // are its own, so it never queues behind the slots normal sends reserved (docs/adr/0027); the
  // guard's log is shared, so each sender's pace still holds for both together. Arguments:
  // max_wait, the member, the stickiness (ms), the sender count, the window count, then each
  // sender's address, interval, guard limit and guard span, then each window's limit and length.
  absl::Status Append(const events::v1::AlertRequested& request, std::string_view recipient,
                      std::span<const PacedSender> among, std::vector<std::string>& keys,
                      std::vector<std::string>& args) const;

  // The guard_hold() keys and arguments of one sender: its log, the most sends in the span, the
  // span. nullptr when `sender` is none of the limits' senders.
  struct Guard {
    std::string log;
    std::string limit;
    std::string span;
  };
  const Guard* GuardOf(std::string_view sender) const;

  // reserve()'s answer {kind, µs from now, window index, sender index} to a choice among
  // `among` as a LimitDecision on the caller's clock; kInternal for any other shape.
  absl::StatusOr<LimitDecision> Reservation(const redis::Reply& reply,
                                            std::span<const PacedSender> among,
                                            absl::Time now) const;
  // The sender of `among` an answer of that shape names (its fourth element); kInternal when it
  // names none.
  absl::StatusOr<PacedSender> ChosenSender(const redis::Reply& reply,
                                           std::span<const PacedSender> among) const;

 private:
  struct SenderKeys {
    std::string slot;
    std::string urgent_slot;
    std::string interval;
    Guard guard;
  };
  // The keys of the sender at `address`, nullptr when it is none of the limits'.
  const SenderKeys* KeysOf(std::string_view address) const;

  const std::string prefix_;
  const SendLimits limits_;
  const log::PhoneRedactor& tokens_;
  std::vector<SenderKeys> senders_;  // as limits_.senders
};

class RedisSendLimiter final : public SendLimiter {
 public:
  RedisSendLimiter(redis::RedisClient& redis, std::string key_prefix, SendLimits limits,
                   const log::PhoneRedactor& tokens);

  absl::StatusOr<LimitDecision> Reserve(const events::v1::AlertRequested& request,
                                        std::string_view recipient,
                                        std::span<const PacedSender> among,
                                        absl::Time now) override;
  absl::StatusOr<LimitDecision> ClearToSend(const events::v1::AlertRequested& request,
                                            const PacedSender& sender, absl::Time now,
                                            absl::Duration waited) override;

  const RedisLimitKeys& keys() const { return keys_; }

 private:
  redis::RedisClient& redis_;
  const RedisLimitKeys keys_;
  const std::string reserve_script_;
  const std::string clear_script_;
};

}  // namespace klaxon::delivery
