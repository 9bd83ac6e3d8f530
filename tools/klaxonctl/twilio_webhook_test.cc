#include "tools/klaxonctl/twilio_webhook.h"

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
using ::testing::Pair;

// The vectors of ../shared/twilio/TWILIO.md that every official Twilio library tests.
constexpr char kToken[] = "12345";
constexpr char kUrl[] = "https://mycompany.com/myapp.php?foo=1&bar=2";
constexpr char kUrlWith443[] = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
const std::vector<std::string> kCallParams = {"CallSid=CA1234567890ABCDE", "Caller=+14158675309",
                                              "Digits=1234", "From=+14158675309",
                                              "To=+18005551212"};
constexpr char kCallSignature[] = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
constexpr char kCallSignatureWith443[] = "kvajT1Ptam85bY51eRf/AJRuM3w=";
const std::vector<std::string> kRepeatedParams = {"Sid=CA123", "SidAccount=AC123", "Digits=5678",
                                                  "Digits=1234", "Digits=1234"};
constexpr char kRepeatedSignature[] = "IK+Dwps556ElfBT0I3Rgjkr1wJU=";

// A JSON webhook: its body, the body's SHA-256, and the signature of kJsonUrl (computed with
// `openssl dgst -sha1 -hmac 12345 -binary | base64`).
constexpr char kJsonBody[] = R"({"CallSid":"CA123","CallStatus":"completed"})";
constexpr char kJsonBodyHash[] = "7a20302f42f8530490a183fcc76d75695a05ec51e35bbda33ca11a2ee9edb589";
constexpr char kJsonUrl[] =
    "https://mycompany.com/myapp.php?foo=1&"
    "bodySHA256=7a20302f42f8530490a183fcc76d75695a05ec51e35bbda33ca11a2ee9edb589";
constexpr char kJsonSignature[] = "EInlWGXRYMWP/lK/e+XeRWjLVOI=";
constexpr char kJsonSignatureWith443[] = "7qynhBDnJpyxsN4j7JFn4+uEc7A=";

TEST(ParseParamsTest, SplitsAtTheFirstEqualsAndKeepsRepeatsAndEmptyValues) {
  const absl::StatusOr<http::FormParams> params =
      ParseParams({"Body=a=b", "Digits=1", "Digits=1", "Empty="});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_THAT(*params, ::testing::ElementsAre(Pair("Body", "a=b"), Pair("Digits", "1"),
                                              Pair("Digits", "1"), Pair("Empty", "")));
}

TEST(ParseParamsTest, RejectsAParamWithoutEqualsNamingIt) {
  const absl::StatusOr<http::FormParams> params = ParseParams({"To=+1", "CallSid"});
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(params.status().message(), HasSubstr("\"CallSid\""));
}

TEST(ParseParamsTest, RejectsAnEmptyKey) {
  EXPECT_EQ(ParseParams({"=value"}).status().code(), absl::StatusCode::kInvalidArgument);
}

twilio::SignedRequest FormRequest(const std::string& url, const std::vector<std::string>& params) {
  return twilio::SignedRequest{.url = url, .params = *ParseParams(params)};
}

TEST(SignWebhookTest, SignsTheTwilioVectors) {
  EXPECT_EQ(*SignWebhook(kToken, FormRequest(kUrl, kCallParams)), kCallSignature);
  EXPECT_EQ(*SignWebhook(kToken, FormRequest(kUrlWith443, kCallParams)), kCallSignatureWith443);
  EXPECT_EQ(*SignWebhook(kToken, FormRequest(kUrl, kRepeatedParams)), kRepeatedSignature);
}

TEST(SignWebhookTest, SignsAJsonBodyOverTheUrlAlone) {
  EXPECT_EQ(*SignWebhook(kToken, {.url = kJsonUrl, .json_body = kJsonBody}), kJsonSignature);
}

