#include "common/twilio/twilio_rest_client.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/twilio/base_url.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/scripted_http_server.h"

namespace klaxon::twilio {
namespace {

using ::klaxon::testing::RecordedRequest;
using ::klaxon::testing::ScriptedServer;

std::string HttpResponse(int status, absl::string_view body, absl::string_view extra_headers = "") {
  return absl::StrCat("HTTP/1.1 ", status, " X\r\nContent-Type: application/json\r\n",
                      extra_headers, "Content-Length: ", body.size(), "\r\n\r\n", body);
}

constexpr char kMessageJson[] = R"({
  "sid": "SM0123456789abcdef0123456789abcdef", "account_sid": "ACtest", "to": "+15005550006",
  "from": "+15005550001", "body": "hi", "status": "queued", "num_segments": "1",
  "error_code": null, "error_message": null,
  "date_created": "Thu, 30 Jul 2015 20:12:31 +0000", "date_sent": null,
  "date_updated": "Thu, 30 Jul 2015 20:12:33 +0000"})";

constexpr char kCallJson[] = R"({
  "sid": "CA0123456789abcdef0123456789abcdef", "account_sid": "ACtest", "to": "+15005550006",
  "from": "+15005550001", "status": "completed", "duration": "15", "answered_by": "human",
  "price": "-0.01400", "price_unit": "USD",
  "start_time": "Thu, 30 Jul 2015 20:12:31 +0000", "end_time": "Thu, 30 Jul 2015 20:12:46 +0000",
  "date_created": "Thu, 30 Jul 2015 20:12:30 +0000"})";

// GCC 12 warns about members a designated initializer leaves out, so requests are built here.
CreateMessageRequest Sms(std::string to, std::string from, std::string body) {
  CreateMessageRequest request;
  request.to = std::move(to);
  request.from = std::move(from);
  request.body = std::move(body);
  return request;
}

TwilioRestClientOptions Options(std::string base_url) {
  TwilioRestClientOptions options;
  options.base_url = std::move(base_url);
  options.account_sid = "ACtest";
  options.auth_token = "secret";
  return options;
}

std::unique_ptr<TwilioRestClient> MakeClient(const std::string& base_url,
                                             absl::Duration total_timeout = absl::Seconds(10)) {
  TwilioRestClientOptions options = Options(base_url);
  options.total_timeout = total_timeout;
  auto client = TwilioRestClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return std::move(client).value();
}

TEST(TwilioRestClientTest, CreateRejectsMissingAccountSid) {
  TwilioRestClientOptions options = Options("https://api.twilio.com");
  options.account_sid.clear();
  auto client = TwilioRestClient::Create(options);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TwilioRestClientTest, CreateRejectsBaseUrlWithoutScheme) {
  auto client = TwilioRestClient::Create(Options("api.twilio.com"));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckBaseUrlTest, AcceptsHttpsAnywhere) {
  EXPECT_TRUE(CheckBaseUrl("https://api.twilio.com").ok());
  EXPECT_TRUE(CheckBaseUrl("https://twilio-proxy.internal:8443/base").ok());
}

TEST(CheckBaseUrlTest, AcceptsPlainHttpOnlyToLoopback) {
  for (const char* url : {"http://127.0.0.1:9800", "http://127.0.0.1:9800/", "http://[::1]:9800",
                          "http://localhost:9800"}) {
    EXPECT_TRUE(CheckBaseUrl(url).ok()) << url;
  }
}

TEST(CheckBaseUrlTest, RefusesPlainHttpToAnyOtherHost) {
  for (const char* url : {"http://api.twilio.com", "http://10.0.0.7:9800",
                          "http://127.0.0.1.evil.example", "http://user:secret@api.twilio.com"}) {
    const absl::Status status = CheckBaseUrl(url);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_TRUE(absl::StrContains(status.message(), "must be https")) << status;
    EXPECT_FALSE(absl::StrContains(status.message(), "secret")) << status;
  }
}

TEST(CheckBaseUrlTest, RefusesOtherSchemesAndNonUrls) {
  for (const char* url : {"ftp://127.0.0.1", "api.twilio.com", "", "https://"}) {
    EXPECT_EQ(CheckBaseUrl(url).code(), absl::StatusCode::kInvalidArgument) << url;
  }
}

