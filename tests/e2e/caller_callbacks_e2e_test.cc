// Caller callbacks end to end (ADR 0028): an SMS alert goes through the real ingress, Kafka,
// sms-worker, sandbox and audit, and audit POSTs each of its status changes to the caller's URL,
// a receiver in this test that answers the first POST 500, lets the second time out, and takes
// the rest. The changes arrive in order, the refused one again first, each signed with the
// caller's secret; another caller's alert, with no callback configured, is never POSTed; an
// alert sent with a callback_url of its own has its changes POSTed there, not to the caller's URL.
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/caller_callbacks/signature.h"
#include "tests/e2e/suite.h"
#include "tests/support/scripted_http_server.h"

namespace klaxon::e2e::caller_callbacks_test {
namespace {

using ::testing::HasSubstr;

constexpr char kSecret[] = "e2e-caller-callback-secret-0123";
constexpr char kRecipient[] = "+14155550181";
constexpr absl::Duration kWait = absl::Seconds(60);

std::string Header(const klaxon::testing::RecordedRequest& request, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(request.headers, "\r\n")) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(line.substr(0, colon), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

class CallerCallbacksE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.env = {{"KLAXON_CALLER_CALLBACKS", absl::StrCat("e2e ", receiver_.base_url(),
                                                                       "/klaxon-events ", kSecret)},
                              {"KLAXON_CALLER_CALLBACK_TIMEOUT", "1s"}}}));
  }

  std::string Send(const std::string& text, const std::string& api_key,
                   const std::string& callback_url = "") {
    alerts::v1::SendAlertRequest request;
    request.set_callback_url(callback_url);
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient(kRecipient);
    request.set_text(text);
    request.set_idempotency_key(absl::StrReplaceAll(text, {{" ", "-"}, {":", ""}}));
    alerts::v1::SendAlertResponse sent;
    const grpc::Status status = suite_.IntakeStub()->SendAlert(
        Suite::CallContext(absl::Seconds(10), api_key).get(), request, &sent);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return sent.alert_id();
  }

  // The receiver: 500 for the first POST, no answer for the second, 204 for the rest.
  std::atomic<int> posts_{0};
  klaxon::testing::ScriptedServer receiver_{
      [this](const klaxon::testing::RecordedRequest&) -> std::optional<std::string> {
        const int number = ++posts_;
        if (number == 1) return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        if (number == 2) return std::nullopt;
        return "HTTP/1.1 204 No Content\r\n\r\n";
      }};
  // The receiver an alert names itself, which takes everything.
  klaxon::testing::ScriptedServer own_receiver_{
      [](const klaxon::testing::RecordedRequest&) -> std::optional<std::string> {
        return "HTTP/1.1 204 No Content\r\n\r\n";
      }};
  Suite suite_;
};

