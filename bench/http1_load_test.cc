#include "bench/http1_load.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/scripted_http_server.h"

namespace klaxon::bench {
namespace {

using ::klaxon::testing::RecordedRequest;
using ::klaxon::testing::ScriptedServer;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kNoContent[] = "HTTP/1.1 204 No Content\r\n\r\n";

// Request i is a POST whose path names i, so the server's responder and the test can tell the
// requests apart.
std::vector<std::string> Requests(int64_t count) {
  std::vector<std::string> requests;
  for (int64_t i = 0; i < count; ++i) {
    const std::string body = absl::StrCat("n=", i);
    requests.push_back(absl::StrCat("POST /r/", i, " HTTP/1.1\r\nHost: test\r\nContent-Length: ",
                                    body.size(), "\r\n\r\n", body));
  }
  return requests;
}

std::unique_ptr<Http1LoadClient> ConnectTo(const ScriptedServer& server, int connections,
                                           std::chrono::nanoseconds timeout = seconds(10)) {
  absl::StatusOr<std::unique_ptr<Http1LoadClient>> client = Http1LoadClient::Connect(
      {.host = "127.0.0.1", .port = server.port(), .connections = connections, .timeout = timeout});
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(client).value() : nullptr;
}

OpenLoopSchedule Schedule(double rate, std::chrono::nanoseconds duration) {
  absl::StatusOr<OpenLoopSchedule> schedule = OpenLoopSchedule::Create(rate, duration);
  EXPECT_TRUE(schedule.ok()) << schedule.status();
  return *schedule;
}

// Runs every request of `requests` on `schedule` and returns the outcomes by index.
std::vector<std::optional<HttpOutcome>> RunAll(Http1LoadClient& client,
                                               const OpenLoopSchedule& schedule,
                                               const std::vector<std::string>& requests,
                                               SteadyClock::time_point* start = nullptr) {
  std::vector<std::optional<HttpOutcome>> outcomes(requests.size());
  const SteadyClock::time_point started = client.Run(
      schedule,
      [&](int64_t index) -> std::string_view { return requests[static_cast<std::size_t>(index)]; },
      [&](const HttpOutcome& outcome) {
        std::optional<HttpOutcome>& slot = outcomes[static_cast<std::size_t>(outcome.index)];
        EXPECT_FALSE(slot.has_value()) << "two outcomes for request " << outcome.index;
        slot = outcome;
      });
  if (start != nullptr) *start = started;
  return outcomes;
}

TEST(Http1LoadClientTest, SendsEveryRequestOverKeptAliveConnections) {
  ScriptedServer server([](const RecordedRequest&) { return std::string(kNoContent); });
  std::unique_ptr<Http1LoadClient> client = ConnectTo(server, 4);
  ASSERT_NE(client, nullptr);
  const OpenLoopSchedule schedule = Schedule(2000, milliseconds(25));
  const std::vector<std::string> requests = Requests(schedule.size());
  const auto outcomes = RunAll(*client, schedule, requests);
  for (const std::optional<HttpOutcome>& outcome : outcomes) {
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->status, 204);
    EXPECT_EQ(outcome->error, "");
  }
  std::vector<RecordedRequest> received = server.requests();
  ASSERT_EQ(received.size(), requests.size());
  std::vector<std::string> received_bodies;
  for (const RecordedRequest& request : received) received_bodies.push_back(request.body);
  for (int64_t i = 0; i < schedule.size(); ++i) {
    EXPECT_THAT(received_bodies, ::testing::Contains(absl::StrCat("n=", i)));
  }
  EXPECT_EQ(server.connections_accepted(), 4);
}

TEST(Http1LoadClientTest, TimesEachRequestFromItsDueTime) {
  ScriptedServer server([](const RecordedRequest&) { return std::string(kNoContent); });
  std::unique_ptr<Http1LoadClient> client = ConnectTo(server, 2);
  ASSERT_NE(client, nullptr);
  const OpenLoopSchedule schedule = Schedule(1000, milliseconds(10));
  SteadyClock::time_point start;
  const auto outcomes = RunAll(*client, schedule, Requests(schedule.size()), &start);
  for (int64_t i = 0; i < schedule.size(); ++i) {
    const HttpOutcome& outcome = *outcomes[static_cast<std::size_t>(i)];
    EXPECT_EQ(outcome.due, start + schedule.OffsetOf(i));
    EXPECT_GE(outcome.sent, outcome.due);
    EXPECT_GE(outcome.done, outcome.sent);
  }
}

TEST(Http1LoadClientTest, ARequestWaitsForAFreeConnection) {
  ScriptedServer server([](const RecordedRequest&) { return std::string(kNoContent); });
  std::unique_ptr<Http1LoadClient> client = ConnectTo(server, 1);
  ASSERT_NE(client, nullptr);
  // All ten are due within 10 us, far sooner than one connection can answer them.
  const OpenLoopSchedule schedule = Schedule(1'000'000, std::chrono::microseconds(10));
  const auto outcomes = RunAll(*client, schedule, Requests(schedule.size()));
  for (std::size_t i = 1; i < outcomes.size(); ++i) {
    EXPECT_EQ(outcomes[i]->status, 204);
    EXPECT_GE(outcomes[i]->sent, outcomes[i - 1]->done) << "request " << i;
  }
}

TEST(Http1LoadClientTest, ReportsEachRequestsOwnStatus) {
  ScriptedServer server([](const RecordedRequest& request) {
    return request.body == "n=7" ? std::string(
                                       "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                                       "Content-Length: 11\r\n\r\nunavailable")
                                 : std::string(kNoContent);
  });
  std::unique_ptr<Http1LoadClient> client = ConnectTo(server, 3);
  ASSERT_NE(client, nullptr);
  const OpenLoopSchedule schedule = Schedule(2000, milliseconds(10));
  const auto outcomes = RunAll(*client, schedule, Requests(schedule.size()));
  for (int64_t i = 0; i < schedule.size(); ++i) {
    EXPECT_EQ(outcomes[static_cast<std::size_t>(i)]->status, i == 7 ? 503 : 204) << i;
  }
  EXPECT_EQ(server.connections_accepted(), 3);
}

TEST(Http1LoadClientTest, OpensANewConnectionWhenTheServerClosesOne) {
  ScriptedServer server([](const RecordedRequest&) {
    return std::string("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  });
  std::unique_ptr<Http1LoadClient> client = ConnectTo(server, 2);
  ASSERT_NE(client, nullptr);
  const OpenLoopSchedule schedule = Schedule(1000, milliseconds(6));
  const auto outcomes = RunAll(*client, schedule, Requests(schedule.size()));
  for (const std::optional<HttpOutcome>& outcome : outcomes) EXPECT_EQ(outcome->status, 204);
  // Each request went on a connection of its own. (The replacement opened after the last answer
  // may not be accepted yet.)
  EXPECT_GE(server.connections_accepted(), 6);
}

TEST(Http1LoadClientTest, AnUnansweredRequestTimesOut) {
  ScriptedServer server([](const RecordedRequest& request) -> std::optional<std::string> {
    if (request.body == "n=1") return std::nullopt;
    return std::string(kNoContent);
  });
  std::unique_ptr<Http1LoadClient> client = ConnectTo(server, 2, milliseconds(200));
  ASSERT_NE(client, nullptr);
  const OpenLoopSchedule schedule = Schedule(1000, milliseconds(4));
  const auto outcomes = RunAll(*client, schedule, Requests(schedule.size()));
  EXPECT_EQ(outcomes[1]->status, 0);
  EXPECT_EQ(outcomes[1]->error, "timeout");
  EXPECT_GE(outcomes[1]->done - outcomes[1]->sent, milliseconds(200));
  EXPECT_EQ(outcomes[0]->status, 204);
  EXPECT_EQ(outcomes[2]->status, 204);
  EXPECT_EQ(outcomes[3]->status, 204);
}

TEST(Http1LoadClientTest, AMalformedResponseIsAnErrorAndCostsItsConnection) {
  ScriptedServer server([](const RecordedRequest& request) {
    return request.body == "n=0" ? std::string("SSH-2.0-OpenSSH_9.2\r\n\r\n")
                                 : std::string(kNoContent);
  });
  std::unique_ptr<Http1LoadClient> client = ConnectTo(server, 1);
  ASSERT_NE(client, nullptr);
  const OpenLoopSchedule schedule = Schedule(1000, milliseconds(2));
  const auto outcomes = RunAll(*client, schedule, Requests(schedule.size()));
  EXPECT_EQ(outcomes[0]->status, 0);
  EXPECT_THAT(outcomes[0]->error, StartsWith("malformed response: not an HTTP/1.x status line"));
  EXPECT_EQ(outcomes[1]->status, 204);
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(Http1LoadClientTest, ConnectFailsWhenNothingListens) {
  const int port = klaxon::testing::FreePort();  // nothing listens there
  absl::StatusOr<std::unique_ptr<Http1LoadClient>> client =
      Http1LoadClient::Connect({.host = "127.0.0.1", .port = static_cast<uint16_t>(port)});
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(client.status().message(), HasSubstr("ECONNREFUSED"));
}

TEST(Http1LoadClientTest, ConnectRefusesNoConnections) {
  EXPECT_EQ(
      Http1LoadClient::Connect({.host = "127.0.0.1", .port = 1, .connections = 0}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::bench
