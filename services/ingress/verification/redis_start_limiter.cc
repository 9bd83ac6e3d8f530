#include "services/ingress/verification/redis_start_limiter.h"

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::ingress::verification {
namespace {

// KEYS[1] the key's starts. ARGV: member, then limit and window (µs) per window. Returns an
// empty array when the start is recorded, else {window index (1-based), µs until the start whose
// leaving makes room in it leaves}, as strings (the client keeps only strings of an array). Times
// are integral µs formatted with %.0f: Lua's default number format keeps too few digits for them.
constexpr char kTakeScript[] = R"lua(
local function us(x) return string.format('%.0f', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local longest = 0
for i = 1, (#ARGV - 1) / 2 do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  if window > longest then longest = window end
  local from = '(' .. us(now - window)
  local count = redis.call('ZCOUNT', KEYS[1], from, '+inf')
  if count >= limit then
    -- The oldest start in the window, unless the limit was lowered since the window filled.
    local leaving = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT',
                               count - limit, 1)
    return {tostring(i), us(tonumber(leaving[2]) + window - now)}
  end
end
redis.call('ZADD', KEYS[1], us(now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', us(now - longest))
redis.call('PEXPIRE', KEYS[1], us(math.ceil(longest / 1000)))
return {}
)lua";

}  // namespace

RedisStartLimiter::RedisStartLimiter(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

absl::StatusOr<std::optional<FullWindow>> RedisStartLimiter::Take(
    std::string_view key, const std::vector<limits::Rate>& rates, std::string_view member) {
  // No window, no limit: nothing to count against.
  if (rates.empty()) return std::nullopt;
  std::vector<std::string> argv = {
      "EVAL", kTakeScript, "1", absl::StrCat(key_prefix_, "verification-starts:", std::string(key)),
      std::string(member)};
  for (const limits::Rate& rate : rates) {
    argv.push_back(absl::StrCat(rate.count));
    argv.push_back(absl::StrCat(absl::ToInt64Microseconds(rate.window)));
  }
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kArray && reply->elements.empty()) return std::nullopt;
  size_t window = 0;
  int64_t micros = 0;
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 2 ||
      !reply->elements[0] || !absl::SimpleAtoi(*reply->elements[0], &window) || window == 0 ||
      window > rates.size() || !reply->elements[1] ||
      !absl::SimpleAtoi(*reply->elements[1], &micros)) {
    return absl::UnavailableError("the start limiter's script answered in an unexpected shape");
  }
  return FullWindow{.rate = rates[window - 1], .retry_after = absl::Microseconds(micros)};
}

}  // namespace klaxon::ingress::verification
