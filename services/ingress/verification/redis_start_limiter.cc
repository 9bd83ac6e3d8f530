#include "services/ingress/verification/redis_start_limiter.h"

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::ingress::verification {
namespace {

// KEYS: each limited key's starts. ARGV: member, then per key the number of its windows and
// that many pairs of limit and window (µs). First every window of every key is checked; only
// when all have room is the start recorded under every key. Returns an empty array when it is
// recorded, else {key index, window index (both 1-based), µs until the start whose leaving makes
// room in that window leaves}, as strings (the client keeps only strings of an array). Times are
// integral µs formatted with %.0f: Lua's default number format keeps too few digits for them.
constexpr char kTakeScript[] = R"lua(
local function us(x) return string.format('%.0f', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local longest = {}
local at = 2
for k = 1, #KEYS do
  longest[k] = 0
  local windows = tonumber(ARGV[at])
  at = at + 1
  for i = 1, windows do
    local limit = tonumber(ARGV[at])
    local window = tonumber(ARGV[at + 1])
    at = at + 2
    if window > longest[k] then longest[k] = window end
    local from = '(' .. us(now - window)
    local count = redis.call('ZCOUNT', KEYS[k], from, '+inf')
    if count >= limit then
      -- The oldest start in the window, unless the limit was lowered since the window filled.
      local leaving = redis.call('ZRANGEBYSCORE', KEYS[k], from, '+inf', 'WITHSCORES', 'LIMIT',
                                 count - limit, 1)
      return {tostring(k), tostring(i), us(tonumber(leaving[2]) + window - now)}
    end
  end
end
for k = 1, #KEYS do
  if longest[k] > 0 then
    redis.call('ZADD', KEYS[k], us(now), ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', us(now - longest[k]))
    redis.call('PEXPIRE', KEYS[k], us(math.ceil(longest[k] / 1000)))
  end
end
return {}
)lua";

}  // namespace

RedisStartLimiter::RedisStartLimiter(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

absl::StatusOr<std::optional<FullWindow>> RedisStartLimiter::Take(
    const std::vector<KeyedRates>& limits, std::string_view member) {
  std::vector<std::string> argv = {"EVAL", kTakeScript, absl::StrCat(limits.size())};
  for (const KeyedRates& keyed : limits) {
    argv.push_back(absl::StrCat(key_prefix_, "verification-starts:", keyed.key));
  }
  argv.push_back(std::string(member));
  for (const KeyedRates& keyed : limits) {
    argv.push_back(absl::StrCat(keyed.rates.size()));
    for (const limits::Rate& rate : keyed.rates) {
      argv.push_back(absl::StrCat(rate.count));
      argv.push_back(absl::StrCat(absl::ToInt64Microseconds(rate.window)));
    }
  }
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kArray && reply->elements.empty()) return std::nullopt;
  size_t limit = 0;
  size_t window = 0;
  int64_t micros = 0;
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 3 ||
      !reply->elements[0] || !absl::SimpleAtoi(*reply->elements[0], &limit) || limit == 0 ||
      limit > limits.size() || !reply->elements[1] ||
      !absl::SimpleAtoi(*reply->elements[1], &window) || window == 0 ||
      window > limits[limit - 1].rates.size() || !reply->elements[2] ||
      !absl::SimpleAtoi(*reply->elements[2], &micros)) {
    return absl::UnavailableError("the start limiter's script answered in an unexpected shape");
  }
  return FullWindow{.limit = limit - 1,
                    .rate = limits[limit - 1].rates[window - 1],
                    .retry_after = absl::Microseconds(micros)};
}

}  // namespace klaxon::ingress::verification
