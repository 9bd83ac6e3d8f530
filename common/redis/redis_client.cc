#include "common/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <sys/time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace klaxon::redis {
namespace {

absl::StatusOr<Reply> Convert(const redisReply& raw) {
  Reply reply;
  switch (raw.type) {
    case REDIS_REPLY_NIL:
      reply.type = Reply::Type::kNil;
      return reply;
    case REDIS_REPLY_STRING:
      reply.type = Reply::Type::kString;
      reply.str.assign(raw.str, raw.len);
      return reply;
    case REDIS_REPLY_STATUS:
      reply.type = Reply::Type::kStatus;
      reply.str.assign(raw.str, raw.len);
      return reply;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::kInteger;
      reply.integer = raw.integer;
      return reply;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::kArray;
      for (size_t i = 0; i < raw.elements; ++i) {
        const redisReply* element = raw.element[i];
        if (element->type == REDIS_REPLY_NIL) {
          reply.elements.emplace_back(std::nullopt);
        } else {
          reply.elements.emplace_back(std::string(element->str, element->len));
        }
      }
      return reply;
    case REDIS_REPLY_ERROR:
      // Failover (READONLY), loading, OOM and busy scripts all answer with an error reply; all
      // of them may pass, and a worker that skipped the message would lose an alert. So every
      // error reply is retryable; one that persists shows up as consumer lag, not as loss.
      return absl::UnavailableError(
          absl::StrCat("redis replied with an error: ", absl::string_view(raw.str, raw.len)));
    default:
      return absl::InternalError(absl::StrCat("unexpected redis reply type ", raw.type));
  }
}

// Redis's answer to an EVALSHA of a script it does not hold; nothing ran.
bool IsNoScript(const redisReply& raw) {
  return raw.type == REDIS_REPLY_ERROR &&
         absl::StartsWith(absl::string_view(raw.str, raw.len), "NOSCRIPT");
}

bool IsEval(const std::vector<std::string>& argv) { return argv.size() >= 2 && argv[0] == "EVAL"; }

}  // namespace

absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view text) {
  // Messages never quote the URL: a mistyped one may hold a password.
  absl::string_view rest(text.data(), text.size());
  if (!absl::ConsumePrefix(&rest, "redis://")) {
    return absl::InvalidArgumentError("the Redis URL does not start with redis://");
  }
  if (rest.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "the Redis URL has user information; put the credentials in KLAXON_REDIS_USERNAME and "
        "KLAXON_REDIS_PASSWORD (or KLAXON_REDIS_PASSWORD_FILE) instead");
  }
  RedisEndpoint endpoint;
  if (const size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    if (!absl::SimpleAtoi(rest.substr(slash + 1), &endpoint.db) || endpoint.db < 0) {
      return absl::InvalidArgumentError("the Redis URL has a bad database number");
    }
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    endpoint.host = std::string(rest);
  } else {
    endpoint.host = std::string(rest.substr(0, colon));
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &endpoint.port) || endpoint.port <= 0 ||
        endpoint.port > 65535) {
      return absl::InvalidArgumentError("the Redis URL has a bad port");
    }
  }
  if (endpoint.host.empty()) return absl::InvalidArgumentError("the Redis URL has no host");
  return endpoint;
}

RedisOptions ReadRedisOptions(config::Reader& reader, RedisOptions defaults) {
  RedisOptions options = std::move(defaults);
  options.url = reader.Required("KLAXON_REDIS_URL");
  if (!options.url.empty()) {
    if (absl::Status parsed = ParseRedisUrl(options.url).status(); !parsed.ok()) {
      reader.AddError("KLAXON_REDIS_URL", std::string(parsed.message()));
    }
  }
  options.username = reader.Optional("KLAXON_REDIS_USERNAME", "");
  options.password = reader.OptionalSecret("KLAXON_REDIS_PASSWORD");
  if (!options.username.empty() && options.password.empty()) {
    reader.AddError("KLAXON_REDIS_PASSWORD",
                    "is required with KLAXON_REDIS_USERNAME (or set KLAXON_REDIS_PASSWORD_FILE)");
  }
  return options;
}

void RedisClient::ContextDeleter::operator()(redisContext* context) const { redisFree(context); }

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(const RedisOptions& options) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(options.url);
  if (!endpoint.ok()) return endpoint.status();
  if (options.pool_size < 1) return absl::InvalidArgumentError("redis pool_size must be >= 1");
  std::unique_ptr<RedisClient> client(new RedisClient(*std::move(endpoint), options));
  // Dialled here rather than through Command(), which reports every failure as kUnavailable:
  // refused credentials at start are a configuration error to report as such.
  absl::StatusOr<Context> first = client->Dial();
  if (!first.ok()) return first.status();
  if (absl::Status pong = client->Setup(**first, {"PING"}, "PING"); !pong.ok()) return pong;
  client->idle_.back() = *std::move(first);
  return client;
}

