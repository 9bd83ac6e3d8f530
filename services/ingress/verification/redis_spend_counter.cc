#include "services/ingress/verification/redis_spend_counter.h"

#include "absl/strings/str_cat.h"

namespace klaxon::ingress::verification {
namespace {

// KEYS[1] the spend. ARGV: amount, cap, when to drop the key (ms since the epoch). Returns 1 when
// the amount was added, 0 when it would have passed the cap.
constexpr char kSpendScript[] = R"lua(
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
if spent + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
)lua";

}  // namespace

absl::StatusOr<bool> RedisSpendCounter::Spend(std::string_view key, Micros amount, Micros cap,
                                              absl::Time day_ends) {
  // Kept a day past its own, so a replica whose clock lags still finds the day's count.
  const int64_t drop_at_ms = absl::ToUnixMillis(day_ends + absl::Hours(24));
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"EVAL", kSpendScript, "1",
                      absl::StrCat(key_prefix_, "verification-spend:", std::string(key)),
                      absl::StrCat(amount), absl::StrCat(cap), absl::StrCat(drop_at_ms)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kInteger) {
    return absl::UnavailableError("the verification spend script answered in an unexpected shape");
  }
  return reply->integer == 1;
}

}  // namespace klaxon::ingress::verification
