#pragma once
// The Redis of the test stack (KLAXON_TEST_REDIS_URL, scripts/test.sh) for integration tests. A
// test writes its keys under a prefix of its own (UniquePrefix) and deletes them when it ends
// (KeysDeletedAtEnd), so a long-lived stack does not fill up with every run's keys. The includer
// links klaxon::redis.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/redis/redis_client.h"
#include "tests/support/support.h"

namespace klaxon::testing {

// Connects `client` to the test Redis; a fatal failure when it cannot. Call as
// ASSERT_NO_FATAL_FAILURE(ConnectTestRedis(redis_)).
inline void ConnectTestRedis(std::unique_ptr<redis::RedisClient>& client) {
  auto created = redis::RedisClient::Create({.url = RequiredEnv("KLAXON_TEST_REDIS_URL")});
  ASSERT_TRUE(created.ok()) << created.status();
  client = *std::move(created);
}

// Lua defining scan(pattern, each_page), which walks `SCAN ... MATCH pattern` to its end and hands
// each page's keys to each_page; a script appends its own use of it. The walk runs in Redis because
// SCAN's reply nests arrays, which RedisClient does not read.
inline constexpr char kScanLua[] = R"lua(
local function scan(pattern, each_page)
  local cursor = '0'
  repeat
    local page = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = page[1]
    each_page(page[2])
  until cursor == '0'
end
)lua";

// The SCAN pattern of the keys that begin with `prefix`, its glob characters escaped so that it
// matches no other key.
inline std::string KeysUnder(const std::string& prefix) {
  std::string pattern;
  for (const char c : prefix) {
    if (absl::StrContains("*?[]\\", c)) pattern += '\\';
    pattern += c;
  }
  return pattern + "*";
}

// Deletes the keys a test wrote under `prefix` in the test Redis; a failure when it cannot. Call it
// when nothing of the test writes any more, from TearDown or a destructor. An empty prefix is
// refused: every key is under it.
inline void DeleteTestKeys(const std::string& prefix) {
  if (prefix.empty()) {
    ADD_FAILURE() << "refusing to delete the test keys under an empty prefix: that is every key";
    return;
  }
  // A client of its own: the test's may be gone by now.
  absl::StatusOr<std::unique_ptr<redis::RedisClient>> client =
      redis::RedisClient::Create({.url = RequiredEnv("KLAXON_TEST_REDIS_URL")});
  if (!client.ok()) {
    ADD_FAILURE() << "could not delete the keys under " << prefix << ": " << client.status();
    return;
  }
  const std::string unlink_all = absl::StrCat(kScanLua, R"lua(
local unlinked = 0
scan(ARGV[1], function(keys)
  if #keys > 0 then unlinked = unlinked + redis.call('UNLINK', unpack(keys)) end
end)
return unlinked)lua");
  absl::StatusOr<redis::Reply> deleted =
      (*client)->Command({"EVAL", unlink_all, "0", KeysUnder(prefix)});
  EXPECT_TRUE(deleted.ok()) << "could not delete the keys under " << prefix << ": "
                            << deleted.status();
}

// Deletes the keys under a test's prefix when destroyed. A fixture declares it as its first member,
// so it goes after every member that may still write them (a client, a store, a service's process).
class KeysDeletedAtEnd {
 public:
  KeysDeletedAtEnd() = default;
  KeysDeletedAtEnd(const KeysDeletedAtEnd&) = delete;
  KeysDeletedAtEnd& operator=(const KeysDeletedAtEnd&) = delete;
  ~KeysDeletedAtEnd() {
    if (!prefix_.empty()) DeleteTestKeys(prefix_);
  }

  // The keys under `prefix` in the test Redis are the test's from now on: call it before the test
  // writes any.
  void Own(std::string prefix) { prefix_ = std::move(prefix); }

 private:
  std::string prefix_;
};

}  // namespace klaxon::testing
