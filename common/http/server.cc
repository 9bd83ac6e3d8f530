#include "common/http/server.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "pistache/async.h"
#include "pistache/http.h"
#include "pistache/listener.h"
#include "pistache/peer.h"
#include "pistache/prototype.h"
#include "pistache/tcp.h"

namespace klaxon::http {
namespace {

constexpr std::string_view kEndOfHead = "\r\n\r\n";
constexpr char kStateKey[] = "klaxon.http.connection";
constexpr absl::Duration kSweepInterval = absl::Milliseconds(100);

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// What the server needs from a request's head before handing it to Pistache's parser: where the
// body ends and whether the client waits for "100 Continue".
struct HeadFacts {
  std::string method;
  std::string target;
  bool http10 = false;
  size_t content_length = 0;
  bool chunked = false;
  bool expect_continue = false;
  bool close = false;       // Connection: close
  bool keep_alive = false;  // Connection: keep-alive (matters for HTTP/1.0)
};

// nullopt when the head is malformed (Pistache's parser names the details; we only need these).
std::optional<HeadFacts> ReadHead(std::string_view head) {
  const size_t line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  const size_t first_space = request_line.find(' ');
  const size_t last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || last_space == first_space) return std::nullopt;
  HeadFacts facts{
      .method = std::string(request_line.substr(0, first_space)),
      .target = std::string(request_line.substr(first_space + 1, last_space - first_space - 1)),
      .http10 = request_line.substr(last_space + 1) == "HTTP/1.0"};
  if (facts.target.empty() || facts.target.front() != '/') return std::nullopt;
  bool has_length = false;
  size_t start = line_end + 2;
  while (start < head.size()) {
    const size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end - start);
    start = end + 2;
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Length")) {
      size_t length = 0;
      const auto [end_ptr, error] =
          std::from_chars(value.data(), value.data() + value.size(), length);
      if (error != std::errc() || end_ptr != value.data() + value.size() || value.empty()) {
        return std::nullopt;
      }
      if (has_length && length != facts.content_length) return std::nullopt;
      has_length = true;
      facts.content_length = length;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      facts.chunked = true;
    } else if (EqualsIgnoreCase(name, "Expect")) {
      facts.expect_continue = EqualsIgnoreCase(value, "100-continue");
    } else if (EqualsIgnoreCase(name, "Connection")) {
      facts.close = EqualsIgnoreCase(value, "close");
      facts.keep_alive = EqualsIgnoreCase(value, "keep-alive");
    }
  }
  return facts;
}

// `head` without its Expect header lines: the server answers "100 Continue" itself, and
// Pistache 0.0.5's Expect parser reads the value as a C string past its end (ASan sees it).
std::string WithoutExpect(std::string_view head) {
  std::string kept;
  kept.reserve(head.size());
  size_t start = 0;
  while (start < head.size()) {
    const size_t end = std::min(head.find("\r\n", start), head.size());
    const std::string_view line = head.substr(start, end - start);
    const size_t colon = line.find(':');
    if (start == 0 || colon == std::string_view::npos ||
        !EqualsIgnoreCase(line.substr(0, colon), "Expect")) {
      kept.append(head.substr(start, std::min(end + 2, head.size()) - start));
    }
    start = end + 2;
  }
  return kept;
}

}  // namespace

std::optional<std::string> Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string SerializeResponse(const Response& response, bool close) {
  std::string wire = absl::StrCat("HTTP/1.1 ", response.status, " ",
                                  std::string(ReasonPhrase(response.status)), "\r\n");
  if (!response.content_type.empty()) {
    absl::StrAppend(&wire, "Content-Type: ", response.content_type, "\r\n");
  }
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(&wire, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&wire, "Content-Length: ", response.body.size(), "\r\n");
  if (close) wire.append("Connection: close\r\n");
  wire.append("\r\n").append(response.body);
  return wire;
}

// One connection's progress through its current request. Touched by its reactor thread (input),
// by whichever thread answers (the Responder) and by the sweeper (timeouts), under `mutex`.
struct Connection {
  enum class Phase { kHead, kBody, kHandling, kClosed };

  Connection(std::weak_ptr<Pistache::Tcp::Peer> p, size_t max_request_bytes, absl::Time now)
      : peer(std::move(p)), parser(max_request_bytes), phase_since(now) {}

  std::mutex mutex;
  std::weak_ptr<Pistache::Tcp::Peer> peer;
  Pistache::Http::RequestParser parser;
  Phase phase = Phase::kHead;
  absl::Time phase_since;
  std::string head;  // the current request's bytes up to the end of its headers
  std::string body;
  HeadFacts facts;
  std::string pending;  // bytes of later requests, read while one is being handled
};

