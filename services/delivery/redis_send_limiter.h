#pragma once
// SendLimiter on Redis, so every worker replica shares one pace per sender and one set of windows
// per recipient. One Lua script checks the recipient's windows, then the sender's next slot, and
// only when both fit records the send in both: a deferred send reserves nothing. Another runs the
// send-time guard on the sender's log of actual sends, recording a send only when it fits. Both
// are built from redis_limit_scripts.h, which RedisSendGate's one script shares.
//
// Clock: the script reads Redis's own clock (TIME) and answers in durations (wait this long,
// retry in that long), which Reserve and ClearToSend add to the caller's `now`. The schedule
// therefore lives on one clock, and replicas whose clocks disagree still wait the right amount in
// their own.
//
// Keys: <prefix>limits:sender:<channel>:<sender> holds the sender's next free slot;
// <prefix>limits:recipient:<channel>:<token> is a sorted set of sends by slot time, keyed by the
// recipient's HMAC token (log::PhoneRedactor), never the number; <prefix>limits:sent:<channel>:
// <sender> is the guard's sorted set of sends by the time they were cleared. All expire once idle.

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
  // The sender's next free slot in `request`'s lane: a critical alert's schedule is its own, so
  // it never queues behind the slots normal sends reserved (docs/adr/0027). The send-time guard's
  // log (sent()) is shared, so the sender's pace still holds for both together.
  const std::string& Sender(const events::v1::AlertRequested& request) const;
  const std::string& sent() const { return sent_; }
  std::string Recipient(std::string_view recipient) const;

  // The reserve() arguments after the member: interval, max_wait, then (via AppendWindows) the
  // window count and each window's limit and length.
  std::string Interval() const;
  std::string MaxWait() const;
  void AppendWindows(const events::v1::AlertRequested& request,
                     std::vector<std::string>& argv) const;
  // The guard_hold() arguments: the most sends in the span, the span.
  std::string GuardLimit() const;
  std::string GuardSpan() const;

  // reserve()'s answer {kind, µs from now, window index} as a LimitDecision on the caller's
  // clock; kInternal for any other shape.
  absl::StatusOr<LimitDecision> Reservation(const redis::Reply& reply, absl::Time now) const;

 private:
  const std::string prefix_;
  const SendLimits limits_;
  const log::PhoneRedactor& tokens_;
  const std::string sender_;
  const std::string urgent_sender_;
  const std::string sent_;
};

class RedisSendLimiter final : public SendLimiter {
 public:
  RedisSendLimiter(redis::RedisClient& redis, std::string key_prefix, SendLimits limits,
                   const log::PhoneRedactor& tokens);

  absl::StatusOr<LimitDecision> Reserve(const events::v1::AlertRequested& request,
                                        std::string_view recipient, absl::Time now) override;
  absl::StatusOr<LimitDecision> ClearToSend(const events::v1::AlertRequested& request,
                                            absl::Time now, absl::Duration waited) override;

  const RedisLimitKeys& keys() const { return keys_; }

 private:
  redis::RedisClient& redis_;
  const RedisLimitKeys keys_;
  const std::string reserve_script_;
  const std::string clear_script_;
};

}  // namespace klaxon::delivery
