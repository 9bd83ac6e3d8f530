#include "common/http/server.h"

#include <sys/socket.h>

#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pistache/async.h"
#include "pistache/listener.h"
#include "pistache/peer.h"
#include "pistache/prototype.h"
#include "pistache/tcp.h"

namespace klaxon::http {
namespace {

constexpr char kStateKey[] = "klaxon.http.connection";
constexpr absl::Duration kSweepInterval = absl::Milliseconds(100);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

Response Refusal(int status, std::string_view reason) {
  Response response{
      .status = status, .content_type = "text/plain", .body = std::string(reason) + "\n"};
  if (status == 503) response.headers.emplace_back("Retry-After", "1");
  return response;
}

}  // namespace

// One connection's progress. Touched by its reactor thread (input, finished writes), by whichever
// thread answers (the Responder) and by the sweeper (deadlines), under `mutex`.
struct Connection {
  enum class State {
    kReading,     // framing the next request
    kHandling,    // the handler has a request; waiting for its Responder
    kWriting,     // an answer is being written; reading resumes when it is
    kClosing,     // a last answer is being written; the socket is shut down when it is
    kDiscarding,  // a head screen refused the request and its answer is written: whatever the
                  // client still sends is read and dropped until it closes or the body's
                  // deadline passes
    kClosed,      // disconnected or shut down
  };

  Connection(std::weak_ptr<Pistache::Tcp::Peer> p, std::string address, FramingLimits limits,
             absl::Time now)
      : peer(std::move(p)), source(std::move(address)), framer(limits), cycle_started(now) {}

  std::mutex mutex;
  const std::weak_ptr<Pistache::Tcp::Peer> peer;
  const std::string source;  // the peer's address, without port
  RequestFramer framer;
  State state = State::kReading;
  // Deadlines: idle from cycle_started (opening or last answer written) until a request's first
  // byte, then header_timeout from head_started, then body_timeout from body_started.
  absl::Time cycle_started;
  std::optional<absl::Time> head_started;
  std::optional<absl::Time> body_started;
  absl::Time write_started;
  bool close_after_answer = false;  // asked for by the client, or it pipelined too far ahead
  bool overflowed = false;          // input past the framer's capacity is dropped
  bool aborted = false;             // reset after it was closed (see Abort)
  // Drive() runs one loop per connection at a time; a call that finds it running leaves `rerun`.
  bool driving = false;
  bool rerun = false;
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

  size_t connections() {
    std::lock_guard lock(connections_mutex_);
    return connections_.size();
  }

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
        connection->state = Connection::State::kClosed;
      }
      connections_.clear();
      per_source_.clear();
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
  using State = Connection::State;

