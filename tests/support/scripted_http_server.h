#pragma once
// A scripted HTTP/1.1 server for unit tests of HTTP clients: it listens on 127.0.0.1 on a port
// the kernel picks, serves each connection on its own thread, records every request and answers
// with whatever raw bytes the test's responder returns (or never answers). Requests must carry a
// Content-Length body or none; the server holds no other HTTP knowledge, so a test controls
// exactly what the client reads.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace klaxon::testing {

struct RecordedRequest {
  std::string request_line;
  std::string headers;
  std::string body;
};

// A scripted HTTP/1.1 server on 127.0.0.1:0: it records each request and answers with the raw
// response the test's responder returns, never answers when the responder returns nullopt, and
// closes the connection without a byte of answer when it returns an empty string (a server that
// went away after taking the request).
class ScriptedServer {
 public:
  using Responder = std::function<std::optional<std::string>(const RecordedRequest&)>;

  explicit ScriptedServer(Responder responder) : responder_(std::move(responder)) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(listener_, 16), 0);
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~ScriptedServer() {
    stopping_ = true;
    acceptor_.join();
    for (std::thread& connection : connections_) connection.join();
    close(listener_);
  }

  std::string base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  uint16_t port() const { return port_; }
  int connections_accepted() const { return connections_accepted_; }

  std::vector<RecordedRequest> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  static bool Readable(int fd) {
    pollfd descriptor{.fd = fd, .events = POLLIN, .revents = 0};
    return poll(&descriptor, 1, 20) > 0;
  }

  void AcceptLoop() {
    while (!stopping_) {
      if (!Readable(listener_)) continue;
      const int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_accepted_;
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string buffer;
    while (!stopping_) {
      const size_t header_end = buffer.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        RecordedRequest request;
        request.headers = buffer.substr(0, header_end);
        request.request_line = request.headers.substr(0, request.headers.find("\r\n"));
        size_t content_length = 0;
        for (absl::string_view line : absl::StrSplit(request.headers, "\r\n")) {
          if (absl::ConsumePrefix(&line, "Content-Length: ")) {
            EXPECT_TRUE(absl::SimpleAtoi(line, &content_length));
          }
        }
        if (buffer.size() >= header_end + 4 + content_length) {
          request.body = buffer.substr(header_end + 4, content_length);
          buffer.erase(0, header_end + 4 + content_length);
          {
            std::lock_guard<std::mutex> lock(mutex_);
            requests_.push_back(request);
          }
          const std::optional<std::string> response = responder_(request);
          if (!response) {
            while (!stopping_) Readable(fd);  // hold the request unanswered
            break;
          }
          if (response->empty()) break;
          if (send(fd, response->data(), response->size(), MSG_NOSIGNAL) < 0) break;
          continue;
        }
      }
      if (!Readable(fd)) continue;
      char chunk[4096];
      const ssize_t received = recv(fd, chunk, sizeof(chunk), 0);
      if (received <= 0) break;
      buffer.append(chunk, static_cast<size_t>(received));
    }
    close(fd);
  }

  Responder responder_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_accepted_{0};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // only touched by the acceptor thread and ~
  std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace klaxon::testing
