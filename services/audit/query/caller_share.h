#pragma once
// Each caller's share of a pool shared by every caller (audit's query executor): at most
// `max_per_caller` of one caller's calls queued or running at once, so a caller flooding it (say
// GetAlert of ids that do not exist, each polling for up to 3 s) is refused at once, past its
// share, while the others' calls still find room.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace klaxon::audit {

class CallerShare {
 public:
  explicit CallerShare(size_t max_per_caller) : max_per_caller_(max_per_caller) {}

  // One of `caller`'s places, given back when the last copy is destroyed; null when the caller
  // holds all of them.
  std::shared_ptr<const void> Enter(const std::string& caller) {
    {
      std::lock_guard lock(mutex_);
      size_t& held = held_[caller];
      if (held >= max_per_caller_) return nullptr;
      ++held;
    }
    return std::shared_ptr<const void>(this, [this, caller](const void*) { Leave(caller); });
  }

  size_t held(const std::string& caller) {
    std::lock_guard lock(mutex_);
    auto it = held_.find(caller);
    return it == held_.end() ? 0 : it->second;
  }

 private:
  void Leave(const std::string& caller) {
    std::lock_guard lock(mutex_);
    auto it = held_.find(caller);
    if (it != held_.end() && --it->second == 0) held_.erase(it);
  }

  const size_t max_per_caller_;
  std::mutex mutex_;
  std::map<std::string, size_t> held_;  // guarded by mutex_; callers holding a place
};

}  // namespace klaxon::audit
