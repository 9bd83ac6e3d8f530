#include "services/delivery/redis_attempt_ledger.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

// Values: "claimed:<unix ms>:<owner>" while sending, "unsettled:<unix ms sent>" when the answer
// was lost, "done:<serialized DeliveryOutcome>" after.
constexpr std::string_view kClaimedPrefix = "claimed:";
constexpr std::string_view kUnsettledPrefix = "unsettled:";
constexpr std::string_view kDonePrefix = "done:";

// Deletes the attempt only while it is still the given owner's claim (ARGV[1] = ":<owner>").
constexpr char kReleaseScript[] = R"lua(
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, 8) == 'claimed:' and
    string.sub(value, -string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

absl::StatusOr<AttemptClaim> Decode(std::string_view value, std::string_view owner) {
  AttemptClaim claim;
  if (value.starts_with(kClaimedPrefix)) {
    const std::string_view rest = value.substr(kClaimedPrefix.size());
    const size_t colon = rest.find(':');
    int64_t millis = 0;
    if (colon == std::string_view::npos ||
        !absl::SimpleAtoi(absl::string_view(rest.data(), colon), &millis)) {
      return absl::InternalError("attempt record in Redis has a malformed claim");
    }
    if (rest.substr(colon + 1) == owner) return claim;  // our own claim: nothing is in flight
    claim.state = AttemptClaim::State::kInProgress;
    claim.claimed_at = absl::FromUnixMillis(millis);
    return claim;
  }
  if (value.starts_with(kUnsettledPrefix)) {
    int64_t millis = 0;
    const std::string_view rest = value.substr(kUnsettledPrefix.size());
    if (!absl::SimpleAtoi(absl::string_view(rest.data(), rest.size()), &millis)) {
      return absl::InternalError("attempt record in Redis has a malformed unsettled mark");
    }
    claim.state = AttemptClaim::State::kUnsettled;
    claim.sent_at = absl::FromUnixMillis(millis);
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
                                                       std::string_view owner, absl::Time now) {
  const std::string key = Key(alert_id, attempt);
  const std::string claimed =
      absl::StrCat(std::string(kClaimedPrefix), absl::ToUnixMillis(now), ":", std::string(owner));
  // A record released between our SET and GET is claimable again: one more round settles it.
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<redis::Reply> set =
        redis_.Command({"SET", key, claimed, "NX", "EX", retention_seconds_});
    if (!set.ok()) return set.status();
    if (set->type == redis::Reply::Type::kStatus) return AttemptClaim{};
    absl::StatusOr<redis::Reply> existing = redis_.Command({"GET", key});
    if (!existing.ok()) return existing.status();
    if (existing->type == redis::Reply::Type::kString) return Decode(existing->str, owner);
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

absl::Status RedisAttemptLedger::MarkUnsettled(std::string_view alert_id, uint32_t attempt,
                                               absl::Time sent_at) {
  return redis_
      .Command({"SET", Key(alert_id, attempt),
                absl::StrCat(std::string(kUnsettledPrefix), absl::ToUnixMillis(sent_at)), "EX",
                retention_seconds_})
      .status();
}

absl::Status RedisAttemptLedger::Release(std::string_view alert_id, uint32_t attempt,
                                         std::string_view owner) {
  return redis_
      .Command({"EVAL", kReleaseScript, "1", Key(alert_id, attempt),
                absl::StrCat(":", std::string(owner))})
      .status();
}

}  // namespace klaxon::delivery