class Server::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}

  void Start() {
    const Pistache::Address address(options_.host, Pistache::Port(options_.port));
    listener_.init(options_.threads,
                   Pistache::Flags<Pistache::Tcp::Options>(Pistache::Tcp::Options::ReuseAddr),
                   "klaxon-http");
    listener_.setHandler(std::make_shared<TcpHandler>(this));
    listener_.bind(address);
    listener_.runThreaded();
    running_ = true;
    sweeper_ = std::jthread([this](std::stop_token stop) { Sweep(stop); });
  }

  uint16_t port() const { return static_cast<uint16_t>(listener_.getPort()); }

  void Shutdown() {
    if (!running_) return;
    running_ = false;
    sweeper_.request_stop();
    if (sweeper_.joinable()) sweeper_.join();
    // Responders still pending (on a pool) must find their connection closed rather than write
    // through a transport that is going away.
    {
      std::lock_guard lock(connections_mutex_);
      for (const auto& [peer, connection] : connections_) {
        Lock connection_lock(connection->mutex);
        connection->phase = Connection::Phase::kClosed;
      }
      connections_.clear();
    }
    listener_.shutdown();
  }

 private:
  // The Pistache TCP handler: one clone per reactor thread, all feeding this Impl.
  class TcpHandler final : public Pistache::Tcp::Handler {
   public:
    PROTOTYPE_OF(Pistache::Tcp::Handler, TcpHandler)

    explicit TcpHandler(Impl* server) : server_(server) {}

    void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
      server_->Open(peer);
    }
    void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
      server_->Close(peer);
    }
    void onInput(const char* buffer, size_t length,
                 const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
      server_->Input(peer, std::string_view(buffer, length));
    }

   private:
    Impl* server_;
  };

  using Lock = std::unique_lock<std::mutex>;

  void Open(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    auto connection = std::make_shared<Connection>(peer, options_.max_request_bytes, absl::Now());
    peer->putData(kStateKey, connection);
    std::lock_guard lock(connections_mutex_);
    connections_[peer.get()] = connection;
  }

  void Close(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(connections_mutex_);
      auto it = connections_.find(peer.get());
      if (it == connections_.end()) return;
      connection = std::move(it->second);
      connections_.erase(it);
    }
    Lock lock(connection->mutex);
    connection->phase = Connection::Phase::kClosed;
  }

  void Input(const std::shared_ptr<Pistache::Tcp::Peer>& peer, std::string_view bytes) {
    auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kStateKey));
    if (connection == nullptr) return;
    Lock lock(connection->mutex);
    connection->pending.append(bytes);
    Consume(connection, std::move(lock));
  }

  // Reads requests out of `pending` until it is empty or a request is being handled. Called with
  // the connection locked; unlocks it to call the handler.
  void Consume(const std::shared_ptr<Connection>& connection, Lock lock) {
    Connection& c = *connection;
    while (!c.pending.empty()) {
      if (c.phase == Connection::Phase::kHandling || c.phase == Connection::Phase::kClosed) return;
      if (c.phase == Connection::Phase::kHead) {
        if (c.head.empty()) c.phase_since = absl::Now();  // the clock starts at the first byte
        const size_t searched = c.head.size() >= 3 ? c.head.size() - 3 : 0;
        c.head.append(c.pending);
        c.pending.clear();
        const size_t end = c.head.find(kEndOfHead, searched);
        if (end == std::string::npos) {
          if (c.head.size() > options_.max_request_bytes) {
            return Fail(c, 413, "request headers too large\n");
          }
          return;
        }
        c.pending = c.head.substr(end + kEndOfHead.size());
        c.head.resize(end + kEndOfHead.size());
        std::optional<HeadFacts> facts = ReadHead(c.head);
        if (!facts) return Fail(c, 400, "malformed HTTP request\n");
        if (facts->chunked) return Fail(c, 411, "send the body with a Content-Length\n");
        if (c.head.size() + facts->content_length > options_.max_request_bytes) {
          return Fail(c, 413, "request too large\n");
        }
        c.facts = *std::move(facts);
        c.phase = Connection::Phase::kBody;
        c.phase_since = absl::Now();
        if (c.facts.expect_continue && c.facts.content_length > 0) {
          Send(c, "HTTP/1.1 100 Continue\r\n\r\n", false);
        }
      }
      if (c.phase == Connection::Phase::kBody) {
        const size_t wanted = c.facts.content_length - c.body.size();
        const size_t taken = std::min(wanted, c.pending.size());
        c.body.append(c.pending, 0, taken);
        c.pending.erase(0, taken);
        if (c.body.size() < c.facts.content_length) return;
        std::optional<Request> request = Parse(c);
        if (!request) return Fail(c, 400, "malformed HTTP request\n");
        c.phase = Connection::Phase::kHandling;
        lock.unlock();
        options_.handler(*std::move(request), MakeResponder(connection));
        lock.lock();
      }
    }
  }

  // Runs Pistache's parser over the complete request; nullopt when it refuses it.
  std::optional<Request> Parse(Connection& c) {
    c.parser.reset();
    const std::string head = WithoutExpect(c.head);
    try {
      if (!c.parser.feed(head.data(), head.size()) ||
          !c.parser.feed(c.body.data(), c.body.size()) ||
          c.parser.parse() != Pistache::Http::Private::State::Done) {
        return std::nullopt;
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
    const Pistache::Http::Request& parsed = c.parser.request;
    Request request{.method = c.facts.method, .target = c.facts.target, .body = c.body};
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    for (const auto& [name, raw] : parsed.headers().rawList()) {
      request.headers.emplace_back(raw.name(), raw.value());
    }
    if (auto peer = c.peer.lock()) request.peer_address = peer->address().host();
    c.parser.reset();
    return request;
  }

  Responder MakeResponder(std::shared_ptr<Connection> connection) {
    return [this, connection = std::move(connection)](Response response) {
      Lock lock(connection->mutex);
      Connection& c = *connection;
      if (c.phase != Connection::Phase::kHandling) return;  // closed meanwhile
      const bool close = c.facts.close || (c.facts.http10 && !c.facts.keep_alive);
      Send(c, SerializeResponse(response, close), close);
      if (close) {
        c.phase = Connection::Phase::kClosed;
        return;
      }
      c.phase = Connection::Phase::kHead;
      c.phase_since = absl::Now();
      c.head.clear();
      c.body.clear();
      c.facts = {};
      Consume(connection, std::move(lock));
    };
  }

  // Answers a request the server itself refuses and closes the connection.
  void Fail(Connection& c, int status, std::string body) {
    Send(c,
         SerializeResponse(
             {.status = status, .content_type = "text/plain", .body = std::move(body)}, true),
         true);
    c.phase = Connection::Phase::kClosed;
    c.pending.clear();
  }

  // Queues `bytes` on the connection's reactor (safe from any thread); with `close`, shuts the
  // socket down once they are written, which makes the reactor drop the connection.
  static void Send(Connection& c, std::string bytes, bool close) {
    std::shared_ptr<Pistache::Tcp::Peer> peer = c.peer.lock();
    if (peer == nullptr) return;
    const size_t size = bytes.size();
    auto written = peer->send(Pistache::RawBuffer(std::move(bytes), size));
    if (close) {
      written.then([peer](ssize_t) { ::shutdown(peer->fd(), SHUT_RDWR); },
                   [peer](std::exception_ptr) { ::shutdown(peer->fd(), SHUT_RDWR); });
    }
  }

  // Every kSweepInterval: a connection silent too long between requests is closed; one that
  // started a request and is too slow with its headers or body gets 408 and is closed.
  void Sweep(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(kSweepInterval));
      std::vector<std::shared_ptr<Connection>> connections;
      {
        std::lock_guard lock(connections_mutex_);
        for (const auto& [peer, connection] : connections_) connections.push_back(connection);
      }
      const absl::Time now = absl::Now();
      for (const std::shared_ptr<Connection>& connection : connections) {
        Lock lock(connection->mutex);
        Connection& c = *connection;
        const bool head_late =
            c.phase == Connection::Phase::kHead && now - c.phase_since > options_.header_timeout;
        const bool body_late =
            c.phase == Connection::Phase::kBody && now - c.phase_since > options_.body_timeout;
        if (head_late && c.head.empty()) {
          // Idle between requests: close without a word. Safe from this thread while the
          // connection is not kClosed: Pistache calls onDisconnection before closing the socket.
          if (auto peer = c.peer.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
          c.phase = Connection::Phase::kClosed;
        } else if (head_late || body_late) {
          Fail(c, 408, "request not received in time\n");
        }
      }
    }
  }

  const ServerOptions options_;
  Pistache::Tcp::Listener listener_;
  std::mutex connections_mutex_;
  std::unordered_map<Pistache::Tcp::Peer*, std::shared_ptr<Connection>> connections_;
  std::jthread sweeper_;
  bool running_ = false;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  if (!options.handler) return absl::InvalidArgumentError("ServerOptions.handler is required");
  if (options.threads < 1) return absl::InvalidArgumentError("ServerOptions.threads must be >= 1");
  const std::string where = absl::StrCat(options.host, ":", options.port);
  auto impl = std::make_unique<Impl>(std::move(options));
  try {
    impl->Start();
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat("cannot serve HTTP on ", where, ": ", error.what()));
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Shutdown(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Shutdown() { impl_->Shutdown(); }

}  // namespace klaxon::http