TEST(TwilioRestClientTest, CreateRefusesPlainHttpToARemoteHost) {
  auto client = TwilioRestClient::Create(Options("http://api.twilio.com"));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TwilioRestClientTest, CreateMessageSendsFormWithBasicAuth) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(201, kMessageJson); });
  auto client = MakeClient(server.base_url() + "/");
  CreateMessageRequest request = Sms("+15005550006", "+15005550001", "disk full & 100% hot");
  request.status_callback = "https://hooks.example/s?a=1";
  request.validity_period = absl::Seconds(600);
  const auto result = client->CreateMessage(request);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].request_line, "POST /2010-04-01/Accounts/ACtest/Messages.json HTTP/1.1");
  // base64("ACtest:secret")
  EXPECT_TRUE(absl::StrContains(requests[0].headers, "Authorization: Basic QUN0ZXN0OnNlY3JldA=="));
  EXPECT_TRUE(
      absl::StrContains(requests[0].headers, "Content-Type: application/x-www-form-urlencoded"));
  EXPECT_EQ(requests[0].body,
            "To=%2B15005550006&From=%2B15005550001&Body=disk%20full%20%26%20100%25%20hot"
            "&SmartEncoded=false&StatusCallback=https%3A%2F%2Fhooks.example%2Fs%3Fa%3D1&"
            "ValidityPeriod=600");
}

TEST(TwilioRestClientTest, CreateMessageThroughAMessagingServiceSendsNoFrom) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(201, kMessageJson); });
  auto client = MakeClient(server.base_url());
  const auto result = client->CreateMessage(
      {.to = "+15005550006", .messaging_service_sid = "MG0123456789abcdef", .body = "hi"});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(server.requests()[0].body,
            "To=%2B15005550006&MessagingServiceSid=MG0123456789abcdef"
            "&Body=hi&SmartEncoded=false");
}

TEST(TwilioRestClientTest, CreateMessageParsesResource) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(201, kMessageJson); });
  auto client = MakeClient(server.base_url());
  const auto result = client->CreateMessage(Sms("+15005550006", "+1", "hi"));
  ASSERT_TRUE(result.ok());
  const MessageResource& message = result.value();
  EXPECT_EQ(message.sid, "SM0123456789abcdef0123456789abcdef");
  EXPECT_EQ(message.status, "queued");
  EXPECT_EQ(message.num_segments, 1);
  EXPECT_FALSE(message.charge.has_value());  // no price yet
  EXPECT_FALSE(message.error_code.has_value());
  EXPECT_FALSE(message.date_sent.has_value());
  ASSERT_TRUE(message.date_created.has_value());
  EXPECT_EQ(absl::ToUnixSeconds(*message.date_created), 1438287151);
}

TEST(TwilioRestClientTest, CreateCallRepeatsStatusCallbackEvent) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(201, kCallJson); });
  auto client = MakeClient(server.base_url());
  CreateCallRequest request;
  request.to = "+15005550006";
  request.from = "+15005550001";
  request.twiml = "<Response><Say>Hi</Say></Response>";
  request.status_callback = "https://hooks.example/c";
  request.status_callback_events = {"initiated", "completed"};
  request.machine_detection = "Enable";
  request.timeout = absl::Seconds(30);
  const auto result = client->CreateCall(request);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].request_line, "POST /2010-04-01/Accounts/ACtest/Calls.json HTTP/1.1");
  EXPECT_EQ(requests[0].body,
            "To=%2B15005550006&From=%2B15005550001"
            "&Twiml=%3CResponse%3E%3CSay%3EHi%3C%2FSay%3E%3C%2FResponse%3E"
            "&StatusCallback=https%3A%2F%2Fhooks.example%2Fc&StatusCallbackMethod=POST"
            "&StatusCallbackEvent=initiated&StatusCallbackEvent=completed"
            "&MachineDetection=Enable&Timeout=30");
}

TEST(TwilioRestClientTest, FetchCallParsesDurationTimesAndPrice) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(200, kCallJson); });
  auto client = MakeClient(server.base_url());
  const auto result = client->FetchCall("CA0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(server.requests()[0].request_line,
            "GET /2010-04-01/Accounts/ACtest/Calls/CA0123456789abcdef0123456789abcdef.json "
            "HTTP/1.1");
  EXPECT_EQ(result.value().status, "completed");
  EXPECT_EQ(result.value().duration, absl::Seconds(15));
  EXPECT_EQ(result.value().answered_by, "human");
  ASSERT_TRUE(result.value().charge.has_value());
  EXPECT_EQ(result.value().charge->micros, 14'000);
  EXPECT_EQ(result.value().charge->currency, "USD");
  ASSERT_TRUE(result.value().end_time.has_value());
  EXPECT_EQ(*result.value().end_time - *result.value().start_time, absl::Seconds(15));
}