TEST(SignWebhookTest, JsonBodyNeedsItsHashInTheUrl) {
  const absl::StatusOr<std::string> signature =
      SignWebhook(kToken, {.url = kUrl, .json_body = kJsonBody});
  EXPECT_EQ(signature.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(signature.status().message(),
              AllOf(HasSubstr(std::string("bodySHA256=") + kJsonBodyHash),
                    HasSubstr("it has no bodySHA256")));
}

TEST(SignWebhookTest, JsonBodyWithAnotherHashInTheUrlIsRefused) {
  const absl::StatusOr<std::string> signature =
      SignWebhook(kToken, {.url = kJsonUrl, .json_body = "{}"});
  EXPECT_EQ(signature.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(signature.status().message(),
              HasSubstr(std::string("it has bodySHA256=") + kJsonBodyHash));
}

TEST(DiagnoseRejectedSignatureTest, ShowsTheSignedStringAndEveryVariant) {
  const std::string diagnosis = DiagnoseRejectedSignature(kToken, FormRequest(kUrl, kCallParams),
                                                          "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_THAT(
      diagnosis,
      AllOf(HasSubstr("\"https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDE"
                      "Caller+14158675309Digits1234From+14158675309To+18005551212\""),
            HasSubstr(std::string(kCallSignature) + "  " + kUrl + "\n"),
            HasSubstr(std::string(kCallSignatureWith443) + "  " + kUrlWith443 + "\n"),
            HasSubstr("no URL variant matches")));
}

TEST(DiagnoseRejectedSignatureTest, EscapesControlCharactersOfTheSignedString) {
  const std::string diagnosis = DiagnoseRejectedSignature(
      kToken, FormRequest(kUrl, {"Body=line one\nline two"}), kCallSignature);
  EXPECT_THAT(diagnosis, HasSubstr("Bodyline one\\nline two\""));
}

TEST(DiagnoseRejectedSignatureTest, PointsOutASignatureOfTheWrongLength) {
  EXPECT_THAT(DiagnoseRejectedSignature(kToken, FormRequest(kUrl, kCallParams), "RSOY"),
              HasSubstr("28 base64 characters; this one has 4"));
}

TEST(DiagnoseRejectedSignatureTest, TellsWhenOnlyTheBodyHashFails) {
  const std::string diagnosis =
      DiagnoseRejectedSignature(kToken, {.url = kJsonUrl, .json_body = "{}"}, kJsonSignature);
  EXPECT_THAT(diagnosis,
              AllOf(HasSubstr(std::string(kJsonSignature) + "  " + kJsonUrl + "  <- matches"),
                    HasSubstr("JSON body: SHA-256 "
                              "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a; "
                              "the URL's bodySHA256 is " +
                              std::string(kJsonBodyHash) + " (DIFFERS)"),
                    HasSubstr("the signature is right for the URL")));
}

TEST(DiagnoseRejectedSignatureTest, SaysWhenTheUrlHasNoBodyHash) {
  EXPECT_THAT(DiagnoseRejectedSignature(kToken, {.url = kUrl, .json_body = kJsonBody}, "x"),
              HasSubstr("the URL's bodySHA256 is missing (DIFFERS)"));
}

// klaxonctl's command line with files served from `files_`.
class TwilioCommandTest : public ::testing::Test {
 protected:
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
        .clock = clock_,
        .out = out_,
        .err = err_,
    };
    return RunCli(static_cast<int>(argv.size()), argv.data(), deps);
  }

  static std::vector<std::string> WithParams(std::vector<std::string> args,
                                             const std::vector<std::string>& params) {
    for (const std::string& param : params) {
      args.push_back("--param");
      args.push_back(param);
    }
    return args;
  }

  timing::FakeClock clock_;
  ids::CountingIdGenerator idempotency_keys_{"unused-"};
  std::ostringstream out_;
  std::ostringstream err_;
  std::map<std::string, std::string> files_;
};

