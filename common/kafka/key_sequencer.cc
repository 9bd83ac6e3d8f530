#include "common/kafka/key_sequencer.h"

#include <utility>

namespace klaxon::kafka {

KeySequencer::KeySequencer(std::function<void(Task)> run) : run_(std::move(run)) {}

void KeySequencer::Submit(const std::string& key, Task task) {
  if (key.empty()) {
    run_(std::move(task));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    const auto [entry, idle] = busy_.try_emplace(key);
    if (!idle) {
      entry->second.push_back(std::move(task));
      return;
    }
  }
  run_(Chained(key, std::move(task)));
}

KeySequencer::Task KeySequencer::Chained(const std::string& key, Task task) {
  return [this, key, task = std::move(task)] {
    task();
    Next(key);
  };
}

void KeySequencer::Next(const std::string& key) {
  Task next;
  {
    std::lock_guard lock(mutex_);
    const auto entry = busy_.find(key);
    if (entry->second.empty()) {
      busy_.erase(entry);
      return;
    }
    next = std::move(entry->second.front());
    entry->second.pop_front();
  }
  run_(Chained(key, std::move(next)));
}

}  // namespace klaxon::kafka
