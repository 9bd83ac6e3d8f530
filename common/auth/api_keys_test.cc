#include "common/auth/api_keys.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace klaxon::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBillingKey = "billing-secret-key";
const std::string kPagerKey = "pager-secret-key";

ApiKeyRegistry MakeRegistry() {
  absl::StatusOr<ApiKeyRegistry> registry = ApiKeyRegistry::Parse(
      absl::StrCat("billing=", HashApiKey(kBillingKey), ", pager=", HashApiKey(kPagerKey)));
  EXPECT_TRUE(registry.ok()) << registry.status();
  return *std::move(registry);
}

TEST(HashApiKeyTest, IsLowercaseHexSha256) {
  // printf %s abc | sha256sum
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeyRegistryTest, AuthenticatesEachConfiguredCaller) {
  const ApiKeyRegistry registry = MakeRegistry();
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(registry.Authenticate(kBillingKey).value_or(""), "billing");
  EXPECT_EQ(registry.Authenticate(kPagerKey).value_or(""), "pager");
}

TEST(ApiKeyRegistryTest, WrongKeyIsUnauthenticatedWithoutDetail) {
  const absl::Status status = MakeRegistry().Authenticate("guess").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "missing or invalid API key");
}

TEST(ApiKeyRegistryTest, EmptyKeyIsUnauthenticated) {
  EXPECT_EQ(MakeRegistry().Authenticate("").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(ApiKeyRegistryTest, AcceptsUppercaseHashes) {
  std::string hash = HashApiKey(kBillingKey);
  for (char& c : hash) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const absl::StatusOr<ApiKeyRegistry> registry = ApiKeyRegistry::Parse("billing=" + hash);
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->Authenticate(kBillingKey).value_or(""), "billing");
}

TEST(ApiKeyRegistryTest, RejectsEmptySpec) {
  EXPECT_EQ(ApiKeyRegistry::Parse("  ").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ApiKeyRegistryTest, RejectsEntryWithoutCallerAndDoesNotEchoIt) {
  const std::string hash = HashApiKey(kBillingKey);
  const absl::Status status = ApiKeyRegistry::Parse(hash).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "KLAXON_API_KEYS entry 1 is not caller=sha256hex");
}

TEST(ApiKeyRegistryTest, RejectsMalformedHashNamingTheCaller) {
  const absl::Status status =
      ApiKeyRegistry::Parse(absl::StrCat("billing=", HashApiKey(kBillingKey), ",pager=abc123"))
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "KLAXON_API_KEYS entry 2 (caller \"pager\"): hash is not 64 hex digits");
}

TEST(ApiKeyRegistryTest, RejectsBadCallerName) {
  const absl::Status status =
      ApiKeyRegistry::Parse(absl::StrCat("bad caller=", HashApiKey(kBillingKey))).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("entry 1 has an invalid caller name"));
  EXPECT_THAT(status.message(), Not(HasSubstr(HashApiKey(kBillingKey))));
}

TEST(ApiKeyRegistryTest, AcceptsSeveralKeysPerCallerForRotation) {
  const std::string next_key = "billing-next-key";
  const absl::StatusOr<ApiKeyRegistry> registry = ApiKeyRegistry::Parse(
      absl::StrCat("billing=", HashApiKey(kBillingKey), ",billing=", HashApiKey(next_key)));
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->Authenticate(kBillingKey).value_or(""), "billing");
  EXPECT_EQ(registry->Authenticate(next_key).value_or(""), "billing");
}

TEST(ApiKeyRegistryTest, ReadsOneEntryPerLineAndSkipsComments) {
  const absl::StatusOr<ApiKeyRegistry> registry = ApiKeyRegistry::Parse(
      absl::StrCat("# billing rotates in March\nbilling=", HashApiKey(kBillingKey), "\n\n  pager=",
                   HashApiKey(kPagerKey), "\n"));
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->size(), 2u);
  EXPECT_EQ(registry->Authenticate(kPagerKey).value_or(""), "pager");
}

TEST(ApiKeyRegistryTest, OnlyCommentsIsNoKeys) {
  EXPECT_EQ(ApiKeyRegistry::Parse("# nothing yet\n").status().message(),
            "KLAXON_API_KEYS: no API keys configured");
}

