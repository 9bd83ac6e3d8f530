// A gRPC server started as ingress and audit start theirs (ReadServerSecurity, then
// MakeServerCredentials, then StartServer), with certificates made by the test, against clients
// built by the shared client helper: who gets through, who is refused, and a rotated certificate
// served without a restart.
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/api_keys.h"
#include "common/grpcutil/channel_security.h"
#include "common/grpcutil/grpcutil.h"
#include "common/grpcutil/server_security.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "tests/support/support.h"
#include "tests/support/test_pki.h"

namespace klaxon::grpcutil {
namespace {

using ::testing::HasSubstr;

constexpr char kApiKey[] = "tls-test-api-key";
constexpr char kMethod[] = "/klaxon.test.Tls/Call";
constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";

// One unary method that, like every Klaxon RPC, first authenticates the caller's API key.
class AuthenticatedService : public grpc::Service {
 public:
  explicit AuthenticatedService(const auth::ApiKeyRegistry& keys) : keys_(keys) {
    AddMethod(new grpc::internal::RpcServiceMethod(kMethod,
                                                   grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
    MarkMethodRawCallback(
        0, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
               [this](grpc::CallbackServerContext* context, const grpc::ByteBuffer*,
                      grpc::ByteBuffer* response) {
                 const grpc::Slice empty;
                 *response = grpc::ByteBuffer(&empty, 1);  // an empty message, as OK needs one
                 grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
                 reactor->Finish(ToGrpcStatus(auth::AuthenticateCall(keys_, *context).status()));
                 return reactor;
               }));
  }

 private:
  const auth::ApiKeyRegistry& keys_;
};

class GrpcTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template = std::filesystem::path(::testing::TempDir()) / "grpc-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    WriteServerCertificate(ca_);
    client_ca_file_ = Path("client-ca.pem");
    testing::WriteFileAtomically(client_ca_file_, client_ca_.cert());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
    std::filesystem::remove_all(dir_);
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes a server certificate for 127.0.0.1 issued by `ca` over the files the server reads.
  void WriteServerCertificate(const testing::TestCa& ca) {
    const testing::PemPair server = ca.Issue("grpc-tls-test-server", {"127.0.0.1", "localhost"});
    testing::WriteFileAtomically(Path("server.key"), server.key);
    testing::WriteFileAtomically(Path("server.pem"), server.cert);
  }

  void Start(bool require_client_certificate) {
    config::Environment environment = {{"KLAXON_GRPC_TLS_CERT_FILE", Path("server.pem")},
                                       {"KLAXON_GRPC_TLS_KEY_FILE", Path("server.key")}};
    if (require_client_certificate) {
      environment["KLAXON_GRPC_TLS_CLIENT_CA_FILE"] = client_ca_file_;
    }
    config::Reader reader(std::move(environment));
    const ServerSecurity security = ReadServerSecurity(reader);
    ASSERT_TRUE(reader.Finish().ok()) << reader.Finish();
    absl::StatusOr<StartedServer> started = StartServer(
        {.address = "127.0.0.1:0",
         .services = {service_},
         .credentials = MakeServerCredentials(security, logger_,
                                              {.refresh_interval = absl::Seconds(1)})});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    address_ = absl::StrCat("127.0.0.1:", started->port);
  }

  // A file holding `content`, for a client's --ca/--cert/--key.
  std::string File(const std::string& name, const std::string& content) const {
    const std::string path = Path(name);
    testing::WriteFileAtomically(path, content);
    return path;
  }

  ClientTlsOptions Trusting(const testing::TestCa& ca, const std::string& name) const {
    return {.ca_file = File(name + "-ca.pem", ca.cert())};
  }

  ClientTlsOptions WithClientCertificate(ClientTlsOptions options, const testing::TestCa& issuer,
                                         const std::string& name) const {
    const testing::PemPair client = issuer.Issue(name);
    options.cert_file = File(name + ".pem", client.cert);
    options.key_file = File(name + ".key", client.key);
    return options;
  }

