#pragma once
// In-memory InboundMessages for unit tests: the messages and the alerts each caller sent as the
// test puts them, filtered and ordered as the Postgres adapter does (its own test,
// postgres/postgres_inbound_messages_test.cc, checks that against the real write path), and told
// to fail like a database that is down.

#include <algorithm>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "services/audit/inbound/inbound_messages.h"

namespace klaxon::audit {

class FakeInboundMessages final : public InboundMessages {
 public:
  // An alert of `caller`'s, accepted by Twilio `at`, went to the number whose blind index is
  // `recipient_index`.
  void Paged(const std::string& caller, const std::string& recipient_index, absl::Time at) {
    std::lock_guard lock(mutex_);
    paged_.push_back({.caller = caller, .recipient_index = recipient_index, .at = at});
  }
  // A message audit recorded from the number whose blind index is `sender_index`.
  void Received(const StoredInboundMessage& message, const std::string& sender_index) {
    std::lock_guard lock(mutex_);
    received_.emplace_back(message, sender_index);
  }
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    fail_with_ = std::move(status);
  }
  int32_t last_limit() {
    std::lock_guard lock(mutex_);
    return last_limit_;
  }

  absl::StatusOr<std::vector<StoredInboundMessage>> ListInboundMessages(
      const InboundFilter& filter, const std::optional<PagePosition>& after,
      int32_t limit) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    last_limit_ = limit;
    std::vector<StoredInboundMessage> found;
    for (const auto& [message, sender_index] : received_) {
      if (OwnerOf(sender_index, message.received_at) != filter.caller) continue;
      if (filter.sender_index.has_value() && sender_index != *filter.sender_index) continue;
      if (filter.received_from.has_value() && message.received_at < *filter.received_from) {
        continue;
      }
      if (filter.received_before.has_value() && message.received_at >= *filter.received_before) {
        continue;
      }
      if (after.has_value() &&
          std::tie(message.received_at, message.event_key) >= std::tie(after->at, after->key)) {
        continue;
      }
      found.push_back(message);
    }
    std::sort(found.begin(), found.end(),
              [](const StoredInboundMessage& a, const StoredInboundMessage& b) {
                return std::tie(a.received_at, a.event_key) > std::tie(b.received_at, b.event_key);
              });
    if (found.size() > static_cast<size_t>(limit)) found.resize(static_cast<size_t>(limit));
    return found;
  }

 private:
  struct Page {
    std::string caller;
    std::string recipient_index;
    absl::Time at;
  };

  // The caller of the last alert to the sender accepted by `received_at` ("" for none); of two
  // at the same time, the later put.
  std::string OwnerOf(const std::string& sender_index, absl::Time received_at) const {
    const Page* latest = nullptr;
    for (const Page& page : paged_) {
      if (page.recipient_index != sender_index || page.at > received_at) continue;
      if (latest == nullptr || page.at >= latest->at) latest = &page;
    }
    return latest == nullptr ? "" : latest->caller;
  }

  std::mutex mutex_;
  std::vector<Page> paged_;
  std::vector<std::pair<StoredInboundMessage, std::string>> received_;
  absl::Status fail_with_ = absl::OkStatus();
  int32_t last_limit_ = 0;
};

}  // namespace klaxon::audit
