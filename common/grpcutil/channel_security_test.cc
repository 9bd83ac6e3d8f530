#include "common/grpcutil/channel_security.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::grpcutil {
namespace {

using ::testing::HasSubstr;

// Files by path; any other path is NOT_FOUND naming it.
ReadFileFn FakeFiles(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path) -> absl::StatusOr<std::string> {
    const auto found = files.find(path);
    if (found == files.end()) return absl::NotFoundError(path + ": No such file or directory");
    return found->second;
  };
}

absl::StatusOr<ChannelSecurity> Resolve(const ClientTlsOptions& options, std::string_view target) {
  return ResolveChannelSecurity(
      options, target,
      FakeFiles({{"/ca.pem", "CA PEM"}, {"/client.pem", "CERT PEM"}, {"/client.key", "KEY PEM"}}));
}

TEST(ResolveChannelSecurityTest, NoFlagsToLoopbackIsPlaintext) {
  for (const char* target : {"127.0.0.1:50051", "localhost:50051", "[::1]:50051",
                             "dns:///localhost:50051", "unix:/run/klaxon.sock"}) {
    absl::StatusOr<ChannelSecurity> security = Resolve({}, target);
    ASSERT_TRUE(security.ok()) << security.status();
    EXPECT_FALSE(security->tls) << target;
  }
}

TEST(ResolveChannelSecurityTest, NoFlagsToAnyOtherHostIsTlsWithDefaultRoots) {
  for (const char* target : {"ingress.klaxon:50051", "10.0.0.7:50051", "dns:///ingress:50051"}) {
    absl::StatusOr<ChannelSecurity> security = Resolve({}, target);
    ASSERT_TRUE(security.ok()) << security.status();
    EXPECT_TRUE(security->tls) << target;
    EXPECT_EQ(security->root_certs, "");
    EXPECT_EQ(security->Describe(), "TLS (default roots)");
  }
}

TEST(ResolveChannelSecurityTest, CaMakesLoopbackTlsTrustingIt) {
  absl::StatusOr<ChannelSecurity> security = Resolve({.ca_file = "/ca.pem"}, "127.0.0.1:50051");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_TRUE(security->tls);
  EXPECT_EQ(security->root_certs, "CA PEM");
  EXPECT_EQ(security->Describe(), "TLS (CA /ca.pem)");
}

TEST(ResolveChannelSecurityTest, TlsFlagMakesLoopbackTls) {
  absl::StatusOr<ChannelSecurity> security = Resolve({.tls = true}, "127.0.0.1:50051");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_TRUE(security->tls);
}

TEST(ResolveChannelSecurityTest, ClientCertificateAndKeyAreRead) {
  absl::StatusOr<ChannelSecurity> security = Resolve(
      {.ca_file = "/ca.pem", .cert_file = "/client.pem", .key_file = "/client.key"}, "h:1");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->cert_chain, "CERT PEM");
  EXPECT_EQ(security->private_key, "KEY PEM");
  EXPECT_EQ(security->Describe(), "TLS (CA /ca.pem, client certificate)");
}

TEST(ResolveChannelSecurityTest, PlaintextFlagAllowsARemoteTarget) {
  absl::StatusOr<ChannelSecurity> security = Resolve({.plaintext = true}, "ingress:50051");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_FALSE(security->tls);
}

TEST(ResolveChannelSecurityTest, PlaintextWithATlsOptionIsInvalid) {
  EXPECT_EQ(Resolve({.ca_file = "/ca.pem", .plaintext = true}, "h:1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resolve({.tls = true, .plaintext = true}, "h:1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResolveChannelSecurityTest, CertificateWithoutKeyIsInvalid) {
  EXPECT_THAT(Resolve({.cert_file = "/client.pem"}, "h:1").status().message(),
              HasSubstr("--cert and --key"));
  EXPECT_THAT(Resolve({.key_file = "/client.key"}, "h:1").status().message(),
              HasSubstr("--cert and --key"));
}

TEST(ResolveChannelSecurityTest, UnreadableFileNamesTheFlagAndPath) {
  const absl::Status status = Resolve({.ca_file = "/nope.pem"}, "h:1").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--ca: /nope.pem: No such file"));
}

TEST(ClientTlsOptionsFromEnvironmentTest, ReadsTheThreeFiles) {
  const std::map<std::string, std::string> env = {{"KLAXON_CA_FILE", "/ca.pem"},
                                                  {"KLAXON_CERT_FILE", "/c.pem"},
                                                  {"KLAXON_KEY_FILE", "/c.key"}};
  const ClientTlsOptions options = ClientTlsOptionsFromEnvironment(
      [&env](const std::string& name) -> std::optional<std::string> {
        const auto found = env.find(name);
        if (found == env.end()) return std::nullopt;
        return found->second;
      });
  EXPECT_EQ(options.ca_file, "/ca.pem");
  EXPECT_EQ(options.cert_file, "/c.pem");
  EXPECT_EQ(options.key_file, "/c.key");
  EXPECT_FALSE(options.tls);
  EXPECT_FALSE(options.plaintext);
}

TEST(NameLinkFailureTest, ServerAnswersPassUnchanged) {
  const absl::Status answer = absl::UnavailableError("Kafka did not acknowledge the request");
  EXPECT_EQ(NameLinkFailure(answer, "ingress gRPC at h:1", {.tls = true}), answer);
  const absl::Status denied = absl::UnauthenticatedError("invalid API key");
  EXPECT_EQ(NameLinkFailure(denied, "ingress gRPC at h:1", {.tls = true}), denied);
}

TEST(NameLinkFailureTest, PlaintextConnectionFailureSuggestsTls) {
  const absl::Status named = NameLinkFailure(
      absl::UnavailableError("failed to connect to all addresses; last error: Socket closed"),
      "ingress gRPC at 127.0.0.1:1", {});
  EXPECT_THAT(named.message(),
              HasSubstr("cannot reach ingress gRPC at 127.0.0.1:1 (plaintext): failed to connect"));
  EXPECT_THAT(named.message(), HasSubstr("pass --ca"));
}

}  // namespace
}  // namespace klaxon::grpcutil
