#pragma once
// KeySequencer: lets a consumer handle messages with different keys at once while the messages of
// one key (one alert's requests and events) are still handled one after another, in the order
// they were submitted. A task whose key has nothing running is handed to `run` at once; otherwise
// it waits behind its key's earlier tasks and is handed over when the one before it has returned.
// Messages without a key have no order to keep and are handed over at once. Thread-safe.

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace klaxon::kafka {

class KeySequencer {
 public:
  using Task = std::function<void()>;
  // `run` executes a task, typically on a thread pool; it must not call back into Submit.
  explicit KeySequencer(std::function<void(Task)> run);

  void Submit(const std::string& key, Task task);

 private:
  // Wraps `task` so that, once it has returned, the next task of `key` is handed over.
  Task Chained(const std::string& key, Task task);
  void Next(const std::string& key);

  const std::function<void(Task)> run_;
  std::mutex mutex_;
  // The keys with a task running; each with the tasks waiting behind it. Guarded by mutex_.
  std::map<std::string, std::deque<Task>> busy_;
};

}  // namespace klaxon::kafka
