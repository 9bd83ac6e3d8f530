#include "services/ingress/redis_idempotency_store.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::ingress {
namespace {

constexpr char kReserveScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'alert_id', ARGV[1], 'fingerprint', ARGV[2], 'published', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return redis.call('HMGET', KEYS[1], 'alert_id', 'fingerprint', 'published')
)lua";

// Only touches a record that still exists, so an expired one is not revived without a TTL.
constexpr char kMarkPublishedScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HSET', KEYS[1], 'published', '1')
end
return 0
)lua";

}  // namespace

RedisIdempotencyStore::RedisIdempotencyStore(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string RedisIdempotencyStore::RedisKey(std::string_view caller, std::string_view key) const {
  return absl::StrCat(key_prefix_, "idem:", std::string(caller), ":", std::string(key));
}

absl::StatusOr<IdempotencyRecord> RedisIdempotencyStore::Reserve(std::string_view caller,
                                                                 std::string_view key,
                                                                 const IdempotencyRecord& candidate,
                                                                 absl::Duration window) {
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"EVAL", kReserveScript, "1", RedisKey(caller, key), candidate.alert_id,
       candidate.request_fingerprint, absl::StrCat(absl::ToInt64Milliseconds(window))});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 3 ||
      !reply->elements[0] || !reply->elements[1] || !reply->elements[2]) {
    return absl::InternalError("idempotency record in Redis is malformed");
  }
  return IdempotencyRecord{.alert_id = *reply->elements[0],
                           .request_fingerprint = *reply->elements[1],
                           .published = *reply->elements[2] == "1"};
}

absl::Status RedisIdempotencyStore::MarkPublished(std::string_view caller, std::string_view key) {
  return redis_.Command({"EVAL", kMarkPublishedScript, "1", RedisKey(caller, key)}).status();
}

}  // namespace klaxon::ingress
