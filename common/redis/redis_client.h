#pragma once
// A small synchronous Redis client over hiredis with a fixed pool of connections, for the short
// commands Klaxon's hot paths need (SET NX, GET, DEL, EVAL). Commands of concurrent callers are
// pipelined: while every connection is busy, callers queue their commands, and the next caller to
// find a connection free sends up to kMaxPipeline of the queued ones in one write and reads their
// replies in order, so a busy service pays one round trip for many commands (a lone caller still
// pays one for its own). A broken connection is dropped and re-dialled on next use; every
// connection authenticates (AUTH with an ACL user and password) before its first command. Every
// failure reaching a Command() caller, error replies included, is kUnavailable, so it is retryable.
// A script is sent by its SHA1 (EVALSHA) once the client has sent its text: callers write
// {"EVAL", script, ...}; the text crosses the wire on the client's first use of the script (an
// EVAL, which loads it into Redis) and when Redis no longer holds it (after a restart or SCRIPT
// FLUSH: the NOSCRIPT reply ran nothing, and the same command goes again as EVAL on the same
// connection). hiredis 0.14 speaks no TLS: production reaches Redis through a TLS sidecar on
// loopback (ADR 0011), so the URL names the sidecar.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config/config.h"

struct redisContext;

namespace klaxon::redis {

struct RedisOptions {
  std::string url = {};  // redis://host:port[/db], without credentials
  // AUTH on every connection when `password` is set: "AUTH username password" (a Redis 6 ACL
  // user), or "AUTH password" (requirepass) when `username` is empty.
  std::string username = {};
  std::string password = {};  // a secret: never logged
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

// Reads KLAXON_REDIS_URL (required), KLAXON_REDIS_USERNAME and KLAXON_REDIS_PASSWORD (or
// KLAXON_REDIS_PASSWORD_FILE) into `defaults`, recording every problem in `reader`.
// Credentials belong in those settings, never in the URL, which is not treated as a secret.
RedisOptions ReadRedisOptions(config::Reader& reader, RedisOptions defaults = {});

class RedisClient {
 public:
  // Dials one connection to prove the server answers and accepts the credentials; the rest are
  // dialled on demand. kPermissionDenied when Redis refuses the credentials or wants some,
  // kUnavailable when it cannot be reached; both messages name the link and the settings.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Create(const RedisOptions& options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Most commands one write carries.
  static constexpr size_t kMaxPipeline = 128;

  // Runs one command, e.g. {"SET", key, value, "NX", "EX", "86400"}. Blocks while every pooled
  // connection is busy, until its command was sent in a pipeline and answered.
  absl::StatusOr<Reply> Command(const std::vector<std::string>& argv);

  // Runs several commands as Command would, in pipelined writes of up to kMaxPipeline (usually
  // one round trip): one reply or error each, in the order given. Commands of other callers may
  // share the writes, and a batch another caller's write split may run on two connections at
  // once, so commands that depend on each other's effects belong in one script, not one batch.
  std::vector<absl::StatusOr<Reply>> Commands(const std::vector<std::vector<std::string>>& batch);

 private:
  // One command waiting in the queue, then its reply.
  struct Pending {
    const std::vector<std::string>* argv;
    // Its caller's: a reply came, or the caller's oldest command is first and a connection is free.
    std::condition_variable* wake;
    std::optional<absl::StatusOr<Reply>> reply = std::nullopt;  // guarded by mutex_
  };
  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  using Context = std::unique_ptr<redisContext, ContextDeleter>;

  RedisClient(RedisEndpoint endpoint, RedisOptions options);
  absl::StatusOr<Context> Dial() const;
  // Runs a command of the connection's setup (AUTH, SELECT); the error names it.
  absl::Status Setup(redisContext& context, const std::vector<std::string>& argv,
                     std::string_view what) const;
  std::string Where() const;
  // The lowercase hex SHA1 Redis names `script` by, once this client has sent its text (which
  // loads it into Redis); nullopt the first time, which remembers it for the next.
  std::optional<std::string> KnownScriptSha(const std::string& script) const;
  // `argv` as it goes on the wire: an EVAL of a script this client sent before as EVALSHA, its
  // SHA1 kept in `sha`.
  std::vector<std::string_view> WireArgs(const std::vector<std::string>& argv,
                                         std::string& sha) const;
  // Sends `batch` on `context` (dialled first when null) and reads every reply; returns the
  // connection, or null when it broke. Called without mutex_ held.
  Context Pipeline(Context context, const std::vector<Pending*>& batch,
                   std::vector<absl::StatusOr<Reply>>& replies) const;

  // Queues `pending` (one caller's commands, all woken through `wake`) and returns once each has
  // its reply, sending pipelines whenever the caller's oldest command is first in the queue.
  void Await(std::vector<Pending>& pending, std::condition_variable& wake);
  // With mutex_ held: wakes the oldest waiting caller when a connection is free for it.
  void WakeNextSender();

  const RedisEndpoint endpoint_;
  const RedisOptions options_;

  mutable std::mutex shas_mutex_;
  mutable absl::flat_hash_map<std::string, std::string> script_shas_;  // guarded by shas_mutex_

  std::mutex mutex_;
  std::vector<Context> idle_;   // null entries are slots whose connection must be re-dialled
  std::deque<Pending*> queue_;  // oldest first
};

}  // namespace klaxon::redis
