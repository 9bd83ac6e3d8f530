#pragma once
// Helpers every Klaxon integration test shares. Integration tests run against the real Kafka,
// Redis and Postgres that scripts/stack.sh starts (scripts/test.sh wires it all up); they find
// them through KLAXON_TEST_* variables and must fail, never skip, when one is missing, so a
// misconfigured CI run cannot pass by testing nothing. Each test works in its own namespace of
// topics, consumer groups and keys (UniquePrefix), so tests neither see each other's data nor
// depend on a fresh stack.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace klaxon::testing {

// The value of environment variable `name`. When it is unset or empty this records a fatal
// failure and returns "". Call it from a fixture's SetUp(): GoogleTest then skips the test body
// and reports the test as failed with the message below.
inline std::string RequiredEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value != nullptr && *value != '\0') return value;
  [&] {
    FAIL() << name << " is not set. Integration tests need the real services: run scripts/test.sh, "
           << "or start them with `scripts/stack.sh up DIR` and export the KLAXON_TEST_* "
           << "variables from DIR/env (KLAXON_KAFKA_BROKERS -> KLAXON_TEST_KAFKA_BROKERS, ...).";
  }();
  return "";
}

// ${KLAXON_CACHE:-$HOME/.cache/klaxon}: where scripts/deps.sh puts the tools that tests run
// (the Kafka jars, Prism, Twilio's Node.js helper library).
inline std::string ToolCacheDir() {
  if (const char* cache = std::getenv("KLAXON_CACHE"); cache != nullptr && *cache != '\0') {
    return cache;
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr && *home != '\0' ? home : "/root", "/.cache/klaxon");
}

// A prefix no other test, process or run produces: "t-<test name>-<pid>-<random>-<n>.". It is a
// legal Kafka topic prefix and a safe Redis key or Postgres identifier fragment once '.' and '-'
// are accounted for by the caller.
inline std::string UniquePrefix() {
  static std::atomic<uint32_t> counter{0};
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr ? info->name() : "none";
  // A parameterized test's name holds a '/' ("Test/Param"), which no topic name may.
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  std::random_device random;
  return absl::StrFormat("t-%s-%d-%08x-%u.", name, static_cast<int>(getpid()), random(),
                         counter.fetch_add(1));
}

// Whether `done` became true within `timeout`, asked every millisecond: for a unit test that
// waits on another thread of the code under test.
template <typename Predicate>
bool PollUntil(Predicate done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

}  // namespace klaxon::testing
