#pragma once
// Where alert ids come from: a port, so tests choose the ids they expect (STYLE.md: time and
// randomness are injected). Services mint UUIDv7s stamped by their Clock.

#include <mutex>
#include <string>

#include "absl/random/random.h"
#include "common/timing/clock.h"

namespace klaxon::ids {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // A new id, never returned before by this generator. Thread-safe.
  virtual std::string Next() = 0;
};

// UUIDv7s (NewUuidV7) stamped with `clock`'s time.
class UuidV7Generator final : public IdGenerator {
 public:
  // `clock` is borrowed and must outlive the generator.
  explicit UuidV7Generator(timing::Clock& clock) : clock_(clock) {}

  std::string Next() override;

 private:
  timing::Clock& clock_;
  std::mutex mutex_;
  absl::BitGen gen_;  // guarded by mutex_
};

// For tests: `prefix` followed by 1, 2, 3, ...
class CountingIdGenerator final : public IdGenerator {
 public:
  explicit CountingIdGenerator(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string Next() override {
    std::lock_guard lock(mutex_);
    return prefix_ + std::to_string(++minted_);
  }

 private:
  const std::string prefix_;
  std::mutex mutex_;
  int minted_ = 0;  // guarded by mutex_
};

}  // namespace klaxon::ids
