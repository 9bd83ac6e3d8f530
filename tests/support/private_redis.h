#pragma once
// A Redis server of one test's own: redis-server on a free loopback port, keeping nothing on
// disk, stopped when the test ends. For a test that must not touch the test stack's Redis (it
// flushes the script cache) or that counts what the whole server did (INFO), which other tests
// running beside it would change. The includer links klaxon::redis and klaxon::test_processes.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/redis/redis_client.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace klaxon::testing {

class PrivateRedis {
 public:
  // Starts the server and connects `client` to it once it listens. Call from SetUp() as
  //   ASSERT_NO_FATAL_FAILURE(private_redis_.Start(redis_));
  void Start(std::unique_ptr<redis::RedisClient>& client) {
    const int port = FreePort();
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/redis-server", "--port", std::to_string(port), "--bind",
                                 "127.0.0.1", "--save", "", "--appendonly", "no"},
        ToolEnvironment(), absl::StrCat(::testing::TempDir(), "redis-", port, ".log"));
    const std::string url = absl::StrCat("redis://127.0.0.1:", port);
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    absl::StatusOr<std::unique_ptr<redis::RedisClient>> connected =
        redis::RedisClient::Create({.url = url});
    while (!connected.ok() && absl::Now() < give_up && server_->Running()) {
      absl::SleepFor(absl::Milliseconds(50));
      connected = redis::RedisClient::Create({.url = url});
    }
    ASSERT_TRUE(connected.ok()) << connected.status() << "\n" << server_->Log();
    client = *std::move(connected);
  }

 private:
  std::unique_ptr<ChildProcess> server_;
};

}  // namespace klaxon::testing
