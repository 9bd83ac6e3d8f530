#include "common/log/log.h"

#include <thread>
#include <vector>

#include "common/log/memory_sink_lines.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::log {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kNumber[] = "+14155552671";
const absl::Time kNow = absl::FromUnixMillis(1704164645678);  // 2024-01-02T03:04:05.678Z

PhoneRedactor MakeRedactor(std::string key = "0123456789abcdef-test-key") {
  absl::StatusOr<PhoneRedactor> redactor = PhoneRedactor::Create(std::move(key));
  EXPECT_TRUE(redactor.ok()) << redactor.status();
  return *std::move(redactor);
}

// A clock that stays at kNow.
timing::Clock& Stopped() {
  static timing::FakeClock clock(kNow);
  return clock;
}

Logger MakeLogger(Sink& sink, Level min_level = Level::kInfo) {
  return Logger(LoggerOptions{.service = "ingress", .min_level = min_level, .clock = &Stopped()},
                MakeRedactor(), sink);
}

nlohmann::json OnlyLine(const MemorySink& sink) {
  const std::vector<std::string> lines = sink.Lines();
  EXPECT_THAT(lines, SizeIs(1));
  return lines.empty() ? nlohmann::json() : nlohmann::json::parse(lines.front());
}

TEST(LoggerTest, WritesOneJsonObjectWithFixedKeysFirst) {
  MemorySink sink;
  MakeLogger(sink).Info("alert_accepted", {{"alert_id", "018cc820"}, {"attempt", 2}});
  ASSERT_THAT(sink.Lines(), SizeIs(1));
  EXPECT_EQ(sink.Lines().front(),
            "{\"ts\":\"2024-01-02T03:04:05.678Z\",\"level\":\"info\",\"service\":\"ingress\","
            "\"event\":\"alert_accepted\",\"alert_id\":\"018cc820\",\"attempt\":2}");
}

TEST(LoggerTest, EscapesStringsIntoValidJson) {
  MemorySink sink;
  MakeLogger(sink).Warn("odd", {{"reason", "quote \" newline \n tab \t"}, {"bad_utf8", "\xff"}});
  const nlohmann::json line = OnlyLine(sink);
  EXPECT_EQ(line["reason"], "quote \" newline \n tab \t");
  EXPECT_THAT(sink.Lines().front(), Not(HasSubstr("\n")));
}

TEST(LoggerTest, FieldsCannotOverwriteFixedKeys) {
  MemorySink sink;
  MakeLogger(sink).Info("real_event", {{"event", "fake"}, {"level", "debug"}});
  const nlohmann::json line = OnlyLine(sink);
  EXPECT_EQ(line["event"], "real_event");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["field.event"], "fake");
}

TEST(LoggerTest, DropsLinesBelowTheMinimumLevel) {
  MemorySink sink;
  const Logger logger = MakeLogger(sink, Level::kWarn);
  logger.Debug("d");
  logger.Info("i");
  logger.Warn("w");
  logger.Error("e");
  const std::vector<std::string> lines = sink.Lines();
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(nlohmann::json::parse(lines[0])["level"], "warn");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["level"], "error");
}

TEST(LoggerTest, DebugLevelWritesEverything) {
  MemorySink sink;
  const Logger logger = MakeLogger(sink, Level::kDebug);
  EXPECT_TRUE(logger.Enabled(Level::kDebug));
  logger.Debug("d");
  EXPECT_EQ(OnlyLine(sink)["level"], "debug");
}

TEST(LoggerTest, PhoneFieldIsWrittenRedacted) {
  MemorySink sink;
  MakeLogger(sink).Info("sending", {Phone("to", kNumber)});
  const nlohmann::json line = OnlyLine(sink);
  EXPECT_EQ(line["to"], MakeRedactor().Redact(kNumber));
  EXPECT_EQ(line["to"]["cc"], "1");
  EXPECT_EQ(line["to"]["last4"], "2671");
  EXPECT_THAT(sink.Lines().front(), Not(HasSubstr("4155552671")));
}

