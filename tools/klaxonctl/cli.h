// klaxonctl's command line: parses arguments and environment, runs `send` or `get`, and writes
// to the given streams. Everything that touches the world (channels, environment, randomness,
// time) comes in through CliDependencies so the whole command runs in unit tests.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "common/timing/clock.h"

namespace klaxon::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // an RPC failed, or the awaited status was not reached
inline constexpr int kExitUsage = 2;

struct Endpoint {
  std::string address;
  bool tls = false;
};

struct CliDependencies {
  std::function<std::unique_ptr<alerts::v1::AlertIntake::StubInterface>(const Endpoint&)>
      make_intake;
  std::function<std::unique_ptr<alerts::v1::AlertQuery::StubInterface>(const Endpoint&)> make_query;
  // Returns the variable's value, or nullopt when it is unset.
  std::function<std::optional<std::string>(const std::string& name)> get_env;
  // A fresh idempotency key for `send` when the caller gives none.
  std::function<std::string()> new_idempotency_key;
  timing::Clock& clock;
  std::ostream& out;
  std::ostream& err;
};

// Runs klaxonctl and returns its exit code: kExitOk, kExitFailure or kExitUsage.
int RunCli(int argc, const char* const* argv, const CliDependencies& deps);

}  // namespace klaxon::ctl
