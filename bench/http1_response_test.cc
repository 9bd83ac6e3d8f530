#include "bench/http1_response.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace klaxon::bench {
namespace {

// The frame of a complete response; fails the test when `buffer` holds none.
ResponseFrame Frame(std::string_view buffer, bool at_eof = false) {
  absl::StatusOr<std::optional<ResponseFrame>> frame = ParseResponse(buffer, at_eof);
  EXPECT_TRUE(frame.ok()) << frame.status();
  EXPECT_TRUE(frame.ok() && frame->has_value()) << "incomplete: " << buffer;
  return frame.ok() && frame->has_value() ? **frame : ResponseFrame{};
}

bool Incomplete(std::string_view buffer, bool at_eof = false) {
  absl::StatusOr<std::optional<ResponseFrame>> frame = ParseResponse(buffer, at_eof);
  EXPECT_TRUE(frame.ok()) << frame.status();
  return frame.ok() && !frame->has_value();
}

absl::StatusCode ErrorOf(std::string_view buffer) {
  return ParseResponse(buffer, false).status().code();
}

TEST(ParseResponseTest, NoContentEndsWithItsHead) {
  const std::string response = "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n";
  const ResponseFrame frame = Frame(response);
  EXPECT_EQ(frame.status, 204);
  EXPECT_EQ(frame.size, response.size());
  EXPECT_FALSE(frame.closes);
}

TEST(ParseResponseTest, WaitsForTheEndOfTheHead) {
  EXPECT_TRUE(Incomplete(""));
  EXPECT_TRUE(Incomplete("HTTP/1.1 204 No Content\r\nServer: x\r\n"));
}

TEST(ParseResponseTest, ContentLengthDelimitsTheBody) {
  const std::string first = "HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\n\r\nforbidden";
  EXPECT_TRUE(Incomplete(first.substr(0, first.size() - 1)));
  const ResponseFrame frame = Frame(first + "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(frame.status, 403);
  EXPECT_EQ(frame.size, first.size());
}

TEST(ParseResponseTest, StepsOverAChunkedBodyWithExtensionsAndTrailers) {
  const std::string response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n";
  EXPECT_TRUE(Incomplete(response.substr(0, response.size() - 2)));
  EXPECT_TRUE(Incomplete(response.substr(0, 60)));
  const ResponseFrame frame = Frame(response + "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(frame.status, 200);
  EXPECT_EQ(frame.size, response.size());
}

TEST(ParseResponseTest, RefusesChunkDataWithoutItsCrlf) {
  EXPECT_EQ(ErrorOf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseResponseTest, RefusesABadChunkSize) {
  EXPECT_EQ(ErrorOf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseResponseTest, ConnectionCloseIsReported) {
  EXPECT_TRUE(Frame("HTTP/1.1 503 Service Unavailable\r\nConnection: Close\r\n"
                    "Content-Length: 0\r\n\r\n")
                  .closes);
}

TEST(ParseResponseTest, Http10ClosesUnlessKeptAlive) {
  EXPECT_TRUE(Frame("HTTP/1.0 204 No Content\r\n\r\n").closes);
  EXPECT_FALSE(Frame("HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n").closes);
}

TEST(ParseResponseTest, ABodyWithoutLengthEndsWithTheConnection) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<Response/>";
  EXPECT_TRUE(Incomplete(response));
  const ResponseFrame frame = Frame(response, /*at_eof=*/true);
  EXPECT_EQ(frame.size, response.size());
  EXPECT_TRUE(frame.closes);
}

TEST(ParseResponseTest, SkipsInterimResponses) {
  const std::string response = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
  EXPECT_TRUE(Incomplete("HTTP/1.1 100 Continue\r\n\r\n"));
  const ResponseFrame frame = Frame(response);
  EXPECT_EQ(frame.status, 204);
  EXPECT_EQ(frame.size, response.size());
}

TEST(ParseResponseTest, RefusesWhatIsNotAStatusLine) {
  EXPECT_EQ(ErrorOf("SSH-2.0-OpenSSH_9.2\r\n\r\n"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf("HTTP/1.1 2x4 No Content\r\n\r\n"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf("HTTP/1.1 2044\r\n\r\n"), absl::StatusCode::kInvalidArgument);
}

TEST(ParseResponseTest, AcceptsAStatusLineWithoutReason) {
  EXPECT_EQ(Frame("HTTP/1.1 204\r\n\r\n").status, 204);
}

TEST(ParseResponseTest, RefusesAHeaderLineWithoutColon) {
  EXPECT_EQ(ErrorOf("HTTP/1.1 204 No Content\r\nbroken\r\n\r\n"),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseResponseTest, RefusesConflictingOrInvalidContentLengths) {
  EXPECT_EQ(ErrorOf("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseResponseTest, RefusesAHeadThatNeverEnds) {
  const std::string head = "HTTP/1.1 200 OK\r\nX: " + std::string(70 * 1024, 'a');
  EXPECT_EQ(ErrorOf(head), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::bench