  // One call on a fresh channel (no connection or TLS session shared with an earlier call), with
  // the link named in a transport failure as klaxonctl names it.
  absl::Status Call(const ClientTlsOptions& options, const std::string& api_key = kApiKey,
                    const std::string& method = kMethod) const {
    absl::StatusOr<ChannelSecurity> security = ResolveChannelSecurity(options, address_);
    if (!security.ok()) return security.status();
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    const auto channel =
        grpc::CreateCustomChannel(address_, MakeChannelCredentials(*security), arguments);
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!api_key.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", api_key));
    const grpc::Slice empty;
    const grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    return NameLinkFailure(FromGrpcStatus(done.get_future().get()),
                           absl::StrCat("test gRPC at ", address_), *security);
  }

  std::filesystem::path dir_;
  testing::TestCa ca_{"grpc-tls-test-ca"};
  testing::TestCa client_ca_{"grpc-tls-test-client-ca"};
  testing::TestCa other_ca_{"grpc-tls-test-other-ca"};
  std::string client_ca_file_;
  log::MemorySink sink_;
  log::Logger logger_{{.service = "test"},
                      log::PhoneRedactor::Create("grpc-tls-test-key").value(),
                      sink_};
  auth::ApiKeyRegistry keys_ =
      auth::ApiKeyRegistry::Parse(absl::StrCat("tester=", auth::HashApiKey(kApiKey))).value();
  AuthenticatedService service_{keys_};
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(GrpcTlsTest, ClientTrustingTheCaSucceeds) {
  Start(/*require_client_certificate=*/false);
  EXPECT_TRUE(Call(Trusting(ca_, "client")).ok()) << Call(Trusting(ca_, "client"));
}

TEST_F(GrpcTlsTest, ApiKeyIsStillRequiredOverTls) {
  Start(/*require_client_certificate=*/false);
  EXPECT_EQ(Call(Trusting(ca_, "client"), /*api_key=*/"").code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(GrpcTlsTest, HealthServiceAnswersOverTls) {
  Start(/*require_client_certificate=*/false);
  EXPECT_TRUE(Call(Trusting(ca_, "client"), /*api_key=*/"", kHealthCheck).ok());
}

TEST_F(GrpcTlsTest, PlaintextClientFails) {
  Start(/*require_client_certificate=*/false);
  const absl::Status status = Call({.plaintext = true});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr("cannot reach test gRPC at " + address_ + " (plaintext)"));
}

TEST_F(GrpcTlsTest, ClientTrustingAnotherCaFailsTheHandshake) {
  Start(/*require_client_certificate=*/false);
  const absl::Status status = Call(Trusting(other_ca_, "client"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr("TLS handshake with test gRPC at " + address_ + " failed"));
}

TEST_F(GrpcTlsTest, MutualTlsRefusesAClientWithoutACertificate) {
  Start(/*require_client_certificate=*/true);
  const absl::Status status = Call(Trusting(ca_, "client"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

TEST_F(GrpcTlsTest, MutualTlsRefusesACertificateFromAnotherCa) {
  Start(/*require_client_certificate=*/true);
  const absl::Status status =
      Call(WithClientCertificate(Trusting(ca_, "client"), other_ca_, "stranger"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

TEST_F(GrpcTlsTest, MutualTlsAcceptsAGoodCertificateWhichStillNeedsTheApiKey) {
  Start(/*require_client_certificate=*/true);
  const ClientTlsOptions client =
      WithClientCertificate(Trusting(ca_, "client"), client_ca_, "backend");
  EXPECT_TRUE(Call(client).ok()) << Call(client);
  EXPECT_EQ(Call(client, /*api_key=*/"").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Call(client, /*api_key=*/"wrong-key").code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(GrpcTlsTest, RotatedCertificateIsServedWithoutARestart) {
  Start(/*require_client_certificate=*/false);
  const ClientTlsOptions trusting_new = Trusting(other_ca_, "new");
  ASSERT_FALSE(Call(trusting_new).ok());
  WriteServerCertificate(other_ca_);  // as cert-manager renews it under a new CA
  // The provider re-reads the files every second; each call makes a new handshake.
  EXPECT_TRUE(testing::PollUntil([&] { return Call(trusting_new).ok(); }, absl::Seconds(20)))
      << Call(trusting_new);
  EXPECT_FALSE(Call(Trusting(ca_, "old")).ok());
}

}  // namespace
}  // namespace klaxon::grpcutil
