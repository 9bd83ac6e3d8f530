#pragma once
// SendLimiter in one process's memory, for tests of code that uses the port (the Dispatcher,
// through StepwiseSendGate). It follows the same rules as RedisSendLimiter (SendLimits: strict
// spacing per sender and lane, the choice of sender, recipient windows, deferral past max_wait,
// the send-time guard) on the caller's clock.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/request_topics.h"
#include "services/delivery/send_limiter.h"
#include "services/delivery/send_limits.h"

namespace klaxon::delivery {

class InMemorySendLimiter final : public SendLimiter {
 public:
  explicit InMemorySendLimiter(SendLimits limits) : limits_(std::move(limits)) {}

  const SendLimits& limits() const { return limits_; }

  absl::StatusOr<LimitDecision> Reserve(const events::v1::AlertRequested& request,
                                        std::string_view recipient,
                                        std::span<const PacedSender> among,
                                        absl::Time now) override {
    if (among.empty()) return NoSenders();
    for (const PacedSender& sender : among) {
      if (limits_.Find(sender.address) == nullptr) return UnknownSender(sender.address);
    }
    std::lock_guard lock(mutex_);
    const std::string member = LogMember(request);
    std::vector<std::pair<absl::Time, std::string>>& sends = sends_[std::string(recipient)];
    for (const limits::Rate& window : limits_.RecipientWindows(request)) {
      std::vector<absl::Time> in_window;
      for (const auto& [at, sent] : sends) {
        if (at > now - window.window && sent != member) in_window.push_back(at);
      }
      if (std::ssize(in_window) >= window.count) {
        std::sort(in_window.begin(), in_window.end());
        const size_t expiring = in_window.size() - static_cast<size_t>(window.count);
        return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                             .retry_at = in_window[expiring] + window.window,
                             .limit = RecipientLimitLabel(window),
                             .reason = RecipientReason(window)};
      }
    }
    // Each sender and lane its own schedule, as RedisLimitKeys keys them.
    std::map<std::string, absl::Time>& next_slots =
        kafka::Urgent(request.priority()) ? next_urgent_slots_ : next_slots_;
    Sticky& sticky = sticky_[std::string(recipient)];
    const bool several = among.size() > 1;
    const auto [chosen, slot] =
        ChooseSender(limits_, among, several && sticky.until > now ? sticky.sender : "", now,
                     [&](const PacedSender& sender) {
                       auto next = next_slots.find(sender.address);
                       return next == next_slots.end() ? now : std::max(now, next->second);
                     });
    const PacedSender& sender = among[chosen];
    if (slot - now > limits_.max_wait) {
      return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                           .retry_at = slot,
                           .limit = PacingLimitLabel(),
                           .reason = PacingReason(sender, among.size())};
    }
    next_slots[sender.address] = slot + limits_.PacingInterval(sender);
    sticky = {.sender = sender.address, .until = now + limits_.stickiness};
    if (!limits_.RecipientWindows(request).empty()) {
      std::erase_if(sends, [&](const auto& send) { return send.second == member; });
      sends.emplace_back(slot, member);
    }
    return LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = slot, .sender = sender};
  }

  absl::StatusOr<LimitDecision> ClearToSend(const events::v1::AlertRequested& request,
                                            const PacedSender& asked, absl::Time now,
                                            absl::Duration waited) override {
    std::lock_guard lock(mutex_);
    const PacedSender* sender = limits_.Find(asked.address);
    if (sender == nullptr) return UnknownSender(asked.address);
    const std::string member = LogMember(request);
    const absl::Time since = now - limits_.GuardSpan(*sender);
    std::vector<std::pair<absl::Time, std::string>>& sent = sent_[sender->address];
    std::erase_if(sent, [&](const auto& send) { return send.first <= since; });
    std::vector<absl::Time> in_span;
    for (const auto& [at, other] : sent) {
      if (other != member) in_span.push_back(at);
    }
    if (std::ssize(in_span) >= sender->rate.count) {
      std::sort(in_span.begin(), in_span.end());
      const size_t expiring = in_span.size() - static_cast<size_t>(sender->rate.count);
      return GuardDecision(limits_, *sender, now, waited,
                           in_span[expiring] + limits_.GuardSpan(*sender) - now);
    }
    std::erase_if(sent, [&](const auto& send) { return send.second == member; });
    sent.emplace_back(now, member);
    return GuardDecision(limits_, *sender, now, waited, absl::ZeroDuration());
  }

 private:
  const SendLimits limits_;
  std::mutex mutex_;
  std::map<std::string, absl::Time> next_slots_;         // by sender
  std::map<std::string, absl::Time> next_urgent_slots_;  // by sender
  struct Sticky {
    std::string sender;  // the recipient's sender of last time
    absl::Time until;    // kept so long after its send
  };
  std::map<std::string, Sticky> sticky_;                                          // by recipient
  std::map<std::string, std::vector<std::pair<absl::Time, std::string>>> sends_;  // by recipient
  // The send-time guard's logs, by sender.
  std::map<std::string, std::vector<std::pair<absl::Time, std::string>>> sent_;
};

}  // namespace klaxon::delivery