std::string RedisClient::Where() const {
  return absl::StrCat("redis at ", endpoint_.host, ":", endpoint_.port);
}

absl::Status RedisClient::Setup(redisContext& context, const std::vector<std::string>& argv,
                                std::string_view what) const {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const std::string& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(&context, static_cast<int>(args.size()), args.data(), lengths.data()));
  if (raw == nullptr) {
    return absl::UnavailableError(
        absl::StrCat(Where(), " failed during ", std::string(what), ": ", context.errstr));
  }
  const std::string error =
      raw->type == REDIS_REPLY_ERROR ? std::string(raw->str, raw->len) : std::string();
  freeReplyObject(raw);
  if (error.empty()) return absl::OkStatus();
  // Redis's replies name no secret ("WRONGPASS invalid username-password pair ...").
  if (absl::StartsWith(error, "WRONGPASS") || absl::StartsWith(error, "ERR AUTH") ||
      absl::StartsWith(error, "ERR invalid password")) {
    return absl::PermissionDeniedError(absl::StrCat(
        "redis: AUTH as user \"", options_.username.empty() ? "default" : options_.username,
        "\" refused at ", endpoint_.host, ":", endpoint_.port,
        ": check KLAXON_REDIS_USERNAME and KLAXON_REDIS_PASSWORD (", error, ")"));
  }
  if (absl::StartsWith(error, "NOAUTH")) {
    return absl::PermissionDeniedError(absl::StrCat(
        "redis at ", endpoint_.host, ":", endpoint_.port,
        " requires authentication: set KLAXON_REDIS_USERNAME and KLAXON_REDIS_PASSWORD (", error,
        ")"));
  }
  return absl::UnavailableError(absl::StrCat(Where(), ": ", std::string(what), " failed: ", error));
}

RedisClient::RedisClient(RedisEndpoint endpoint, RedisOptions options)
    : endpoint_(std::move(endpoint)), options_(std::move(options)) {
  idle_.resize(static_cast<size_t>(options_.pool_size));
}

RedisClient::~RedisClient() = default;

absl::StatusOr<RedisClient::Context> RedisClient::Dial() const {
  Context context(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                          absl::ToTimeval(options_.connect_timeout)));
  const std::string where = Where();
  if (context == nullptr) return absl::UnavailableError(absl::StrCat(where, ": out of memory"));
  if (context->err != 0) {
    return absl::UnavailableError(absl::StrCat(where, " is unreachable: ", context->errstr));
  }
  if (redisSetTimeout(context.get(), absl::ToTimeval(options_.command_timeout)) != REDIS_OK) {
    return absl::UnavailableError(absl::StrCat(where, ": cannot set the command timeout"));
  }
  if (!options_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options_.username.empty()) auth.push_back(options_.username);
    auth.push_back(options_.password);
    if (absl::Status status = Setup(*context, auth, "AUTH"); !status.ok()) return status;
  }
  if (endpoint_.db != 0) {
    const std::string db = std::to_string(endpoint_.db);
    if (absl::Status status = Setup(*context, {"SELECT", db}, "SELECT " + db); !status.ok()) {
      return status;
    }
  }
  return context;
}

absl::StatusOr<Reply> RedisClient::Command(const std::vector<std::string>& argv) {
  std::condition_variable wake;
  std::vector<Pending> pending = {{.argv = &argv, .wake = &wake}};
  Await(pending, wake);
  return *std::move(pending.front().reply);
}

std::vector<absl::StatusOr<Reply>> RedisClient::Commands(
    const std::vector<std::vector<std::string>>& batch) {
  std::condition_variable wake;
  std::vector<Pending> pending;
  pending.reserve(batch.size());
  for (const std::vector<std::string>& argv : batch) {
    pending.push_back({.argv = &argv, .wake = &wake});
  }
  Await(pending, wake);
  std::vector<absl::StatusOr<Reply>> replies;
  replies.reserve(pending.size());
  for (Pending& command : pending) replies.push_back(*std::move(command.reply));
  return replies;
}

void RedisClient::Await(std::vector<Pending>& pending, std::condition_variable& wake) {
  std::unique_lock lock(mutex_);
  for (Pending& command : pending) queue_.push_back(&command);
  const auto answered = [&pending] {
    return std::all_of(pending.begin(), pending.end(),
                       [](const Pending& command) { return command.reply.has_value(); });
  };
  while (!answered()) {
    // Only the caller of the oldest command sends, so each wake-up goes to one caller, not to all.
    if (idle_.empty() || queue_.empty() || queue_.front()->wake != &wake) {
      wake.wait(lock);
      continue;
    }
    Context context = std::move(idle_.back());
    idle_.pop_back();
    std::vector<Pending*> sent;
    while (!queue_.empty() && sent.size() < kMaxPipeline) {
      sent.push_back(queue_.front());
      queue_.pop_front();
    }
    WakeNextSender();  // more waits than one write takes, and another connection is free
    lock.unlock();
    std::vector<absl::StatusOr<Reply>> replies;
    context = Pipeline(std::move(context), sent, replies);
    lock.lock();
    for (size_t i = 0; i < sent.size(); ++i) {
      sent[i]->reply = std::move(replies[i]);
      if (sent[i]->wake != &wake) sent[i]->wake->notify_one();
    }
    idle_.push_back(std::move(context));
    WakeNextSender();
  }
}