TEST(TwilioRestClientTest, FetchMessageEscapesSid) {
  ScriptedServer server([](const RecordedRequest&) {
    return HttpResponse(404, R"({"code":20404,"message":"not found","status":404})");
  });
  auto client = MakeClient(server.base_url());
  const auto result = client->FetchMessage("../Calls/x");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(server.requests()[0].request_line,
            "GET /2010-04-01/Accounts/ACtest/Messages/..%2FCalls%2Fx.json HTTP/1.1");
  EXPECT_EQ(result.error().code, 20404);
  EXPECT_EQ(ToStatus(result.error()).code(), absl::StatusCode::kNotFound);
}

TEST(TwilioRestClientTest, ListMessagesFiltersByToAndFrom) {
  ScriptedServer server([](const RecordedRequest&) {
    return HttpResponse(200, R"({"messages": [], "next_page_uri": null, "page": 0})");
  });
  auto client = MakeClient(server.base_url());
  ASSERT_TRUE(client->ListMessages({.to = "+15005550006", .from = "+15005550001"}).ok());
  EXPECT_EQ(server.requests()[0].request_line,
            "GET /2010-04-01/Accounts/ACtest/Messages.json"
            "?To=%2B15005550006&From=%2B15005550001&PageSize=50 HTTP/1.1");
}

TEST(TwilioRestClientTest, ListMessagesWithoutFromListsEverySender) {
  ScriptedServer server([](const RecordedRequest&) {
    return HttpResponse(200, R"({"messages": [], "next_page_uri": null, "page": 0})");
  });
  auto client = MakeClient(server.base_url());
  ASSERT_TRUE(client->ListMessages({.to = "+15005550006"}).ok());
  EXPECT_EQ(server.requests()[0].request_line,
            "GET /2010-04-01/Accounts/ACtest/Messages.json?To=%2B15005550006&PageSize=50 HTTP/1.1");
}

TEST(TwilioRestClientTest, ListMessagesParsesPage) {
  ScriptedServer server([](const RecordedRequest&) {
    return HttpResponse(200, absl::StrCat(R"({"messages": [)", kMessageJson,
                                          R"(], "next_page_uri": "/next", "page": 0})"));
  });
  auto client = MakeClient(server.base_url());
  const auto result = client->ListMessages({.to = "+15005550006", .from = "+15005550001"});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result.value().resources.size(), 1u);
  EXPECT_EQ(result.value().resources[0].body, "hi");
  EXPECT_TRUE(result.value().has_more);
}

TEST(TwilioRestClientTest, ListCallsParsesPage) {
  ScriptedServer server([](const RecordedRequest&) {
    return HttpResponse(200, absl::StrCat(R"({"calls": [)", kCallJson, R"(], "page": 0})"));
  });
  auto client = MakeClient(server.base_url());
  const auto result = client->ListCalls({.to = "+15005550006", .from = "+15005550001"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(server.requests()[0].request_line,
            "GET /2010-04-01/Accounts/ACtest/Calls.json"
            "?To=%2B15005550006&From=%2B15005550001&PageSize=50 HTTP/1.1");
  ASSERT_EQ(result.value().resources.size(), 1u);
  EXPECT_FALSE(result.value().has_more);
}

TEST(TwilioRestClientTest, ListWithoutResourceArrayIsUnknown) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(200, R"({"page": 0})"); });
  auto client = MakeClient(server.base_url());
  const auto result = client->ListCalls({.to = "+15005550006", .from = "+15005550001"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().transport, Transport::kUnknown);
}

TEST(TwilioRestClientTest, TwilioErrorBodyIsParsed) {
  ScriptedServer server([](const RecordedRequest&) {
    return HttpResponse(400, R"({"code":21211,"message":"Invalid 'To' Phone Number",
        "more_info":"https://www.twilio.com/docs/errors/21211","status":400})");
  });
  auto client = MakeClient(server.base_url());
  const auto result = client->CreateMessage(Sms("12", "+15005550001", "x"));
  ASSERT_FALSE(result.ok());
  const TwilioError& error = result.error();
  EXPECT_EQ(error.transport, Transport::kAnswered);
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.code, 21211);
  EXPECT_EQ(error.message, "Invalid 'To' Phone Number");
  EXPECT_EQ(error.more_info, "https://www.twilio.com/docs/errors/21211");
  EXPECT_FALSE(error.retry_after.has_value());
  EXPECT_EQ(ToStatus(error).code(), absl::StatusCode::kInvalidArgument);
}