TEST_F(TwilioCommandTest, SignPrintsOnlyTheSignature) {
  EXPECT_EQ(Run(WithParams({"twilio", "sign", "--auth-token", kToken, "--url", kUrl}, kCallParams)),
            kExitOk);
  EXPECT_EQ(out_.str(), std::string(kCallSignature) + "\n");
  EXPECT_THAT(err_.str(), IsEmpty());
}

TEST_F(TwilioCommandTest, SignTakesRepeatedKeys) {
  EXPECT_EQ(
      Run(WithParams({"twilio", "sign", "--auth-token", kToken, "--url", kUrl}, kRepeatedParams)),
      kExitOk);
  EXPECT_EQ(out_.str(), std::string(kRepeatedSignature) + "\n");
}

TEST_F(TwilioCommandTest, SignAcceptsParamWithEqualsSyntax) {
  EXPECT_EQ(Run({"twilio", "sign", "--auth-token", kToken, "--url", kUrl,
                 "--param=CallSid=CA1234567890ABCDE", "--param=Caller=+14158675309",
                 "--param=Digits=1234", "--param=From=+14158675309", "--param=To=+18005551212"}),
            kExitOk);
  EXPECT_EQ(out_.str(), std::string(kCallSignature) + "\n");
}

TEST_F(TwilioCommandTest, SignsAJsonBodyFile) {
  files_["body.json"] = kJsonBody;
  EXPECT_EQ(Run({"twilio", "sign", "--auth-token", kToken, "--url", kJsonUrl, "--body-file",
                 "body.json"}),
            kExitOk);
  EXPECT_EQ(out_.str(), std::string(kJsonSignature) + "\n");
}

TEST_F(TwilioCommandTest, SignWithoutTheBodyHashIsAUsageErrorShowingIt) {
  files_["body.json"] = kJsonBody;
  EXPECT_EQ(
      Run({"twilio", "sign", "--auth-token", kToken, "--url", kUrl, "--body-file", "body.json"}),
      kExitUsage);
  EXPECT_THAT(out_.str(), IsEmpty());
  EXPECT_THAT(err_.str(), HasSubstr(std::string("bodySHA256=") + kJsonBodyHash));
}

