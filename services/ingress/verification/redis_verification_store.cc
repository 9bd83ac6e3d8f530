#include "services/ingress/verification/redis_verification_store.h"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::ingress::verification {
namespace {

// The hash's fields. The scripts below name those they decide by ('caller', 'recipient',
// 'expires', 'checks', 'sends', 'state') and the state words in their own text.
constexpr char kCaller[] = "caller";
constexpr char kRecipient[] = "recipient";
constexpr char kChannel[] = "channel";
constexpr char kDigest[] = "digest";
constexpr char kSealed[] = "sealed";
constexpr char kCreated[] = "created";
constexpr char kExpires[] = "expires";
constexpr char kForget[] = "forget";
constexpr char kChecks[] = "checks";
constexpr char kSends[] = "sends";
constexpr char kState[] = "state";
constexpr char kAlert[] = "alert";

// KEYS[1] the pending key, KEYS[2] the fresh verification's hash. ARGV: now (µs), the hashes' key
// prefix, the fresh id, forget_at (ms since the epoch), this send's alert id, then the fresh
// hash's fields and values. Returns the pending verification's id and the alert it named before
// followed by its fields and values when it is resent, an empty array when the fresh one is kept.
constexpr char kStartOrResendScript[] = R"lua(
local pending = redis.call('GET', KEYS[1])
if pending then
  local key = ARGV[2] .. pending
  local found = redis.call('HMGET', key, 'state', 'expires', 'alert')
  if found[1] == 'pending' and tonumber(found[2]) > tonumber(ARGV[1]) then
    redis.call('HINCRBY', key, 'sends', 1)
    redis.call('HSET', key, 'alert', ARGV[5])
    local reply = redis.call('HGETALL', key)
    table.insert(reply, 1, found[3] or '')
    table.insert(reply, 1, pending)
    return reply
  end
end
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('PEXPIREAT', KEYS[2], ARGV[4])
redis.call('SET', KEYS[1], ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return {}
)lua";

// KEYS[1] the hash. ARGV: caller, max checks, now (µs). Returns whether this check was counted
// ('1' or '0') followed by the fields and values after it, or nil when the verification is unknown
// or another caller's (which it leaves alone).
constexpr char kCountCheckScript[] = R"lua(
local found = redis.call('HMGET', KEYS[1], 'caller', 'state', 'expires', 'checks')
if found[1] ~= ARGV[1] then return false end
local counted = '0'
if found[2] == 'pending' and tonumber(ARGV[3]) < tonumber(found[3]) and
    tonumber(found[4]) < tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[1], 'checks', 1)
  counted = '1'
end
local reply = redis.call('HGETALL', KEYS[1])
table.insert(reply, 1, counted)
return reply
)lua";

// KEYS[1] the hash. ARGV: caller, the state to move to, the caller's pending keys' prefix (the
// recipient index completes it), id. Returns 1 when the verification moved, 0 when it was not
// pending, is unknown or another caller's. The pending key is only deleted while it names this
// verification: a fresh one may have replaced it after this one expired.
constexpr char kFinishScript[] = R"lua(
local found = redis.call('HMGET', KEYS[1], 'caller', 'state', 'recipient')
if found[1] ~= ARGV[1] or found[2] ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
local pending = ARGV[3] .. found[3]
if redis.call('GET', pending) == ARGV[4] then redis.call('DEL', pending) end
return 1
)lua";

// KEYS[1] the hash. ARGV: caller, the alert to replace, its replacement. Returns 1 when replaced,
// 0 when the verification names another alert, is unknown or another caller's (an unknown one is
// not created again without its expiry).
constexpr char kReplaceAlertScript[] = R"lua(
local found = redis.call('HMGET', KEYS[1], 'caller', 'alert')
if found[1] ~= ARGV[1] or (found[2] or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'alert', ARGV[3])
return 1
)lua";

constexpr char kPending[] = "pending";
constexpr char kApproved[] = "approved";
constexpr char kCancelled[] = "cancelled";

std::string_view StateWord(VerificationState state) {
  switch (state) {
    case VerificationState::kPending:
      return kPending;
    case VerificationState::kApproved:
      return kApproved;
    case VerificationState::kCancelled:
      return kCancelled;
  }
  std::abort();  // not a VerificationState: memory is corrupt
}

std::optional<VerificationState> ParseState(std::string_view word) {
  if (word == kPending) return VerificationState::kPending;
  if (word == kApproved) return VerificationState::kApproved;
  if (word == kCancelled) return VerificationState::kCancelled;
  return std::nullopt;
}

