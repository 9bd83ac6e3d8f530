#include "common/redis/redis_client.h"

#include <gtest/gtest.h>

namespace klaxon::redis {
namespace {

TEST(ParseRedisUrlTest, ReadsHostPortAndDatabase) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl("redis://127.0.0.1:6380/3");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "127.0.0.1");
  EXPECT_EQ(endpoint->port, 6380);
  EXPECT_EQ(endpoint->db, 3);
}

TEST(ParseRedisUrlTest, DefaultsPortAndDatabase) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl("redis://cache");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->port, 6379);
  EXPECT_EQ(endpoint->db, 0);
}

TEST(ParseRedisUrlTest, RejectsOtherSchemes) {
  EXPECT_EQ(ParseRedisUrl("http://cache:6379").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRedisUrlTest, RejectsBadPort) {
  EXPECT_EQ(ParseRedisUrl("redis://cache:99999").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRedisUrl("redis://cache:x").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRedisUrlTest, RejectsUserInformationWithoutQuotingIt) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl("redis://user:s3cret@cache:6379");
  EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(endpoint.status().message()).find("s3cret"), std::string::npos);
}

TEST(RedisClientTest, UnreachableServerIsUnavailable) {
  // Port 1 on loopback refuses connections.
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Create({.url = "redis://127.0.0.1:1", .connect_timeout = absl::Seconds(1)});
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::redis
