// klaxonctl: wires real gRPC channels, the process environment, the file system, standard input,
// a random idempotency key and the wall clock into the command line in cli.h.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/ids/id_generator.h"
#include "common/runtime/process_hardening.h"
#include "common/timing/clock.h"
#include "grpcpp/create_channel.h"
#include "tools/klaxonctl/cli.h"

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const klaxon::ctl::Endpoint& endpoint) {
  return grpc::CreateChannel(endpoint.address,
                             klaxon::grpcutil::MakeChannelCredentials(endpoint.security));
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

// Everything left in `file`; `name` says in an error which file it was.
absl::StatusOr<std::string> ReadAll(std::FILE* file, const std::string& name) {
  std::string content;
  char buffer[1 << 16];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    content.append(buffer, read);
  }
  if (std::ferror(file)) {
    return absl::FailedPreconditionError(absl::StrCat(name, ": ", std::strerror(errno)));
  }
  return content;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  return ReadAll(file.get(), path);
}

}  // namespace

int main(int argc, char** argv) {
  klaxon::runtime::HardenProcessOrExit("klaxonctl");
  klaxon::timing::RealClock clock;
  klaxon::ids::UuidV7Generator idempotency_keys(clock);
  const klaxon::ctl::CliDependencies deps{
      .make_intake =
          [](const klaxon::ctl::Endpoint& endpoint) {
            return klaxon::alerts::v1::AlertIntake::NewStub(MakeChannel(endpoint));
          },
      .make_query =
          [](const klaxon::ctl::Endpoint& endpoint) {
            return klaxon::alerts::v1::AlertQuery::NewStub(MakeChannel(endpoint));
          },
      .make_dead_letters =
          [](const klaxon::ctl::Endpoint& endpoint) {
            return klaxon::alerts::v1::DeadLetters::NewStub(MakeChannel(endpoint));
          },
      .make_inbound_messages =
          [](const klaxon::ctl::Endpoint& endpoint) {
            return klaxon::alerts::v1::InboundMessages::NewStub(MakeChannel(endpoint));
          },
      .make_verification =
          [](const klaxon::ctl::Endpoint& endpoint) {
            return klaxon::verify::v1::Verification::NewStub(MakeChannel(endpoint));
          },
      .get_env = [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      },
      .idempotency_keys = idempotency_keys,
      .read_file = ReadFile,
      .read_stdin = [] { return ReadAll(stdin, "standard input"); },
      .clock = clock,
      .out = std::cout,
      .err = std::cerr,
  };
  return klaxon::ctl::RunCli(argc, argv, deps);
}
