#include "common/grpcutil/server_security.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_pki.h"

namespace klaxon::grpcutil {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A directory of PEM files for one test, removed at its end.
class PemFiles {
 public:
  PemFiles() {
    std::string dir_template = std::filesystem::path(::testing::TempDir()) / "server-tls-XXXXXX";
    dir_ = mkdtemp(dir_template.data());
  }
  ~PemFiles() { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }

 private:
  std::filesystem::path dir_;
};

absl::Status Read(config::Environment environment, ServerSecurity* out = nullptr) {
  config::Reader reader(std::move(environment));
  ServerSecurity security = ReadServerSecurity(reader);
  if (out != nullptr) *out = std::move(security);
  return reader.Finish();
}

class ServerSecurityTest : public ::testing::Test {
 protected:
  ServerSecurityTest()
      : ca_("server-security-test-ca"),
        server_(ca_.Issue("server", {"127.0.0.1"})),
        cert_file_(files_.Write("server.pem", server_.cert)),
        key_file_(files_.Write("server.key", server_.key)),
        ca_file_(files_.Write("ca.pem", ca_.cert())) {}

  testing::TestCa ca_;
  testing::PemPair server_;
  PemFiles files_;
  std::string cert_file_;
  std::string key_file_;
  std::string ca_file_;
};

TEST_F(ServerSecurityTest, NothingSetIsAnErrorNamingTheTlsFilesAndPlaintext) {
  const absl::Status status = Read({});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("KLAXON_GRPC_TLS_CERT_FILE"), HasSubstr("KLAXON_GRPC_TLS_KEY_FILE"),
                    HasSubstr("KLAXON_GRPC_PLAINTEXT=true")));
}

TEST_F(ServerSecurityTest, PlaintextFalseIsNotAChoiceOfPlaintext) {
  EXPECT_THAT(Read({{"KLAXON_GRPC_PLAINTEXT", "false"}}).message(),
              HasSubstr("KLAXON_GRPC_TLS_CERT_FILE"));
}

TEST_F(ServerSecurityTest, PlaintextTrueGivesPlaintext) {
  ServerSecurity security{.tls = ServerTlsFiles{}};
  ASSERT_TRUE(Read({{"KLAXON_GRPC_PLAINTEXT", "true"}}, &security).ok());
  EXPECT_FALSE(security.tls.has_value());
}

TEST_F(ServerSecurityTest, PlaintextTogetherWithTlsFilesIsAnError) {
  const absl::Status status = Read({{"KLAXON_GRPC_PLAINTEXT", "true"},
                                    {"KLAXON_GRPC_TLS_CERT_FILE", cert_file_},
                                    {"KLAXON_GRPC_TLS_KEY_FILE", key_file_}});
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("KLAXON_GRPC_PLAINTEXT"), HasSubstr("KLAXON_GRPC_TLS_CERT_FILE")));
}

TEST_F(ServerSecurityTest, CertificateAndKeyGiveTlsWithoutClientCertificates) {
  ServerSecurity security;
  ASSERT_TRUE(Read({{"KLAXON_GRPC_TLS_CERT_FILE", cert_file_},
                    {"KLAXON_GRPC_TLS_KEY_FILE", key_file_}},
                   &security)
                  .ok());
  ASSERT_TRUE(security.tls.has_value());
  EXPECT_EQ(security.tls->cert_file, cert_file_);
  EXPECT_EQ(security.tls->key_file, key_file_);
  EXPECT_EQ(security.tls->client_ca_file, "");
}

TEST_F(ServerSecurityTest, ClientCaIsKept) {
  ServerSecurity security;
  ASSERT_TRUE(Read({{"KLAXON_GRPC_TLS_CERT_FILE", cert_file_},
                    {"KLAXON_GRPC_TLS_KEY_FILE", key_file_},
                    {"KLAXON_GRPC_TLS_CLIENT_CA_FILE", ca_file_}},
                   &security)
                  .ok());
  EXPECT_EQ(security.tls->client_ca_file, ca_file_);
}

TEST_F(ServerSecurityTest, CertificateWithoutKeyNamesTheKey) {
  const absl::Status status = Read({{"KLAXON_GRPC_TLS_CERT_FILE", cert_file_}});
  EXPECT_EQ(status.message(), "invalid configuration: KLAXON_GRPC_TLS_KEY_FILE: is required for "
                              "TLS on the gRPC port");
}

TEST_F(ServerSecurityTest, ClientCaAloneNamesCertificateAndKey) {
  const absl::Status status = Read({{"KLAXON_GRPC_TLS_CLIENT_CA_FILE", ca_file_}});
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("KLAXON_GRPC_TLS_CERT_FILE: is required"),
                    HasSubstr("KLAXON_GRPC_TLS_KEY_FILE: is required")));
}

TEST_F(ServerSecurityTest, MissingFileIsNamedWithItsVariable) {
  const std::string missing = cert_file_ + ".missing";
  const absl::Status status = Read(
      {{"KLAXON_GRPC_TLS_CERT_FILE", missing}, {"KLAXON_GRPC_TLS_KEY_FILE", key_file_}});
  EXPECT_THAT(status.message(),
              HasSubstr("KLAXON_GRPC_TLS_CERT_FILE: " + missing + ": cannot be read"));
}

TEST_F(ServerSecurityTest, FileWithoutCertificateIsAnError) {
  const absl::Status status =
      Read({{"KLAXON_GRPC_TLS_CERT_FILE", key_file_}, {"KLAXON_GRPC_TLS_KEY_FILE", key_file_}});
  EXPECT_THAT(status.message(),
              HasSubstr("KLAXON_GRPC_TLS_CERT_FILE: " + key_file_ + ": holds no PEM certificate"));
}

TEST_F(ServerSecurityTest, KeyOfAnotherCertificateIsAnErrorThatShowsNoKey) {
  const testing::PemPair other = ca_.Issue("other");
  const std::string other_key = files_.Write("other.key", other.key);
  const absl::Status status =
      Read({{"KLAXON_GRPC_TLS_CERT_FILE", cert_file_}, {"KLAXON_GRPC_TLS_KEY_FILE", other_key}});
  EXPECT_THAT(status.message(),
              HasSubstr("KLAXON_GRPC_TLS_KEY_FILE: " + other_key + ": is not the key of the "
                        "certificate in KLAXON_GRPC_TLS_CERT_FILE"));
  EXPECT_THAT(status.message(), Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(ServerSecurityTest, ClientCaWithoutCertificateIsAnError) {
  const std::string empty = files_.Write("empty.pem", "");
  const absl::Status status = Read({{"KLAXON_GRPC_TLS_CERT_FILE", cert_file_},
                                    {"KLAXON_GRPC_TLS_KEY_FILE", key_file_},
                                    {"KLAXON_GRPC_TLS_CLIENT_CA_FILE", empty}});
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_GRPC_TLS_CLIENT_CA_FILE: " + empty));
}

class ServerCredentialsLogTest : public ::testing::Test {
 protected:
  log::MemorySink sink_;
  log::Logger logger_{{.service = "test"},
                      log::PhoneRedactor::Create("server-credentials-test-key").value(),
                      sink_};
};

TEST_F(ServerCredentialsLogTest, PlaintextIsAWarning) {
  EXPECT_NE(MakeServerCredentials(ServerSecurity{}, logger_), nullptr);
  ASSERT_EQ(sink_.Lines().size(), 1u);
  EXPECT_THAT(sink_.Lines()[0], AllOf(HasSubstr(R"("level":"warn")"),
                                      HasSubstr(R"("event":"grpc_plaintext")")));
}

}  // namespace
}  // namespace klaxon::grpcutil