std::string UnixMicrosText(absl::Time time) { return absl::StrCat(absl::ToUnixMicros(time)); }

absl::Status Malformed(const char* what) {
  return absl::UnavailableError(
      absl::StrCat("the verification store's ", what, " answered in an unexpected shape"));
}

// The hash's fields and values for `verification` (all but its id, which names the key).
std::vector<std::pair<std::string, std::string>> Encode(const Verification& verification) {
  return {{kCaller, verification.caller},
          {kRecipient, verification.recipient_index},
          {kChannel, absl::StrCat(static_cast<int>(verification.channel))},
          {kDigest, verification.code_digest},
          {kSealed, verification.sealed_code},
          {kCreated, UnixMicrosText(verification.created_at)},
          {kExpires, UnixMicrosText(verification.expires_at)},
          {kForget, UnixMicrosText(verification.forget_at)},
          {kChecks, absl::StrCat(verification.checks)},
          {kSends, absl::StrCat(verification.sends)},
          {kAlert, verification.alert_id},
          {kState, std::string(StateWord(verification.state))}};
}

// Verification `id` from the fields and values in elements[first...], as Encode() wrote them;
// `what` names the command for the error.
absl::StatusOr<Verification> Decode(std::string id,
                                    const std::vector<std::optional<std::string>>& elements,
                                    size_t first, const char* what) {
  if (elements.size() < first || (elements.size() - first) % 2 != 0) return Malformed(what);
  std::map<std::string, std::string> fields;
  for (size_t i = first; i < elements.size(); i += 2) {
    if (!elements[i] || !elements[i + 1]) return Malformed(what);
    fields[*elements[i]] = *elements[i + 1];
  }
  auto text = [&](const char* name) -> std::optional<std::string> {
    auto it = fields.find(name);
    if (it == fields.end()) return std::nullopt;
    return it->second;
  };
  auto number = [&](const char* name) -> std::optional<int64_t> {
    int64_t value = 0;
    auto it = fields.find(name);
    if (it == fields.end() || !absl::SimpleAtoi(it->second, &value)) return std::nullopt;
    return value;
  };
  const std::optional<std::string> caller = text(kCaller);
  const std::optional<std::string> recipient = text(kRecipient);
  const std::optional<std::string> digest = text(kDigest);
  const std::optional<std::string> sealed = text(kSealed);
  const std::optional<int64_t> channel = number(kChannel);
  const std::optional<int64_t> created = number(kCreated);
  const std::optional<int64_t> expires = number(kExpires);
  const std::optional<int64_t> forget = number(kForget);
  const std::optional<int64_t> checks = number(kChecks);
  const std::optional<int64_t> sends = number(kSends);
  const std::optional<std::string> state_word = text(kState);
  const std::optional<VerificationState> state =
      state_word ? ParseState(*state_word) : std::nullopt;
  if (!caller || !recipient || !digest || !sealed || !channel ||
      !types::v1::Channel_IsValid(static_cast<int>(*channel)) || !created || !expires || !forget ||
      !checks || !sends || !state) {
    return Malformed(what);
  }
  return Verification{.id = std::move(id),
                      .caller = *caller,
                      .recipient_index = *recipient,
                      .channel = static_cast<types::v1::Channel>(*channel),
                      .code_digest = *digest,
                      .sealed_code = *sealed,
                      .created_at = absl::FromUnixMicros(*created),
                      .expires_at = absl::FromUnixMicros(*expires),
                      .forget_at = absl::FromUnixMicros(*forget),
                      .checks = static_cast<int>(*checks),
                      .sends = static_cast<int>(*sends),
                      .alert_id = text(kAlert).value_or(""),
                      .state = *state};
}

}  // namespace

