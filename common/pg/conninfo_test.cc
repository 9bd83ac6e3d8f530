#include "common/pg/conninfo.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

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

TEST(WithTlsTest, AddsSslmodeAndRootCertificate) {
  absl::StatusOr<std::string> applied =
      WithTls("postgresql://audit:pw@db:5432/klaxon",
              {.sslmode = "verify-full", .sslrootcert = "/etc/klaxon/pg-ca.crt"});
  ASSERT_TRUE(applied.ok()) << applied.status();
  absl::StatusOr<ConnSettings> settings = ParseConninfo(*applied);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->at("sslmode"), "verify-full");
  EXPECT_EQ(settings->at("sslrootcert"), "/etc/klaxon/pg-ca.crt");
  EXPECT_EQ(settings->at("password"), "pw");
}

TEST(WithTlsTest, ConflictingSslmodeIsAnError) {
  EXPECT_EQ(
      WithTls("postgresql://db/klaxon?sslmode=disable", {.sslmode = "verify-full"}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(WithTls("postgresql://db/klaxon?sslmode=require", {.sslmode = "require"}).ok());
}

class ReadConnectionStringTest : public ::testing::Test {
 protected:
  // Reads `environment` plus a root certificate file; returns the connection's settings (empty
  // on error) and leaves the reader's verdict in status_.
  ConnSettings Read(config::Environment environment) {
    config::Reader reader(std::move(environment));
    const std::string conninfo = ReadConnectionString(reader);
    status_ = reader.Finish();
    if (!status_.ok()) return {};
    return ParseConninfo(conninfo).value_or(ConnSettings{});
  }
  std::string RootCert() {
    const std::string path =
        ::testing::TempDir() + "/conninfo_test_root_" + std::to_string(getpid()) + ".crt";
    std::ofstream(path) << "pem";
    return path;
  }
  absl::Status status_;
};

TEST_F(ReadConnectionStringTest, AppliesTheVariables) {
  const std::string ca = RootCert();
  const ConnSettings settings = Read({{"KLAXON_PG_URL", "postgresql://audit:s3cret@db/klaxon"},
                                      {"KLAXON_PG_SSLMODE", "verify-full"},
                                      {"KLAXON_PG_SSLROOTCERT_FILE", ca}});
  ASSERT_TRUE(status_.ok()) << status_;
  EXPECT_EQ(settings.at("sslmode"), "verify-full");
  EXPECT_EQ(settings.at("sslrootcert"), ca);
  std::remove(ca.c_str());
}

TEST_F(ReadConnectionStringTest, UrlWithoutVariablesIsKeptAsItIs) {
  const ConnSettings settings = Read({{"KLAXON_PG_URL", "postgresql://db/klaxon"}});
  ASSERT_TRUE(status_.ok()) << status_;
  EXPECT_FALSE(settings.contains("sslmode"));
}

TEST_F(ReadConnectionStringTest, SslmodeConflictingWithTheUrlIsAnError) {
  Read({{"KLAXON_PG_URL", "postgresql://audit:s3cret@db/klaxon?sslmode=disable"},
        {"KLAXON_PG_SSLMODE", "require"}});
  EXPECT_THAT(status_.message(),
              HasSubstr("KLAXON_PG_SSLMODE: conflicts with sslmode=disable in KLAXON_PG_URL"));
  EXPECT_THAT(status_.message(), Not(HasSubstr("s3cret")));
}

TEST_F(ReadConnectionStringTest, VerifyFullNeedsARootCertificate) {
  Read({{"KLAXON_PG_URL", "postgresql://db/klaxon"}, {"KLAXON_PG_SSLMODE", "verify-full"}});
  EXPECT_THAT(status_.message(),
              HasSubstr("KLAXON_PG_SSLROOTCERT_FILE: is required with sslmode verify-full"));
}

TEST_F(ReadConnectionStringTest, UnknownSslmodeAndUnreadableRootCertificateAreErrors) {
  Read({{"KLAXON_PG_URL", "postgresql://db/klaxon"},
        {"KLAXON_PG_SSLMODE", "on"},
        {"KLAXON_PG_SSLROOTCERT_FILE", "/nonexistent/ca.crt"}});
  EXPECT_THAT(status_.message(), HasSubstr("KLAXON_PG_SSLMODE: \"on\" is not one of disable"));
  EXPECT_THAT(status_.message(),
              HasSubstr("KLAXON_PG_SSLROOTCERT_FILE: cannot read \"/nonexistent/ca.crt\""));
}

}  // namespace
}  // namespace klaxon::pg
