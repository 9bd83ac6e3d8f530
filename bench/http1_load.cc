#include "bench/http1_load.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bench/http1_response.h"

namespace klaxon::bench {
namespace {

// "ECONNRESET" rather than a sentence: error labels are counted, so they must be few and stable.
std::string ErrnoLabel(absl::string_view what, int error) {
  const char* name = strerrorname_np(error);
  return absl::StrCat(what, ": ", name != nullptr ? name : absl::StrCat("errno ", error));
}

uint64_t EventData(std::size_t slot, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(slot);
}

timespec ToTimespec(std::chrono::nanoseconds wait) {
  wait = std::max(wait, std::chrono::nanoseconds::zero());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait);
  return timespec{.tv_sec = static_cast<time_t>(seconds.count()),
                  .tv_nsec = static_cast<long>((wait - seconds).count())};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Http1LoadClient>> Http1LoadClient::Connect(
    const Http1LoadOptions& options) {
  if (options.connections < 1) {
    return absl::InvalidArgumentError("connections must be at least 1");
  }
  if (options.timeout <= std::chrono::nanoseconds::zero() ||
      options.connect_timeout <= std::chrono::nanoseconds::zero()) {
    return absl::InvalidArgumentError("timeouts must be positive");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (const int error = getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found);
      error != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", options.host, ": ", gai_strerror(error)));
  }
  sockaddr_storage address{};
  const socklen_t address_size = found->ai_addrlen;
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);

  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return absl::InternalError(ErrnoLabel("epoll_create1", errno));
  std::unique_ptr<Http1LoadClient> client(
      new Http1LoadClient(options, epoll_fd, address, address_size));
  for (std::size_t slot = 0; slot < client->connections_.size(); ++slot) {
    if (absl::Status opened = client->Open(slot); !opened.ok()) {
      return absl::UnavailableError(absl::StrCat("cannot connect to ", options.host, ":",
                                                 options.port, ": ", opened.message()));
    }
    client->idle_.push_back(slot);
  }
  return client;
}

Http1LoadClient::Http1LoadClient(const Http1LoadOptions& options, int epoll_fd,
                                 const sockaddr_storage& address, socklen_t address_size)
    : options_(options),
      epoll_fd_(epoll_fd),
      address_(address),
      address_size_(address_size),
      connections_(static_cast<std::size_t>(options.connections)) {}

Http1LoadClient::~Http1LoadClient() {
  for (std::size_t slot = 0; slot < connections_.size(); ++slot) Close(slot);
  close(epoll_fd_);
}

absl::Status Http1LoadClient::Open(std::size_t slot) {
  const int fd = socket(address_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(ErrnoLabel("socket", errno));
  auto fail = [fd](absl::string_view what, int error) {
    close(fd);
    return absl::UnavailableError(ErrnoLabel(what, error));
  };
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address_), address_size_) != 0) {
    if (errno != EINPROGRESS) return fail("connect", errno);
    pollfd connecting{.fd = fd, .events = POLLOUT, .revents = 0};
    const auto wait_ms =
        std::chrono::ceil<std::chrono::milliseconds>(options_.connect_timeout).count();
    const int ready = poll(&connecting, 1, static_cast<int>(wait_ms));
    if (ready < 0) return fail("poll", errno);
    if (ready == 0) return fail("connect", ETIMEDOUT);
    int error = 0;
    socklen_t size = sizeof(error);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return fail("connect", errno);
    if (error != 0) return fail("connect", error);
  }
  // Requests are written whole; Nagle would hold the next one back for the previous ACK.
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return fail("setsockopt", errno);
  }
  Connection& connection = connections_[slot];
  ++connection.generation;
  epoll_event event{.events = EPOLLIN | EPOLLRDHUP,
                    .data = {.u64 = EventData(slot, connection.generation)}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return fail("epoll_ctl", errno);
  connection.fd = fd;
  connection.busy = false;
  connection.writing = false;
  connection.unsent = {};
  connection.received.clear();
  ++open_connections_;
  return absl::OkStatus();
}

