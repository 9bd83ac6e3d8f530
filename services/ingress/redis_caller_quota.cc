#include "services/ingress/redis_caller_quota.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpcutil/grpcutil.h"

namespace klaxon::ingress {
namespace {

// KEYS[1] the time the bucket is next full (µs on Redis's clock); ARGV: interval and window
// (µs). Returns 0 when admitted, else the µs until one alert fits.
constexpr char kAdmitScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local full_at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0')) + interval
if full_at - window > now then return full_at - window - now end
redis.call('SET', KEYS[1], string.format('%.0f', full_at), 'PX',
           string.format('%.0f', math.ceil((full_at - now) / 1000)))
return 0
)lua";

}  // namespace

RedisCallerQuota::RedisCallerQuota(redis::RedisClient& redis, std::string key_prefix,
                                   std::map<std::string, limits::Rate> quotas)
    : redis_(redis), key_prefix_(std::move(key_prefix)), quotas_(std::move(quotas)) {}

absl::Status RedisCallerQuota::Admit(std::string_view caller) {
  auto quota = quotas_.find(std::string(caller));
  if (quota == quotas_.end()) quota = quotas_.find(kDefault);
  if (quota == quotas_.end()) return absl::OkStatus();
  const limits::Rate& rate = quota->second;
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"EVAL", kAdmitScript, "1", absl::StrCat(key_prefix_, "quota:", std::string(caller)),
       absl::StrCat(absl::ToInt64Microseconds(rate.Interval())),
       absl::StrCat(absl::ToInt64Microseconds(rate.window))});
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

}  // namespace klaxon::ingress