TEST_F(TwilioCommandTest, UnreadableBodyFileIsAUsageError) {
  EXPECT_EQ(Run({"twilio", "sign", "--auth-token", kToken, "--url", kJsonUrl, "--body-file",
                 "missing.json"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("cannot read --body-file: missing.json: no such file"));
}

TEST_F(TwilioCommandTest, ParamWithBodyFileIsAUsageError) {
  files_["body.json"] = kJsonBody;
  EXPECT_EQ(Run({"twilio", "sign", "--auth-token", kToken, "--url", kJsonUrl, "--body-file",
                 "body.json", "--param", "a=b"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--param and --body-file exclude each other"));
}

TEST_F(TwilioCommandTest, ParamWithoutEqualsIsAUsageErrorNamingIt) {
  EXPECT_EQ(Run({"twilio", "sign", "--auth-token", kToken, "--url", kUrl, "--param", "Digits"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--param takes KEY=VALUE (the value may be empty), got "
                                    "\"Digits\""));
}

TEST_F(TwilioCommandTest, MissingAuthTokenIsAUsageError) {
  EXPECT_EQ(Run({"twilio", "sign", "--url", kUrl}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--auth-token"));
}

TEST_F(TwilioCommandTest, TwilioWithoutACommandIsAUsageError) {
  EXPECT_EQ(Run({"twilio"}), kExitUsage);
}

TEST_F(TwilioCommandTest, VerifyAcceptsTheSignature) {
  EXPECT_EQ(Run(WithParams({"twilio", "verify", "--auth-token", kToken, "--url", kUrl,
                            "--signature", kCallSignature},
                           kCallParams)),
            kExitOk);
  EXPECT_EQ(out_.str(), "valid\n");
  EXPECT_THAT(err_.str(), IsEmpty());
}

TEST_F(TwilioCommandTest, VerifyAcceptsTheSignatureWithTheDefaultPortAdded) {
  EXPECT_EQ(Run(WithParams({"twilio", "verify", "--auth-token", kToken, "--url", kUrl,
                            "--signature", kCallSignatureWith443},
                           kCallParams)),
            kExitOk);
}

TEST_F(TwilioCommandTest, VerifyAcceptsTheRepeatedKeysVector) {
  EXPECT_EQ(Run(WithParams({"twilio", "verify", "--auth-token", kToken, "--url", kUrl,
                            "--signature", kRepeatedSignature},
                           kRepeatedParams)),
            kExitOk);
}

TEST_F(TwilioCommandTest, VerifyRejectsAMissingParamAndExplains) {
  std::vector<std::string> params = kCallParams;
  params.pop_back();
  EXPECT_EQ(Run(WithParams({"twilio", "verify", "--auth-token", kToken, "--url", kUrl,
                            "--signature", kCallSignature},
                           params)),
            kExitFailure);
  EXPECT_THAT(out_.str(), IsEmpty());
  EXPECT_THAT(err_.str(),
              AllOf(HasSubstr("klaxonctl: invalid signature"),
                    HasSubstr("signed string for the URL as given"), HasSubstr(kUrlWith443)));
}

TEST_F(TwilioCommandTest, VerifyRejectsAnotherTokenWithoutPrintingIt) {
  EXPECT_EQ(Run(WithParams({"twilio", "verify", "--auth-token", "rotated-token-Zq9", "--url", kUrl,
                            "--signature", kCallSignature},
                           kCallParams)),
            kExitFailure);
  EXPECT_THAT(out_.str() + err_.str(), Not(HasSubstr("rotated-token-Zq9")));
}

TEST_F(TwilioCommandTest, VerifyChecksAJsonBody) {
  files_["body.json"] = kJsonBody;
  EXPECT_EQ(Run({"twilio", "verify", "--auth-token", kToken, "--url", kJsonUrl, "--body-file",
                 "body.json", "--signature", kJsonSignatureWith443}),
            kExitOk);
}

TEST_F(TwilioCommandTest, VerifyRejectsAnAlteredJsonBody) {
  files_["body.json"] = std::string(kJsonBody) + "\n";
  EXPECT_EQ(Run({"twilio", "verify", "--auth-token", kToken, "--url", kJsonUrl, "--body-file",
                 "body.json", "--signature", kJsonSignature}),
            kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("(DIFFERS)"));
}

TEST_F(TwilioCommandTest, VerifyWithoutSignatureIsAUsageError) {
  EXPECT_EQ(
      Run(WithParams({"twilio", "verify", "--auth-token", kToken, "--url", kUrl}, kCallParams)),
      kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--signature"));
}

TEST_F(TwilioCommandTest, VerifyWithAMalformedParamIsAUsageError) {
  EXPECT_EQ(Run({"twilio", "verify", "--auth-token", kToken, "--url", kUrl, "--signature",
                 kCallSignature, "--param", "To"}),
            kExitUsage);
}

TEST_F(TwilioCommandTest, NeedsNoApiKey) {
  // send and get need one; the Twilio commands talk to no service.
  EXPECT_EQ(Run(WithParams({"twilio", "sign", "--auth-token", kToken, "--url", kUrl}, kCallParams)),
            kExitOk);
  EXPECT_THAT(err_.str(), Not(HasSubstr("--api-key")));
}

TEST_F(TwilioCommandTest, HelpListsTheTwilioCommands) {
  EXPECT_EQ(Run({"twilio", "--help"}), kExitOk);
  EXPECT_THAT(out_.str(), AllOf(HasSubstr("sign"), HasSubstr("verify")));
}

}  // namespace
}  // namespace klaxon::ctl
