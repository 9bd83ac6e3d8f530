#pragma once
// A small synchronous Redis client over hiredis with a fixed pool of connections, for the short
// commands Klaxon's hot paths need (SET NX, GET, DEL, EVAL). A broken connection is dropped and
// re-dialled on next use. Every failure reaching the caller, error replies included, is
// kUnavailable, so it is retryable.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct redisContext;

namespace klaxon::redis {

struct RedisOptions {
  std::string url;  // redis://host:port[/db]
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration command_timeout = absl::Seconds(2);
  int pool_size = 8;
};

// The part of a Redis reply Klaxon uses. Errors from the server become a non-OK Status instead.
struct Reply {
  enum class Type { kNil, kString, kInteger, kStatus, kArray };
  Type type = Type::kNil;
  std::string str;                                   // kString and kStatus
  int64_t integer = 0;                               // kInteger
  std::vector<std::optional<std::string>> elements;  // kArray of bulk strings (nil → nullopt)
};

struct RedisEndpoint {
  std::string host;
  int port = 6379;
  int db = 0;
};

// Parses redis://host:port[/db]; kInvalidArgument says what is wrong without quoting the URL.
absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view url);

class RedisClient {
 public:
  // Dials one connection to prove the server answers; the rest are dialled on demand.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Create(const RedisOptions& options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command, e.g. {"SET", key, value, "NX", "EX", "86400"}. Blocks while every pooled
  // connection is busy.
  absl::StatusOr<Reply> Command(const std::vector<std::string>& argv);

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  using Context = std::unique_ptr<redisContext, ContextDeleter>;

  RedisClient(RedisEndpoint endpoint, RedisOptions options);
  absl::StatusOr<Context> Dial() const;
  Context Acquire();
  void Return(Context context);

  const RedisEndpoint endpoint_;
  const RedisOptions options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Context> idle_;  // null entries are slots whose connection must be re-dialled
};

}  // namespace klaxon::redis
