// `klaxonctl twilio sign` and `klaxonctl twilio verify`: compute a webhook's X-Twilio-Signature
// as Twilio does, or check one exactly as ingress does (twilio::VerifySignature, URL variants
// included) and, when it does not match, show a person debugging a rejected webhook what was
// signed: the canonical string, the signature of every URL variant and, for a JSON body, whether
// its hash matched. The auth token is never printed. The options are parsed in cli.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/form.h"
#include "common/twilio/webhook_signature.h"
#include "tools/klaxonctl/cli.h"

namespace klaxon::ctl {

struct WebhookOptions {
  std::string auth_token;
  std::string url;
  // --param values as given: KEY=VALUE.
  std::vector<std::string> params;
  // --body-file: a raw JSON body; empty when not given.
  std::string body_file;
  // --signature (verify only): the X-Twilio-Signature value received.
  std::string signature;
};

// Splits each --param at its first '=': the key must not be empty, the value may be. Keys may
// repeat. kInvalidArgument naming the first value that is not KEY=VALUE.
absl::StatusOr<http::FormParams> ParseParams(const std::vector<std::string>& params);

// The request Twilio signed: --url with the --param pairs, or with the bytes of --body-file read
// through `read_file`. kInvalidArgument for a malformed --param, --param with --body-file, or a
// body file that cannot be read.
absl::StatusOr<twilio::SignedRequest> BuildSignedRequest(const WebhookOptions& options,
                                                         const ReadFile& read_file);

// The X-Twilio-Signature of `request` under `auth_token`. A JSON body is signed through the
// URL's bodySHA256, so kInvalidArgument, with the value the URL needs, when the URL lacks it or
// carries another.
absl::StatusOr<std::string> SignWebhook(std::string_view auth_token,
                                        const twilio::SignedRequest& request);

// Why `signature` is rejected for `request`, in lines for a person: the received signature, the
// canonical string signed for the URL as given (C-escaped), the expected signature of every URL
// variant (marking one that matches), for a JSON body the URL's bodySHA256 against the body's
// hash, and what to check next.
std::string DiagnoseRejectedSignature(std::string_view auth_token,
                                      const twilio::SignedRequest& request,
                                      std::string_view signature);

// `twilio sign`: prints the signature; kExitUsage for any error.
int RunTwilioSign(const WebhookOptions& options, const CliDependencies& deps);

// `twilio verify`: kExitOk when valid, kExitFailure (with the diagnosis on deps.err) when not,
// kExitUsage for a malformed request.
int RunTwilioVerify(const WebhookOptions& options, const CliDependencies& deps);

}  // namespace klaxon::ctl
