#include "tools/klaxonctl/caller_callbacks.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace klaxon::ctl {
namespace {

// --timestamp of `sign`: digits only, as Verify reads the header.
absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text) {
  int64_t timestamp = 0;
  if (text.empty() || !absl::c_all_of(text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &timestamp)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timestamp must be unix seconds such as 1700000000, got \"", text, "\""));
  }
  return timestamp;
}

}  // namespace

absl::StatusOr<std::string> ReadCallbackSecret(const std::string& path, const ReadFile& read_file) {
  absl::StatusOr<std::string> content = read_file(path);
  if (!content.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read --secret-file: ", content.status().message()));
  }
  absl::string_view secret = *content;
  if (absl::ConsumeSuffix(&secret, "\n")) absl::ConsumeSuffix(&secret, "\r");
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--secret-file ", path, " holds no secret: put the callback secret in it"));
  }
  return std::string(secret);
}

absl::StatusOr<std::string> ReadCallbackBody(const CallbackOptions& options,
                                             const CliDependencies& deps) {
  const bool from_stdin = options.body_file.empty();
  absl::StatusOr<std::string> body =
      from_stdin ? deps.read_stdin() : deps.read_file(options.body_file);
  if (!body.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        from_stdin ? "cannot read the body from standard input: " : "cannot read --body-file: ",
        body.status().message()));
  }
  return body;
}

std::string CallbackHeaders(std::string_view secret, int64_t timestamp, std::string_view body) {
  return absl::StrCat(caller_callbacks::kTimestampHeader, ": ", timestamp, "\n",
                      caller_callbacks::kSignatureHeader, ": ",
                      caller_callbacks::Sign(secret, timestamp, body), "\n");
}

int RunCallbacksSign(const CallbackOptions& options, const CliDependencies& deps) {
  int64_t timestamp = absl::ToUnixSeconds(deps.clock.Now());
  if (!options.timestamp.empty()) {
    absl::StatusOr<int64_t> given = ParseTimestamp(options.timestamp);
    if (!given.ok()) return Usage(deps.err, given.status());
    timestamp = *given;
  }
  absl::StatusOr<std::string> secret = ReadCallbackSecret(options.secret_file, deps.read_file);
  if (!secret.ok()) return Usage(deps.err, secret.status());
  absl::StatusOr<std::string> body = ReadCallbackBody(options, deps);
  if (!body.ok()) return Usage(deps.err, body.status());
  deps.out << CallbackHeaders(*secret, timestamp, *body);
  return kExitOk;
}

int RunCallbacksVerify(const CallbackOptions& options, const CliDependencies& deps) {
  absl::StatusOr<std::string> secret = ReadCallbackSecret(options.secret_file, deps.read_file);
  if (!secret.ok()) return Usage(deps.err, secret.status());
  absl::StatusOr<std::string> body = ReadCallbackBody(options, deps);
  if (!body.ok()) return Usage(deps.err, body.status());
  const absl::Status verified = caller_callbacks::Verify(
      *secret, options.timestamp, options.signature, *body, deps.clock.Now(), options.tolerance);
  if (!verified.ok()) {
    deps.err << "klaxonctl: " << verified.message() << "\n";
    return kExitFailure;
  }
  deps.out << "signature valid\n";
  return kExitOk;
}

}  // namespace klaxon::ctl
