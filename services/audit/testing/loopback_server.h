#pragma once
// One of audit's gRPC services on a real in-process server at a free loopback port, without TLS,
// and the client contexts its tests call it with.

#include <chrono>
#include <memory>
#include <string>

#include "common/grpcutil/grpcutil.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "gtest/gtest.h"

namespace klaxon::audit::testing {

// Serves `service` (which must outlive it) from Start until Shutdown or destruction.
class LoopbackServer {
 public:
  ~LoopbackServer() { Shutdown(); }

  // A stub of `Service` (a generated gRPC service class) on a channel to the started server.
  // Fails the test when the server does not start; call it as ASSERT_NO_FATAL_FAILURE(...).
  template <typename Service>
  void Start(grpc::Service& service, std::unique_ptr<typename Service::Stub>& stub) {
    absl::StatusOr<grpcutil::StartedServer> started =
        grpcutil::StartServer({.address = "127.0.0.1:0",
                               .services = {service},
                               .credentials = grpc::InsecureServerCredentials()});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    stub = Service::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(started->port),
                                                grpc::InsecureChannelCredentials()));
  }

  void Shutdown() {
    if (server_ != nullptr) server_->Shutdown();
  }

 private:
  std::unique_ptr<grpc::Server> server_;
};

// A call presenting `api_key` as its bearer token (none when null), with a 10-second deadline.
inline std::unique_ptr<grpc::ClientContext> CallContext(const char* api_key) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (api_key != nullptr) context->AddMetadata("authorization", std::string("Bearer ") + api_key);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

}  // namespace klaxon::audit::testing
