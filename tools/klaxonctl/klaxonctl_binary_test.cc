// Runs the built klaxonctl (KLAXONCTL_BINARY) as a shell would and checks the exit codes scripts
// rely on: `twilio verify` and `callbacks verify` exit 0 for a valid signature, 1 for an invalid
// one, 2 on a usage error.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace klaxon::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUrl[] = "https://mycompany.com/myapp.php?foo=1&bar=2";
// The first vector of ../shared/twilio/TWILIO.md (token 12345).
const std::vector<std::string> kRequest = {"--url",   kUrl,
                                           "--param", "CallSid=CA1234567890ABCDE",
                                           "--param", "Caller=+14158675309",
                                           "--param", "Digits=1234",
                                           "--param", "From=+14158675309",
                                           "--param", "To=+18005551212"};

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class KlaxonctlBinaryTest : public ::testing::Test {
 protected:
  Result Run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {KLAXONCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    // Only the sanitizer settings of the test run: no KLAXON_* variable can change the outcome.
    const std::map<std::string, std::string> env = klaxon::testing::SanitizerEnvironment();
    // ChildProcess appends to its log; a log left by an earlier run of this test must go.
    const std::string log = Path(absl::StrCat("run-", ++runs_, ".log"));
    std::remove(log.c_str());
    klaxon::testing::ChildProcess process(argv, env, log);
    const std::optional<int> exit_code = process.WaitForExit(absl::Seconds(30));
    EXPECT_TRUE(exit_code.has_value()) << "klaxonctl did not exit within 30 s";
    return Result{.exit_code = exit_code.value_or(-1), .output = process.Log()};
  }

  std::string Path(const std::string& name) const {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return absl::StrCat(::testing::TempDir(), "klaxonctl_binary_test-", info->name(), "-", name);
  }

  static std::vector<std::string> Verify(const std::string& signature,
                                         const std::string& token = "12345") {
    std::vector<std::string> args = {"twilio",  "verify",       "--signature",
                                     signature, "--auth-token", token};
    args.insert(args.end(), kRequest.begin(), kRequest.end());
    return args;
  }

  int runs_ = 0;
};

TEST_F(KlaxonctlBinaryTest, SignPrintsTheSignature) {
  std::vector<std::string> args = {"twilio", "sign", "--auth-token", "12345"};
  args.insert(args.end(), kRequest.begin(), kRequest.end());
  const Result result = Run(args);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output, "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n");
}

TEST_F(KlaxonctlBinaryTest, VerifyExitsZeroForAValidSignature) {
  EXPECT_EQ(Run(Verify("RSOYDt4T1cUTdK1PDd93/VVr8B8=")).exit_code, 0);
  EXPECT_EQ(Run(Verify("kvajT1Ptam85bY51eRf/AJRuM3w=")).exit_code, 0);
}

TEST_F(KlaxonctlBinaryTest, VerifyExitsOneForAnInvalidSignature) {
  const Result result = Run(Verify("IK+Dwps556ElfBT0I3Rgjkr1wJU="));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("invalid signature"));
}

TEST_F(KlaxonctlBinaryTest, VerifyExitsOneForAnotherTokenWithoutPrintingIt) {
  const Result result = Run(Verify("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "rotated-token-Zq9"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, Not(HasSubstr("rotated-token-Zq9")));
}

TEST_F(KlaxonctlBinaryTest, VerifyExitsTwoOnAUsageError) {
  std::vector<std::string> args = Verify("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  args.push_back("--param");
  args.push_back("Digits");
  const Result result = Run(args);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.output, HasSubstr("\"Digits\""));
  EXPECT_EQ(Run({"twilio", "verify", "--url", kUrl}).exit_code, 2);
}

TEST_F(KlaxonctlBinaryTest, VerifyReadsABodyFile) {
  const std::string body_file = Path("body.json");
  std::ofstream(body_file) << R"({"CallSid":"CA123","CallStatus":"completed"})";
  const std::string url =
      "https://mycompany.com/myapp.php?foo=1&"
      "bodySHA256=7a20302f42f8530490a183fcc76d75695a05ec51e35bbda33ca11a2ee9edb589";
  EXPECT_EQ(Run({"twilio", "verify", "--auth-token", "12345", "--url", url, "--body-file",
                 body_file, "--signature", "EInlWGXRYMWP/lK/e+XeRWjLVOI="})
                .exit_code,
            0);
  EXPECT_EQ(Run({"twilio", "verify", "--auth-token", "12345", "--url", url, "--body-file",
                 Path("missing.json"), "--signature", "EInlWGXRYMWP/lK/e+XeRWjLVOI="})
                .exit_code,
            2);
}

TEST_F(KlaxonctlBinaryTest, CallbacksVerifyExitsZeroForAValidSignatureAndOneOtherwise) {
  const std::string secret_file = Path("secret");
  std::ofstream(secret_file) << "whsec_test_3f9a\n";
  const std::string body_file = Path("body.json");
  std::ofstream(body_file)
      << R"({"alert_id":"0190c4d2-7a5e-7c1b-9f3e-2b8d4a6c1e90","sequence":1,"status":"delivered"})";
  // The vector of common/caller_callbacks/signature_test.cc, signed at 1700000000: a tolerance
  // of a century keeps the wall clock out of the outcome.
  const std::vector<std::string> verify = {"callbacks",   "verify",  "--secret-file", secret_file,
                                           "--body-file", body_file, "--timestamp",   "1700000000",
                                           "--tolerance", "876000h", "--signature"};
  std::vector<std::string> valid = verify;
  valid.push_back("v1=aa59c04b5e22a5a6548ad39e72336a3357422bafe1423a1c5b04da8b2cacdbe5");
  const Result accepted = Run(valid);
  EXPECT_EQ(accepted.exit_code, 0);
  EXPECT_EQ(accepted.output, "signature valid\n");
  std::vector<std::string> invalid = verify;
  invalid.push_back("v1=ba59c04b5e22a5a6548ad39e72336a3357422bafe1423a1c5b04da8b2cacdbe5");
  const Result refused = Run(invalid);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("no v1 signature matches"));
  EXPECT_THAT(refused.output, Not(HasSubstr("whsec_test_3f9a")));
}

}  // namespace
}  // namespace klaxon::ctl
