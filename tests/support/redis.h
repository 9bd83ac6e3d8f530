#pragma once
// The Redis of the test stack (KLAXON_TEST_REDIS_URL, scripts/test.sh) for integration tests.

#include <gtest/gtest.h>

#include <memory>

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

}  // namespace klaxon::testing
