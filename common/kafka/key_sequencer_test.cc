#include "common/kafka/key_sequencer.h"

#include <gtest/gtest.h>

#include <optional>

namespace klaxon::kafka {
namespace {

TEST(KeySequencerTest, DifferentKeysStartAtOnce) {
  KeySequencer<int> sequencer;
  EXPECT_EQ(sequencer.Submit("a", 1), 1);
  EXPECT_EQ(sequencer.Submit("b", 2), 2);
}

TEST(KeySequencerTest, SameKeyWaitsForTheItemBeforeIt) {
  KeySequencer<int> sequencer;
  ASSERT_EQ(sequencer.Submit("a", 1), 1);
  EXPECT_EQ(sequencer.Submit("a", 2), std::nullopt);
}

TEST(KeySequencerTest, SameKeyStartsInSubmissionOrder) {
  KeySequencer<int> sequencer;
  ASSERT_EQ(sequencer.Submit("a", 0), 0);
  ASSERT_EQ(sequencer.Submit("a", 1), std::nullopt);
  ASSERT_EQ(sequencer.Submit("a", 2), std::nullopt);
  EXPECT_EQ(sequencer.Done("a"), 1);
  EXPECT_EQ(sequencer.Done("a"), 2);
  EXPECT_EQ(sequencer.Done("a"), std::nullopt);
}

TEST(KeySequencerTest, KeyIsFreeAgainOnceItsQueueDrained) {
  KeySequencer<int> sequencer;
  ASSERT_EQ(sequencer.Submit("a", 1), 1);
  ASSERT_EQ(sequencer.Done("a"), std::nullopt);
  EXPECT_EQ(sequencer.Submit("a", 2), 2);
}

TEST(KeySequencerTest, MessagesWithoutKeyStartAtOnce) {
  KeySequencer<int> sequencer;
  EXPECT_EQ(sequencer.Submit("", 1), 1);
  EXPECT_EQ(sequencer.Submit("", 2), 2);
  EXPECT_EQ(sequencer.Done(""), std::nullopt);
}

}  // namespace
}  // namespace klaxon::kafka