TEST_F(CallerCallbacksE2eKafkaRedisPostgresTest,
       EveryStatusChangeIsPostedInOrderSignedAndRetriedAfterA500AndATimeout) {
  // Another caller's alert first, delivered before the others are sent: audit then reads every
  // topic, so the next alerts' requests are folded before their outcomes (an alert whose request
  // came last would be one change, the status it then held).
  const std::string others = Send("callbacks: another caller's alert", Suite::kOtherApiKey);
  alerts::v1::Alert other_alert;
  for (const absl::Time until = absl::Now() + kWait;
       other_alert.status() != types::v1::ALERT_STATUS_DELIVERED && absl::Now() < until;
       absl::SleepFor(absl::Milliseconds(50))) {
    alerts::v1::GetAlertRequest request;
    request.set_alert_id(others);
    suite_.QueryStub()->GetAlert(Suite::CallContext(absl::Seconds(5), Suite::kOtherApiKey).get(),
                                 request, &other_alert);
  }
  ASSERT_EQ(other_alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  const std::string alert_id = Send("callbacks: disk full on db-1", Suite::kApiKey);
  const std::string own_url = absl::StrCat(own_receiver_.base_url(), "/db-1");
  const std::string own = Send("callbacks: an alert with its own URL", Suite::kApiKey, own_url);
  const alerts::v1::Alert delivered =
      WaitForStatus(*suite_.QueryStub(), alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
  ASSERT_EQ(delivered.status(), types::v1::ALERT_STATUS_DELIVERED) << delivered.reason();

  // Until the receiver has taken the DELIVERED change.
  const absl::Time deadline = absl::Now() + kWait;
  auto took_delivered = [&] {
    const std::vector<klaxon::testing::RecordedRequest> requests = receiver_.requests();
    for (size_t i = 2; i < requests.size(); ++i) {
      if (absl::StrContains(requests[i].body, "ALERT_STATUS_DELIVERED")) return true;
    }
    return false;
  };
  while (!took_delivered() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(took_delivered()) << "the receiver never took the DELIVERED change";

  const std::vector<klaxon::testing::RecordedRequest> requests = receiver_.requests();
  std::vector<std::string> event_ids;
  std::vector<std::string> statuses;
  for (const klaxon::testing::RecordedRequest& request : requests) {
    EXPECT_THAT(request.request_line, HasSubstr("POST /klaxon-events "));
    EXPECT_EQ(Header(request, "Content-Type"), "application/json");
    // Signed with the caller's secret over the timestamp and the body, just now.
    const absl::Status verified = caller_callbacks::Verify(
        kSecret, Header(request, caller_callbacks::kTimestampHeader),
        Header(request, caller_callbacks::kSignatureHeader), request.body, absl::Now());
    EXPECT_TRUE(verified.ok()) << verified;
    EXPECT_FALSE(caller_callbacks::Verify(kSecret,
                                          Header(request, caller_callbacks::kTimestampHeader),
                                          Header(request, caller_callbacks::kSignatureHeader),
                                          request.body + " ", absl::Now())
                     .ok());
    const nlohmann::json event = nlohmann::json::parse(request.body);
    EXPECT_EQ(event.value("alert_id", ""), alert_id);  // never the other caller's alert
    EXPECT_EQ(event.value("caller", ""), "e2e");
    EXPECT_EQ(Header(request, caller_callbacks::kEventIdHeader),
              absl::StrCat(alert_id, "/", event.value("sequence", 0)));
    EXPECT_THAT(request.body, ::testing::Not(HasSubstr("4155550181")));  // no phone number
    event_ids.push_back(Header(request, caller_callbacks::kEventIdHeader));
    statuses.push_back(event.value("status", ""));
  }
  // The first change thrice (500, timeout, taken), then each later one once, in order.
  ASSERT_GE(event_ids.size(), 4u);
  const std::string first = absl::StrCat(alert_id, "/1");
  EXPECT_EQ(event_ids[0], first);
  EXPECT_EQ(event_ids[1], first);
  EXPECT_EQ(event_ids[2], first);
  for (size_t i = 3; i < event_ids.size(); ++i) {
    EXPECT_EQ(event_ids[i], absl::StrCat(alert_id, "/", i - 1)) << "out of order or repeated";
  }
  // QUEUED first and DELIVERED last; between them SENT, and a WAITING for the sender's pace,
  // when audit folded them in first. Twilio's callbacks may arrive out of order, and a
  // DELIVERED folded in before SENT leaves SENT no change to report (the status only rises).
  EXPECT_EQ(statuses[2], "ALERT_STATUS_QUEUED");
  EXPECT_EQ(statuses.back(), "ALERT_STATUS_DELIVERED");
  for (size_t i = 3; i + 1 < statuses.size(); ++i) {
    EXPECT_THAT(statuses[i], ::testing::AnyOf(::testing::Eq("ALERT_STATUS_SENT"),
                                              ::testing::Eq("ALERT_STATUS_WAITING")));
  }

  // The alert with its own URL: each change there, signed with the caller's secret, in order.
  auto own_took_delivered = [&] {
    for (const auto& request : own_receiver_.requests()) {
      if (absl::StrContains(request.body, "ALERT_STATUS_DELIVERED")) return true;
    }
    return false;
  };
  while (!own_took_delivered() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(own_took_delivered()) << "the alert's own URL never got its DELIVERED change";
  int sequence = 0;
  for (const klaxon::testing::RecordedRequest& request : own_receiver_.requests()) {
    EXPECT_THAT(request.request_line, HasSubstr("POST /db-1 "));
    EXPECT_TRUE(caller_callbacks::Verify(
                    kSecret, Header(request, caller_callbacks::kTimestampHeader),
                    Header(request, caller_callbacks::kSignatureHeader), request.body, absl::Now())
                    .ok());
    const nlohmann::json event = nlohmann::json::parse(request.body);
    EXPECT_EQ(event.value("alert_id", ""), own);
    EXPECT_EQ(event.value("sequence", 0), ++sequence);
  }
  const alerts::v1::Alert own_alert =
      WaitForStatus(*suite_.QueryStub(), own, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(own_alert.callback_url(), own_url);

  // The last POST is counted once its answer is settled, a moment after the receiver saw it.
  // Both receivers' 2xx answers.
  const std::string delivered_series =
      absl::StrCat("klaxon_caller_callbacks_total{result=\"delivered\"} ",
                   event_ids.size() - 2 + own_receiver_.requests().size());
  std::string metrics = suite_.Metrics("audit");
  for (int i = 0; i < 50 && !absl::StrContains(metrics, delivered_series); ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    metrics = suite_.Metrics("audit");
  }
  EXPECT_THAT(metrics, HasSubstr(delivered_series));
  EXPECT_THAT(metrics, HasSubstr("klaxon_caller_callbacks_total{result=\"rejected\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("klaxon_caller_callbacks_total{result=\"timed_out\"} 1"));
}

}  // namespace
}  // namespace klaxon::e2e::caller_callbacks_test
