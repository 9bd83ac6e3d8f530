// `klaxonctl callbacks sign` and `klaxonctl callbacks verify`: sign a caller callback exactly as
// audit does (caller_callbacks::Sign), so a receiving team can make test fixtures, or check a
// received one as a receiver should (caller_callbacks::Verify) and say why it is refused. The
// secret comes from a file, not the command line (where ps and shell history would keep it), and
// is never printed. The options are parsed in cli.cc.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/caller_callbacks/signature.h"
#include "tools/klaxonctl/cli.h"

namespace klaxon::ctl {

struct CallbackOptions {
  // --secret-file: the callback secret; one trailing newline is ignored.
  std::string secret_file;
  // --body-file: the raw body; empty: standard input.
  std::string body_file;
  // --timestamp. sign: unix seconds, empty for now; verify: the Klaxon-Timestamp received.
  std::string timestamp;
  // --signature (verify only): the Klaxon-Signature received.
  std::string signature;
  // --tolerance (verify only): how far the timestamp may be from now, either way.
  absl::Duration tolerance = caller_callbacks::kDefaultTolerance;
};

// The secret in the file at `path` without its trailing newline ("\n" or "\r\n", as an editor or
// `echo` leaves it). kInvalidArgument when the file cannot be read or holds no secret.
absl::StatusOr<std::string> ReadCallbackSecret(const std::string& path, const ReadFile& read_file);

// The body to sign or check: the bytes of --body-file, else all of standard input.
// kInvalidArgument naming the source when it cannot be read.
absl::StatusOr<std::string> ReadCallbackBody(const CallbackOptions& options,
                                             const CliDependencies& deps);

// The two header lines of a callback signed at `timestamp`:
// "Klaxon-Timestamp: <timestamp>\nKlaxon-Signature: v1=<hex>\n".
std::string CallbackHeaders(std::string_view secret, int64_t timestamp, std::string_view body);

// `callbacks sign`: prints CallbackHeaders at --timestamp or the clock's now; kExitUsage for any
// error.
int RunCallbacksSign(const CallbackOptions& options, const CliDependencies& deps);

// `callbacks verify`: "signature valid" and kExitOk, or Verify's message on deps.err and
// kExitFailure; kExitUsage when the secret or the body cannot be read.
int RunCallbacksVerify(const CallbackOptions& options, const CliDependencies& deps);

}  // namespace klaxon::ctl
