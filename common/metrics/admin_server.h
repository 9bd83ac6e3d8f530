#pragma once
// The admin HTTP endpoint every Klaxon service exposes to Kubernetes and Prometheus:
//   GET /metrics  Prometheus text format of the service's registry
//   GET /livez    200 while the process can serve HTTP at all
//   GET /readyz   200 when the injected readiness check passes, 503 otherwise
// It runs on its own small Pistache thread pool, separate from traffic, so a saturated service
// still answers probes and scrapes.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace klaxon::metrics {

struct AdminServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 address or a name that resolves to one
  uint16_t port = 9464;            // 0 picks a free port (see AdminServer::port())
  std::shared_ptr<prometheus::Registry> registry{};  // required
  std::function<bool()> ready{};  // required; must be cheap and thread-safe (e.g. read an atomic)
  int threads = 1;
};

class AdminServer {
 public:
  // Binds and starts serving. kInvalidArgument for missing registry/ready or a bad host;
  // kUnavailable when the address cannot be bound (e.g. port in use).
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(AdminServerOptions options);

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;
  ~AdminServer();  // Shutdown()

  // The bound port, the real one when options.port was 0.
  uint16_t port() const { return port_; }

  // Stops serving and joins the server threads. Idempotent.
  void Shutdown();

 private:
  class Impl;
  AdminServer(std::unique_ptr<Impl> impl, uint16_t port);

  std::unique_ptr<Impl> impl_;
  uint16_t port_;
};

}  // namespace klaxon::metrics
