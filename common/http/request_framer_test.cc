#include "common/http/request_framer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::http {
namespace {

using Kind = FrameEvent::Kind;

constexpr FramingLimits kLimits{.max_head_bytes = 1024, .max_body_bytes = 4096, .max_headers = 8};

// Feeds `wire` in one piece and answers the first event.
FrameEvent First(std::string_view wire, FramingLimits limits = kLimits) {
  RequestFramer framer(limits);
  EXPECT_EQ(framer.Append(wire), wire.size());
  return framer.Next();
}

TEST(RequestFramerTest, FramesARequestWithItsTargetHeadersAndBody) {
  const FrameEvent event = First(
      "POST /twilio/x?z=1&a=%2B2 HTTP/1.1\r\nHost: h\r\nContent-Type:  text/plain \r\n"
      "Content-Length: 5\r\n\r\nhello");
  ASSERT_EQ(event.kind, Kind::kRequest);
  EXPECT_EQ(event.request.method, "POST");
  EXPECT_EQ(event.request.target, "/twilio/x?z=1&a=%2B2");
  EXPECT_EQ(event.request.path, "/twilio/x");
  EXPECT_EQ(event.request.query, "z=1&a=%2B2");
  EXPECT_EQ(event.request.Header("content-type"), "text/plain");
  EXPECT_EQ(event.request.body, "hello");
  EXPECT_FALSE(event.close);
}

// A proxy may add its own line rather than append to the client's: both are read, in order.
TEST(RequestFramerTest, AHeaderOnSeveralLinesIsOneListInOrder) {
  const FrameEvent event = First(
      "GET /p HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\nHost: h\r\n"
      "x-forwarded-for: 198.51.100.1, 10.0.0.2\r\n\r\n");
  ASSERT_EQ(event.kind, Kind::kRequest);
  EXPECT_EQ(event.request.HeaderList("X-Forwarded-For"), "6.6.6.6, 198.51.100.1, 10.0.0.2");
  EXPECT_EQ(event.request.HeaderList("Host"), "h");
  EXPECT_EQ(event.request.HeaderList("Via"), std::nullopt);
  EXPECT_EQ(event.request.Header("X-Forwarded-For"), "6.6.6.6");
}

TEST(RequestFramerTest, WaitsForBytesAsTheyTrickleIn) {
  RequestFramer framer(kLimits);
  const std::string wire = "POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  const size_t head_end = wire.find("\r\n\r\n") + 4;
  for (size_t i = 0; i + 1 < wire.size(); ++i) {
    framer.Append(wire.substr(i, 1));
    // The head is announced once, when its last byte arrives.
    if (i + 1 == head_end) {
      EXPECT_EQ(framer.Next().kind, Kind::kHead);
    }
    EXPECT_EQ(framer.Next().kind, Kind::kNeedMore) << i;
  }
  EXPECT_EQ(framer.phase(), RequestFramer::Phase::kBody);
  framer.Append(wire.substr(wire.size() - 1));
  const FrameEvent event = framer.Next();
  ASSERT_EQ(event.kind, Kind::kRequest);
  EXPECT_EQ(event.request.body, "abc");
  EXPECT_EQ(framer.phase(), RequestFramer::Phase::kIdle);
}

TEST(RequestFramerTest, SplitsPipelinedRequestsInOrder) {
  RequestFramer framer(kLimits);
  framer.Append(
      "POST /one HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET /two HTTP/1.1\r\n\r\n\r\nGET /three HTTP/1.0\r\n\r\n");
  for (const char* target : {"/one", "/two", "/three"}) {
    const FrameEvent event = framer.Next();
    ASSERT_EQ(event.kind, Kind::kRequest) << target;
    EXPECT_EQ(event.request.target, target);
  }
  EXPECT_EQ(framer.Next().kind, Kind::kNeedMore);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(RequestFramerTest, RefusesAHugeContentLengthAtOnceWithoutKeepingTheBody) {
  for (const char* length :
       {"18446744073709551615", "18446744073709551616", "99999999999999999999999999", "4097"}) {
    RequestFramer framer(kLimits);
    framer.Append(absl::StrCat("POST /p HTTP/1.1\r\nContent-Length: ", length, "\r\n\r\nxxxx"));
    const FrameEvent event = framer.Next();
    EXPECT_EQ(event.kind, Kind::kRefused) << length;
    EXPECT_EQ(event.status, 413) << length;
    EXPECT_EQ(framer.buffered(), 0u);
    EXPECT_EQ(framer.Append(std::string(100, 'x')), 0u) << "a refused framer keeps nothing";
  }
}

TEST(RequestFramerTest, AcceptsABodyExactlyAtTheLimitAndLeadingZeros) {
  const FrameEvent event = First(
      absl::StrCat("POST /p HTTP/1.1\r\nContent-Length: 0004096\r\n\r\n", std::string(4096, 'b')));
  ASSERT_EQ(event.kind, Kind::kRequest);
  EXPECT_EQ(event.request.body.size(), 4096u);
}

TEST(RequestFramerTest, RefusesAmbiguousLengthsWith400) {
  for (const char* head :
       {"Content-Length: -1", "Content-Length: +5", "Content-Length: 5 5", "Content-Length: 0x10",
        "Content-Length: 5,5", "Content-Length:", "Content-Length: 3\r\nContent-Length: 3",
        "Content-Length: 3\r\ncontent-length: 4", "Content-Length: 3\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 3"}) {
    const FrameEvent event = First(absl::StrCat("POST /p HTTP/1.1\r\n", head, "\r\n\r\nabc"));
    EXPECT_EQ(event.kind, Kind::kRefused) << head;
    EXPECT_EQ(event.status, 400) << head;
  }
}

TEST(RequestFramerTest, AsksForAContentLengthInsteadOfChunks) {
  const FrameEvent event =
      First("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(event.kind, Kind::kRefused);
  EXPECT_EQ(event.status, 411);
}

TEST(RequestFramerTest, RefusesMalformedHeadsWith400) {
  for (const char* wire :
       {"NONSENSE\r\n\r\n", "GET /p HTTP/1.1\r\nNo colon here\r\n\r\n", "GET p HTTP/1.1\r\n\r\n",
        "BREW /p HTTP/1.1\r\n\r\n", "GET /p HTTP/2.0\r\n\r\n", "GET  /p HTTP/1.1\r\n\r\n",
        "GET /p HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", "GET /p HTTP/1.1\r\nX : a\r\n\r\n",
        "GET /p HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\n", "GET /p HTTP/1.1\r\nX: a\rb\r\n\r\n",
        "GET /p\x01 HTTP/1.1\r\n\r\n", "GET /p HTTP/1.1\r\n: empty name\r\n\r\n"}) {
    const FrameEvent event = First(wire);
    EXPECT_EQ(event.kind, Kind::kRefused) << wire;
    EXPECT_EQ(event.status, 400) << wire;
  }
}

TEST(RequestFramerTest, RefusesAHeadOverTheLimitWith431) {
  RequestFramer framer(kLimits);
  framer.Append("GET /p HTTP/1.1\r\nX-Filler: " + std::string(2000, 'x'));
  const FrameEvent event = framer.Next();
  EXPECT_EQ(event.kind, Kind::kRefused);
  EXPECT_EQ(event.status, 431);
}

TEST(RequestFramerTest, RefusesTooManyHeaderLinesWith431) {
  std::string wire = "GET /p HTTP/1.1\r\n";
  for (int i = 0; i < 9; ++i) absl::StrAppend(&wire, "X-", i, ": v\r\n");
  const FrameEvent event = First(wire + "\r\n");
  EXPECT_EQ(event.kind, Kind::kRefused);
  EXPECT_EQ(event.status, 431);
}

TEST(RequestFramerTest, HoldsAtMostOneRequestAtTheLimits) {
  RequestFramer framer(kLimits);
  EXPECT_EQ(framer.capacity(), 1024u + 4096u);
  const std::string request = "GET /p HTTP/1.1\r\n\r\n";
  std::string flood;
  while (flood.size() < 3 * framer.capacity()) flood += request;
  EXPECT_EQ(framer.Append(flood), framer.capacity());
  EXPECT_LE(framer.buffered(), framer.capacity());
}

TEST(RequestFramerTest, AnnouncesAHeadOnceWhenItsBodyIsAwaited) {
  RequestFramer framer(kLimits);
  framer.Append(
      "POST /p?q=1 HTTP/1.1\r\nExpect: 100-continue\r\nAuthorization: Bearer k\r\n"
      "Content-Length: 2\r\n\r\n");
  const FrameEvent head = framer.Next();
  ASSERT_EQ(head.kind, Kind::kHead);
  EXPECT_TRUE(head.expect_continue);
  EXPECT_EQ(head.request.method, "POST");
  EXPECT_EQ(head.request.path, "/p");
  EXPECT_EQ(head.request.query, "q=1");
  EXPECT_EQ(head.request.Header("authorization"), "Bearer k");
  EXPECT_EQ(head.request.body, "");
  EXPECT_EQ(framer.Next().kind, Kind::kNeedMore);
  framer.Append("o");
  EXPECT_EQ(framer.Next().kind, Kind::kNeedMore);
  framer.Append("k");
  const FrameEvent request = framer.Next();
  ASSERT_EQ(request.kind, Kind::kRequest);
  EXPECT_EQ(request.request.Header("authorization"), "Bearer k");
  EXPECT_EQ(request.request.body, "ok");
}

TEST(RequestFramerTest, AnnouncesNoHeadForARequestThatArrivedWhole) {
  RequestFramer framer(kLimits);
  framer.Append("POST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(framer.Next().kind, Kind::kRequest);
  framer.Append("POST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
  const FrameEvent head = framer.Next();
  EXPECT_EQ(head.kind, Kind::kHead);
  EXPECT_FALSE(head.expect_continue);
}

TEST(RequestFramerTest, ReadsWhetherTheClientWantsToClose) {
  EXPECT_TRUE(First("GET /p HTTP/1.1\r\nConnection: Keep-Alive, close\r\n\r\n").close);
  EXPECT_TRUE(First("GET /p HTTP/1.0\r\n\r\n").close);
  EXPECT_FALSE(First("GET /p HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").close);
  EXPECT_FALSE(First("GET /p HTTP/1.1\r\n\r\n").close);
}

}  // namespace
}  // namespace klaxon::http
