#include "common/config/config.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/config/loopback.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A file under the test's temporary directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            (std::string(info->name()) + "_" + std::to_string(getpid()) + ".secret");
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(ReaderTest, FinishIsOkWhenEverythingIsValid) {
  Reader reader(Environment{{"A", "x"}, {"PORT", "8080"}});
  EXPECT_EQ(reader.Required("A"), "x");
  EXPECT_EQ(reader.Int("PORT", 1, 1, 65535), 8080);
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ReaderTest, ListsEveryBadVariableInOneMessage) {
  Reader reader(Environment{{"KLAXON_GRPC_ADDR", "x"}, {"KLAXON_LOG_LEVEL", "loud"}});
  reader.Required("KLAXON_KAFKA_BROKERS");
  reader.HostPortValue("KLAXON_GRPC_ADDR", "127.0.0.1:50051");
  reader.Enum("KLAXON_LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
  const absl::Status status = reader.Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "invalid configuration: KLAXON_KAFKA_BROKERS is required; KLAXON_GRPC_ADDR: \"x\" is "
            "not host:port; KLAXON_LOG_LEVEL: \"loud\" is not one of debug, info, warn, error");
}

TEST(ReaderTest, EmptyValueCountsAsUnset) {
  Reader reader(Environment{{"A", ""}});
  EXPECT_EQ(reader.Optional("A", "fallback"), "fallback");
  reader.Required("A");
  EXPECT_THAT(reader.Finish().message(), HasSubstr("A is required"));
}

TEST(ReaderTest, SecretReadsTheVariable) {
  Reader reader(Environment{{"TOKEN", "s3cret"}});
  EXPECT_EQ(reader.Secret("TOKEN"), "s3cret");
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ReaderTest, SecretReadsTheFileTrimmed) {
  TempFile file("  s3cret\n");
  Reader reader(Environment{{"TOKEN_FILE", file.path()}});
  EXPECT_EQ(reader.Secret("TOKEN"), "s3cret");
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ReaderTest, ProcessReaderRemovesASecretFromTheEnvironmentOnceRead) {
  ::setenv("KLAXON_CONFIG_TEST_TOKEN", "s3cret", 1);
  ::setenv("KLAXON_CONFIG_TEST_PLAIN", "kept", 1);
  Reader reader = Reader::ForProcess();
  EXPECT_EQ(reader.Secret("KLAXON_CONFIG_TEST_TOKEN"), "s3cret");
  EXPECT_EQ(reader.Required("KLAXON_CONFIG_TEST_PLAIN"), "kept");
  EXPECT_EQ(std::getenv("KLAXON_CONFIG_TEST_TOKEN"), nullptr);
  EXPECT_STREQ(std::getenv("KLAXON_CONFIG_TEST_PLAIN"), "kept");
  EXPECT_TRUE(reader.Finish().ok());
  ::unsetenv("KLAXON_CONFIG_TEST_PLAIN");
}

TEST(ReaderTest, ReaderOfAGivenEnvironmentLeavesTheProcessAlone) {
  ::setenv("KLAXON_CONFIG_TEST_TOKEN", "s3cret", 1);
  Reader reader(FromProcessEnvironment());
  EXPECT_EQ(reader.Secret("KLAXON_CONFIG_TEST_TOKEN"), "s3cret");
  EXPECT_STREQ(std::getenv("KLAXON_CONFIG_TEST_TOKEN"), "s3cret");
  ::unsetenv("KLAXON_CONFIG_TEST_TOKEN");
}

TEST(ReaderTest, SecretMissingNamesBothVariables) {
  Reader reader(Environment{});
  reader.Secret("TOKEN");
  EXPECT_EQ(reader.Finish().message(), "invalid configuration: TOKEN (or TOKEN_FILE) is required");
}

