#include "services/delivery/redis_send_limiter.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/kafka/request_topics.h"
#include "services/delivery/redis_limit_scripts.h"

namespace klaxon::delivery {
namespace {

// KEYS and ARGV: RedisLimitKeys::Append's, from the first. Answers reserve()'s.
constexpr char kReserveBody[] = R"lua(
return reserve(limits_from(1, 1), now_us())
)lua";

// KEYS[1] the sender's recent sends. ARGV: the most sends in the span, the span (µs), member.
// Returns an integer: 0 when this send is recorded (it fits), else guard_hold()'s wait, recording
// nothing.
constexpr char kClearToSendBody[] = R"lua(
local now = now_us()
local hold = guard_hold(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])
if hold > 0 then return hold end
guard_record(KEYS[1], now, tonumber(ARGV[2]), ARGV[3])
return 0
)lua";

std::string Micros(absl::Duration duration) {
  return absl::StrCat(absl::ToInt64Microseconds(duration));
}

}  // namespace

RedisLimitKeys::RedisLimitKeys(std::string key_prefix, SendLimits limits,
                               const log::PhoneRedactor& tokens)
    : prefix_(std::move(key_prefix)), limits_(std::move(limits)), tokens_(tokens) {
  for (const PacedSender& sender : limits_.senders) {
    const std::string slot =
        absl::StrCat(prefix_, "limits:sender:", limits_.channel, ":", sender.address);
    senders_.push_back({.slot = slot,
                        .urgent_slot = absl::StrCat(slot, ":urgent"),
                        // Rounded up: a slot a microsecond late is harmless, one early is not.
                        .interval = absl::StrCat(absl::ToInt64Microseconds(
                            absl::Ceil(limits_.PacingInterval(sender), absl::Microseconds(1)))),
                        .guard = {.log = absl::StrCat(prefix_, "limits:sent:", limits_.channel, ":",
                                                      sender.address),
                                  .limit = absl::StrCat(sender.rate.count),
                                  .span = Micros(limits_.GuardSpan(sender))}});
  }
}

absl::Status RedisLimitKeys::Append(const events::v1::AlertRequested& request,
                                    std::string_view recipient, std::span<const PacedSender> among,
                                    std::vector<std::string>& keys,
                                    std::vector<std::string>& args) const {
  if (among.empty()) return NoSenders();
  std::vector<const SenderKeys*> chosen_from;
  for (const PacedSender& sender : among) {
    const SenderKeys* sender_keys = KeysOf(sender.address);
    if (sender_keys == nullptr) return UnknownSender(sender.address);
    chosen_from.push_back(sender_keys);
  }
  const std::string token = tokens_.Token(recipient);
  keys.push_back(absl::StrCat(prefix_, "limits:recipient:", limits_.channel, ":", token));
  keys.push_back(absl::StrCat(prefix_, "limits:sticky:", limits_.channel, ":", token));
  const bool urgent = kafka::Urgent(request.priority());
  for (const SenderKeys* sender : chosen_from) {
    keys.push_back(urgent ? sender->urgent_slot : sender->slot);
    keys.push_back(sender->guard.log);
  }
  const std::vector<limits::Rate>& windows = limits_.RecipientWindows(request);
  args.push_back(Micros(limits_.max_wait));
  args.push_back(LogMember(request));
  args.push_back(absl::StrCat(absl::ToInt64Milliseconds(limits_.stickiness)));
  args.push_back(absl::StrCat(among.size()));
  args.push_back(absl::StrCat(windows.size()));
  for (size_t i = 0; i < among.size(); ++i) {
    args.push_back(among[i].address);
    args.push_back(chosen_from[i]->interval);
    args.push_back(chosen_from[i]->guard.limit);
    args.push_back(chosen_from[i]->guard.span);
  }
  for (const limits::Rate& window : windows) {
    args.push_back(absl::StrCat(window.count));
    args.push_back(Micros(window.window));
  }
  return absl::OkStatus();
}

const RedisLimitKeys::SenderKeys* RedisLimitKeys::KeysOf(std::string_view address) const {
  for (size_t i = 0; i < senders_.size(); ++i) {
    if (limits_.senders[i].address == address) return &senders_[i];
  }
  return nullptr;
}

