#include "common/metrics/admin_server.h"

#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "pistache/endpoint.h"
#include "pistache/http.h"
#include "pistache/router.h"
#include "prometheus/text_serializer.h"

namespace klaxon::metrics {

class AdminServer::Impl {
 public:
  Impl(AdminServerOptions options, const Pistache::Address& address)
      : options_(std::move(options)),
        endpoint_(std::make_unique<Pistache::Http::Endpoint>(address)) {}

  // Throws what Pistache throws; Start() turns it into a Status.
  void Serve() {
    using Pistache::Rest::Routes::bind;
    Pistache::Rest::Routes::Get(router_, "/metrics", bind(&Impl::Metrics, this));
    Pistache::Rest::Routes::Get(router_, "/livez", bind(&Impl::Livez, this));
    Pistache::Rest::Routes::Get(router_, "/readyz", bind(&Impl::Readyz, this));
    endpoint_->init(Pistache::Http::Endpoint::options()
                        .threads(options_.threads)
                        .threadsName("klaxon-admin")
                        .flags(Pistache::Tcp::Options::ReuseAddr));
    endpoint_->setHandler(router_.handler());
    endpoint_->serveThreaded();
    serving_ = true;
  }

  uint16_t port() const { return static_cast<uint16_t>(endpoint_->getPort()); }

  void Shutdown() {
    if (endpoint_ == nullptr) return;
    if (serving_) endpoint_->shutdown();
    serving_ = false;
    // Pistache closes the listening socket only when the endpoint is destroyed; until then the
    // kernel would keep accepting connections that nobody answers.
    endpoint_.reset();
  }

 private:
  void Metrics(const Pistache::Rest::Request&, Pistache::Http::ResponseWriter response) {
    std::string body;
    try {
      body = prometheus::TextSerializer().Serialize(options_.registry->Collect());
    } catch (const std::exception& error) {
      response.send(Pistache::Http::Code::Internal_Server_Error,
                    absl::StrCat("cannot collect metrics: ", error.what(), "\n"));
      return;
    }
    response.send(Pistache::Http::Code::Ok, body,
                  Pistache::Http::Mime::MediaType::fromString("text/plain; version=0.0.4"));
  }

  void Livez(const Pistache::Rest::Request&, Pistache::Http::ResponseWriter response) {
    response.send(Pistache::Http::Code::Ok, "ok\n");
  }

  void Readyz(const Pistache::Rest::Request&, Pistache::Http::ResponseWriter response) {
    bool ready = false;
    try {
      ready = options_.ready();
    } catch (const std::exception&) {
      ready = false;  // a check that throws is a check that failed
    }
    if (ready) {
      response.send(Pistache::Http::Code::Ok, "ready\n");
    } else {
      response.send(Pistache::Http::Code::Service_Unavailable, "not ready\n");
    }
  }

  AdminServerOptions options_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  Pistache::Rest::Router router_;
  bool serving_ = false;
};

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(AdminServerOptions options) {
  if (options.registry == nullptr) {
    return absl::InvalidArgumentError("AdminServerOptions.registry is required");
  }
  if (!options.ready) return absl::InvalidArgumentError("AdminServerOptions.ready is required");
  if (options.threads < 1)
    return absl::InvalidArgumentError("AdminServerOptions.threads must be >= 1");
  const std::string where = absl::StrCat(options.host, ":", options.port);
  std::unique_ptr<Impl> impl;
  try {
    const Pistache::Address address(options.host, Pistache::Port(options.port));
    impl = std::make_unique<Impl>(std::move(options), address);
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("AdminServerOptions.host: cannot use ", where, ": ", error.what()));
  }
  try {
    impl->Serve();
  } catch (const std::exception& error) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve admin HTTP on ", where, ": ", error.what()));
  }
  const uint16_t port = impl->port();
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl), port));
}

AdminServer::AdminServer(std::unique_ptr<Impl> impl, uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

AdminServer::~AdminServer() { Shutdown(); }

void AdminServer::Shutdown() { impl_->Shutdown(); }

}  // namespace klaxon::metrics
