#pragma once
// KeySequencer: lets a consumer handle messages with different keys at once while the messages of
// one key (one alert's requests and events) are still handled one after another, in the order
// they were submitted. An item whose key has nothing in progress may start at once; otherwise it
// waits behind its key's earlier items and starts when the one before it is done. Items without
// a key have no order to keep and always start at once. It only decides, never runs anything, so
// it serves a consumer whose handlers finish on other threads; not thread-safe, the consumer
// guards it.

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace klaxon::kafka {

template <typename Item>
class KeySequencer {
 public:
  // `item` when it may start now (it is then in progress for its key); nullopt when it waits
  // behind its key.
  std::optional<Item> Submit(const std::string& key, Item item) {
    if (key.empty()) return item;
    const auto [entry, idle] = busy_.try_emplace(key);
    if (idle) return item;
    entry->second.push_back(std::move(item));
    return std::nullopt;
  }

  // The item of `key` in progress is done: the key's next item, now in progress, or nullopt when
  // none waits (the key is then free). Nothing for an empty key.
  std::optional<Item> Done(const std::string& key) {
    const auto entry = busy_.find(key);
    if (entry == busy_.end()) return std::nullopt;
    if (entry->second.empty()) {
      busy_.erase(entry);
      return std::nullopt;
    }
    Item next = std::move(entry->second.front());
    entry->second.pop_front();
    return next;
  }

 private:
  // The keys with an item in progress; each with the items waiting behind it.
  std::map<std::string, std::deque<Item>> busy_;
};

}  // namespace klaxon::kafka
