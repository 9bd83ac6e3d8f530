#include "common/pg/conninfo.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::pg {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConninfoTest, ParsesUrlIntoKeywords) {
  absl::StatusOr<ConnSettings> settings =
      ParseConninfo("postgresql://audit:s3cret@db.internal:6543/klaxon?sslmode=require");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->at("host"), "db.internal");
  EXPECT_EQ(settings->at("port"), "6543");
  EXPECT_EQ(settings->at("user"), "audit");
  EXPECT_EQ(settings->at("password"), "s3cret");
  EXPECT_EQ(settings->at("dbname"), "klaxon");
  EXPECT_EQ(settings->at("sslmode"), "require");
}

TEST(ConninfoTest, FormattedSettingsParseBackUnchanged) {
  const ConnSettings original = {{"host", "h"}, {"password", "it's a \\ test"}, {"dbname", "d b"}};
  absl::StatusOr<ConnSettings> parsed = ParseConninfo(FormatConninfo(original));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, original);
}

TEST(ConninfoTest, WithDatabaseNameReplacesOnlyTheDatabase) {
  absl::StatusOr<std::string> url =
      WithDatabaseName("postgresql://postgres@127.0.0.1:5432/postgres", "klaxon_test_1");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<ConnSettings> parsed = ParseConninfo(*url);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->at("dbname"), "klaxon_test_1");
  EXPECT_EQ(parsed->at("host"), "127.0.0.1");
  EXPECT_EQ(parsed->at("user"), "postgres");
}

TEST(ConninfoTest, MalformedStringIsInvalidArgumentWithoutEchoingIt) {
  absl::StatusOr<ConnSettings> settings = ParseConninfo("postgresql://u:hunter2@h/d?bogus=1");
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(settings.status().message(), Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace klaxon::pg
