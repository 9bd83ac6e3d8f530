#include "services/delivery/redis_send_limiter.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/kafka/request_topics.h"
#include "services/delivery/redis_limit_scripts.h"

namespace klaxon::delivery {
namespace {

// KEYS[1] sender's next free slot, KEYS[2] recipient's sends. ARGV: interval, max_wait (µs),
// member, window count, then limit and window (µs) per window. Answers reserve()'s.
constexpr char kReserveBody[] = R"lua(
return reserve(KEYS[1], KEYS[2], now_us(), tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3],
               windows_from(5, tonumber(ARGV[4])))
)lua";

// KEYS[1] the sender's recent sends. ARGV: the most sends in the span, the span (µs), member.
// Returns an integer: 0 when this send is recorded (it fits), else guard_hold()'s wait, recording
// nothing.
constexpr char kClearToSendBody[] = R"lua(
local now = now_us()
local hold = guard_hold(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])
if hold > 0 then return hold end
guard_record(KEYS[1], now, tonumber(ARGV[2]), ARGV[3])
return 0
)lua";

std::string Micros(absl::Duration duration) {
  return absl::StrCat(absl::ToInt64Microseconds(duration));
}

}  // namespace

RedisLimitKeys::RedisLimitKeys(std::string key_prefix, SendLimits limits,
                               const log::PhoneRedactor& tokens)
    : prefix_(std::move(key_prefix)),
      limits_(std::move(limits)),
      tokens_(tokens),
      sender_(absl::StrCat(prefix_, "limits:sender:", limits_.channel, ":", limits_.sender)),
      urgent_sender_(absl::StrCat(sender_, ":urgent")),
      sent_(absl::StrCat(prefix_, "limits:sent:", limits_.channel, ":", limits_.sender)) {}

const std::string& RedisLimitKeys::Sender(const events::v1::AlertRequested& request) const {
  return kafka::Urgent(request.priority()) ? urgent_sender_ : sender_;
}

std::string RedisLimitKeys::Recipient(std::string_view recipient) const {
  return absl::StrCat(prefix_, "limits:recipient:", limits_.channel, ":", tokens_.Token(recipient));
}

std::string RedisLimitKeys::Interval() const {
  // Rounded up: a slot a microsecond late is harmless, one early is not.
  return absl::StrCat(
      absl::ToInt64Microseconds(absl::Ceil(limits_.PacingInterval(), absl::Microseconds(1))));
}

std::string RedisLimitKeys::MaxWait() const { return Micros(limits_.max_wait); }

void RedisLimitKeys::AppendWindows(const events::v1::AlertRequested& request,
                                   std::vector<std::string>& argv) const {
  const std::vector<limits::Rate>& windows = limits_.RecipientWindows(request);
  argv.push_back(absl::StrCat(windows.size()));
  for (const limits::Rate& window : windows) {
    argv.push_back(absl::StrCat(window.count));
    argv.push_back(Micros(window.window));
  }
}

std::string RedisLimitKeys::GuardLimit() const { return absl::StrCat(limits_.sender_rate.count); }

std::string RedisLimitKeys::GuardSpan() const { return Micros(limits_.GuardSpan()); }

absl::StatusOr<LimitDecision> RedisLimitKeys::Reservation(const redis::Reply& reply,
                                                          absl::Time now) const {
  int kind = 0;
  int64_t micros = 0;
  size_t window = 0;
  if (reply.type != redis::Reply::Type::kArray || reply.elements.size() != 3 ||
      !reply.elements[0] || !absl::SimpleAtoi(*reply.elements[0], &kind) || !reply.elements[1] ||
      !absl::SimpleAtoi(*reply.elements[1], &micros) || !reply.elements[2] ||
      !absl::SimpleAtoi(*reply.elements[2], &window) || window > limits_.recipient_windows.size()) {
    return absl::InternalError("the send limiter's script answered in an unexpected shape");
  }
  const absl::Time at = now + absl::Microseconds(micros);
  switch (kind) {
    case 1:
      return LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = at};
    case 2: {
      if (window == 0) break;
      const limits::Rate& full = limits_.recipient_windows[window - 1];
      return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                           .retry_at = at,
                           .limit = RecipientLimitLabel(full),
                           .reason = RecipientReason(full)};
    }
    case 3:
      return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                           .retry_at = at,
                           .limit = PacingLimitLabel(),
                           .reason = PacingReason(limits_.sender_rate)};
    default:
      break;
  }
  return absl::InternalError("the send limiter's script answered an unknown decision");
}

RedisSendLimiter::RedisSendLimiter(redis::RedisClient& redis, std::string key_prefix,
                                   SendLimits limits, const log::PhoneRedactor& tokens)
    : redis_(redis),
      keys_(std::move(key_prefix), std::move(limits), tokens),
      reserve_script_(absl::StrCat(redis_lua::kPrelude, redis_lua::kReserve, kReserveBody)),
      clear_script_(absl::StrCat(redis_lua::kPrelude, redis_lua::kGuard, kClearToSendBody)) {}

absl::StatusOr<LimitDecision> RedisSendLimiter::Reserve(const events::v1::AlertRequested& request,
                                                        std::string_view recipient,
                                                        absl::Time now) {
  std::vector<std::string> argv = {"EVAL",
                                   reserve_script_,
                                   "2",
                                   keys_.Sender(request),
                                   keys_.Recipient(recipient),
                                   keys_.Interval(),
                                   keys_.MaxWait(),
                                   LogMember(request)};
  keys_.AppendWindows(request, argv);
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  return keys_.Reservation(*reply, now);
}

absl::StatusOr<LimitDecision> RedisSendLimiter::ClearToSend(
    const events::v1::AlertRequested& request, absl::Time now, absl::Duration waited) {
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"EVAL", clear_script_, "1", keys_.sent(), keys_.GuardLimit(),
                      keys_.GuardSpan(), LogMember(request)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kInteger || reply->integer < 0) {
    return absl::InternalError("the send-time guard's script answered in an unexpected shape");
  }
  return GuardDecision(keys_.limits(), now, waited, absl::Microseconds(reply->integer));
}

}  // namespace klaxon::delivery
