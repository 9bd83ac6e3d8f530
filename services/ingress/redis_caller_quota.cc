#include "services/ingress/redis_caller_quota.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpcutil/grpcutil.h"

namespace klaxon::ingress {
namespace {

// KEYS[1] the time the bucket is next full (µs on Redis's clock); ARGV: interval and window
// (µs). Returns 0 when admitted, else the µs until one alert fits. The key lives at least 1 ms:
// a quota so large that its interval rounds to 0 µs must not ask SET for an expiry of 0.
constexpr char kAdmitScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local full_at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0')) + interval
if full_at - window > now then return full_at - window - now end
redis.call('SET', KEYS[1], string.format('%.0f', full_at), 'PX',
           string.format('%.0f', math.max(1, math.ceil((full_at - now) / 1000))))
return 0
)lua";

// What the admit script's `reply` says for `caller`, whose quota is `rate`.
absl::Status Decision(std::string_view caller, const limits::Rate& rate,
                      const absl::StatusOr<redis::Reply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kInteger) {
    return absl::UnavailableError("the caller quota script answered in an unexpected shape");
  }
  if (reply->integer == 0) return absl::OkStatus();
  const int64_t retry_seconds = (reply->integer + 999'999) / 1'000'000;
  return grpcutil::WithRetryPushback(
      absl::ResourceExhaustedError(absl::StrCat("caller ", std::string(caller),
                                                " is over its quota of ", rate.Describe("alerts"),
                                                "; retry after ", retry_seconds, "s")),
      absl::Seconds(retry_seconds));
}

}  // namespace

RedisCallerQuota::RedisCallerQuota(redis::RedisClient& redis, std::string key_prefix,
                                   std::map<std::string, limits::Rate> quotas)
    : redis_(redis), key_prefix_(std::move(key_prefix)), quotas_(std::move(quotas)) {}

std::vector<absl::Status> RedisCallerQuota::AdmitAll(std::span<const std::string_view> callers) {
  // The rate of each caller that has one, and its script.
  std::vector<const limits::Rate*> rates;
  std::vector<std::vector<std::string>> commands;
  for (std::string_view caller : callers) {
    auto quota = quotas_.find(std::string(caller));
    if (quota == quotas_.end()) quota = quotas_.find(kDefault);
    if (quota == quotas_.end()) {
      rates.push_back(nullptr);
      continue;
    }
    const limits::Rate& rate = quota->second;
    rates.push_back(&rate);
    commands.push_back({"EVAL", kAdmitScript, "1",
                        absl::StrCat(key_prefix_, "quota:", std::string(caller)),
                        absl::StrCat(absl::ToInt64Microseconds(rate.Interval())),
                        absl::StrCat(absl::ToInt64Microseconds(rate.window))});
  }
  std::vector<absl::StatusOr<redis::Reply>> replies = redis_.Commands(commands);
  std::vector<absl::Status> admitted;
  admitted.reserve(callers.size());
  size_t next_reply = 0;
  for (size_t i = 0; i < callers.size(); ++i) {
    admitted.push_back(rates[i] == nullptr
                           ? absl::OkStatus()
                           : Decision(callers[i], *rates[i], replies.at(next_reply++)));
  }
  return admitted;
}

}  // namespace klaxon::ingress