void RedisClient::WakeNextSender() {
  if (!idle_.empty() && !queue_.empty()) queue_.front()->wake->notify_one();
}

std::optional<std::string> RedisClient::KnownScriptSha(const std::string& script) const {
  {
    std::lock_guard lock(shas_mutex_);
    if (const auto known = script_shas_.find(script); known != script_shas_.end()) {
      return known->second;
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // Should hashing ever fail, the script goes as EVAL each time: slower, never wrong.
  if (EVP_Digest(script.data(), script.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    return std::nullopt;
  }
  std::string hex =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
  std::lock_guard lock(shas_mutex_);
  script_shas_.try_emplace(script, std::move(hex));
  return std::nullopt;  // this use sends the text, which loads it
}

std::vector<std::string_view> RedisClient::WireArgs(const std::vector<std::string>& argv,
                                                    std::string& sha) const {
  std::vector<std::string_view> wire(argv.begin(), argv.end());
  if (!IsEval(argv)) return wire;
  if (std::optional<std::string> known = KnownScriptSha(argv[1])) {
    sha = *std::move(known);
    wire[0] = "EVALSHA";
    wire[1] = sha;
  }
  return wire;
}

RedisClient::Context RedisClient::Pipeline(Context context, const std::vector<Pending*>& batch,
                                           std::vector<absl::StatusOr<Reply>>& replies) const {
  // Every command not answered yet gets `status`.
  const auto fail_rest = [&](const absl::Status& status) {
    while (replies.size() < batch.size()) replies.emplace_back(status);
    return Context();
  };
  if (context == nullptr) {
    absl::StatusOr<Context> dialled = Dial();
    // Even refused credentials may be a moment of a rotation; the caller retries (see above).
    if (!dialled.ok()) return fail_rest(absl::UnavailableError(dialled.status().message()));
    context = *std::move(dialled);
  }
  // The connection is in an undefined state after an I/O error: it is dropped (re-dialled next
  // time), and every command not answered yet fails as the first unanswered one did.
  const auto broken = [&] {
    return fail_rest(absl::UnavailableError(absl::StrCat(
        Where(), " failed during ", batch[replies.size()]->argv->front(), ": ", context->errstr)));
  };
  const auto append = [&](const std::vector<std::string_view>& argv) {
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    args.reserve(argv.size());
    lengths.reserve(argv.size());
    for (const std::string_view arg : argv) {
      args.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    return redisAppendCommandArgv(context.get(), static_cast<int>(args.size()), args.data(),
                                  lengths.data()) == REDIS_OK;
  };
  std::vector<std::string> shas(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!append(WireArgs(*batch[i]->argv, shas[i]))) return broken();
  }
  // The scripts sent by SHA1 that Redis did not hold go again as EVAL, after the batch, on this
  // connection.
  std::vector<size_t> unloaded;
  for (size_t i = 0; i < batch.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context.get(), &raw) != REDIS_OK || raw == nullptr) return broken();
    if (!shas[i].empty() && IsNoScript(*static_cast<redisReply*>(raw))) unloaded.push_back(i);
    replies.push_back(Convert(*static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  // A break while resending fails each resent command not answered yet, naming when it broke.
  const auto broken_resending = [&](size_t from, const char* when) {
    for (size_t j = from; j < unloaded.size(); ++j) {
      replies[unloaded[j]] = absl::UnavailableError(
          absl::StrCat(Where(), " failed ", when, " a script resent as EVAL: ", context->errstr));
    }
    return Context();
  };
  for (size_t resent = 0; resent < unloaded.size(); ++resent) {
    const std::vector<std::string>& argv = *batch[unloaded[resent]]->argv;
    if (!append(std::vector<std::string_view>(argv.begin(), argv.end()))) {
      return broken_resending(resent, "sending");
    }
  }
  for (size_t resent = 0; resent < unloaded.size(); ++resent) {
    void* raw = nullptr;
    if (redisGetReply(context.get(), &raw) != REDIS_OK || raw == nullptr) {
      return broken_resending(resent, "reading the answer to");
    }
    replies[unloaded[resent]] = Convert(*static_cast<redisReply*>(raw));
    freeReplyObject(raw);
  }
  return context;
}

}  // namespace klaxon::redis
