#pragma once
// The Lua the Redis limit adapters share, one definition each, so that RedisSendGate's one script
// decides exactly as RedisSendLimiter's and RedisInFlightLimit's own scripts do: each constant
// defines local functions, and a script is the fragments it needs followed by its own body.
//
// Times are integral microseconds on Redis's clock (the slots in flight: milliseconds), formatted
// with %.0f: Lua's default number format keeps 14 digits, too few for them.

namespace klaxon::delivery::redis_lua {

// now_us(): Redis's clock; us(x): a time or duration as an integer string. Every script starts
// with it.
inline constexpr char kPrelude[] = R"lua(
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function us(x) return string.format('%.0f', x) end
)lua";

// limits_from(k, a): the limits' keys from KEYS[k] and arguments from ARGV[a], in
// RedisLimitKeys::Append's layout, as {recipient, sticky, max_wait, member, stickiness, senders =
// {{slot, log, address, interval, guard_limit, guard_span}, ...}, windows = {{limit, window},
// ...}}. reserve(l, now): checks the recipient's windows (`l.recipient`: a sorted set of sends by
// slot time), then chooses a sender as ChooseSender does (send_limits.h: the recipient's sender of
// last time, `l.sticky`, while its slot is within max_wait, else the first with the earliest slot),
// and only when both fit records the send in the sender's next slot, the recipient's windows and,
// with several senders, the recipient's sender. Returns strings (the client keeps only strings of
// an array) {kind, µs from now, window index (1-based), sender index (1-based)}: kind 1 = send
// after the wait ('0': due at once), 2 = recipient window full until then, 3 = every sender's next
// slot too far (the sender: the earliest). A redelivered attempt already recorded (`member`) never
// counts against itself. The recipient's sender is kept for `stickiness` after each send.
inline constexpr char kReserve[] = R"lua(
local function limits_from(k, a)
  local l = {recipient = KEYS[k], sticky = KEYS[k + 1], max_wait = tonumber(ARGV[a]),
             member = ARGV[a + 1], stickiness = ARGV[a + 2], senders = {}, windows = {}}
  local s = a + 5
  for i = 1, tonumber(ARGV[a + 3]) do
    l.senders[i] = {slot = KEYS[k + 2 * i], log = KEYS[k + 2 * i + 1], address = ARGV[s],
                    interval = tonumber(ARGV[s + 1]), guard_limit = tonumber(ARGV[s + 2]),
                    guard_span = tonumber(ARGV[s + 3])}
    s = s + 4
  end
  for i = 1, tonumber(ARGV[a + 4]) do
    l.windows[i] = {tonumber(ARGV[s]), tonumber(ARGV[s + 1])}
    s = s + 2
  end
  return l
end
local function reserve(l, now)
  local recipient = l.recipient
  local member = l.member
  local own = tonumber(redis.call('ZSCORE', recipient, member) or '-1')
  local longest = 0
  for i = 1, #l.windows do
    local limit = l.windows[i][1]
    local window = l.windows[i][2]
    if window > longest then longest = window end
    local from = '(' .. us(now - window)
    local count = redis.call('ZCOUNT', recipient, from, '+inf')
    if own > now - window then count = count - 1 end
    if count >= limit then
      -- The send whose expiry brings the window under its limit.
      local sends = redis.call('ZRANGEBYSCORE', recipient, from, '+inf', 'WITHSCORES')
      local expiring = count - limit + 1
      for j = 1, #sends, 2 do
        if sends[j] ~= member then
          expiring = expiring - 1
          if expiring == 0 then
            return {'2', us(tonumber(sends[j + 1]) + window - now), tostring(i), '0'}
          end
        end
      end
    end
  end
  local several = #l.senders > 1
  local sticky = several and redis.call('GET', l.sticky) or false
  local chosen, slot = 0, 0
  for i = 1, #l.senders do
    local at = math.max(now, tonumber(redis.call('GET', l.senders[i].slot) or '0'))
    if l.senders[i].address == sticky and at - now <= l.max_wait then
      chosen, slot = i, at
      break
    end
    if chosen == 0 or at < slot then chosen, slot = i, at end
  end
  if slot - now > l.max_wait then return {'3', us(slot - now), '0', tostring(chosen)} end
  local sender = l.senders[chosen]
  local next_slot = slot + sender.interval
  redis.call('SET', sender.slot, us(next_slot), 'PX', us(math.ceil((next_slot - now) / 1000) + 1000))
  if several then redis.call('SET', l.sticky, sender.address, 'PX', l.stickiness) end
  if #l.windows > 0 then
    redis.call('ZADD', recipient, us(slot), member)
    redis.call('ZREMRANGEBYSCORE', recipient, '-inf', us(now - longest))
    redis.call('PEXPIRE', recipient, us(math.ceil((slot - now + longest) / 1000) + 1000))
  end
  return {'1', us(slot - now), '0', tostring(chosen)}
end
)lua";

// The send-time guard on the sender's log of sends (`sent`: a sorted set by the time each was
// cleared). guard_hold(sent, now, limit, span, member): 0 when this send fits (at most `limit`
// sends in `span`), else µs until the send whose leaving the span makes room for it; records
// nothing. guard_record(sent, now, span, member): records this send. This attempt's own earlier
// record never counts against it.
inline constexpr char kGuard[] = R"lua(
local function guard_hold(sent, now, limit, span, member)
  redis.call('ZREMRANGEBYSCORE', sent, '-inf', us(now - span))
  local count = redis.call('ZCARD', sent)
  if redis.call('ZSCORE', sent, member) then count = count - 1 end
  if count >= limit then
    local sends = redis.call('ZRANGE', sent, 0, -1, 'WITHSCORES')
    local expiring = count - limit + 1
    for j = 1, #sends, 2 do
      if sends[j] ~= member then
        expiring = expiring - 1
        if expiring == 0 then return math.max(1, tonumber(sends[j + 1]) + span - now) end
      end
    end
  end
  return 0
end
local function guard_record(sent, now, span, member)
  redis.call('ZADD', sent, us(now), member)
  redis.call('PEXPIRE', sent, us(math.ceil(span / 1000) + 1000))
end
)lua";

// The slots in flight to Twilio (`slots`: a sorted set of slot ids by lease expiry, in ms).
// lease_free(slots, now_ms, limit): drops expired leases, true when fewer than `limit` remain.
// lease_take(slots, now_ms, lease, slot): takes `slot` for `lease` ms.
inline constexpr char kLease[] = R"lua(
local function lease_free(slots, now_ms, limit)
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', us(now_ms))
  return redis.call('ZCARD', slots) < limit
end
local function lease_take(slots, now_ms, lease, slot)
  redis.call('ZADD', slots, us(now_ms + lease), slot)
  redis.call('PEXPIRE', slots, us(lease * 2))
end
)lua";

}  // namespace klaxon::delivery::redis_lua
