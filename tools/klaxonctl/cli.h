// klaxonctl's command line: parses arguments and environment, runs `send`, `cancel`, `get`,
// `list`, `watch`, `trail`, `report`, `dlq list|show|replay`, `inbound`, `verify
// start|check|cancel`, `twilio sign|verify` or `callbacks sign|verify`, and writes to the given
// streams. `verify check` exits 0 only when the code is approved and 1 for every other answer
// (pending, expired, max_attempts, not_found), so scripts can gate on it. Everything that touches
// the world (channels, environment, files, standard input, randomness, time) comes in through
// CliDependencies so the whole command runs in unit tests.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/grpcutil/channel_security.h"
#include "common/ids/id_generator.h"
#include "common/timing/clock.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "klaxon/alerts/v1/inbound_messages.grpc.pb.h"
#include "klaxon/verify/v1/verify.grpc.pb.h"

namespace klaxon::ctl {

inline constexpr int kExitOk = 0;
// An RPC failed, the awaited status was not reached, a verification code was not approved, or a
// webhook's or caller callback's signature is invalid.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Returns the whole content of the file at `path`, or an error naming the path and the reason.
using ReadFile = std::function<absl::StatusOr<std::string>(const std::string& path)>;

struct Endpoint {
  std::string address;
  grpcutil::ChannelSecurity security;  // decided by grpcutil::ResolveChannelSecurity
};

struct CliDependencies {
  std::function<std::unique_ptr<alerts::v1::AlertIntake::StubInterface>(const Endpoint&)>
      make_intake;
  std::function<std::unique_ptr<alerts::v1::AlertQuery::StubInterface>(const Endpoint&)> make_query;
  // Audit's DeadLetters service, for `dlq`; unset in tests that run no dlq command.
  std::function<std::unique_ptr<alerts::v1::DeadLetters::StubInterface>(const Endpoint&)>
      make_dead_letters;
  // Audit's InboundMessages service, for `inbound`; unset in tests that run no inbound command.
  std::function<std::unique_ptr<alerts::v1::InboundMessages::StubInterface>(const Endpoint&)>
      make_inbound_messages;
  // Ingress's Verification service, for `verify`; unset in tests that run no verify command.
  std::function<std::unique_ptr<verify::v1::Verification::StubInterface>(const Endpoint&)>
      make_verification;
  // Returns the variable's value, or nullopt when it is unset.
  std::function<std::optional<std::string>(const std::string& name)> get_env;
  // Fresh idempotency keys for `send` when the caller gives none.
  ids::IdGenerator& idempotency_keys;
  ReadFile read_file;
  // Returns all of standard input, for `callbacks` without --body-file; unset in tests that read
  // none.
  std::function<absl::StatusOr<std::string>()> read_stdin;
  timing::Clock& clock;
  std::ostream& out;
  std::ostream& err;
};

// Prints "klaxonctl: <message>" to `err` and returns kExitUsage.
int Usage(std::ostream& err, const absl::Status& status);

// Runs klaxonctl and returns its exit code: kExitOk, kExitFailure or kExitUsage.
int RunCli(int argc, const char* const* argv, const CliDependencies& deps);

}  // namespace klaxon::ctl
