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

TEST(ReadRedisOptionsTest, ReadsUrlUserAndPassword) {
  config::Reader reader(config::Environment{{"KLAXON_REDIS_URL", "redis://127.0.0.1:6380/0"},
                                            {"KLAXON_REDIS_USERNAME", "klaxon"},
                                            {"KLAXON_REDIS_PASSWORD", "pw-0123"}});
  const RedisOptions options = ReadRedisOptions(reader, {.pool_size = 5});
  ASSERT_TRUE(reader.Finish().ok()) << reader.Finish();
  EXPECT_EQ(options.url, "redis://127.0.0.1:6380/0");
  EXPECT_EQ(options.username, "klaxon");
  EXPECT_EQ(options.password, "pw-0123");
  EXPECT_EQ(options.pool_size, 5);
}

TEST(ReadRedisOptionsTest, UserWithoutPasswordIsAnError) {
  config::Reader reader(config::Environment{{"KLAXON_REDIS_URL", "redis://cache:6379"},
                                            {"KLAXON_REDIS_USERNAME", "klaxon"}});
  ReadRedisOptions(reader);
  EXPECT_NE(std::string(reader.Finish().message()).find("KLAXON_REDIS_PASSWORD: is required"),
            std::string::npos)
      << reader.Finish();
}

TEST(ReadRedisOptionsTest, CredentialsInTheUrlPointToTheSettings) {
  config::Reader reader(
      config::Environment{{"KLAXON_REDIS_URL", "redis://klaxon:s3cret@cache:6379"}});
  ReadRedisOptions(reader);
  const std::string message(reader.Finish().message());
  EXPECT_NE(message.find("KLAXON_REDIS_URL"), std::string::npos) << message;
  EXPECT_NE(message.find("KLAXON_REDIS_USERNAME"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << "the password was echoed";
}

TEST(ReadRedisOptionsTest, UrlIsRequired) {
  config::Reader reader(config::Environment{});
  ReadRedisOptions(reader);
  EXPECT_NE(std::string(reader.Finish().message()).find("KLAXON_REDIS_URL is required"),
            std::string::npos);
}

}  // namespace
}  // namespace klaxon::redis