  void Open(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    std::string source = peer->address().host();
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(connections_mutex_);
      auto counted = per_source_.find(source);
      const size_t from_source = counted == per_source_.end() ? 0 : counted->second;
      const bool uncapped = options_.uncapped_source && options_.uncapped_source(source);
      if (connections_.size() < options_.max_connections &&
          (uncapped || from_source < options_.max_connections_per_source)) {
        connection = std::make_shared<Connection>(peer, source, options_.limits, absl::Now());
        connections_[peer.get()] = connection;
        ++per_source_[source];
      }
    }
    if (connection == nullptr) {
      Observe(503, "too many connections");
      WriteAndShutDown(peer, SerializeResponse(Refusal(503, "too many connections"), true));
      return;
    }
    peer->putData(kStateKey, connection);
  }

  void Close(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(connections_mutex_);
      auto it = connections_.find(peer.get());
      if (it == connections_.end()) return;
      connection = std::move(it->second);
      connections_.erase(it);
      if (auto counted = per_source_.find(connection->source);
          counted != per_source_.end() && --counted->second == 0) {
        per_source_.erase(counted);
      }
    }
    Lock lock(connection->mutex);
    connection->state = State::kClosed;
  }

  void Input(const std::shared_ptr<Pistache::Tcp::Peer>& peer, std::string_view bytes) {
    auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kStateKey));
    if (connection == nullptr) return;
    Connection& c = *connection;
    while (!bytes.empty()) {
      {
        Lock lock(c.mutex);
        // Linux keeps delivering what a client sends after shutdown(SHUT_RD), so a client that
        // streams on (an endless body) would never see the connection end: reset it.
        if (c.state == State::kClosed) return Abort(c);
        if (c.state == State::kDiscarding) return;  // dropped
        if (c.state == State::kClosing || c.overflowed) return;
        const size_t taken = c.framer.Append(bytes);
        bytes.remove_prefix(taken);
        Track(c, absl::Now());
        if (taken == 0) {
          // A whole request at the limits is held and the client sends more: it pipelines further
          // ahead than a Twilio client ever does. Its current request is answered, then the
          // connection closes; nothing more is kept.
          c.overflowed = true;
          c.close_after_answer = true;
          if (c.state != State::kReading) return;
          // Nothing is being answered, so nothing would ever free the room (the framer refuses a
          // head or body over its limits before it fills): refuse rather than stall.
          RefuseWhileReading(c, 413, "request too large");
          return;
        }
      }
      Drive(connection);
    }
  }

  // Frames and dispatches requests while the connection is reading. Iterative: a Responder that
  // answers at once, and the write it starts finishing at once, only leave `rerun` for this loop.
  void Drive(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    Lock lock(c.mutex);
    if (c.driving) {
      c.rerun = true;
      return;
    }
    c.driving = true;
    do {
      c.rerun = false;
      while (c.state == State::kReading) {
        FrameEvent event = c.framer.Next();
        Track(c, absl::Now());
        if (event.kind == FrameEvent::Kind::kNeedMore) break;
        if (event.kind == FrameEvent::Kind::kHead) {
          lock.unlock();
          std::optional<Response> refusal;
          if (options_.screen_head) refusal = options_.screen_head(event.request);
          if (!refusal && event.expect_continue) {
            Write(connection, std::string(kContinue), /*close=*/false, /*resume=*/false);
          }
          lock.lock();
          if (refusal && c.state == State::kReading) RefuseHead(c, *refusal);
          continue;
        }
        if (event.kind == FrameEvent::Kind::kRefused) {
          RefuseWhileReading(c, event.status, event.reason);
          break;
        }
        c.state = State::kHandling;
        c.close_after_answer = c.close_after_answer || event.close;
        c.head_started.reset();
        c.body_started.reset();
        event.request.peer_address = c.source;
        const bool head = event.request.method == "HEAD";
        lock.unlock();
        options_.handler(std::move(event.request), MakeResponder(connection, head));
        lock.lock();
      }
    } while (c.rerun);
    c.driving = false;
  }

  // Starts the head and body clocks as the framer reaches each phase. Called with c locked.
  static void Track(Connection& c, absl::Time now) {
    if (c.state != State::kReading) return;
    const RequestFramer::Phase phase = c.framer.phase();
    if (phase != RequestFramer::Phase::kIdle && !c.head_started) c.head_started = now;
    if (phase == RequestFramer::Phase::kBody && !c.body_started) c.body_started = now;
  }

  // `head`: the answer is to a HEAD request, so it goes without its body (RFC 9110, 9.3.2): a
  // body after it would be read as the start of the next answer on the connection.
  Responder MakeResponder(std::shared_ptr<Connection> connection, bool head) {
    return [this, connection = std::move(connection), head](Response response) {
      Connection& c = *connection;
      bool close = false;
      {
        Lock lock(c.mutex);
        if (c.state != State::kHandling) return;  // closed meanwhile
        close = c.close_after_answer;
        c.state = close ? State::kClosing : State::kWriting;
        c.write_started = absl::Now();
      }
      std::string wire = SerializeResponse(response, close);
      if (head) wire.resize(wire.size() - response.body.size());  // Content-Length stays
      Write(connection, std::move(wire), close, /*resume=*/!close);
    };
  }

  // Answers a request too slow in coming (the sweeper's 408); the connection closes once the
  // answer is written.
  void Refuse(const std::shared_ptr<Connection>& connection, int status, std::string_view reason) {
    Observe(status, reason);
    Write(connection, SerializeResponse(Refusal(status, reason), true), /*close=*/true,
          /*resume=*/false);
  }

  // Answers a request refused while its bytes are read, then shuts the socket down. Called on the
  // connection's reactor thread with c locked, from inside Pistache's read loop, which runs queued
  // writes only once a read finds nothing: behind a client streaming an endless body a queued
  // answer would wait for ever. So the answer goes straight to the socket (SendNow).
  void RefuseWhileReading(Connection& c, int status, std::string_view reason) {
    Observe(status, reason);
    if (c.state == State::kClosed) return;
    const bool sent = SendNow(c, Refusal(status, reason));
    ShutDownLocked(c);
    if (!sent) Abort(c);
  }

  // Answers a request a head screen refused as RefuseWhileReading does, but then reads and drops
  // whatever the client still sends (its body, a CRLF, a next request) until it closes or
  // body_timeout passes: a reset while the client still sends could destroy the answer before
  // the client reads it.
  static void RefuseHead(Connection& c, const Response& response) {
    if (c.state == State::kClosed) return;
    if (!SendNow(c, response)) {
      ShutDownLocked(c);
      return Abort(c);
    }
    if (auto peer = c.peer.lock()) ::shutdown(peer->fd(), SHUT_WR);
    c.state = State::kDiscarding;
    c.body_started = absl::Now();
  }

  // Writes a final answer straight to the socket, with c locked; whether all of it went. A socket
  // whose buffer cannot take a few hundred bytes belongs to a client that does not read, and is
  // reset by the caller.
  static bool SendNow(Connection& c, const Response& response) {
    std::shared_ptr<Pistache::Tcp::Peer> peer = c.peer.lock();
    if (peer == nullptr) return false;
    const std::string answer = SerializeResponse(response, /*close=*/true);
    return ::send(peer->fd(), answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
           static_cast<ssize_t>(answer.size());
  }

  void Observe(int status, std::string_view reason) const {
    if (options_.on_refused) options_.on_refused(status, reason);
  }

  // Queues `bytes` on the connection's reactor. Called without c's lock: a write that finishes
  // at once runs its continuation on this thread. Once written: with `close` the socket is shut
  // down (which makes the reactor drop the connection); with `resume` reading resumes.
  void Write(const std::shared_ptr<Connection>& connection, std::string bytes, bool close,
             bool resume) {
    std::shared_ptr<Pistache::Tcp::Peer> peer = connection->peer.lock();
    if (peer == nullptr) return;
    const size_t size = bytes.size();
    std::weak_ptr<Connection> weak = connection;
    peer->send(Pistache::RawBuffer(std::move(bytes), size))
        .then(
            [this, weak, close, resume](ssize_t) {
              std::shared_ptr<Connection> written = weak.lock();
              if (written == nullptr) return;
              if (close) return ShutDown(*written);
              if (resume) Written(written);
            },
            [weak](std::exception_ptr) {
              if (std::shared_ptr<Connection> failed = weak.lock()) ShutDown(*failed);
            });
  }

  // For a connection that was never registered (refused at the door).
  static void WriteAndShutDown(const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                               std::string bytes) {
    const size_t size = bytes.size();
    peer->send(Pistache::RawBuffer(std::move(bytes), size))
        .then([peer](ssize_t) { ::shutdown(peer->fd(), SHUT_RDWR); },
              [peer](std::exception_ptr) { ::shutdown(peer->fd(), SHUT_RDWR); });
  }

  // Shuts the socket down unless the connection is already closed: Pistache calls
  // onDisconnection (which marks it closed) before it closes the descriptor, so a descriptor
  // seen open here is still this connection's.
  static void ShutDown(Connection& c) {
    Lock lock(c.mutex);
    ShutDownLocked(c);
  }
  static void ShutDownLocked(Connection& c) {
    if (c.state == State::kClosed) return;
    if (auto peer = c.peer.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
    c.state = State::kClosed;
  }

  // Resets the connection (RST) without closing the descriptor, which Pistache owns: connect()
  // to AF_UNSPEC disconnects a TCP socket, and the reactor then sees it end. Called with c
  // locked and c.state kClosed, after ShutDown: Pistache has not closed the descriptor while
  // the connection is registered.
  static void Abort(Connection& c) {
    if (c.aborted) return;
    c.aborted = true;
    if (auto peer = c.peer.lock()) {
      sockaddr unspecified{};
      unspecified.sa_family = AF_UNSPEC;
      ::connect(peer->fd(), &unspecified, sizeof(unspecified));
    }
  }

  // An answer was written: the next pipelined request, if any, may go.
  void Written(const std::shared_ptr<Connection>& connection) {
    {
      Connection& c = *connection;
      Lock lock(c.mutex);
      if (c.state != State::kWriting) return;
      c.state = State::kReading;
      c.cycle_started = absl::Now();
      Track(c, c.cycle_started);
    }
    Drive(connection);
  }

  // Every kSweepInterval, enforces each connection's deadline for the phase it is in.
  void Sweep(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(kSweepInterval));
      std::vector<std::shared_ptr<Connection>> connections;
      {
        std::lock_guard lock(connections_mutex_);
        connections.reserve(connections_.size());
        for (const auto& [peer, connection] : connections_) connections.push_back(connection);
      }
      const absl::Time now = absl::Now();
      std::vector<std::shared_ptr<Connection>> too_slow;
      for (const std::shared_ptr<Connection>& connection : connections) {
        Connection& c = *connection;
        Lock lock(c.mutex);
        switch (c.state) {
          case State::kReading:
            if ((c.body_started && now - *c.body_started > options_.body_timeout) ||
                (!c.body_started && c.head_started &&
                 now - *c.head_started > options_.header_timeout)) {
              c.state = State::kClosing;
              c.write_started = now;
              too_slow.push_back(connection);
            } else if (!c.head_started && now - c.cycle_started > options_.idle_timeout) {
              // Idle between requests: close without a word.
              if (auto peer = c.peer.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
              c.state = State::kClosed;
            }
            break;
          case State::kWriting:
          case State::kClosing:
            // The client does not read what it asked for.
            if (now - c.write_started > options_.write_timeout) {
              if (auto peer = c.peer.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
              c.state = State::kClosed;
            }
            break;
          case State::kDiscarding:
            if (now - *c.body_started > options_.body_timeout) ShutDownLocked(c);
            break;
          case State::kHandling:  // bounded by the handler's own deadlines
          case State::kClosed:
            break;
        }
      }
      for (const std::shared_ptr<Connection>& connection : too_slow) {
        Refuse(connection, 408, "request not received in time");
      }
    }
  }

  const ServerOptions options_;
  Pistache::Tcp::Listener listener_;
  std::mutex connections_mutex_;
  std::unordered_map<Pistache::Tcp::Peer*, std::shared_ptr<Connection>> connections_;
  std::unordered_map<std::string, size_t> per_source_;  // open connections by source address
  std::jthread sweeper_;
  bool running_ = false;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  if (!options.handler) return absl::InvalidArgumentError("ServerOptions.handler is required");
  if (options.threads < 1) return absl::InvalidArgumentError("ServerOptions.threads must be >= 1");
  if (options.max_connections < 1 || options.max_connections_per_source < 1) {
    return absl::InvalidArgumentError("ServerOptions connection caps must be >= 1");
  }
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
size_t Server::connections() const { return impl_->connections(); }
void Server::Shutdown() { impl_->Shutdown(); }

}  // namespace klaxon::http
