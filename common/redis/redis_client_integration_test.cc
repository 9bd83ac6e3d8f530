// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/redis/redis_client.h"
#include "tests/support/private_redis.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::redis {
namespace {

class RedisClientIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(
        {.url = klaxon::testing::RequiredEnv("KLAXON_TEST_REDIS_URL"), .pool_size = 2});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    prefix_ = klaxon::testing::UniquePrefix();
    keys_deleted_at_end_.Own(prefix_);
  }
  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  std::unique_ptr<RedisClient> client_;
  std::string prefix_;
};

TEST_F(RedisClientIntegrationTest, SetNxSucceedsOnlyOnce) {
  absl::StatusOr<Reply> first = client_->Command({"SET", prefix_ + "a", "1", "NX", "EX", "60"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->type, Reply::Type::kStatus);
  absl::StatusOr<Reply> second = client_->Command({"SET", prefix_ + "a", "2", "NX", "EX", "60"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->type, Reply::Type::kNil);
  absl::StatusOr<Reply> value = client_->Command({"GET", prefix_ + "a"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->str, "1");
}

TEST_F(RedisClientIntegrationTest, BinarySafeValuesRoundTrip) {
  const std::string binary("a\0b\r\n", 5);
  ASSERT_TRUE(client_->Command({"SET", prefix_ + "a", binary}).ok());
  absl::StatusOr<Reply> value = client_->Command({"GET", prefix_ + "a"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->str, binary);
}

TEST_F(RedisClientIntegrationTest, ServerErrorRepliesAreRetryable) {
  ASSERT_TRUE(client_->Command({"SET", prefix_ + "a", "text"}).ok());
  EXPECT_EQ(client_->Command({"INCR", prefix_ + "a"}).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(RedisClientIntegrationTest, PoolServesMoreThreadsThanConnections) {
  std::vector<std::jthread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(client_->Command({"INCR", prefix_ + "n"}).ok());
    });
  }
  threads.clear();
  absl::StatusOr<Reply> value = client_->Command({"GET", prefix_ + "n"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->str, "300");
}

// A Redis of the test's own, on a free port, for what must not touch the shared one: its script
// cache is flushed, and its command counts are exact.
class PrivateRedisTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(private_redis_.Start(client_)); }

  // How many times the server ran `command` (INFO commandstats), 0 before the first.
  int64_t Calls(const std::string& command) {
    absl::StatusOr<Reply> info = client_->Command({"INFO", "commandstats"});
    EXPECT_TRUE(info.ok()) << info.status();
    const std::string field = absl::StrCat("cmdstat_", command, ":calls=");
    const size_t at = info.ok() ? info->str.find(field) : std::string::npos;
    if (at == std::string::npos) return 0;
    return std::strtoll(info->str.c_str() + at + field.size(), nullptr, 10);
  }

  static constexpr char kCountingScript[] = "return redis.call('INCR', KEYS[1])";
  klaxon::testing::PrivateRedis private_redis_;  // goes after the client
  std::unique_ptr<RedisClient> client_;
};

TEST_F(PrivateRedisTest, AScriptIsSentBySha1AfterItsFirstUse) {
  for (int64_t expected = 1; expected <= 3; ++expected) {
    absl::StatusOr<Reply> count = client_->Command({"EVAL", kCountingScript, "1", "n"});
    ASSERT_TRUE(count.ok()) << count.status();
    EXPECT_EQ(count->integer, expected);
  }
  EXPECT_EQ(Calls("eval"), 1);     // the first use carried the text, which loaded it
  EXPECT_EQ(Calls("evalsha"), 2);  // then only its SHA1
}

TEST_F(PrivateRedisTest, AScriptRedisNoLongerHoldsIsSentAgainAndRunsOnce) {
  ASSERT_TRUE(client_->Command({"EVAL", kCountingScript, "1", "n"}).ok());
  // As after a restart: Redis forgets its scripts, the client still believes it holds this one.
  ASSERT_TRUE(client_->Command({"SCRIPT", "FLUSH"}).ok());
  const std::vector<absl::StatusOr<Reply>> replies =
      client_->Commands({{"EVAL", kCountingScript, "1", "n"},
                         {"SET", "between", "1"},
                         {"EVAL", kCountingScript, "1", "n"}});
  ASSERT_EQ(replies.size(), 3u);
  for (const absl::StatusOr<Reply>& reply : replies) ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(replies[0]->integer + replies[2]->integer, 2 + 3);  // each ran once, in either order
  absl::StatusOr<Reply> count = client_->Command({"GET", "n"});
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(count->str, "3");
  EXPECT_EQ(Calls("eval"), 3);  // the first use, and the two NOSCRIPTs sent again
}

TEST_F(PrivateRedisTest, ANoScriptAnswerToTheCallersOwnEvalShaIsTheirs) {
  const absl::StatusOr<Reply> reply =
      client_->Command({"EVALSHA", "0123456789012345678901234567890123456789", "0"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("NOSCRIPT"), std::string::npos) << reply.status();
  EXPECT_EQ(Calls("evalsha"), 1);  // sent once, not again
  EXPECT_EQ(Calls("eval"), 0);
}

// An ACL user of this test's own on the test Redis (whose default user may create it), removed
// again at the end.
class RedisAuthIntegrationTest : public RedisClientIntegrationTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(RedisClientIntegrationTest::SetUp());
    user_ = "klaxon-test-" + prefix_;
    ASSERT_TRUE(
        client_->Command({"ACL", "SETUSER", user_, "on", ">" + kPassword, "~*", "+@all"}).ok());
  }
  void TearDown() override {
    if (client_ != nullptr) (void)client_->Command({"ACL", "DELUSER", user_});
  }
  RedisOptions As(const std::string& password) const {
    return {.url = klaxon::testing::RequiredEnv("KLAXON_TEST_REDIS_URL"),
            .username = user_,
            .password = password,
            .pool_size = 2};
  }
  static inline const std::string kPassword = "acl-user-password-0123";
  std::string user_;
};

TEST_F(RedisAuthIntegrationTest, AclUserAuthenticatesOnEveryConnection) {
  absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(As(kPassword));
  ASSERT_TRUE(client.ok()) << client.status();
  // Two threads at once need both pooled connections, the second dialled on demand.
  std::vector<std::jthread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        absl::StatusOr<Reply> who = (*client)->Command({"ACL", "WHOAMI"});
        ASSERT_TRUE(who.ok()) << who.status();
        EXPECT_EQ(who->str, user_);
      }
    });
  }
}

TEST_F(RedisAuthIntegrationTest, WrongPasswordIsRefusedNamingTheLinkAndSettings) {
  absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(As("wrong-password"));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kPermissionDenied);
  const std::string message(client.status().message());
  EXPECT_NE(message.find("redis: AUTH as user \"" + user_ + "\" refused at "), std::string::npos)
      << message;
  EXPECT_NE(message.find("KLAXON_REDIS_PASSWORD"), std::string::npos) << message;
  EXPECT_EQ(message.find("wrong-password"), std::string::npos) << "the password was echoed";
}

}  // namespace
}  // namespace klaxon::redis
