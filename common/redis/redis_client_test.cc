#include "common/redis/redis_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

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

// A Redis stand-in on loopback for the client's pipelining: it serves one connection, answers
// each command with its last argument as a bulk string (PING with +PONG), and records how many
// commands each read from the socket carried. It holds the answer to the first command after
// PING for `hold`, so that other callers queue up behind it meanwhile.
class EchoRedis {
 public:
  explicit EchoRedis(absl::Duration hold) : hold_(hold) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    listen(listener_, 4);
    thread_ = std::jthread([this] { Serve(); });
  }
  ~EchoRedis() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
  }

  std::string url() const { return absl::StrCat("redis://127.0.0.1:", port_); }

  // Commands per read, PING's included, in order.
  std::vector<size_t> reads() {
    std::lock_guard lock(mutex_);
    return reads_;
  }

 private:
  void Serve() {
    const int connection = accept(listener_, nullptr, nullptr);
    if (connection < 0) return;
    std::string buffer;
    char chunk[65536];
    bool held = false;
    while (true) {
      const ssize_t got = recv(connection, chunk, sizeof(chunk), 0);
      if (got <= 0) break;
      buffer.append(chunk, static_cast<size_t>(got));
      std::string answers;
      size_t commands = 0;
      while (std::optional<std::vector<std::string>> command = TakeCommand(buffer)) {
        ++commands;
        answers += command->front() == "PING"
                       ? std::string("+PONG\r\n")
                       : absl::StrCat("$", command->back().size(), "\r\n", command->back(), "\r\n");
      }
      if (commands == 0) continue;
      {
        std::lock_guard lock(mutex_);
        reads_.push_back(commands);
      }
      if (!held && answers[0] == '$') {
        held = true;
        absl::SleepFor(hold_);
      }
      send(connection, answers.data(), answers.size(), MSG_NOSIGNAL);
    }
    close(connection);
  }

  // Removes one whole RESP array of bulk strings from the front of `buffer`; nullopt while it is
  // still incomplete.
  static std::optional<std::vector<std::string>> TakeCommand(std::string& buffer) {
    size_t at = 0;
    const auto line = [&]() -> std::optional<int64_t> {
      const size_t end = buffer.find("\r\n", at);
      int64_t value = 0;
      if (end == std::string::npos ||
          !absl::SimpleAtoi(buffer.substr(at + 1, end - at - 1), &value)) {
        return std::nullopt;
      }
      at = end + 2;
      return value;
    };
    const std::optional<int64_t> count = line();
    if (!count) return std::nullopt;
    std::vector<std::string> command;
    for (int64_t i = 0; i < *count; ++i) {
      const std::optional<int64_t> size = line();
      if (!size || buffer.size() < at + static_cast<size_t>(*size) + 2) return std::nullopt;
      command.push_back(buffer.substr(at, static_cast<size_t>(*size)));
      at += static_cast<size_t>(*size) + 2;
    }
    buffer.erase(0, at);
    return command;
  }

  const absl::Duration hold_;
  int listener_ = -1;
  int port_ = 0;
  std::mutex mutex_;
  std::vector<size_t> reads_;
  std::jthread thread_;
};

TEST(RedisClientTest, CommandsOfConcurrentCallersShareOneWriteAndEachGetsItsOwnReply) {
  EchoRedis server(absl::Milliseconds(500));
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Create({.url = server.url(), .pool_size = 1});
  ASSERT_TRUE(client.ok()) << client.status();
  constexpr int kCallers = 20;
  std::vector<std::string> answers(kCallers);
  {
    std::vector<std::jthread> callers;
    for (int i = 0; i < kCallers; ++i) {
      callers.emplace_back([&, i] {
        absl::StatusOr<Reply> reply = (*client)->Command({"GET", absl::StrCat("key-", i)});
        answers[static_cast<size_t>(i)] = reply.ok() ? reply->str : reply.status().ToString();
      });
    }
  }
  for (int i = 0; i < kCallers; ++i)
    EXPECT_EQ(answers[static_cast<size_t>(i)], absl::StrCat("key-", i));
  // PING, the first GET alone, then the 19 that queued meanwhile: one write, or a few when a
  // caller came late. Without pipelining every GET would be a read of its own.
  const std::vector<size_t> reads = server.reads();
  EXPECT_LE(reads.size(), 5u);
  EXPECT_GE(*std::max_element(reads.begin(), reads.end()), 10u);
}

// One caller's batch is one write: one round trip, each command its own reply, in order.
TEST(RedisClientTest, ABatchIsOneWriteWithItsRepliesInOrder) {
  EchoRedis server(absl::ZeroDuration());
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Create({.url = server.url(), .pool_size = 1});
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<std::vector<std::string>> batch;
  for (int i = 0; i < 50; ++i) batch.push_back({"GET", absl::StrCat("key-", i)});
  const std::vector<absl::StatusOr<Reply>> replies = (*client)->Commands(batch);
  ASSERT_EQ(replies.size(), batch.size());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(replies[static_cast<size_t>(i)].ok()) << replies[static_cast<size_t>(i)].status();
    EXPECT_EQ(replies[static_cast<size_t>(i)]->str, absl::StrCat("key-", i));
  }
  // PING when the connection was dialled, then the batch in one read (or two, if the server read
  // before the whole write arrived).
  const std::vector<size_t> reads = server.reads();
  ASSERT_GE(reads.size(), 2u);
  EXPECT_EQ(reads[0], 1u);
  EXPECT_LE(reads.size(), 3u);
  EXPECT_TRUE((*client)->Commands({}).empty());
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