TEST(PhoneRedactorTest, TokenIsTheRedactedToken) {
  EXPECT_EQ(MakeRedactor().Token(kNumber), MakeRedactor().Redact(kNumber)["token"]);
}

TEST(LoggerTest, PlainStringThatLooksLikeAPhoneIsRedactedToo) {
  MemorySink sink;
  MakeLogger(sink).Info("sending", {{"to", kNumber}, {"nested", {{"from", {kNumber}}}}});
  const nlohmann::json line = OnlyLine(sink);
  EXPECT_EQ(line["to"], MakeRedactor().Redact(kNumber));
  EXPECT_EQ(line["nested"]["from"][0], MakeRedactor().Redact(kNumber));
  EXPECT_THAT(sink.Lines().front(), Not(HasSubstr("4155552671")));
}

TEST(LoggerTest, ConcurrentWritersProduceWholeLines) {
  MemorySink sink;
  const Logger logger = MakeLogger(sink);
  {
    std::vector<std::jthread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&logger, t] {
        for (int i = 0; i < 250; ++i) logger.Info("tick", {{"thread", t}, {"i", i}});
      });
    }
  }
  const std::vector<std::string> lines = sink.Lines();
  ASSERT_THAT(lines, SizeIs(1000));
  for (const std::string& line : lines) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  }
}

TEST(PhoneRedactorTest, TokenIsSixteenHexDigitsAndStableForOneKey) {
  const PhoneRedactor redactor = MakeRedactor();
  const nlohmann::json first = redactor.Redact(kNumber);
  EXPECT_THAT(first["token"].get<std::string>(), ::testing::MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(redactor.Redact(kNumber), first);
  EXPECT_EQ(MakeRedactor().Redact(kNumber), first);
}

TEST(PhoneRedactorTest, TokenMatchesHmacSha256) {
  // HMAC-SHA256("0123456789abcdef-test-key", "+14155552671"), computed with
  // `printf %s +14155552671 | openssl dgst -sha256 -hmac 0123456789abcdef-test-key`.
  EXPECT_EQ(MakeRedactor().Redact(kNumber)["token"], "9e0d114224475f60");
}

TEST(PhoneRedactorTest, TokenDiffersAcrossKeys) {
  EXPECT_NE(MakeRedactor("first-key-0123456789").Redact(kNumber)["token"],
            MakeRedactor("second-key-0123456789").Redact(kNumber)["token"]);
}

TEST(PhoneRedactorTest, TokenDiffersAcrossNumbers) {
  const PhoneRedactor redactor = MakeRedactor();
  EXPECT_NE(redactor.Redact("+14155552671")["token"], redactor.Redact("+14155552672")["token"]);
}

TEST(PhoneRedactorTest, ShortOrUnknownInputRevealsNothingButTheToken) {
  const nlohmann::json redacted = MakeRedactor().Redact("12345");
  EXPECT_EQ(redacted["cc"], "");
  EXPECT_EQ(redacted["last4"], "");
  EXPECT_THAT(redacted.dump(), Not(HasSubstr("12345")));
}

TEST(PhoneRedactorTest, RejectsShortKey) {
  EXPECT_EQ(PhoneRedactor::Create("short").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseLevelTest, RoundTripsEveryLevel) {
  for (Level level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    const absl::StatusOr<Level> parsed = ParseLevel(LevelName(level));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, level);
  }
}

TEST(ParseLevelTest, RejectsUnknownName) {
  EXPECT_EQ(ParseLevel("verbose").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MemorySinkLinesTest, CountsTheLinesHoldingAText) {
  MemorySink sink;
  const Logger logger = MakeLogger(sink);
  logger.Warn("budget_spend_unreadable");
  logger.Info("budget_spend_readable");
  logger.Warn("budget_spend_unreadable");
  EXPECT_EQ(LinesContaining(sink, "budget_spend_unreadable"), 2);
  EXPECT_EQ(LinesContaining(sink, "budget_spend_readable"), 1);
  EXPECT_EQ(LinesContaining(sink, "kafka_down"), 0);
}

}  // namespace
}  // namespace klaxon::log
