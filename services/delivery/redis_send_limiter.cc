#include "services/delivery/redis_send_limiter.h"

#include <cmath>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

// KEYS[1] sender's next free slot, KEYS[2] recipient's sends (scores: slot times).
// ARGV: interval, max_wait (µs), member, window count, then limit and window (µs) per window.
// Times are integral microseconds on Redis's clock, formatted with %.0f: Lua's default number
// format keeps 14 digits, too few for them. Returns strings (the client keeps only strings of
// an array) {kind, µs from now, window index (1-based)}:
// kind 1 = send after the wait, 2 = recipient window full until then, 3 = next slot too far.
constexpr char kReserveScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local member = ARGV[3]
local windows = tonumber(ARGV[4])
local function us(x) return string.format('%.0f', x) end
-- A redelivered attempt already recorded must not count against itself.
local own = tonumber(redis.call('ZSCORE', KEYS[2], member) or '-1')
local longest = 0
for i = 1, windows do
  local limit = tonumber(ARGV[3 + 2 * i])
  local window = tonumber(ARGV[4 + 2 * i])
  if window > longest then longest = window end
  local from = '(' .. us(now - window)
  local count = redis.call('ZCOUNT', KEYS[2], from, '+inf')
  if own > now - window then count = count - 1 end
  if count >= limit then
    -- The send whose expiry brings the window under its limit.
    local sends = redis.call('ZRANGEBYSCORE', KEYS[2], from, '+inf', 'WITHSCORES')
    local expiring = count - limit + 1
    for j = 1, #sends, 2 do
      if sends[j] ~= member then
        expiring = expiring - 1
        if expiring == 0 then return {'2', us(tonumber(sends[j + 1]) + window - now), tostring(i)} end
      end
    end
  end
end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if slot - now > max_wait then return {'3', us(slot - now), '0'} end
local next_slot = slot + interval
redis.call('SET', KEYS[1], us(next_slot), 'PX', us(math.ceil((next_slot - now) / 1000) + 1000))
if windows > 0 then
  redis.call('ZADD', KEYS[2], us(slot), member)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', us(now - longest))
  redis.call('PEXPIRE', KEYS[2], us(math.ceil((slot - now + longest) / 1000) + 1000))
end
return {'1', us(slot - now), '0'}
)lua";

// The send-time guard. KEYS[1] the sender's recent sends (scores: send times on Redis's clock).
// ARGV: the most sends in the span, the span (µs), member. Returns an integer: 0 when this send
// is recorded (it fits), else µs until the send whose leaving the span makes room for it leaves,
// recording nothing. This attempt's own earlier record never counts against it.
constexpr char kClearToSendScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local member = ARGV[3]
local function us(x) return string.format('%.0f', x) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', us(now - span))
local count = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], member) then count = count - 1 end
if count >= limit then
  local sends = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local expiring = count - limit + 1
  for j = 1, #sends, 2 do
    if sends[j] ~= member then
      expiring = expiring - 1
      if expiring == 0 then return math.max(1, tonumber(sends[j + 1]) + span - now) end
    end
  end
end
redis.call('ZADD', KEYS[1], us(now), member)
redis.call('PEXPIRE', KEYS[1], us(math.ceil(span / 1000) + 1000))
return 0
)lua";

std::string Micros(absl::Duration duration) {
  return absl::StrCat(absl::ToInt64Microseconds(duration));
}

}  // namespace

RedisSendLimiter::RedisSendLimiter(redis::RedisClient& redis, std::string key_prefix,
                                   SendLimits limits, const log::PhoneRedactor& tokens)
    : redis_(redis),
      key_prefix_(std::move(key_prefix)),
      limits_(std::move(limits)),
      tokens_(tokens),
      sender_key_(
          absl::StrCat(key_prefix_, "limits:sender:", limits_.channel, ":", limits_.sender)),
      sent_key_(absl::StrCat(key_prefix_, "limits:sent:", limits_.channel, ":", limits_.sender)) {}

absl::StatusOr<LimitDecision> RedisSendLimiter::Reserve(const events::v1::AlertRequested& request,
                                                        std::string_view recipient,
                                                        absl::Time now) {
  std::vector<std::string> argv = {
      "EVAL", kReserveScript, "2", sender_key_,
      absl::StrCat(key_prefix_, "limits:recipient:", limits_.channel, ":",
                   tokens_.Token(recipient)),
      // Rounded up: a slot a microsecond late is harmless, one early is not.
      absl::StrCat(
          absl::ToInt64Microseconds(absl::Ceil(limits_.PacingInterval(), absl::Microseconds(1)))),
      Micros(limits_.max_wait), LogMember(request), absl::StrCat(limits_.recipient_windows.size())};
  for (const limits::Rate& window : limits_.recipient_windows) {
    argv.push_back(absl::StrCat(window.count));
    argv.push_back(Micros(window.window));
  }
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  int kind = 0;
  int64_t micros = 0;
  size_t window = 0;
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 3 ||
      !reply->elements[0] || !absl::SimpleAtoi(*reply->elements[0], &kind) || !reply->elements[1] ||
      !absl::SimpleAtoi(*reply->elements[1], &micros) || !reply->elements[2] ||
      !absl::SimpleAtoi(*reply->elements[2], &window) ||
      window > limits_.recipient_windows.size()) {
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

absl::StatusOr<LimitDecision> RedisSendLimiter::ClearToSend(
    const events::v1::AlertRequested& request, absl::Time now, absl::Duration waited) {
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"EVAL", kClearToSendScript, "1", sent_key_, absl::StrCat(limits_.sender_rate.count),
       Micros(limits_.GuardSpan()), LogMember(request)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kInteger || reply->integer < 0) {
    return absl::InternalError("the send-time guard's script answered in an unexpected shape");
  }
  return GuardDecision(limits_, now, waited, absl::Microseconds(reply->integer));
}

}  // namespace klaxon::delivery
