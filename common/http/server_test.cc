#include "common/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A blocking loopback client that speaks raw bytes, so tests control exactly what goes on the wire.
class RawClient {
 public:
  // From `source` (any loopback address), with a small receive buffer when asked.
  explicit RawClient(uint16_t port, const char* source = "127.0.0.1", int receive_buffer = 0)
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
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

  // False once the server has closed or reset the connection.
  bool TrySend(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
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

  // The head of the next response, through its blank line, leaving what follows buffered.
  std::string ReadHead() {
    while (true) {
      const size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = buffer_.substr(0, head_end + 4);
        buffer_.erase(0, head_end + 4);
        return head;
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

// A HEAD answer has the headers a GET would get and no body, or the next answer on the
// connection would start inside it.
TEST_F(ServerTest, AnswersHeadWithoutABody) {
  StartServer();
  RawClient client(server_->port());
  client.Send("HEAD /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n");
  const std::string head = client.ReadHead();
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(head, HasSubstr("Content-Length: 8\r\n"));  // "got /one"
  const std::string next = client.ReadResponse();
  EXPECT_THAT(next, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(next, HasSubstr("got /two"));
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
  StartServer({.limits = {.max_head_bytes = 512, .max_body_bytes = 1024}});
  RawClient client(server_->port());
  client.Send("POST /p HTTP/1.1\r\nContent-Length: 2000\r\n\r\n");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 413 "));
  EXPECT_TRUE(client.ServerClosed());
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ServerTest, RefusesEndlessHeadersWith431) {
  StartServer({.limits = {.max_head_bytes = 1024, .max_body_bytes = 1024}});
  RawClient client(server_->port());
  client.Send("GET /p HTTP/1.1\r\nX-Filler: " + std::string(2000, 'x'));
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 431 "));
}

TEST_F(ServerTest, RefusesAnEndlessBodyAtOnceWhateverItsLength) {
  std::vector<std::pair<int, std::string>> refusals;
  std::mutex refusals_mutex;
  StartServer({.on_refused = [&](int status, std::string_view reason) {
    std::lock_guard lock(refusals_mutex);
    refusals.emplace_back(status, std::string(reason));
  }});
  RawClient client(server_->port());
  // The length would wrap a check that adds it to the head's size.
  client.Send("POST /p HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n");
  client.Send(std::string(1000, 'x'));
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 413 "));
  EXPECT_TRUE(client.ServerClosed());
  EXPECT_TRUE(Requests().empty());
  std::lock_guard lock(refusals_mutex);
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, 413);
}

// The client never pauses, so the server's reads never run dry: the refusal cannot wait for them
// to (Pistache runs queued writes only then).
TEST_F(ServerTest, StopsAClientThatStreamsWithoutPausingAfterItsRefusal) {
  StartServer();
  RawClient client(server_->port());
  const std::string chunk(64 * 1024, 'x');
  constexpr int64_t kLimit = 256 * 1024 * 1024;
  int64_t streamed = 0;
  if (client.TrySend(absl::StrCat(
          "POST /p HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", chunk))) {
    while (streamed < kLimit && client.TrySend(chunk))
      streamed += static_cast<int64_t>(chunk.size());
  }
  EXPECT_LT(streamed, kLimit) << "the server kept reading after refusing";
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 413 "));
}

TEST_F(ServerTest, RefusesConflictingLengthsWith400) {
  StartServer();
  for (const char* head :
       {"Content-Length: 3\r\nContent-Length: 3", "Content-Length: 3\r\nTransfer-Encoding: chunked",
        "Content-Length: -3"}) {
    RawClient client(server_->port());
    client.Send(absl::StrCat("POST /p HTTP/1.1\r\n", head, "\r\n\r\nabc"));
    EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 400 ")) << head;
    EXPECT_TRUE(client.ServerClosed()) << head;
  }
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ServerTest, AnswersADeepPipelineAnsweredSynchronouslyWithoutRecursion) {
  StartServer();
  RawClient client(server_->port());
  // Each request is answered inside the handler; a server that recursed per request would need
  // a frame per request.
  constexpr int kRequests = 2000;
  std::string pipeline;
  for (int i = 0; i < kRequests; ++i) pipeline += "GET /p HTTP/1.1\r\n\r\n";
  client.Send(pipeline);
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 200 OK\r\n")) << i;
  }
  EXPECT_EQ(Requests().size(), static_cast<size_t>(kRequests));
}

TEST_F(ServerTest, ClosesAClientThatPipelinesFurtherAheadThanOneRequest) {
  std::vector<Responder> held;
  std::mutex held_mutex;
  StartServer({.limits = {.max_head_bytes = 256, .max_body_bytes = 256},
               .handler = [&](Request, Responder respond) {
                 std::lock_guard lock(held_mutex);
                 held.push_back(std::move(respond));
               }});
  RawClient client(server_->port());
  std::string flood;
  while (flood.size() < 64 * 1024) flood += "GET /p HTTP/1.1\r\n\r\n";
  client.Send(flood);
  // The first request is being handled while the rest pile up past what the server holds.
  Responder first;
  for (int i = 0; i < 200 && !first; ++i) {
    {
      std::lock_guard lock(held_mutex);
      if (!held.empty()) first = held.front();
    }
    if (!first) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(first);
  first({.status = 204});
  const std::string answer = client.ReadResponse();
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 204 "));
  EXPECT_THAT(answer, HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(client.ServerClosed());
  std::lock_guard lock(held_mutex);
  EXPECT_EQ(held.size(), 1u);
}

// A screen that lets through only heads with "X-Key: good".
HeadScreen GoodKeyOnly(std::atomic<int>& screened) {
  return [&screened](const Request& head) -> std::optional<Response> {
    ++screened;
    if (head.Header("x-key") == "good") return std::nullopt;
    return Response{.status = 401, .content_type = "text/plain", .body = "no key\n"};
  };
}

TEST_F(ServerTest, AHeadScreenRefusesBeforeTheBodyIsReadAndCloses) {
  std::atomic<int> screened = 0;
  StartServer({.screen_head = GoodKeyOnly(screened)});
  RawClient client(server_->port());
  client.Send(
      "POST /p HTTP/1.1\r\nX-Key: bad\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n");
  const std::string refused = client.ReadResponse();
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 401 "));  // no 100 Continue first
  EXPECT_THAT(refused, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(refused, HasSubstr("no key"));
  EXPECT_TRUE(client.ServerClosed());
  EXPECT_EQ(screened.load(), 1);
  EXPECT_TRUE(Requests().empty());
}

// The client goes on sending the body it announced: it still reads the refusal, and the
// connection ends with a FIN, not a reset that could destroy the answer unread.
TEST_F(ServerTest, ARefusedHeadsBodyIsReadAndDroppedThenTheConnectionClosesCleanly) {
  std::atomic<int> screened = 0;
  StartServer({.screen_head = GoodKeyOnly(screened)});
  RawClient client(server_->port());
  const std::string body(20'000, 'b');
  client.Send(absl::StrCat("POST /p HTTP/1.1\r\nX-Key: bad\r\nContent-Length: ", body.size(),
                           "\r\n\r\n", body.substr(0, 100)));
  const std::string refused = client.ReadResponse();
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 401 "));
  for (size_t sent = 100; sent < body.size(); sent += 1000) {
    ASSERT_TRUE(client.TrySend(body.substr(sent, 1000))) << "reset at " << sent;
  }
  ASSERT_TRUE(client.TrySend("\r\n"));  // some clients end a POST so
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_TRUE(client.TrySend("\r\n")) << "a reset came back";
  EXPECT_TRUE(client.ServerClosed());
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ServerTest, AHeadThatPassesTheScreenHasItsBodyRead) {
  std::atomic<int> screened = 0;
  StartServer({.screen_head = GoodKeyOnly(screened)});
  RawClient client(server_->port());
  client.Send(
      "POST /p HTTP/1.1\r\nX-Key: good\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 100 Continue\r\n"));
  client.Send("hello");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 200 "));
  ASSERT_EQ(Requests().size(), 1u);
  EXPECT_EQ(Requests()[0].body, "hello");
  EXPECT_EQ(screened.load(), 1);
}

TEST_F(ServerTest, ARequestThatArrivesWholeGoesToTheHandlerUnscreened) {
  std::atomic<int> screened = 0;
  StartServer({.screen_head = GoodKeyOnly(screened)});
  RawClient client(server_->port());
  client.Send("POST /p HTTP/1.1\r\nX-Key: bad\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_THAT(client.ReadResponse(), StartsWith("HTTP/1.1 200 "));
  EXPECT_EQ(screened.load(), 0);
}

TEST_F(ServerTest, RefusesConnectionsPastTheCapPerSourceWith503) {
  StartServer({.max_connections_per_source = 2});
  RawClient first(server_->port());
  RawClient second(server_->port());
  first.Send("GET /p HTTP/1.1\r\n\r\n");
  second.Send("GET /p HTTP/1.1\r\n\r\n");
  ASSERT_THAT(first.ReadResponse(), StartsWith("HTTP/1.1 200 "));
  ASSERT_THAT(second.ReadResponse(), StartsWith("HTTP/1.1 200 "));
  RawClient third(server_->port());
  const std::string refused = third.ReadResponse();
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(refused, HasSubstr("Retry-After: 1\r\n"));
  EXPECT_TRUE(third.ServerClosed());
  // Another source is not held back by this one.
  RawClient other(server_->port(), "127.0.0.2");
  other.Send("GET /p HTTP/1.1\r\n\r\n");
  EXPECT_THAT(other.ReadResponse(), StartsWith("HTTP/1.1 200 "));
}

TEST_F(ServerTest, AnUncappedSourceIsHeldOnlyToTheTotalCap) {
  StartServer({.max_connections = 2,
               .max_connections_per_source = 1,
               .uncapped_source = [](std::string_view source) { return source == "127.0.0.2"; }});
  RawClient first(server_->port(), "127.0.0.2");
  RawClient second(server_->port(), "127.0.0.2");
  first.Send("GET /p HTTP/1.1\r\n\r\n");
  second.Send("GET /p HTTP/1.1\r\n\r\n");
  EXPECT_THAT(first.ReadResponse(), StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(second.ReadResponse(), StartsWith("HTTP/1.1 200 ")) << "past the per-source cap";
  RawClient third(server_->port(), "127.0.0.2");
  EXPECT_THAT(third.ReadResponse(), StartsWith("HTTP/1.1 503 ")) << "the total cap holds";
}

TEST_F(ServerTest, RefusesConnectionsPastTheTotalCapWith503) {
  StartServer({.max_connections = 2});
  RawClient first(server_->port(), "127.0.0.2");
  RawClient second(server_->port(), "127.0.0.3");
  first.Send("GET /p HTTP/1.1\r\n\r\n");
  second.Send("GET /p HTTP/1.1\r\n\r\n");
  ASSERT_THAT(first.ReadResponse(), StartsWith("HTTP/1.1 200 "));
  ASSERT_THAT(second.ReadResponse(), StartsWith("HTTP/1.1 200 "));
  RawClient third(server_->port(), "127.0.0.4");
  EXPECT_THAT(third.ReadResponse(), StartsWith("HTTP/1.1 503 "));
}

TEST_F(ServerTest, ClosesAClientThatDoesNotReadItsAnswer) {
  std::atomic<bool> answered = false;
  StartServer({.write_timeout = absl::Milliseconds(300),
               .handler = [&answered](Request, Responder respond) {
                 respond({.status = 200, .body = std::string(8 * 1024 * 1024, 'z')});
                 answered = true;
               }});
  RawClient client(server_->port(), "127.0.0.1", /*receive_buffer=*/4096);
  client.Send("GET /p HTTP/1.1\r\n\r\n");
  const auto poll = [](const std::function<bool()>& done) {
    for (int i = 0; i < 250 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  };
  ASSERT_TRUE(poll([&] { return answered.load(); }));
  // Nothing is read: the answer cannot be written, the server gives up on it and closes.
  EXPECT_TRUE(poll([&] { return server_->connections() == 0; }));
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
