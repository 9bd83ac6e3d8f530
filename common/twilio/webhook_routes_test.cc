#include "common/twilio/webhook_routes.h"

#include "gmock/gmock.h"
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

TEST(ParsePublicBaseUrlTest, AcceptsHttpAndHttpsWithOptionalPrefix) {
  auto url = ParsePublicBaseUrl("https://hooks.example.com:8443/base/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->authority, "hooks.example.com:8443");
  EXPECT_EQ(url->prefix, "/base");
  for (const char* bad : {"hooks.example.com", "ftp://h", "https://", "https://h/p?x=1"}) {
    EXPECT_FALSE(ParsePublicBaseUrl(bad).ok()) << bad;
  }
}

// Twilio refuses a callback URL whose host is not a hostname (21609 on every send), so a
// deployment with one must not start.
TEST(ParsePublicBaseUrlTest, RefusesAHostTwilioRefuses) {
  const absl::StatusOr<PublicBaseUrl> underscore = ParsePublicBaseUrl("https://klaxon_hooks.io/");
  ASSERT_FALSE(underscore.ok());
  EXPECT_THAT(underscore.status().message(), ::testing::HasSubstr("has a host with '_'"));
  for (const char* bad : {"https://hooks.example.com:80a", "https://hooks.example.com:",
                          "https://hooks.example.com:0", "https://hooks.example.com:65536",
                          "https://[::1", "https://[::1]x", "https://[zz]:80", "https://:8080"}) {
    EXPECT_FALSE(ParsePublicBaseUrl(bad).ok()) << bad;
  }
  for (const char* good : {"http://127.0.0.1:8080", "https://[::1]:8443/k", "https://a-b.example",
                           "https://hooks.example.com:65535"}) {
    EXPECT_TRUE(ParsePublicBaseUrl(good).ok()) << good;
  }
}

// Credentials in the URL are Twilio's to send (and part of what it signs): taken as they are,
// and never repeated in an error.
TEST(ParsePublicBaseUrlTest, TakesCredentialsAndNeverRepeatsThem) {
  const absl::StatusOr<PublicBaseUrl> url = ParsePublicBaseUrl("https://klaxon:s3cr_t@hooks.io/k");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->authority, "klaxon:s3cr_t@hooks.io");
  const absl::StatusOr<PublicBaseUrl> bad = ParsePublicBaseUrl("https://klaxon:s3cr_t@hooks_io/");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), ::testing::Not(::testing::HasSubstr("s3cr_t")));
  EXPECT_THAT(bad.status().message(), ::testing::Not(::testing::HasSubstr("hooks_io")));
}

}  // namespace
}  // namespace klaxon::twilio
