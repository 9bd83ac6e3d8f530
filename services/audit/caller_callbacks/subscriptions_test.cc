#include "services/audit/caller_callbacks/subscriptions.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::audit::subscriptions_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(CallbackSubscriptionsTest, ParsesOneCallerPerLine) {
  auto parsed = CallbackSubscriptions::Parse(
      "# teams told of their alerts\n"
      "oncall https://hooks.example.com/klaxon 0123456789abcdef0123\n"
      "\n"
      "  billing   http://127.0.0.1:9000/cb   another-secret-of-length\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_NE(parsed->Find("oncall"), nullptr);
  EXPECT_EQ(parsed->Find("oncall")->url, "https://hooks.example.com/klaxon");
  EXPECT_EQ(parsed->Find("oncall")->secret, "0123456789abcdef0123");
  EXPECT_EQ(parsed->Find("billing")->url, "http://127.0.0.1:9000/cb");
  EXPECT_EQ(parsed->Find("payments"), nullptr);
  EXPECT_THAT(parsed->Callers(), ElementsAre("billing", "oncall"));
}

TEST(CallbackSubscriptionsTest, AnEmptyDocumentSubscribesNobody) {
  auto parsed = CallbackSubscriptions::Parse("");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->empty());
}

TEST(CallbackSubscriptionsTest, NamesTheLineAndCallerOfAProblemButNeverTheSecret) {
  auto short_secret = CallbackSubscriptions::Parse("\noncall https://h.example/cb tooshort\n");
  ASSERT_FALSE(short_secret.ok());
  EXPECT_THAT(short_secret.status().message(), HasSubstr("line 2 (caller \"oncall\")"));
  EXPECT_THAT(short_secret.status().message(), HasSubstr("at least 16 bytes"));
  EXPECT_THAT(short_secret.status().message(), Not(HasSubstr("tooshort")));

  auto bad_url = CallbackSubscriptions::Parse("oncall ftp://h.example/cb 0123456789abcdef0123");
  ASSERT_FALSE(bad_url.ok());
  EXPECT_THAT(bad_url.status().message(), HasSubstr("must start with https://"));
  EXPECT_THAT(bad_url.status().message(), Not(HasSubstr("0123456789abcdef0123")));

  auto no_host = CallbackSubscriptions::Parse("oncall https://:443/cb 0123456789abcdef0123");
  ASSERT_FALSE(no_host.ok());
  EXPECT_THAT(no_host.status().message(), HasSubstr("line 1 (caller \"oncall\"): the URL"));

  auto relative = CallbackSubscriptions::Parse("oncall /klaxon/cb 0123456789abcdef0123");
  ASSERT_FALSE(relative.ok());
  EXPECT_THAT(relative.status().message(), HasSubstr("the URL does not parse"));

  auto missing = CallbackSubscriptions::Parse("oncall https://h.example/cb");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("expected \"<caller> <url> <secret>\""));

  auto twice = CallbackSubscriptions::Parse(
      "oncall https://a.example/cb 0123456789abcdef0123\n"
      "oncall https://b.example/cb 0123456789abcdef0123\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("line 2: caller \"oncall\" is listed twice"));
}

}  // namespace
}  // namespace klaxon::audit::subscriptions_test
