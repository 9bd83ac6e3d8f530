#pragma once
// SandboxServer: the Pistache adapter that puts a TwilioSandbox on a TCP port. It turns each
// HTTP request into a SandboxRequest, holds the answer back for latency and hang faults
// (bounded, and cut short by Shutdown), and keeps Pistache's exceptions inside.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tools/twilio-sandbox/sandbox.h"

namespace Pistache::Http {
class Endpoint;
}  // namespace Pistache::Http

namespace klaxon::sandbox {

struct SandboxServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port; port() tells which
  // Each held (hung or slow) answer occupies one of these threads, and the other connections
  // served by that thread wait with it.
  int threads = 4;
};

class SandboxServer {
 public:
  // Binds and starts serving. `sandbox` must outlive the server.
  static absl::StatusOr<std::unique_ptr<SandboxServer>> Start(SandboxServerOptions options,
                                                              TwilioSandbox& sandbox);
  ~SandboxServer();  // shuts down
  SandboxServer(const SandboxServer&) = delete;
  SandboxServer& operator=(const SandboxServer&) = delete;

  uint16_t port() const { return port_; }
  // Releases held answers, stops serving and closes the listening socket; idempotent.
  void Shutdown();

  // Shared with the request handlers (held answers wait on it); defined in server.cc.
  struct State;

 private:
  SandboxServer(std::shared_ptr<State> state, std::unique_ptr<Pistache::Http::Endpoint> endpoint,
                uint16_t port);

  std::shared_ptr<State> state_;
  // Owned here and not in State: the endpoint owns the handlers, which share State, so State
  // owning the endpoint would be a cycle that frees neither.
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  uint16_t port_;
};

}  // namespace klaxon::sandbox
