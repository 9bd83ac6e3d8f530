#include "tools/klaxonctl/twilio_webhook.h"

#include <optional>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/abseil/string_view.h"
#include "common/twilio/signature.h"

namespace klaxon::ctl {
namespace {

using abseil::AbslView;

// Every X-Twilio-Signature is base64 of a 20-byte HMAC-SHA1.
constexpr size_t kSignatureLength = 28;

// C-escaped and quoted, so control characters and trailing spaces in a signed string show.
std::string Quoted(std::string_view text) {
  return absl::StrCat("\"", absl::Utf8SafeCEscape(AbslView(text)), "\"");
}

}  // namespace

absl::StatusOr<http::FormParams> ParseParams(const std::vector<std::string>& params) {
  http::FormParams parsed;
  parsed.reserve(params.size());
  for (const std::string& param : params) {
    const std::string::size_type equals = param.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--param takes KEY=VALUE (the value may be empty), got ", Quoted(param)));
    }
    parsed.emplace_back(param.substr(0, equals), param.substr(equals + 1));
  }
  return parsed;
}

absl::StatusOr<twilio::SignedRequest> BuildSignedRequest(const WebhookOptions& options,
                                                         const ReadFile& read_file) {
  twilio::SignedRequest request{.url = options.url};
  if (options.body_file.empty()) {
    absl::StatusOr<http::FormParams> params = ParseParams(options.params);
    if (!params.ok()) return params.status();
    request.params = *std::move(params);
    return request;
  }
  if (!options.params.empty()) {
    return absl::InvalidArgumentError(
        "--param and --body-file exclude each other: a JSON webhook has no form parameters");
  }
  absl::StatusOr<std::string> body = read_file(options.body_file);
  if (!body.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read --body-file: ", std::string(body.status().message())));
  }
  request.json_body = *std::move(body);
  return request;
}

absl::StatusOr<std::string> SignWebhook(std::string_view auth_token,
                                        const twilio::SignedRequest& request) {
  if (!request.json_body) return twilio::ComputeSignature(auth_token, request.url, request.params);
  const std::string hash = twilio::BodySha256Hex(*request.json_body);
  const std::optional<std::string> claimed = twilio::QueryParameter(request.url, "bodySHA256");
  if (claimed != hash) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--url must carry bodySHA256=", hash, " (the SHA-256 of the body file) in its query; ",
        claimed ? absl::StrCat("it has bodySHA256=", *claimed) : "it has no bodySHA256"));
  }
  return twilio::ComputeSignature(auth_token, request.url, {});
}

std::string DiagnoseRejectedSignature(std::string_view auth_token,
                                      const twilio::SignedRequest& request,
                                      std::string_view signature) {
  static const http::FormParams kNoParams;
  const http::FormParams& params = request.json_body ? kNoParams : request.params;
  std::string text = absl::StrCat("received signature: ", Quoted(signature), "\n");
  if (signature.size() != kSignatureLength) {
    absl::StrAppend(&text, "  a signature is ", kSignatureLength,
                    " base64 characters; this one has ", signature.size(), "\n");
  }
  absl::StrAppend(&text, "signed string for the URL as given (C-escaped):\n  ",
                  Quoted(twilio::CanonicalSignedData(request.url, params)), "\n",
                  "expected signature for each URL variant:\n");
  std::optional<std::string> matching_url;
  for (const std::string& url : twilio::SignatureUrlVariants(request.url)) {
    const std::string expected = twilio::ComputeSignature(auth_token, url, params);
    const bool matches = twilio::SignatureMatches(expected, signature);
    absl::StrAppend(&text, "  ", expected, "  ", url, matches ? "  <- matches" : "", "\n");
    if (matches) matching_url = url;
  }

  bool body_matches = true;
  if (request.json_body) {
    const std::string hash = twilio::BodySha256Hex(*request.json_body);
    const std::optional<std::string> claimed = twilio::QueryParameter(request.url, "bodySHA256");
    body_matches = claimed == hash;
    absl::StrAppend(&text, "JSON body: SHA-256 ", hash, "; the URL's bodySHA256 is ",
                    claimed ? *claimed : "missing", body_matches ? " (matches)" : " (DIFFERS)",
                    "\n");
  }

  if (matching_url && !body_matches) {
    absl::StrAppend(&text,
                    "the signature is right for the URL; the body is not the one whose hash "
                    "the URL carries (was it re-serialised or altered on the way?)\n");
  } else if (!matching_url) {
    absl::StrAppend(
        &text,
        "no URL variant matches: check the auth token (during a rotation, try the other one), "
        "that --url is exactly the public URL Twilio requested (scheme, host, port, path and "
        "query as sent, not the address behind a proxy), and",
        request.json_body ? " that the body file holds the raw bytes received\n"
                          : " that every POST parameter Twilio sent is given with --param, a "
                            "repeated key once per value\n");
  }
  return text;
}

int RunTwilioSign(const WebhookOptions& options, const CliDependencies& deps) {
  absl::StatusOr<twilio::SignedRequest> request = BuildSignedRequest(options, deps.read_file);
  if (!request.ok()) return Usage(deps.err, request.status());
  absl::StatusOr<std::string> signature = SignWebhook(options.auth_token, *request);
  if (!signature.ok()) return Usage(deps.err, signature.status());
  deps.out << *signature << "\n";
  return kExitOk;
}

int RunTwilioVerify(const WebhookOptions& options, const CliDependencies& deps) {
  absl::StatusOr<twilio::SignedRequest> request = BuildSignedRequest(options, deps.read_file);
  if (!request.ok()) return Usage(deps.err, request.status());
  const std::string tokens[] = {options.auth_token};
  if (twilio::VerifySignature(std::span<const std::string>(tokens), *request, options.signature)) {
    deps.out << "valid\n";
    return kExitOk;
  }
  deps.err << "klaxonctl: invalid signature\n"
           << DiagnoseRejectedSignature(options.auth_token, *request, options.signature);
  return kExitFailure;
}

}  // namespace klaxon::ctl