TEST(TwilioRestClientTest, TooManyRequestsCarriesRetryAfter) {
  ScriptedServer server([](const RecordedRequest&) {
    return HttpResponse(429, R"({"code":20429,"message":"Too Many Requests","status":429})",
                        "Retry-After: 7\r\n");
  });
  auto client = MakeClient(server.base_url());
  const auto result = client->CreateMessage(Sms("+15005550006", "+1", "x"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, 20429);
  EXPECT_EQ(result.error().retry_after, absl::Seconds(7));
  EXPECT_EQ(ToStatus(result.error()).code(), absl::StatusCode::kResourceExhausted);
}

TEST(TwilioRestClientTest, ThrottleCodeUnderAnotherStatusIsResourceExhausted) {
  EXPECT_EQ(ToStatus({.transport = Transport::kAnswered, .http_status = 503, .code = 20429}).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(TwilioRestClientTest, ServerErrorWithoutJsonIsAnswered) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(503, "<html/>"); });
  auto client = MakeClient(server.base_url());
  const auto result = client->FetchMessage("SM1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().transport, Transport::kAnswered);
  EXPECT_EQ(result.error().http_status, 503);
  EXPECT_EQ(result.error().code, 0);
  EXPECT_EQ(ToStatus(result.error()).code(), absl::StatusCode::kUnavailable);
}

TEST(TwilioRestClientTest, UnparseableSuccessIsUnknownOutcome) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(201, "{truncated"); });
  auto client = MakeClient(server.base_url());
  const auto result = client->CreateMessage(Sms("+15005550006", "+1", "x"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().transport, Transport::kUnknown);
}

TEST(TwilioRestClientTest, RefusedConnectionIsNotSent) {
  const int port = klaxon::testing::FreePort();  // nothing listens there
  auto client = MakeClient(absl::StrCat("http://127.0.0.1:", port));
  const auto result = client->CreateMessage(Sms("+15005550006", "+1", "x"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().transport, Transport::kNotSent);
  EXPECT_EQ(ToStatus(result.error()).code(), absl::StatusCode::kUnavailable);
}

TEST(TwilioRestClientTest, TimeoutAfterSendingIsUnknownOutcome) {
  ScriptedServer server([](const RecordedRequest&) { return std::nullopt; });
  auto client = MakeClient(server.base_url(), absl::Milliseconds(300));
  const auto result = client->CreateMessage(Sms("+15005550006", "+1", "x"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().transport, Transport::kUnknown);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(ToStatus(result.error()).code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(TwilioRestClientTest, ACreateLostWithItsKeptConnectionIsUnknownAndNeverSentAgain) {
  std::atomic<int> requests{0};
  ScriptedServer server([&](const RecordedRequest&) -> std::optional<std::string> {
    // The second request is taken, perhaps acted on, and its connection closed unanswered.
    if (++requests == 2) return "";
    return HttpResponse(201, kMessageJson);
  });
  auto client = MakeClient(server.base_url());
  ASSERT_TRUE(client->CreateMessage(Sms("+15005550006", "+1", "first")).ok());
  const auto lost = client->CreateMessage(Sms("+15005550006", "+1", "second"));
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().transport, Transport::kUnknown);
  // libcurl would send a POST again on a new connection, creating the message twice.
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(TwilioRestClientTest, ReusesConnectionAcrossRequests) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(200, kMessageJson); });
  auto client = MakeClient(server.base_url());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->FetchMessage("SM1").ok());
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(TwilioRestClientTest, AsksTheServerToKeepTheConnectionAlive) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(200, kMessageJson); });
  auto client = MakeClient(server.base_url());
  ASSERT_TRUE(client->FetchMessage("SM1").ok());
  EXPECT_TRUE(absl::StrContains(server.requests()[0].headers, "Connection: keep-alive"));
}

TEST(TwilioRestClientTest, ConcurrentRequestsAllSucceed) {
  ScriptedServer server([](const RecordedRequest&) { return HttpResponse(200, kMessageJson); });
  auto client = MakeClient(server.base_url());
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (client->FetchMessage("SM1").ok()) ++successes;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(successes, 40);
  EXPECT_EQ(server.requests().size(), 40u);
}

}  // namespace
}  // namespace klaxon::twilio
