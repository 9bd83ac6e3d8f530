#pragma once
// The Kafka of the test stack (KLAXON_TEST_KAFKA_BROKERS, scripts/test.sh) for integration tests.
// The includer links klaxon::kafka.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/kafka/topics.h"

namespace klaxon::testing {

// Deletes the topics a test created under `prefix` (kafka::CreateTopics or `klaxon-admin
// create-topics`), so a long-lived broker does not fill up with every run's topics; a failure
// when it cannot. Call it when the test is done with them, from TearDown or a destructor. An
// empty prefix is refused: under it are the suite's own topics.
inline void DeleteTestTopics(const std::string& brokers, const std::string& prefix) {
  if (prefix.empty()) {
    ADD_FAILURE() << "refusing to delete the topics under an empty prefix: those are the suite's";
    return;
  }
  absl::StatusOr<std::vector<std::string>> deleted =
      kafka::DeleteTopics({.brokers = brokers, .prefix = prefix});
  EXPECT_TRUE(deleted.ok()) << "could not delete the topics under " << prefix << ": "
                            << deleted.status();
}

// Deletes the topics under a test's prefix when destroyed. A fixture declares it before the members
// that use the topics (a service's process, a consumer), so it goes after them.
class TopicsDeletedAtEnd {
 public:
  TopicsDeletedAtEnd() = default;
  TopicsDeletedAtEnd(const TopicsDeletedAtEnd&) = delete;
  TopicsDeletedAtEnd& operator=(const TopicsDeletedAtEnd&) = delete;
  ~TopicsDeletedAtEnd() {
    if (!prefix_.empty()) DeleteTestTopics(brokers_, prefix_);
  }

  // The topics under `prefix` on `brokers` are the test's from now on: call it before creating
  // them, so they go even if the creation fails halfway.
  void Own(std::string brokers, std::string prefix) {
    brokers_ = std::move(brokers);
    prefix_ = std::move(prefix);
  }

 private:
  std::string brokers_;
  std::string prefix_;
};

}  // namespace klaxon::testing
