#include "tools/klaxonctl/caller_callbacks.h"

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/ids/id_generator.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::ctl {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kSecret[] = "whsec_test_3f9a";
constexpr char kBody[] =
    R"({"alert_id":"0190c4d2-7a5e-7c1b-9f3e-2b8d4a6c1e90","sequence":1,"status":"delivered"})";
// `printf '%s' "1700000000.$kBody" | openssl dgst -sha256 -hmac whsec_test_3f9a`, the vector of
// common/caller_callbacks/signature_test.cc.
constexpr char kTimestamp[] = "1700000000";
constexpr char kSignature[] = "v1=aa59c04b5e22a5a6548ad39e72336a3357422bafe1423a1c5b04da8b2cacdbe5";
constexpr char kHeaders[] =
    "Klaxon-Timestamp: 1700000000\n"
    "Klaxon-Signature: v1=aa59c04b5e22a5a6548ad39e72336a3357422bafe1423a1c5b04da8b2cacdbe5\n";

// klaxonctl's command line with files served from `files_`, standard input from `stdin_`, and the
// clock at kTimestamp.
class CallbacksCommandTest : public ::testing::Test {
 protected:
  CallbacksCommandTest() {
    files_["secret"] = std::string(kSecret) + "\n";
    files_["body.json"] = kBody;
  }

  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), "klaxonctl");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    const CliDependencies deps{
        .make_intake = [](const Endpoint&) { return nullptr; },
        .make_query = [](const Endpoint&) { return nullptr; },
        .get_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
        .idempotency_keys = idempotency_keys_,
        .read_file = [this](const std::string& path) -> absl::StatusOr<std::string> {
          const auto found = files_.find(path);
          if (found == files_.end()) return absl::NotFoundError(path + ": no such file");
          return found->second;
        },
        .read_stdin = [this]() -> absl::StatusOr<std::string> { return stdin_; },
        .clock = clock_,
        .out = out_,
        .err = err_,
    };
    return RunCli(static_cast<int>(argv.size()), argv.data(), deps);
  }

  // `callbacks verify` of body.json with the given headers.
  int Verify(const std::string& timestamp, const std::string& signature,
             std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"callbacks",   "verify",    "--secret-file", "secret",
                                     "--body-file", "body.json", "--timestamp",   timestamp,
                                     "--signature", signature};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  // The value of `name` in the header lines `callbacks sign` printed.
  std::string Header(const std::string& name) const {
    std::istringstream lines(out_.str());
    const std::string prefix = name + ": ";
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(prefix)) return line.substr(prefix.size());
    }
    ADD_FAILURE() << name << " not printed in " << out_.str();
    return "";
  }

  timing::FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  ids::CountingIdGenerator idempotency_keys_{"unused-"};
  std::ostringstream out_;
  std::ostringstream err_;
  std::map<std::string, std::string> files_;
  absl::StatusOr<std::string> stdin_ = std::string();
};

TEST_F(CallbacksCommandTest, SignPrintsBothHeadersAtTheClocksNow) {
  EXPECT_EQ(Run({"callbacks", "sign", "--secret-file", "secret", "--body-file", "body.json"}),
            kExitOk);
  EXPECT_EQ(out_.str(), kHeaders);
  EXPECT_THAT(err_.str(), IsEmpty());
}

TEST_F(CallbacksCommandTest, SignReadsTheBodyFromStandardInput) {
  stdin_ = kBody;
  EXPECT_EQ(Run({"callbacks", "sign", "--secret-file", "secret"}), kExitOk);
  EXPECT_EQ(out_.str(), kHeaders);
}