void Http1LoadClient::Close(std::size_t slot) {
  Connection& connection = connections_[slot];
  if (connection.fd < 0) return;
  close(connection.fd);  // which also takes it out of the epoll set
  connection.fd = -1;
  --open_connections_;
}

void Http1LoadClient::Replace(std::size_t slot) {
  Close(slot);
  if (absl::Status opened = Open(slot); !opened.ok()) {
    last_open_error_ = std::string(opened.message());
    return;
  }
  idle_.push_back(slot);
}

void Http1LoadClient::Watch(std::size_t slot, bool writable) {
  Connection& connection = connections_[slot];
  connection.writing = writable;
  epoll_event event{.events = EPOLLIN | EPOLLRDHUP | (writable ? EPOLLOUT : 0u),
                    .data = {.u64 = EventData(slot, connection.generation)}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event) != 0) {
    // The descriptor is ours and registered: failing here is a bug, not a condition to handle.
    std::perror("bench: epoll_ctl(EPOLL_CTL_MOD)");
    std::abort();
  }
}

void Http1LoadClient::Send(std::size_t slot, int64_t index, SteadyClock::time_point due,
                           std::string_view bytes, OnOutcome on_outcome) {
  Connection& connection = connections_[slot];
  connection.busy = true;
  ++in_flight_;
  connection.received.clear();
  connection.outcome = HttpOutcome{.index = index, .due = due, .sent = SteadyClock::now()};
  const ssize_t sent = send(connection.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (sent < 0 && errno != EAGAIN && errno != EINTR) {
    Finish(slot, 0, ErrnoLabel("send", errno), on_outcome);
    Replace(slot);
    return;
  }
  connection.unsent = bytes.substr(sent < 0 ? 0 : static_cast<std::size_t>(sent));
  if (!connection.unsent.empty()) Watch(slot, true);
}

void Http1LoadClient::Finish(std::size_t slot, int status, std::string error,
                             OnOutcome on_outcome) {
  Connection& connection = connections_[slot];
  connection.busy = false;
  --in_flight_;
  connection.outcome.status = status;
  connection.outcome.error = std::move(error);
  connection.outcome.done = SteadyClock::now();
  on_outcome(connection.outcome);
}

void Http1LoadClient::OnWritable(std::size_t slot, OnOutcome on_outcome) {
  Connection& connection = connections_[slot];
  if (!connection.writing) return;
  const ssize_t sent =
      send(connection.fd, connection.unsent.data(), connection.unsent.size(), MSG_NOSIGNAL);
  if (sent < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    Finish(slot, 0, ErrnoLabel("send", errno), on_outcome);
    Replace(slot);
    return;
  }
  connection.unsent.remove_prefix(static_cast<std::size_t>(sent));
  if (connection.unsent.empty()) Watch(slot, false);
}

void Http1LoadClient::OnReadable(std::size_t slot, OnOutcome on_outcome) {
  Connection& connection = connections_[slot];
  bool at_eof = false;
  int error = 0;
  std::array<char, 16 * 1024> chunk;
  while (true) {
    const ssize_t received = recv(connection.fd, chunk.data(), chunk.size(), 0);
    if (received > 0) {
      connection.received.append(chunk.data(), static_cast<std::size_t>(received));
      // A short read drained the socket; epoll is level-triggered and reports anything later,
      // so the recv() that would only say EAGAIN is saved.
      if (static_cast<std::size_t>(received) < chunk.size()) break;
      continue;
    }
    if (received == 0) {
      at_eof = true;
    } else if (errno == EINTR) {
      continue;
    } else if (errno != EAGAIN) {
      error = errno;
    }
    break;
  }
  if (!connection.busy) {
    // The server closed an idle connection (its keep-alive timeout) or sent bytes nobody asked
    // for: either way this connection is no use for the next request.
    if (at_eof || error != 0 || !connection.received.empty()) {
      idle_.erase(std::find(idle_.begin(), idle_.end(), slot));
      Replace(slot);
    }
    return;
  }
  if (error != 0) {
    Finish(slot, 0, ErrnoLabel("recv", error), on_outcome);
    Replace(slot);
    return;
  }
  const absl::StatusOr<std::optional<ResponseFrame>> frame =
      ParseResponse(connection.received, at_eof);
  if (!frame.ok()) {
    Finish(slot, 0, absl::StrCat("malformed response: ", frame.status().message()), on_outcome);
    Replace(slot);
    return;
  }
  if (!frame->has_value()) {
    if (at_eof) {
      Finish(slot, 0, "connection closed before the response", on_outcome);
      Replace(slot);
    }
    return;
  }
  // A response that arrives before the request was fully written, or with bytes after it, leaves
  // the connection in a state no next request should inherit.
  const bool reusable = !(*frame)->closes && !at_eof && !connection.writing &&
                        (*frame)->size == connection.received.size();
  Finish(slot, (*frame)->status, "", on_outcome);
  if (reusable) {
    connection.received.clear();
    idle_.push_back(slot);
  } else {
    Replace(slot);
  }
}

SteadyClock::time_point Http1LoadClient::Run(const OpenLoopSchedule& schedule,
                                             absl::FunctionRef<std::string_view(int64_t)> request,
                                             OnOutcome on_outcome) {
  const SteadyClock::time_point start = SteadyClock::now();
  int64_t next = 0;
  std::array<epoll_event, 128> events;
  while (true) {
    SteadyClock::time_point now = SteadyClock::now();
    if (open_connections_ == 0) {
      // Nothing can be sent any more: every request left fails, at its due time or now.
      for (; next < schedule.size(); ++next) {
        const SteadyClock::time_point due = start + schedule.OffsetOf(next);
        const SteadyClock::time_point at = std::max(due, now);
        on_outcome(HttpOutcome{.index = next,
                               .error = absl::StrCat("no open connection (", last_open_error_, ")"),
                               .due = due,
                               .sent = at,
                               .done = at});
      }
    }
    while (next < schedule.size() && !idle_.empty()) {
      const SteadyClock::time_point due = start + schedule.OffsetOf(next);
      if (due > now) break;
      const std::size_t slot = idle_.front();
      idle_.pop_front();
      Send(slot, next, due, request(next), on_outcome);
      ++next;
      now = SteadyClock::now();
    }
    if (next == schedule.size() && in_flight_ == 0) break;

    // Sleep until the next request is due (if a connection is free for it), the oldest request
    // times out, or a connection has something to say.
    std::optional<SteadyClock::time_point> wake;
    if (next < schedule.size() && !idle_.empty()) wake = start + schedule.OffsetOf(next);
    for (const Connection& connection : connections_) {
      if (!connection.busy) continue;
      const SteadyClock::time_point deadline = connection.outcome.sent + options_.timeout;
      if (!wake || deadline < *wake) wake = deadline;
    }
    const timespec wait = ToTimespec(wake ? *wake - now : std::chrono::nanoseconds::zero());
    const int ready =
        epoll_pwait2(epoll_fd_, events.data(), static_cast<int>(events.size()), &wait, nullptr);
    if (ready < 0 && errno != EINTR) {
      std::perror("bench: epoll_pwait2 (Linux 5.11 or later is needed)");
      std::abort();
    }
    for (int i = 0; i < ready; ++i) {
      const epoll_event& event = events[static_cast<std::size_t>(i)];
      const std::size_t slot = event.data.u64 & 0xffffffffu;
      const auto generation = static_cast<uint32_t>(event.data.u64 >> 32);
      if (connections_[slot].fd < 0 || connections_[slot].generation != generation) continue;
      if ((event.events & EPOLLOUT) != 0) OnWritable(slot, on_outcome);
      if (connections_[slot].generation != generation) continue;  // replaced while writing
      if ((event.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        OnReadable(slot, on_outcome);
      }
    }
    now = SteadyClock::now();
    for (std::size_t slot = 0; slot < connections_.size(); ++slot) {
      const Connection& connection = connections_[slot];
      if (connection.busy && connection.outcome.sent + options_.timeout <= now) {
        Finish(slot, 0, "timeout", on_outcome);
        Replace(slot);
      }
    }
  }
  return start;
}

}  // namespace klaxon::bench