TEST(ApiKeyRegistryTest, OperatorRoleIsPerCaller) {
  const absl::StatusOr<ApiKeyRegistry> registry =
      ApiKeyRegistry::Parse(absl::StrCat("billing=", HashApiKey(kBillingKey), ",oncall=",
                                         HashApiKey(kPagerKey)),
                            {"oncall"});
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_TRUE(registry->IsOperator("oncall"));
  EXPECT_FALSE(registry->IsOperator("billing"));
  EXPECT_FALSE(MakeRegistry().IsOperator("billing"));
}

TEST(ApiKeyRegistryTest, RejectsDuplicateHash) {
  const absl::Status status =
      ApiKeyRegistry::Parse(
          absl::StrCat("billing=", HashApiKey(kBillingKey), ",pager=", HashApiKey(kBillingKey)))
          .status();
  EXPECT_THAT(status.message(), HasSubstr("entry 2 (caller \"pager\"): same key hash"));
}

TEST(ApiKeyRegistryTest, RejectsEmptyEntry) {
  const absl::Status status =
      ApiKeyRegistry::Parse(absl::StrCat("billing=", HashApiKey(kBillingKey), ",")).status();
  EXPECT_EQ(status.message(), "KLAXON_API_KEYS entry 2 is empty");
}

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

TEST(BearerKeyTest, ReadsTheKeyOfABearerCredential) {
  EXPECT_EQ(BearerKey(Metadata{{"authorization", "Bearer abc"}}).value_or(""), "abc");
  EXPECT_EQ(BearerKey(Metadata{{"authorization", "bearer  abc "}}).value_or(""), "abc");
}

TEST(BearerKeyTest, RejectsMissingOtherSchemeOrRepeatedHeader) {
  for (const Metadata& metadata :
       {Metadata{}, Metadata{{"authorization", "Basic abc"}},
        Metadata{{"authorization", "Bearer "}},
        Metadata{{"authorization", "Bearer a"}, {"authorization", "Bearer b"}},
        Metadata{{"x-api-key", "abc"}}}) {
    EXPECT_EQ(BearerKey(metadata).status().code(), absl::StatusCode::kUnauthenticated);
  }
}

// A server whose every method authenticates the call and, when it succeeds, returns the caller in
// trailing metadata; exercises AuthenticateCall() on a real ServerContext.
class AuthenticatingService : public grpc::CallbackGenericService {
 public:
  explicit AuthenticatingService(const ApiKeyRegistry& registry) : registry_(registry) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(grpc::GenericCallbackServerContext* context, const ApiKeyRegistry& registry) {
        const absl::StatusOr<std::string> caller = AuthenticateCall(registry, *context);
        if (!caller.ok()) {
          Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                              std::string(caller.status().message())));
          return;
        }
        context->AddTrailingMetadata("x-caller", *caller);
        Finish(grpc::Status::OK);
      }
      // The gRPC callback API hands ownership of a reactor back through OnDone().
      void OnDone() override { delete this; }
    };
    return new Reactor(context, registry_);
  }

 private:
  const ApiKeyRegistry& registry_;
};

struct CallResult {
  grpc::StatusCode code;
  std::string caller;
};

CallResult Call(int port, const std::string& authorization) {
  const auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  const grpc::Slice empty;
  const grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/klaxon.test.Echo/Call", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  const grpc::Status status = done.get_future().get();
  const auto trailers = context.GetServerTrailingMetadata();
  const auto it = trailers.find("x-caller");
  return CallResult{
      .code = status.error_code(),
      .caller = it == trailers.end() ? "" : std::string(it->second.data(), it->second.size())};
}

class AuthenticateCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  ApiKeyRegistry registry_ = MakeRegistry();
  AuthenticatingService service_{registry_};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(AuthenticateCallTest, ReturnsTheCallerOfAValidKey) {
  const CallResult result = Call(port_, "Bearer " + kPagerKey);
  EXPECT_EQ(result.code, grpc::StatusCode::OK);
  EXPECT_EQ(result.caller, "pager");
}

TEST_F(AuthenticateCallTest, RejectsAWrongKey) {
  EXPECT_EQ(Call(port_, "Bearer nope").code, grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthenticateCallTest, RejectsAMissingKey) {
  EXPECT_EQ(Call(port_, "").code, grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace klaxon::auth
