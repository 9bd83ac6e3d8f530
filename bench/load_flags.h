// The command-line flags every open-loop gRPC load generator (bench-sendalert, bench-getalert,
// bench-delivery) takes, added to a CLI11 app in one place (with the --ca/--cert/--key/--tls/
// --plaintext flags every Klaxon gRPC client shares), and the two steps each takes from them
// before its clock starts: the schedule and the connected channel. Header-only: its users compile
// with CLI11 and gRPC already.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "bench/schedule.h"
#include "common/grpcutil/channel_security.h"
#include "common/grpcutil/client_tls_flags.h"
#include "grpcpp/create_channel.h"

namespace klaxon::bench {

inline std::chrono::nanoseconds FromSeconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(seconds));
}

struct LoadFlags {
  std::string target;
  std::string api_key;
  double rate = 0;
  double duration_seconds = 10;
  int64_t concurrency = 1;
  double rpc_timeout_seconds = 5;
  double connect_timeout_seconds = 5;
  grpcutil::ClientTlsOptions tls;
};

// How one generator describes its common flags in --help.
struct LoadFlagsHelp {
  std::string target;      // e.g. "ingress gRPC address"
  std::string target_env;  // e.g. "KLAXON_INGRESS_ADDR"
  std::string api_key = "API key [env KLAXON_API_KEY]";
  std::string requests = "requests";  // what --rate and --duration count
  std::string calls = "calls";        // what --concurrency bounds
};

// Adds --target, --api-key (required, or KLAXON_API_KEY), --rate, --duration, --concurrency,
// --rpc-timeout, --connect-timeout and the TLS flags, bound to `flags`; their defaults are flags'
// values, the TLS files' those of KLAXON_CA_FILE, KLAXON_CERT_FILE and KLAXON_KEY_FILE.
inline void AddLoadFlags(CLI::App& app, LoadFlags& flags, const LoadFlagsHelp& help) {
  flags.tls = grpcutil::ClientTlsOptionsFromEnvironment(
      [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      });
  grpcutil::AddClientTlsFlags(app, flags.tls);
  app.add_option("--target", flags.target, help.target)
      ->envname(help.target_env)
      ->capture_default_str();
  app.add_option("--api-key", flags.api_key, help.api_key)->envname("KLAXON_API_KEY")->required();
  // OpenLoopSchedule::Create checks rate and duration.
  app.add_option("--rate", flags.rate, help.requests + " started per second")
      ->capture_default_str();
  app.add_option("--duration", flags.duration_seconds, "seconds of scheduled " + help.requests)
      ->capture_default_str();
  app.add_option("--concurrency", flags.concurrency, "most " + help.calls + " in flight at once")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--rpc-timeout", flags.rpc_timeout_seconds, "deadline of each call, seconds")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--connect-timeout", flags.connect_timeout_seconds,
                 "how long to wait for the channel before starting, seconds")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
}

// The schedule --rate and --duration give; nullopt, after `program` printed why, when they give
// none.
inline std::optional<OpenLoopSchedule> ScheduleOf(std::string_view program,
                                                  const LoadFlags& flags) {
  absl::StatusOr<OpenLoopSchedule> schedule =
      OpenLoopSchedule::Create(flags.rate, FromSeconds(flags.duration_seconds));
  if (!schedule.ok()) {
    std::cerr << program << ": " << schedule.status().message() << "\n";
    return std::nullopt;
  }
  return *std::move(schedule);
}

// A channel to --target, connected before the clock starts (connection setup is not what a
// generator measures); nullptr, after `program` printed why, when it is not connected within
// --connect-timeout.
inline std::shared_ptr<grpc::Channel> ConnectToTarget(std::string_view program,
                                                      const LoadFlags& flags) {
  absl::StatusOr<grpcutil::ChannelSecurity> security =
      grpcutil::ResolveChannelSecurity(flags.tls, flags.target);
  if (!security.ok()) {
    std::cerr << program << ": " << security.status().message() << "\n";
    return nullptr;
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(flags.target, grpcutil::MakeChannelCredentials(*security));
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 FromSeconds(flags.connect_timeout_seconds))) {
    // The channel gives no reason; a failed TLS handshake looks the same as no listener.
    std::cerr << program << ": cannot connect to " << flags.target << " ("
              << security->Describe() << ")\n";
    return nullptr;
  }
  return channel;
}

}  // namespace klaxon::bench
