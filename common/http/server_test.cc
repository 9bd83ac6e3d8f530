#include "common/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A blocking loopback client that speaks raw bytes, so tests control exactly what goes on the wire.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval timeout{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawClient() { ::close(fd_); }

  bool connected() const { return connected_; }

  void Send(std::string_view bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // Reads one response (status line, headers, Content-Length body); "" when the server closed
  // the connection or nothing came within 10 s.
  std::string ReadResponse() {
    while (true) {
      const size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        const size_t at = buffer_.find("Content-Length: ");
        if (at != std::string::npos && at < head_end) length = std::stoul(buffer_.substr(at + 16));
        if (buffer_.size() >= head_end + 4 + length) {
          std::string response = buffer_.substr(0, head_end + 4 + length);
          buffer_.erase(0, head_end + 4 + length);
          return response;
        }
      }
      if (!Receive()) return "";
    }
  }

  // True when the server closed the connection (after any bytes still buffered).
  bool ServerClosed() {
    while (Receive()) {
    }
    return closed_;
  }

 private:
  bool Receive() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) closed_ = true;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    if (!options.handler) {
      options.handler = [this](Request request, Responder respond) {
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
        }
        respond({.status = 200, .content_type = "text/plain", .body = "got " + request.target});
      };
    }
    auto server = Server::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::vector<Request> Requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  std::mutex mutex_;
  std::vector<Request> requests_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, KeepsTheRequestTargetExactlyAsSent) {
  StartServer();
  RawClient client(server_->port());
  ASSERT_TRUE(client.connected());
  client.Send("GET /twilio/x?z=1&a=%2B2&z=1&b&%41=%7e HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 200 OK\r\n"));
  ASSERT_EQ(Requests().size(), 1u);
  const Request request = Requests()[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/twilio/x?z=1&a=%2B2&z=1&b&%41=%7e");
  EXPECT_EQ(request.path, "/twilio/x");
  EXPECT_EQ(request.query, "z=1&a=%2B2&z=1&b&%41=%7e");
  EXPECT_EQ(request.peer_address, "127.0.0.1");
  EXPECT_EQ(request.Header("host"), "h");
}

TEST_F(ServerTest, AssemblesABodyThatArrivesInPieces) {
  StartServer();
  RawClient client(server_->port());
  client.Send("POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n");
  client.Send("Content-Length: 11\r\n\r\nhello");
  client.Send(" world");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 200 OK\r\n"));
  ASSERT_EQ(Requests().size(), 1u);
  EXPECT_EQ(Requests()[0].body, "hello world");
  EXPECT_EQ(Requests()[0].Header("CONTENT-TYPE"), "application/x-www-form-urlencoded");
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrder) {
  StartServer();
  RawClient client(server_->port());
  client.Send(
      "POST /one HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET /two HTTP/1.1\r\n\r\n"
      "POST /three HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_THAT(client.ReadResponse(), HasSubstr("got /one"));
  EXPECT_THAT(client.ReadResponse(), HasSubstr("got /two"));
  EXPECT_THAT(client.ReadResponse(), HasSubstr("got /three"));
}

TEST_F(ServerTest, ResponderMayAnswerLaterFromAnotherThread) {
  std::vector<std::jthread> answerers;
  std::mutex answerers_mutex;
  StartServer({.handler = [&](Request request, Responder respond) {
    std::lock_guard lock(answerers_mutex);
    answerers.emplace_back([request = std::move(request), respond = std::move(respond)] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      respond({.status = 204, .headers = {{"Retry-After", "1"}}});
    });
  }});
  RawClient client(server_->port());
  client.Send("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  const std::string first = client.ReadResponse();
  EXPECT_THAT(first, StartsWith("HTTP/1.1 204 No Content\r\n"));
  EXPECT_THAT(first, HasSubstr("Retry-After: 1\r\n"));
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 204 No Content\r\n"));
  std::lock_guard lock(answerers_mutex);
  EXPECT_EQ(answerers.size(), 2u);
}

TEST_F(ServerTest, RefusesARequestOverTheSizeLimitWith413AndCloses) {
  StartServer({.max_request_bytes = 1024});
  RawClient client(server_->port());
  client.Send("POST /p HTTP/1.1\r\nContent-Length: 2000\r\n\r\n");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 413 "));
  EXPECT_TRUE(client.ServerClosed());
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ServerTest, RefusesEndlessHeadersWith413) {
  StartServer({.max_request_bytes = 1024});
  RawClient client(server_->port());
  client.Send("GET /p HTTP/1.1\r\nX-Filler: " + std::string(2000, 'x'));
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 413 "));
}

TEST_F(ServerTest, RefusesMalformedRequestsWith400) {
  StartServer();
  for (const char* wire : {"NONSENSE\r\n\r\n", "GET /p HTTP/1.1\r\nNo colon here\r\n\r\n",
                           "POST /p HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                           "POST /p HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                           "GET p HTTP/1.1\r\n\r\n", "BREW /p HTTP/1.1\r\n\r\n"}) {
    RawClient client(server_->port());
    client.Send(wire);
    EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 400 ")) << wire;
    EXPECT_TRUE(client.ServerClosed()) << wire;
  }
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ServerTest, AsksForAContentLengthInsteadOfChunks) {
  StartServer();
  RawClient client(server_->port());
  client.Send("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 411 "));
}

TEST_F(ServerTest, SlowHeadersGet408) {
  StartServer({.header_timeout = absl::Milliseconds(300)});
  RawClient client(server_->port());
  client.Send("POST /p HTTP/1.1\r\nHost: h\r\n");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 408 "));
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(ServerTest, SlowBodyGets408) {
  StartServer({.body_timeout = absl::Milliseconds(300)});
  RawClient client(server_->port());
  client.Send("POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 408 "));
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ServerTest, IdleConnectionIsClosedWithoutAResponse) {
  StartServer({.header_timeout = absl::Milliseconds(300)});
  RawClient client(server_->port());
  EXPECT_EQ(client.ReadResponse(), "");
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(ServerTest, AnswersExpectContinueBeforeTheBody) {
  StartServer();
  RawClient client(server_->port());
  client.Send("POST /p HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.ReadResponse(), "HTTP/1.1 100 Continue\r\n\r\n");
  client.Send("ok");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(ServerTest, ClosesWhenTheClientAsksTo) {
  StartServer();
  RawClient client(server_->port());
  client.Send("GET /p HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(client.ReadResponse(), HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(ServerTest, KeepsHttp11ConnectionsOpen) {
  StartServer();
  RawClient client(server_->port());
  for (int i = 0; i < 3; ++i) {
    client.Send("GET /p HTTP/1.1\r\n\r\n");
    EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 200 OK\r\n"));
  }
  EXPECT_EQ(Requests().size(), 3u);
}

TEST(SerializeResponseTest, WritesStatusHeadersLengthAndBody) {
  EXPECT_EQ(
      SerializeResponse({.status = 200, .content_type = "text/xml", .body = "<Response/>"}, false),
      "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 11\r\n\r\n<Response/>");
  EXPECT_EQ(SerializeResponse({.status = 503, .headers = {{"Retry-After", "2"}}}, true),
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n");
}

}  // namespace
}  // namespace klaxon::http
