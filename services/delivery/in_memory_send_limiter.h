#pragma once
// SendLimiter in one process's memory, for tests of code that uses the port (the Dispatcher,
// through StepwiseSendGate). It follows the same rules as RedisSendLimiter (SendLimits: strict
// spacing per sender and lane, recipient windows, deferral past max_wait, the send-time guard) on
// the caller's clock.

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

  absl::StatusOr<LimitDecision> Reserve(const events::v1::AlertRequested& request,
                                        std::string_view recipient, absl::Time now) override {
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
    // Each lane its own schedule, as RedisLimitKeys::Sender keys it.
    absl::Time& next_slot = kafka::Urgent(request.priority()) ? next_urgent_slot_ : next_slot_;
    const absl::Time slot = std::max(now, next_slot);
    if (slot - now > limits_.max_wait) {
      return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                           .retry_at = slot,
                           .limit = PacingLimitLabel(),
                           .reason = PacingReason(limits_.sender_rate)};
    }
    next_slot = slot + limits_.PacingInterval();
    if (!limits_.RecipientWindows(request).empty()) {
      std::erase_if(sends, [&](const auto& send) { return send.second == member; });
      sends.emplace_back(slot, member);
    }
    return LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = slot};
  }

  absl::StatusOr<LimitDecision> ClearToSend(const events::v1::AlertRequested& request,
                                            absl::Time now, absl::Duration waited) override {
    std::lock_guard lock(mutex_);
    const std::string member = LogMember(request);
    const absl::Time since = now - limits_.GuardSpan();
    std::erase_if(sent_, [&](const auto& send) { return send.first <= since; });
    std::vector<absl::Time> in_span;
    for (const auto& [at, sent] : sent_) {
      if (sent != member) in_span.push_back(at);
    }
    if (std::ssize(in_span) >= limits_.sender_rate.count) {
      std::sort(in_span.begin(), in_span.end());
      const size_t expiring = in_span.size() - static_cast<size_t>(limits_.sender_rate.count);
      return GuardDecision(limits_, now, waited, in_span[expiring] + limits_.GuardSpan() - now);
    }
    std::erase_if(sent_, [&](const auto& send) { return send.second == member; });
    sent_.emplace_back(now, member);
    return GuardDecision(limits_, now, waited, absl::ZeroDuration());
  }

 private:
  const SendLimits limits_;
  std::mutex mutex_;
  absl::Time next_slot_ = absl::InfinitePast();
  absl::Time next_urgent_slot_ = absl::InfinitePast();
  std::map<std::string, std::vector<std::pair<absl::Time, std::string>>> sends_;
  std::vector<std::pair<absl::Time, std::string>> sent_;  // the send-time guard's log
};

}  // namespace klaxon::delivery
