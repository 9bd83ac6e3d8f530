#include "common/twilio/webhook_routes.h"

#include "gtest/gtest.h"

namespace klaxon::twilio {
namespace {

TEST(CallbackUrlTest, NamesAlertAndAttempt) {
  EXPECT_EQ(CallbackUrl("https://alerts.example.com", kMessageStatusPath,
                        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 2),
            "https://alerts.example.com/twilio/messages/status"
            "?alert_id=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&attempt=2");
}

TEST(CallbackUrlTest, KeepsPrefixAndDropsTrailingSlash) {
  EXPECT_EQ(CallbackUrl("http://127.0.0.1:8080/klaxon/", kCallStatusPath, "a", 1),
            "http://127.0.0.1:8080/klaxon/twilio/calls/status?alert_id=a&attempt=1");
}

}  // namespace
}  // namespace klaxon::twilio