TEST(ReaderTest, OptionalSecretMayBeMissingButIsCheckedWhenSet) {
  Reader missing(Environment{});
  EXPECT_EQ(missing.OptionalSecret("TOKEN"), "");
  EXPECT_TRUE(missing.Finish().ok());
  TempFile file("s3cret\n");
  Reader from_file(Environment{{"TOKEN_FILE", file.path()}});
  EXPECT_EQ(from_file.OptionalSecret("TOKEN"), "s3cret");
  Reader twice(Environment{{"TOKEN", "a"}, {"TOKEN_FILE", file.path()}});
  twice.OptionalSecret("TOKEN");
  EXPECT_THAT(twice.Finish().message(), HasSubstr("not both"));
}

TEST(ReaderTest, SecretSetTwiceIsAnErrorThatDoesNotEchoTheValue) {
  TempFile file("from-file");
  Reader reader(Environment{{"TOKEN", "hunter2"}, {"TOKEN_FILE", file.path()}});
  reader.Secret("TOKEN");
  const absl::Status status = reader.Finish();
  EXPECT_THAT(status.message(), HasSubstr("set either TOKEN or TOKEN_FILE, not both"));
  EXPECT_THAT(status.message(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(status.message(), Not(HasSubstr("from-file")));
}

TEST(ReaderTest, SecretFileThatCannotBeOpenedIsNamed) {
  Reader reader(Environment{{"TOKEN_FILE", "/nonexistent/klaxon/token"}});
  reader.Secret("TOKEN");
  EXPECT_EQ(reader.Finish().message(),
            "invalid configuration: TOKEN_FILE: cannot open \"/nonexistent/klaxon/token\"");
}

TEST(ReaderTest, SecretFileThatIsBlankIsAnError) {
  TempFile file(" \n");
  Reader reader(Environment{{"TOKEN_FILE", file.path()}});
  reader.Secret("TOKEN");
  EXPECT_THAT(reader.Finish().message(), HasSubstr("TOKEN_FILE: file"));
}

TEST(ReaderTest, HostPortUsesTheDefault) {
  Reader reader(Environment{});
  EXPECT_EQ(reader.HostPortValue("ADDR", "127.0.0.1:9464"),
            (HostPort{.host = "127.0.0.1", .port = 9464}));
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(IsLoopbackHostTest, AcceptsLocalhostAndLoopbackLiterals) {
  for (const char* host : {"localhost", "LocalHost", "127.0.0.1", "127.3.2.1", "::1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
}

TEST(IsLoopbackHostTest, RefusesEveryOtherHost) {
  for (const char* host : {"", "api.twilio.com", "localhost.example.com", "128.0.0.1", "10.0.0.1",
                           "0.0.0.0", "::", "::2", "[::1]", "127.0.0.1.nip.io"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(ReaderTest, HostPortListParsesEveryBroker) {
  Reader reader(Environment{{"BROKERS", "kafka-0:9092, kafka-1:9092"}});
  EXPECT_EQ(reader.HostPortList("BROKERS"),
            (std::vector<HostPort>{{.host = "kafka-0", .port = 9092},
                                   {.host = "kafka-1", .port = 9092}}));
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ReaderTest, HostPortListRejectsABadItem) {
  Reader reader(Environment{{"BROKERS", "kafka-0:9092,kafka-1"}});
  reader.HostPortList("BROKERS");
  EXPECT_EQ(reader.Finish().message(),
            "invalid configuration: BROKERS: \"kafka-1\" is not host:port");
}

TEST(ReaderTest, IntOutOfRangeIsAnError) {
  Reader reader(Environment{{"N", "70000"}});
  EXPECT_EQ(reader.Int("N", 5, 1, 65535), 5);
  EXPECT_EQ(reader.Finish().message(), "invalid configuration: N: 70000 is not in [1, 65535]");
}

TEST(ReaderTest, IntThatIsNotANumberIsAnError) {
  Reader reader(Environment{{"N", "12abc"}});
  reader.Int("N", 5, 1, 100);
  EXPECT_EQ(reader.Finish().message(), "invalid configuration: N: \"12abc\" is not an integer");
}

TEST(ReaderTest, BoolAcceptsOnlyKnownSpellings) {
  Reader reader(Environment{{"A", "true"}, {"B", "0"}, {"C", "yes"}});
  EXPECT_TRUE(reader.Bool("A", false));
  EXPECT_FALSE(reader.Bool("B", true));
  reader.Bool("C", false);
  EXPECT_THAT(reader.Finish().message(), HasSubstr("C: \"yes\" is not one of true, false, 1, 0"));
}

TEST(ReaderTest, DurationParsesAbslSyntax) {
  Reader reader(Environment{{"D", "1m30s"}});
  EXPECT_EQ(reader.Duration("D", absl::Seconds(1), absl::ZeroDuration(), absl::Hours(1)),
            absl::Seconds(90));
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ReaderTest, DurationOutOfRangeIsAnError) {
  Reader reader(Environment{{"D", "2h"}});
  reader.Duration("D", absl::Seconds(1), absl::ZeroDuration(), absl::Hours(1));
  EXPECT_EQ(reader.Finish().message(), "invalid configuration: D: 2h is not in [0, 1h]");
}

TEST(ReaderTest, DurationWithoutUnitIsAnError) {
  Reader reader(Environment{{"D", "30"}});
  reader.Duration("D", absl::Seconds(1), absl::ZeroDuration(), absl::Hours(1));
  EXPECT_THAT(reader.Finish().message(), HasSubstr("D: \"30\" is not a duration"));
}

TEST(ReaderTest, UrlAcceptsAllowedScheme) {
  Reader reader(Environment{{"U", "redis://cache:6379/0"}});
  EXPECT_EQ(reader.Url("U", "", {"redis"}), "redis://cache:6379/0");
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ReaderTest, UnsetUrlWithEmptyDefaultIsNotConfigured) {
  Reader reader(Environment{});
  EXPECT_EQ(reader.Url("U", "", {"https"}), "");
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ReaderTest, UrlWithWrongSchemeDoesNotEchoCredentials) {
  Reader reader(Environment{{"U", "mysql://user:hunter2@db/klaxon"}});
  reader.Url("U", "", {"postgresql", "postgres"});
  const absl::Status status = reader.Finish();
  EXPECT_EQ(status.message(),
            "invalid configuration: U: scheme \"mysql\" is not one of postgresql, postgres");
}

TEST(ReaderTest, UrlWithoutHostIsAnError) {
  Reader reader(Environment{{"U", "https:///path"}});
  reader.Url("U", "", {"https"});
  EXPECT_EQ(reader.Finish().message(), "invalid configuration: U: the URL has no host");
}

TEST(ReaderTest, FileContentsReadsTheFileTheVariableNames) {
  TempFile file("{\"rules\": []}\n");
  Reader reader(Environment{{"RULES_FILE", file.path()}});
  EXPECT_EQ(reader.FileContents("RULES_FILE"), "{\"rules\": []}\n");
  EXPECT_EQ(reader.FileContents("UNSET_FILE"), std::nullopt);
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ReaderTest, FileContentsNamesTheVariableAndPathItCannotRead) {
  Reader reader(Environment{{"RULES_FILE", "/nonexistent/rules.json"}});
  EXPECT_EQ(reader.FileContents("RULES_FILE"), std::nullopt);
  EXPECT_THAT(std::string(reader.Finish().message()),
              HasSubstr("RULES_FILE: cannot open \"/nonexistent/rules.json\""));
}

TEST(ReaderTest, AddErrorJoinsTheMessage) {
  Reader reader(Environment{});
  reader.AddError("A", "must be smaller than B");
  EXPECT_EQ(reader.Finish().message(), "invalid configuration: A: must be smaller than B");
}

constexpr NamedList kQuotas{.variable = "QUOTAS", .form = "<name>=<rate>, e.g. pager=5/1s"};

TEST(SplitNamedValuesTest, SplitsTrimmedEntriesInOrder) {
  const absl::StatusOr<std::vector<NamedValue>> entries =
      SplitNamedValues(" pager = 5/1s ,, *=1=2,billing=", kQuotas);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(*entries,
            (std::vector<NamedValue>{{.entry = "pager = 5/1s", .name = "pager", .value = "5/1s"},
                                     {.entry = "*=1=2", .name = "*", .value = "1=2"},
                                     {.entry = "billing=", .name = "billing", .value = ""}}));
}

TEST(SplitNamedValuesTest, EmptyTextIsNoEntries) {
  EXPECT_TRUE(SplitNamedValues("", kQuotas).value().empty());
  EXPECT_TRUE(SplitNamedValues(" , ", kQuotas).value().empty());
}

TEST(SplitNamedValuesTest, AnEntryWithoutANameIsNamedWithTheVariable) {
  for (const char* text : {"pager", "=5/1s", " = 5/1s"}) {
    const absl::Status status = SplitNamedValues(text, kQuotas).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.message(), HasSubstr("QUOTAS: entry \""));
    EXPECT_THAT(status.message(), HasSubstr("is not <name>=<rate>, e.g. pager=5/1s"));
  }
  EXPECT_EQ(SplitNamedValues("a=1, pager", kQuotas).status().message(),
            "QUOTAS: entry \"pager\" is not <name>=<rate>, e.g. pager=5/1s");
}

TEST(SplitNamedValuesTest, ANameGivenTwiceIsNamedWithTheVariable) {
  const absl::Status status = SplitNamedValues("a=1, b=2, a =3", kQuotas).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "QUOTAS: \"a\" is given twice");
}

TEST(ReaderTest, AddErrorOfAStatusKeepsItsMessage) {
  Reader reader(Environment{});
  reader.AddError(absl::InvalidArgumentError("QUOTAS: \"a\" is given twice"));
  EXPECT_EQ(reader.Finish().message(), "invalid configuration: QUOTAS: \"a\" is given twice");
}

TEST(ParseHostPortTest, AcceptsBracketedIpv6) {
  const absl::StatusOr<HostPort> parsed = ParseHostPort("[::1]:0");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (HostPort{.host = "::1", .port = 0}));
  EXPECT_EQ(parsed->ToString(), "[::1]:0");
}

TEST(ParseHostPortTest, RejectsMalformedText) {
  for (const char* text :
       {"", "host", ":80", "host:", "host:65536", "host:-1", "::1:80", "[::1]"}) {
    EXPECT_EQ(ParseHostPort(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(FromProcessEnvironmentTest, SeesTheProcessEnvironment) {
  ASSERT_EQ(setenv("KLAXON_CONFIG_TEST_VARIABLE", "a=b", 1), 0);
  const Environment environment = FromProcessEnvironment();
  unsetenv("KLAXON_CONFIG_TEST_VARIABLE");
  const auto it = environment.find("KLAXON_CONFIG_TEST_VARIABLE");
  ASSERT_NE(it, environment.end());
  EXPECT_EQ(it->second, "a=b");
}

TEST(ExitOnErrorTest, ReturnsWhenOk) { ExitOnError(absl::OkStatus(), "test"); }

TEST(ExitOnErrorDeathTest, PrintsJsonAndExitsWithTwo) {
  EXPECT_EXIT(
      ExitOnError(absl::InvalidArgumentError("invalid configuration: A is required"), "ingress"),
      ::testing::ExitedWithCode(2),
      "\\{\"ts\":\"[0-9T:.-]+Z\",\"level\":\"error\",\"service\":\"ingress\","
      "\"event\":\"invalid_configuration\",\"error\":\"invalid configuration: A is "
      "required\"\\}");
}

}  // namespace
}  // namespace klaxon::config
