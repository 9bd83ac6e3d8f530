#include "services/delivery/redis_send_gate.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/stopped_alerts/redis_stopped_alerts.h"
#include "services/delivery/redis_limit_scripts.h"
#include "services/delivery/redis_suppression_list.h"

namespace klaxon::delivery {
namespace {

// KEYS: 1 the alert's stop, 2 its escalation chain's stop (docs/adr/0029; the alert's own again
// when it is no page of a chain), 3 the recipient's suppression entry, 4 the slots in flight, then
// from 5 the limits' (RedisLimitKeys::Append; only when reserving).
// ARGV: 1 check the suppression ('1'), 2 reserve ('1'), 3 the suppressed value's prefix, 4 slots in
// flight, 5 lease (ms), 6 slot id, then from 7 the limits' (only when reserving).
// Answers {kind, detail, window, sender}: reserve()'s kinds 1 to 3 (1 with a wait, or due at once
// with the slot in flight or the guard not free: neither taken), 4 stopped (detail: the stop's
// value), 5 suppressed, 6 unreserved, 7 cleared (the slot in flight and the chosen sender's guard
// record taken), 8 stopped by the chain (detail: the chain's stop's value). The alert's own stop
// is read first, so a page that was itself cancelled or acknowledged ends as that says.
constexpr char kGateBody[] = R"lua(
local stop = redis.call('GET', KEYS[1])
if stop then return {'4', stop, '0', '0'} end
local chain_stop = redis.call('GET', KEYS[2])
if chain_stop then return {'8', chain_stop, '0', '0'} end
if ARGV[1] == '1' then
  local entry = redis.call('GET', KEYS[3])
  if entry and string.sub(entry, 1, #ARGV[3]) == ARGV[3] then return {'5', '0', '0', '0'} end
end
if ARGV[2] ~= '1' then return {'6', '0', '0', '0'} end
local now = now_us()
local l = limits_from(5, 7)
local reserved = reserve(l, now)
if reserved[1] ~= '1' or reserved[2] ~= '0' then return reserved end
local sender = l.senders[tonumber(reserved[4])]
local now_ms = math.floor(now / 1000)
if not lease_free(KEYS[4], now_ms, tonumber(ARGV[4])) then return reserved end
if guard_hold(sender.log, now, sender.guard_limit, sender.guard_span, l.member) > 0 then
  return reserved
end
lease_take(KEYS[4], now_ms, tonumber(ARGV[5]), ARGV[6])
guard_record(sender.log, now, sender.guard_span, l.member)
return {'7', '0', '0', reserved[4]}
)lua";

// The gate's own kinds, after reserve()'s 1 to 3.
constexpr std::string_view kStopped = "4";
constexpr std::string_view kSuppressed = "5";
constexpr std::string_view kUnreserved = "6";
constexpr std::string_view kCleared = "7";
constexpr std::string_view kChainStopped = "8";

}  // namespace

RedisSendGate::RedisSendGate(redis::RedisClient& redis, std::string key_prefix,
                             const RedisSendLimiter& limiter, RedisInFlightLimit& in_flight,
                             const log::PhoneRedactor& tokens)
    : redis_(redis),
      key_prefix_(std::move(key_prefix)),
      limiter_(limiter),
      in_flight_(in_flight),
      tokens_(tokens),
      script_(absl::StrCat(redis_lua::kPrelude, redis_lua::kReserve, redis_lua::kGuard,
                           redis_lua::kLease, kGateBody)) {}

absl::StatusOr<GateDecision> RedisSendGate::Open(const events::v1::AlertRequested& request,
                                                 std::string_view recipient, absl::Time now,
                                                 GateChecks checks) {
  const RedisLimitKeys& keys = limiter_.keys();
  const RedisInFlightLimit::Lease lease = in_flight_.NewLease(request.priority());
  const std::string& chain_id =
      request.escalation_id().empty() ? request.header().alert_id() : request.escalation_id();
  std::vector<std::string> gate_keys = {
      stopped_alerts::RedisStopKey(key_prefix_, request.header().alert_id()),
      stopped_alerts::RedisStopKey(key_prefix_, chain_id),
      RedisSuppressionKey(key_prefix_, tokens_, recipient), lease.key};
  std::vector<std::string> args = {checks.suppression ? "1" : "0",
                                   checks.reserve() ? "1" : "0",
                                   std::string(kRedisSuppressedValuePrefix),
                                   lease.limit,
                                   lease.lease_ms,
                                   lease.slot};
  // Unasked to reserve, the script reads no limits.
  const std::span<const PacedSender> among = checks.reserve_among;
  if (checks.reserve()) {
    if (absl::Status appended = keys.Append(request, recipient, among, gate_keys, args);
        !appended.ok()) {
      return appended;
    }
  }
  std::vector<std::string> argv = {"EVAL", script_, absl::StrCat(gate_keys.size())};
  argv.insert(argv.end(), gate_keys.begin(), gate_keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 4 ||
      !reply->elements[0] || !reply->elements[1]) {
    return absl::InternalError("the send gate's script answered in an unexpected shape");
  }
  const std::string& kind = *reply->elements[0];
  if (kind == kStopped || kind == kChainStopped) {
    absl::StatusOr<stopped_alerts::StopReason> stop =
        stopped_alerts::ParseRedisStopValue(*reply->elements[1]);
    if (!stop.ok()) return stop.status();
    return GateDecision{.kind = GateDecision::Kind::kStopped,
                        .stop = *stop,
                        .chain_stopped = kind == kChainStopped};
  }
  if (kind == kSuppressed) return GateDecision{.kind = GateDecision::Kind::kSuppressed};
  if (kind == kUnreserved) return GateDecision{.kind = GateDecision::Kind::kUnreserved};
  if (kind == kCleared) {
    absl::StatusOr<PacedSender> sender = keys.ChosenSender(*reply, among);
    if (!sender.ok()) return sender.status();
    in_flight_.Adopt();
    return GateDecision{
        .kind = GateDecision::Kind::kCleared,
        .limit = {.kind = LimitDecision::Kind::kSend, .send_at = now, .sender = *std::move(sender)},
        .in_flight_slot = lease.slot};
  }
  absl::StatusOr<LimitDecision> limit = keys.Reservation(*reply, among, now);
  if (!limit.ok()) return limit.status();
  return GateDecision{.kind = limit->kind == LimitDecision::Kind::kDefer
                                  ? GateDecision::Kind::kDeferred
                                  : GateDecision::Kind::kReserved,
                      .limit = *std::move(limit)};
}

absl::StatusOr<std::optional<FoundStop>> RedisSendGate::FindStop(
    const events::v1::AlertRequested& request) {
  const std::string& chain_id =
      request.escalation_id().empty() ? request.header().alert_id() : request.escalation_id();
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"MGET", stopped_alerts::RedisStopKey(key_prefix_, request.header().alert_id()),
       stopped_alerts::RedisStopKey(key_prefix_, chain_id)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 2) {
    return absl::InternalError("MGET of an alert's stops answered in an unexpected shape");
  }
  for (size_t i = 0; i < 2; ++i) {
    if (!reply->elements[i]) continue;
    absl::StatusOr<stopped_alerts::StopReason> stop =
        stopped_alerts::ParseRedisStopValue(*reply->elements[i]);
    if (!stop.ok()) return stop.status();
    return FoundStop{.reason = *stop, .chain = i == 1};
  }
  return std::nullopt;
}

}  // namespace klaxon::delivery