RedisVerificationStore::RedisVerificationStore(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string RedisVerificationStore::VerificationKey(std::string_view id) const {
  return absl::StrCat(key_prefix_, "verification:", std::string(id));
}

std::string RedisVerificationStore::PendingKey(std::string_view caller,
                                               std::string_view recipient_index) const {
  return absl::StrCat(key_prefix_, "verification-pending:", std::string(caller), ":",
                      std::string(recipient_index));
}

absl::StatusOr<StartedSend> RedisVerificationStore::StartOrResend(const Verification& fresh,
                                                                  absl::Time now) {
  // Rounded up to the millisecond, so the keys outlive forget_at rather than fall short of it.
  const int64_t forget_ms = (absl::ToUnixMicros(fresh.forget_at) + 999) / 1000;
  Verification kept = fresh;
  kept.sends = 1;
  kept.state = VerificationState::kPending;
  std::vector<std::string> argv = {"EVAL",
                                   kStartOrResendScript,
                                   "2",
                                   PendingKey(kept.caller, kept.recipient_index),
                                   VerificationKey(kept.id),
                                   UnixMicrosText(now),
                                   VerificationKey(""),
                                   kept.id,
                                   absl::StrCat(forget_ms),
                                   kept.alert_id};
  for (auto& [field, value] : Encode(kept)) {
    argv.push_back(field);
    argv.push_back(std::move(value));
  }
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  constexpr char kWhat[] = "StartOrResend script";
  if (reply->type != redis::Reply::Type::kArray) return Malformed(kWhat);
  if (reply->elements.empty()) return StartedSend{.verification = std::move(kept)};
  if (reply->elements.size() < 2 || !reply->elements[0] || !reply->elements[1]) {
    return Malformed(kWhat);
  }
  absl::StatusOr<Verification> pending = Decode(*reply->elements[0], reply->elements, 2, kWhat);
  if (!pending.ok()) return pending.status();
  return StartedSend{.verification = *std::move(pending),
                     .previous_alert_id = *std::move(reply->elements[1])};
}

absl::StatusOr<std::optional<Verification>> RedisVerificationStore::Find(std::string_view caller,
                                                                         std::string_view id) {
  absl::StatusOr<redis::Reply> reply = redis_.Command({"HGETALL", VerificationKey(id)});
  if (!reply.ok()) return reply.status();
  constexpr char kWhat[] = "HGETALL of a verification";
  if (reply->type != redis::Reply::Type::kArray) return Malformed(kWhat);
  if (reply->elements.empty()) return std::nullopt;
  absl::StatusOr<Verification> verification = Decode(std::string(id), reply->elements, 0, kWhat);
  if (!verification.ok()) return verification.status();
  if (verification->caller != caller) return std::nullopt;
  return *std::move(verification);
}

absl::StatusOr<std::optional<std::string>> RedisVerificationStore::FindPending(
    std::string_view caller, std::string_view recipient_index) {
  absl::StatusOr<redis::Reply> reply = redis_.Command({"GET", PendingKey(caller, recipient_index)});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kNil) return std::nullopt;
  if (reply->type != redis::Reply::Type::kString) return Malformed("GET of a pending id");
  return std::move(reply->str);
}

absl::StatusOr<std::optional<CountedCheck>> RedisVerificationStore::CountCheck(
    std::string_view caller, std::string_view id, int max_checks, absl::Time now) {
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"EVAL", kCountCheckScript, "1", VerificationKey(id), std::string(caller),
                      absl::StrCat(max_checks), UnixMicrosText(now)});
  if (!reply.ok()) return reply.status();
  constexpr char kWhat[] = "CountCheck script";
  if (reply->type == redis::Reply::Type::kNil) return std::nullopt;
  if (reply->type != redis::Reply::Type::kArray || reply->elements.empty() ||
      (reply->elements[0] != "1" && reply->elements[0] != "0")) {
    return Malformed(kWhat);
  }
  absl::StatusOr<Verification> verification = Decode(std::string(id), reply->elements, 1, kWhat);
  if (!verification.ok()) return verification.status();
  return CountedCheck{.verification = *std::move(verification),
                      .counted = reply->elements[0] == "1"};
}

absl::StatusOr<bool> RedisVerificationStore::ReplaceAlert(std::string_view caller,
                                                          std::string_view id,
                                                          std::string_view from,
                                                          std::string_view to) {
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"EVAL", kReplaceAlertScript, "1", VerificationKey(id), std::string(caller),
                      std::string(from), std::string(to)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kInteger) return Malformed("ReplaceAlert script");
  return reply->integer == 1;
}

absl::StatusOr<bool> RedisVerificationStore::Finish(std::string_view caller, std::string_view id,
                                                    VerificationState to) {
  if (to == VerificationState::kPending) {
    return absl::InvalidArgumentError("a verification can only finish approved or cancelled");
  }
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"EVAL", kFinishScript, "1", VerificationKey(id), std::string(caller),
                      std::string(StateWord(to)), PendingKey(caller, ""), std::string(id)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kInteger || (reply->integer != 0 && reply->integer != 1)) {
    return Malformed("Finish script");
  }
  return reply->integer == 1;
}

}  // namespace klaxon::ingress::verification