TEST_F(CallbacksCommandTest, SignAtTheGivenTimestamp) {
  EXPECT_EQ(Run({"callbacks", "sign", "--secret-file", "secret", "--body-file", "body.json",
                 "--timestamp", "1700000123"}),
            kExitOk);
  EXPECT_EQ(Header("Klaxon-Timestamp"), "1700000123");
  EXPECT_EQ(Header("Klaxon-Signature"), caller_callbacks::Sign(kSecret, 1'700'000'123, kBody));
}

TEST_F(CallbacksCommandTest, SignRejectsATimestampThatIsNotUnixSeconds) {
  EXPECT_EQ(Run({"callbacks", "sign", "--secret-file", "secret", "--body-file", "body.json",
                 "--timestamp", "2026-11-20T08:00:00Z"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--timestamp must be unix seconds"));
  EXPECT_THAT(out_.str(), IsEmpty());
}

TEST_F(CallbacksCommandTest, SecretWithoutItsNewlineSignsTheSame) {
  for (const std::string& secret_file : {std::string(kSecret), std::string(kSecret) + "\r\n"}) {
    files_["secret"] = secret_file;
    out_.str("");
    EXPECT_EQ(Run({"callbacks", "sign", "--secret-file", "secret", "--body-file", "body.json"}),
              kExitOk);
    EXPECT_EQ(out_.str(), kHeaders);
  }
}

TEST_F(CallbacksCommandTest, SignedHeadersVerify) {
  ASSERT_EQ(Run({"callbacks", "sign", "--secret-file", "secret", "--body-file", "body.json"}),
            kExitOk);
  const std::string timestamp = Header("Klaxon-Timestamp");
  const std::string signature = Header("Klaxon-Signature");
  out_.str("");
  EXPECT_EQ(Verify(timestamp, signature), kExitOk);
  EXPECT_EQ(out_.str(), "signature valid\n");
  EXPECT_THAT(err_.str(), IsEmpty());
}

TEST_F(CallbacksCommandTest, VerifyReadsTheBodyFromStandardInput) {
  stdin_ = kBody;
  EXPECT_EQ(Run({"callbacks", "verify", "--secret-file", "secret", "--timestamp", kTimestamp,
                 "--signature", kSignature}),
            kExitOk);
}

TEST_F(CallbacksCommandTest, VerifyRejectsATamperedBody) {
  files_["body.json"] = R"({"alert_id":"0190c4d2-7a5e-7c1b-9f3e-2b8d4a6c1e90","sequence":1,)"
                        R"("status":"failed"})";
  EXPECT_EQ(Verify(kTimestamp, kSignature), kExitFailure);
  EXPECT_THAT(out_.str(), IsEmpty());
  EXPECT_EQ(err_.str(),
            "klaxonctl: no v1 signature matches the body and timestamp: the secret is wrong or "
            "the body was changed (verify the raw body bytes, before any JSON parsing)\n");
}

TEST_F(CallbacksCommandTest, VerifyRejectsAnotherSecretWithoutPrintingEither) {
  files_["secret"] = "whsec_rotated_Zq9\n";
  EXPECT_EQ(Verify(kTimestamp, kSignature), kExitFailure);
  EXPECT_THAT(out_.str() + err_.str(),
              AllOf(Not(HasSubstr("whsec_rotated_Zq9")), Not(HasSubstr(kSecret))));
}

TEST_F(CallbacksCommandTest, VerifyRejectsAStaleTimestamp) {
  clock_.Advance(absl::Seconds(301));
  EXPECT_EQ(Verify(kTimestamp, kSignature), kExitFailure);
  EXPECT_EQ(err_.str(),
            "klaxonctl: Klaxon-Timestamp is 301 s old, beyond the 300 s tolerance: a replay or a "
            "delayed delivery; refuse it\n");
}

TEST_F(CallbacksCommandTest, VerifyAcceptsATimestampAtTheTolerance) {
  clock_.Advance(absl::Seconds(300));
  EXPECT_EQ(Verify(kTimestamp, kSignature), kExitOk);
}

TEST_F(CallbacksCommandTest, VerifyTakesAWiderTolerance) {
  clock_.Advance(absl::Minutes(9));
  EXPECT_EQ(Verify(kTimestamp, kSignature, {"--tolerance", "10m"}), kExitOk);
  EXPECT_EQ(Verify(kTimestamp, kSignature, {"--tolerance", "600"}), kExitOk);
}

TEST_F(CallbacksCommandTest, VerifyTakesANarrowerTolerance) {
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(Verify(kTimestamp, kSignature, {"--tolerance", "30s"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("beyond the 30 s tolerance"));
}

TEST_F(CallbacksCommandTest, VerifyRejectsAFutureTimestamp) {
  clock_.Advance(-absl::Seconds(301));
  EXPECT_EQ(Verify(kTimestamp, kSignature), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("301 s in the future"));
}

TEST_F(CallbacksCommandTest, VerifyRejectsMalformedHeaders) {
  EXPECT_EQ(Verify("abc", kSignature), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("Klaxon-Timestamp \"abc\" is not a whole number of seconds"));
  EXPECT_EQ(Verify(kTimestamp, "sha256=abc"), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("Klaxon-Signature holds no v1= signature"));
}

TEST_F(CallbacksCommandTest, BadToleranceIsAUsageError) {
  EXPECT_EQ(Verify(kTimestamp, kSignature, {"--tolerance", "soon"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--tolerance must be a positive duration"));
  EXPECT_EQ(Verify(kTimestamp, kSignature, {"--tolerance", "0s"}), kExitUsage);
}

TEST_F(CallbacksCommandTest, UnreadableSecretFileIsAUsageError) {
  files_.erase("secret");
  EXPECT_EQ(Verify(kTimestamp, kSignature), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("cannot read --secret-file: secret: no such file"));
}

TEST_F(CallbacksCommandTest, EmptySecretFileIsAUsageError) {
  files_["secret"] = "\n";
  EXPECT_EQ(Run({"callbacks", "sign", "--secret-file", "secret", "--body-file", "body.json"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("holds no secret"));
  EXPECT_THAT(out_.str(), IsEmpty());
}

TEST_F(CallbacksCommandTest, UnreadableBodyIsAUsageError) {
  EXPECT_EQ(Run({"callbacks", "verify", "--secret-file", "secret", "--body-file", "missing.json",
                 "--timestamp", kTimestamp, "--signature", kSignature}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("cannot read --body-file: missing.json: no such file"));
  stdin_ = absl::FailedPreconditionError("standard input: Input/output error");
  EXPECT_EQ(Run({"callbacks", "sign", "--secret-file", "secret"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("cannot read the body from standard input"));
}

TEST_F(CallbacksCommandTest, VerifyNeedsBothHeaders) {
  EXPECT_EQ(Run({"callbacks", "verify", "--secret-file", "secret", "--body-file", "body.json",
                 "--signature", kSignature}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--timestamp"));
  EXPECT_EQ(Run({"callbacks", "verify", "--secret-file", "secret", "--body-file", "body.json",
                 "--timestamp", kTimestamp}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--signature"));
}

TEST_F(CallbacksCommandTest, NeedsNoApiKey) {
  EXPECT_EQ(Verify(kTimestamp, kSignature), kExitOk);
  EXPECT_THAT(err_.str(), Not(HasSubstr("--api-key")));
}

TEST_F(CallbacksCommandTest, CallbacksWithoutACommandIsAUsageError) {
  EXPECT_EQ(Run({"callbacks"}), kExitUsage);
}

}  // namespace
}  // namespace klaxon::ctl
