#include "common/delivery/redis_attempt_ledger.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

// Values: "claimed:<unix ms>" while sending, "done:<serialized DeliveryOutcome>" afterwards.
constexpr std::string_view kClaimedPrefix = "claimed:";
constexpr std::string_view kDonePrefix = "done:";

absl::StatusOr<AttemptClaim> Decode(std::string_view value) {
  AttemptClaim claim;
  if (value.starts_with(kClaimedPrefix)) {
    int64_t millis = 0;
    const std::string_view digits = value.substr(kClaimedPrefix.size());
    if (!absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &millis)) {
      return absl::InternalError("attempt record in Redis has a malformed claim time");
    }
    claim.state = AttemptClaim::State::kInProgress;
    claim.claimed_at = absl::FromUnixMillis(millis);
    return claim;
  }
  if (value.starts_with(kDonePrefix)) {
    events::v1::DeliveryOutcome outcome;
    if (!outcome.ParseFromString(std::string(value.substr(kDonePrefix.size())))) {
      return absl::InternalError("attempt record in Redis holds a malformed outcome");
    }
    claim.state = AttemptClaim::State::kDone;
    claim.outcome = std::move(outcome);
    return claim;
  }
  return absl::InternalError("attempt record in Redis is malformed");
}

}  // namespace

RedisAttemptLedger::RedisAttemptLedger(redis::RedisClient& redis, std::string key_prefix,
                                       absl::Duration retention)
    : redis_(redis),
      key_prefix_(std::move(key_prefix)),
      retention_seconds_(absl::StrCat(absl::ToInt64Seconds(retention))) {}

std::string RedisAttemptLedger::Key(std::string_view alert_id, uint32_t attempt) const {
  return absl::StrCat(key_prefix_, "attempt:", std::string(alert_id), ":", attempt);
}

absl::StatusOr<AttemptClaim> RedisAttemptLedger::Claim(std::string_view alert_id, uint32_t attempt,
                                                       absl::Time now) {
  const std::string key = Key(alert_id, attempt);
  const std::string claimed = absl::StrCat(std::string(kClaimedPrefix), absl::ToUnixMillis(now));
  // A record released between our SET and GET is claimable again: one more round settles it.
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<redis::Reply> set =
        redis_.Command({"SET", key, claimed, "NX", "EX", retention_seconds_});
    if (!set.ok()) return set.status();
    if (set->type == redis::Reply::Type::kStatus) return AttemptClaim{};
    absl::StatusOr<redis::Reply> existing = redis_.Command({"GET", key});
    if (!existing.ok()) return existing.status();
    if (existing->type == redis::Reply::Type::kString) return Decode(existing->str);
  }
  return absl::UnavailableError(absl::StrCat("attempt ", attempt, " of alert ",
                                             std::string(alert_id),
                                             " is being claimed and released concurrently"));
}

absl::Status RedisAttemptLedger::RecordOutcome(std::string_view alert_id, uint32_t attempt,
                                               const events::v1::DeliveryOutcome& outcome) {
  return redis_
      .Command({"SET", Key(alert_id, attempt),
                absl::StrCat(std::string(kDonePrefix), outcome.SerializeAsString()), "EX",
                retention_seconds_})
      .status();
}

absl::Status RedisAttemptLedger::Release(std::string_view alert_id, uint32_t attempt) {
  return redis_.Command({"DEL", Key(alert_id, attempt)}).status();
}

}  // namespace klaxon::delivery