const RedisLimitKeys::Guard* RedisLimitKeys::GuardOf(std::string_view sender) const {
  const SenderKeys* keys = KeysOf(sender);
  return keys == nullptr ? nullptr : &keys->guard;
}

absl::StatusOr<PacedSender> RedisLimitKeys::ChosenSender(const redis::Reply& reply,
                                                         std::span<const PacedSender> among) const {
  size_t sender = 0;
  if (reply.type != redis::Reply::Type::kArray || reply.elements.size() != 4 ||
      !reply.elements[3] || !absl::SimpleAtoi(*reply.elements[3], &sender) || sender == 0 ||
      sender > among.size()) {
    return absl::InternalError("the send limiter's script named no sender it was given");
  }
  // As the limits pace it (Append checked that they do).
  const PacedSender* paced = limits_.Find(among[sender - 1].address);
  if (paced == nullptr) return UnknownSender(among[sender - 1].address);
  return *paced;
}

absl::StatusOr<LimitDecision> RedisLimitKeys::Reservation(const redis::Reply& reply,
                                                          std::span<const PacedSender> among,
                                                          absl::Time now) const {
  int kind = 0;
  int64_t micros = 0;
  size_t window = 0;
  if (reply.type != redis::Reply::Type::kArray || reply.elements.size() != 4 ||
      !reply.elements[0] || !absl::SimpleAtoi(*reply.elements[0], &kind) || !reply.elements[1] ||
      !absl::SimpleAtoi(*reply.elements[1], &micros) || !reply.elements[2] ||
      !absl::SimpleAtoi(*reply.elements[2], &window) || window > limits_.recipient_windows.size()) {
    return absl::InternalError("the send limiter's script answered in an unexpected shape");
  }
  const absl::Time at = now + absl::Microseconds(micros);
  if (kind == 2 && window > 0) {
    const limits::Rate& full = limits_.recipient_windows[window - 1];
    return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                         .retry_at = at,
                         .limit = RecipientLimitLabel(full),
                         .reason = RecipientReason(full)};
  }
  if (kind != 1 && kind != 3) {
    return absl::InternalError("the send limiter's script answered an unknown decision");
  }
  absl::StatusOr<PacedSender> sender = ChosenSender(reply, among);
  if (!sender.ok()) return sender.status();
  if (kind == 1) {
    return LimitDecision{
        .kind = LimitDecision::Kind::kSend, .send_at = at, .sender = *std::move(sender)};
  }
  return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                       .retry_at = at,
                       .limit = PacingLimitLabel(),
                       .reason = PacingReason(*sender, among.size())};
}

RedisSendLimiter::RedisSendLimiter(redis::RedisClient& redis, std::string key_prefix,
                                   SendLimits limits, const log::PhoneRedactor& tokens)
    : redis_(redis),
      keys_(std::move(key_prefix), std::move(limits), tokens),
      reserve_script_(absl::StrCat(redis_lua::kPrelude, redis_lua::kReserve, kReserveBody)),
      clear_script_(absl::StrCat(redis_lua::kPrelude, redis_lua::kGuard, kClearToSendBody)) {}

absl::StatusOr<LimitDecision> RedisSendLimiter::Reserve(const events::v1::AlertRequested& request,
                                                        std::string_view recipient,
                                                        std::span<const PacedSender> among,
                                                        absl::Time now) {
  std::vector<std::string> keys;
  std::vector<std::string> args;
  if (absl::Status appended = keys_.Append(request, recipient, among, keys, args); !appended.ok()) {
    return appended;
  }
  std::vector<std::string> argv = {"EVAL", reserve_script_, absl::StrCat(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  return keys_.Reservation(*reply, among, now);
}

absl::StatusOr<LimitDecision> RedisSendLimiter::ClearToSend(
    const events::v1::AlertRequested& request, const PacedSender& sender, absl::Time now,
    absl::Duration waited) {
  const RedisLimitKeys::Guard* guard = keys_.GuardOf(sender.address);
  if (guard == nullptr) return UnknownSender(sender.address);
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"EVAL", clear_script_, "1", guard->log, guard->limit, guard->span, LogMember(request)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kInteger || reply->integer < 0) {
    return absl::InternalError("the send-time guard's script answered in an unexpected shape");
  }
  return GuardDecision(keys_.limits(), *keys_.limits().Find(sender.address), now, waited,
                       absl::Microseconds(reply->integer));
}

}  // namespace klaxon::delivery
