// An open-loop HTTP/1.1 load client: sends prepared requests on an OpenLoopSchedule over a pool
// of keep-alive connections, one request in flight per connection (no pipelining), and reports
// each request's outcome with its due, send and completion times. One thread drives every
// connection through epoll.
//
// Why its own client and not libcurl's multi interface: measured at 10,000 requests/s for 10 s
// over 64 connections against a minimal server that answers 204 at once, on the 2-core machine
// the benchmark runs on, libcurl 7.88 spent 25-30 us of CPU per request with its event API
// (curl_multi_socket_action on epoll, CURLOPT_NOSIGNAL) and 48 us with curl_multi_poll; this
// client spends about 10 us, most of it in the kernel's loopback TCP, on one send(), one recv()
// and an epoll wait. The generator shares the two cores with ingress, Kafka and Redis, so every
// cycle it burns is taken from the system it measures: 25-30% of a core against 10%.
// bench/README.md says how the figures were taken.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/schedule.h"

namespace klaxon::bench {

using SteadyClock = std::chrono::steady_clock;

struct Http1LoadOptions {
  std::string host;  // a name or an address literal, resolved once
  uint16_t port = 0;
  int connections = 64;
  // A request with no complete response this long after it was sent fails as "timeout" and its
  // connection is replaced.
  std::chrono::nanoseconds timeout = std::chrono::seconds(15);
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(5);
};

struct HttpOutcome {
  int64_t index = 0;
  int status = 0;     // the HTTP status; 0 when no response arrived
  std::string error;  // why no response arrived ("timeout", ...); empty when one did
  SteadyClock::time_point due;
  SteadyClock::time_point sent;  // when its bytes were handed to the kernel
  SteadyClock::time_point done;  // when its response was complete, or it failed
};

class Http1LoadClient {
 public:
  // Resolves the host and opens every connection, so that connection setup is not measured.
  // kUnavailable when the server cannot be reached, kInvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<Http1LoadClient>> Connect(const Http1LoadOptions& options);

  ~Http1LoadClient();
  Http1LoadClient(const Http1LoadClient&) = delete;
  Http1LoadClient& operator=(const Http1LoadClient&) = delete;

  // Sends request i (the bytes `request(i)` returns, which must stay valid until its outcome) at
  // start + schedule.OffsetOf(i) on an idle connection, or, when none is idle, as soon as one
  // is: that wait is part of the request's latency. Calls `on_outcome` once per request, on
  // this thread, and returns the start once every request has its outcome. A connection the
  // server closes is reopened; when none can be, the requests left fail at once.
  SteadyClock::time_point Run(const OpenLoopSchedule& schedule,
                              absl::FunctionRef<std::string_view(int64_t)> request,
                              absl::FunctionRef<void(const HttpOutcome&)> on_outcome);

 private:
  struct Connection {
    int fd = -1;  // -1 while closed
    // Counts the sockets this slot has had, so that an event still queued for a socket that
    // was replaced in the same epoll batch is recognised and dropped.
    uint32_t generation = 0;
    bool busy = false;
    bool writing = false;     // waiting for EPOLLOUT to send the rest of `unsent`
    std::string_view unsent;  // the part of the request the kernel has not taken yet
    std::string received;
    HttpOutcome outcome;
  };

  Http1LoadClient(const Http1LoadOptions& options, int epoll_fd, const sockaddr_storage& address,
                  socklen_t address_size);

  using OnOutcome = absl::FunctionRef<void(const HttpOutcome&)>;

  absl::Status Open(std::size_t slot);
  void Close(std::size_t slot);
  // Closes the connection and opens a new one, idle; leaves the slot closed if that fails.
  void Replace(std::size_t slot);
  void Send(std::size_t slot, int64_t index, SteadyClock::time_point due, std::string_view bytes,
            OnOutcome on_outcome);
  // Completes the connection's request: a status, or no status and an error.
  void Finish(std::size_t slot, int status, std::string error, OnOutcome on_outcome);
  void OnReadable(std::size_t slot, OnOutcome on_outcome);
  void OnWritable(std::size_t slot, OnOutcome on_outcome);
  void Watch(std::size_t slot, bool writable);

  const Http1LoadOptions options_;
  const int epoll_fd_;
  const sockaddr_storage address_;
  const socklen_t address_size_;
  std::vector<Connection> connections_;
  // Idle connections, first in first out so that every connection stays in use and none sits
  // idle long enough for the server to close it.
  std::deque<std::size_t> idle_;
  int open_connections_ = 0;
  int in_flight_ = 0;
  std::string last_open_error_;
};

}  // namespace klaxon::bench
