#include "services/ingress/redis_idempotency_store.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::ingress {
namespace {

constexpr char kReserveScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'alert_id', ARGV[1], 'fingerprint', ARGV[2], 'published', '0',
             'channel', ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('HSET', KEYS[2], 'caller', ARGV[4], 'channel', ARGV[5], 'escalation_id', ARGV[6],
             'escalation_step', ARGV[7])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return redis.call('HMGET', KEYS[1], 'alert_id', 'fingerprint', 'published', 'channel')
)lua";

// Only touches a record that still exists, so an expired one is not revived without a TTL.
constexpr char kMarkPublishedScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HSET', KEYS[1], 'published', '1')
end
return 0
)lua";

types::v1::Channel ParseChannel(const std::optional<std::string>& value) {
  int number = 0;
  if (!value.has_value() || !absl::SimpleAtoi(*value, &number) ||
      !types::v1::Channel_IsValid(number)) {
    return types::v1::CHANNEL_UNSPECIFIED;
  }
  return static_cast<types::v1::Channel>(number);
}

// The record from an HMGET of alert_id, fingerprint, published and channel; nullopt when the
// hash does not exist.
absl::StatusOr<std::optional<IdempotencyRecord>> RecordFromReply(const redis::Reply& reply) {
  if (reply.type != redis::Reply::Type::kArray || reply.elements.size() != 4) {
    return absl::InternalError("idempotency record in Redis is malformed");
  }
  if (!reply.elements[0] && !reply.elements[1] && !reply.elements[2]) return std::nullopt;
  if (!reply.elements[0] || !reply.elements[1] || !reply.elements[2]) {
    return absl::InternalError("idempotency record in Redis is malformed");
  }
  // A record written before channels were recorded has none; nothing reads it from here.
  return IdempotencyRecord{.alert_id = *reply.elements[0],
                           .request_fingerprint = *reply.elements[1],
                           .published = *reply.elements[2] == "1",
                           .channel = ParseChannel(reply.elements[3])};
}

}  // namespace

RedisIdempotencyStore::RedisIdempotencyStore(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string RedisIdempotencyStore::RedisKey(std::string_view caller, std::string_view key) const {
  return absl::StrCat(key_prefix_, "idem:", std::string(caller), ":", std::string(key));
}

std::string RedisIdempotencyStore::OwnerKey(std::string_view alert_id) const {
  return absl::StrCat(key_prefix_, "alert-caller:", std::string(alert_id));
}

std::vector<absl::StatusOr<IdempotencyRecord>> RedisIdempotencyStore::ReserveAll(
    std::span<const NewRecord> records) {
  std::vector<std::vector<std::string>> commands;
  commands.reserve(records.size());
  for (const NewRecord& record : records) {
    const IdempotencyRecord& candidate = record.candidate;
    commands.push_back(
        {"EVAL", kReserveScript, "2", RedisKey(record.caller, record.key),
         OwnerKey(candidate.alert_id), candidate.alert_id, candidate.request_fingerprint,
         absl::StrCat(absl::ToInt64Milliseconds(record.window)), std::string(record.caller),
         absl::StrCat(static_cast<int>(candidate.channel)), candidate.chain.escalation_id,
         absl::StrCat(candidate.chain.step)});
  }
  std::vector<absl::StatusOr<IdempotencyRecord>> answers;
  answers.reserve(records.size());
  for (absl::StatusOr<redis::Reply>& reply : redis_.Commands(commands)) {
    if (!reply.ok()) {
      answers.emplace_back(reply.status());
      continue;
    }
    absl::StatusOr<std::optional<IdempotencyRecord>> record = RecordFromReply(*reply);
    if (!record.ok()) {
      answers.emplace_back(record.status());
    } else if (!record->has_value()) {
      // The script returns the record it kept or made, so an empty answer is a broken record.
      answers.emplace_back(absl::InternalError("idempotency record in Redis is malformed"));
    } else {
      answers.emplace_back(**std::move(record));
    }
  }
  return answers;
}

absl::StatusOr<std::optional<IdempotencyRecord>> RedisIdempotencyStore::Find(
    std::string_view caller, std::string_view key) {
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"HMGET", RedisKey(caller, key), "alert_id", "fingerprint", "published", "channel"});
  if (!reply.ok()) return reply.status();
  return RecordFromReply(*reply);
}

std::vector<absl::Status> RedisIdempotencyStore::MarkAllPublished(std::span<const RecordKey> keys) {
  std::vector<std::vector<std::string>> commands;
  commands.reserve(keys.size());
  for (const RecordKey& key : keys) {
    commands.push_back({"EVAL", kMarkPublishedScript, "1", RedisKey(key.caller, key.key)});
  }
  std::vector<absl::Status> marked;
  marked.reserve(keys.size());
  for (const absl::StatusOr<redis::Reply>& reply : redis_.Commands(commands)) {
    marked.push_back(reply.status());
  }
  return marked;
}

absl::StatusOr<std::optional<AlertOwner>> RedisIdempotencyStore::FindOwner(
    std::string_view alert_id) {
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"HMGET", OwnerKey(alert_id), "caller", "channel", "escalation_id", "escalation_step"});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 4) {
    return absl::InternalError("alert owner record in Redis is malformed");
  }
  if (!reply->elements[0].has_value()) return std::nullopt;
  // A record written before chains existed has neither field: no chain.
  ChainPosition chain{.escalation_id = reply->elements[2].value_or("")};
  if (reply->elements[3].has_value() && !absl::SimpleAtoi(*reply->elements[3], &chain.step)) {
    return absl::InternalError("alert owner record in Redis has a malformed escalation_step");
  }
  return AlertOwner{.caller = *reply->elements[0],
                    .channel = ParseChannel(reply->elements[1]),
                    .chain = std::move(chain)};
}

}  // namespace klaxon::ingress
