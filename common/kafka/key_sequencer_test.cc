#include "common/kafka/key_sequencer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace klaxon::kafka {
namespace {

// Collects the tasks handed over instead of running them, so a test decides when each returns.
class ManualRunner {
 public:
  std::function<void(KeySequencer::Task)> Run() {
    return [this](KeySequencer::Task task) { ready_.push_back(std::move(task)); };
  }
  size_t ready() const { return ready_.size(); }
  // Runs the `index`th task handed over so far.
  void Complete(size_t index) { ready_.at(index)(); }

 private:
  std::vector<KeySequencer::Task> ready_;
};

TEST(KeySequencerTest, DifferentKeysRunAtOnce) {
  ManualRunner runner;
  KeySequencer sequencer(runner.Run());
  sequencer.Submit("a", [] {});
  sequencer.Submit("b", [] {});
  EXPECT_EQ(runner.ready(), 2u);
}

TEST(KeySequencerTest, SameKeyWaitsForTheTaskBeforeIt) {
  ManualRunner runner;
  KeySequencer sequencer(runner.Run());
  sequencer.Submit("a", [] {});
  sequencer.Submit("a", [] {});
  EXPECT_EQ(runner.ready(), 1u);
}

TEST(KeySequencerTest, SameKeyRunsInSubmissionOrder) {
  ManualRunner runner;
  KeySequencer sequencer(runner.Run());
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) sequencer.Submit("a", [&order, i] { order.push_back(i); });
  for (size_t i = 0; i < 3; ++i) runner.Complete(i);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST(KeySequencerTest, KeyIsFreeAgainOnceItsQueueDrained) {
  ManualRunner runner;
  KeySequencer sequencer(runner.Run());
  sequencer.Submit("a", [] {});
  runner.Complete(0);
  sequencer.Submit("a", [] {});
  EXPECT_EQ(runner.ready(), 2u);
}

TEST(KeySequencerTest, MessagesWithoutKeyRunAtOnce) {
  ManualRunner runner;
  KeySequencer sequencer(runner.Run());
  sequencer.Submit("", [] {});
  sequencer.Submit("", [] {});
  EXPECT_EQ(runner.ready(), 2u);
}

}  // namespace
}  // namespace klaxon::kafka
