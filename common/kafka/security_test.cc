#include "common/kafka/security.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

namespace klaxon::kafka {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "s3cret-kafka-password";

// A file under the test's temporary directory, removed at the end of the test.
class TempFile {
 public:
  TempFile(std::string_view name, std::string_view contents) {
    path_ = std::filesystem::path(::testing::TempDir()) /
            (std::string(name) + "_" + std::to_string(getpid()));
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

struct Read {
  ClusterSettings cluster;
  absl::Status status;
};

Read ReadFrom(config::Environment environment) {
  environment.emplace("KLAXON_KAFKA_BROKERS", "10.0.0.1:9093,10.0.0.2:9093");
  config::Reader reader(std::move(environment));
  ClusterSettings cluster = ReadClusterSettings(reader);
  return {.cluster = std::move(cluster), .status = reader.Finish()};
}

TEST(ReadClusterSettingsTest, DefaultsToPlaintext) {
  const Read read = ReadFrom({});
  ASSERT_TRUE(read.status.ok()) << read.status;
  EXPECT_EQ(read.cluster.brokers, "10.0.0.1:9093,10.0.0.2:9093");
  EXPECT_EQ(SecurityProperties(read.cluster.security),
            (std::map<std::string, std::string>{{"security.protocol", "PLAINTEXT"}}));
}

TEST(ReadClusterSettingsTest, SaslSslWithScramAndMutualTls) {
  const TempFile ca("ca.pem", "ca");
  const TempFile cert("cert.pem", "cert");
  const TempFile key("key.pem", "key");
  const TempFile password("password", std::string(kPassword) + "\n");
  const Read read = ReadFrom({{"KLAXON_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"},
                              {"KLAXON_KAFKA_SASL_USERNAME", "klaxon"},
                              {"KLAXON_KAFKA_SASL_PASSWORD_FILE", password.path()},
                              {"KLAXON_KAFKA_SSL_CA_FILE", ca.path()},
                              {"KLAXON_KAFKA_SSL_CERT_FILE", cert.path()},
                              {"KLAXON_KAFKA_SSL_KEY_FILE", key.path()}});
  ASSERT_TRUE(read.status.ok()) << read.status;
  EXPECT_EQ(SecurityProperties(read.cluster.security),
            (std::map<std::string, std::string>{
                {"security.protocol", "SASL_SSL"},
                {"sasl.mechanism", "SCRAM-SHA-512"},
                {"sasl.username", "klaxon"},
                {"sasl.password", kPassword},
                {"ssl.ca.location", ca.path()},
                {"ssl.certificate.location", cert.path()},
                {"ssl.key.location", key.path()},
                {"ssl.endpoint.identification.algorithm", "https"},
            }));
}

TEST(ReadClusterSettingsTest, PlainOnlyOverTls) {
  const Read read = ReadFrom({{"KLAXON_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"},
                              {"KLAXON_KAFKA_SASL_MECHANISM", "PLAIN"},
                              {"KLAXON_KAFKA_SASL_USERNAME", "klaxon"},
                              {"KLAXON_KAFKA_SASL_PASSWORD", kPassword}});
  EXPECT_EQ(read.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status.message(),
              AllOf(HasSubstr("KLAXON_KAFKA_SASL_MECHANISM"), HasSubstr("SASL_SSL")));
  EXPECT_THAT(read.status.message(), Not(HasSubstr(kPassword)));

  const Read over_tls = ReadFrom({{"KLAXON_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"},
                                  {"KLAXON_KAFKA_SASL_MECHANISM", "PLAIN"},
                                  {"KLAXON_KAFKA_SASL_USERNAME", "klaxon"},
                                  {"KLAXON_KAFKA_SASL_PASSWORD", kPassword}});
  EXPECT_TRUE(over_tls.status.ok()) << over_tls.status;
  EXPECT_EQ(over_tls.cluster.security.mechanism, SaslMechanism::kPlain);
}

TEST(ReadClusterSettingsTest, SaslNeedsUserAndPassword) {
  const Read read = ReadFrom({{"KLAXON_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"}});
  EXPECT_THAT(read.status.message(), AllOf(HasSubstr("KLAXON_KAFKA_SASL_USERNAME is required"),
                                           HasSubstr("KLAXON_KAFKA_SASL_PASSWORD (or")));
}

TEST(ReadClusterSettingsTest, SettingsTheProtocolWouldIgnoreAreErrors) {
  const TempFile ca("ca.pem", "ca");
  const Read read = ReadFrom({{"KLAXON_KAFKA_SASL_USERNAME", "klaxon"},
                              {"KLAXON_KAFKA_SASL_PASSWORD", kPassword},
                              {"KLAXON_KAFKA_SSL_CA_FILE", ca.path()}});
  EXPECT_THAT(read.status.message(),
              AllOf(HasSubstr("KLAXON_KAFKA_SASL_USERNAME: is only used with SASL"),
                    HasSubstr("KLAXON_KAFKA_SASL_PASSWORD: is only used with SASL"),
                    HasSubstr("KLAXON_KAFKA_SSL_CA_FILE: is only used with SSL or SASL_SSL"),
                    HasSubstr("KLAXON_KAFKA_SECURITY_PROTOCOL is PLAINTEXT")));
  EXPECT_THAT(read.status.message(), Not(HasSubstr(kPassword)));
}

TEST(ReadClusterSettingsTest, ClientCertificateNeedsItsKey) {
  const TempFile cert("cert.pem", "cert");
  const Read read = ReadFrom(
      {{"KLAXON_KAFKA_SECURITY_PROTOCOL", "SSL"}, {"KLAXON_KAFKA_SSL_CERT_FILE", cert.path()}});
  EXPECT_THAT(read.status.message(), HasSubstr("KLAXON_KAFKA_SSL_KEY_FILE: is required with "
                                               "KLAXON_KAFKA_SSL_CERT_FILE"));
}

TEST(ReadClusterSettingsTest, UnreadableFileIsNamed) {
  const Read read = ReadFrom({{"KLAXON_KAFKA_SECURITY_PROTOCOL", "SSL"},
                              {"KLAXON_KAFKA_SSL_CA_FILE", "/nonexistent/ca.pem"}});
  EXPECT_THAT(read.status.message(),
              HasSubstr("KLAXON_KAFKA_SSL_CA_FILE: cannot read \"/nonexistent/ca.pem\""));
}

TEST(ReadClusterSettingsTest, UnknownProtocolAndMechanismAreErrors) {
  const Read read = ReadFrom(
      {{"KLAXON_KAFKA_SECURITY_PROTOCOL", "TLS"}, {"KLAXON_KAFKA_SASL_MECHANISM", "GSSAPI"}});
  EXPECT_THAT(read.status.message(),
              AllOf(HasSubstr("KLAXON_KAFKA_SECURITY_PROTOCOL: \"TLS\" is not one of PLAINTEXT"),
                    HasSubstr("KLAXON_KAFKA_SASL_MECHANISM: \"GSSAPI\" is not one of")));
}

Security SaslSsl() {
  return {.protocol = SecurityProtocol::kSaslSsl,
          .sasl_username = "klaxon",
          .sasl_password = kPassword};
}

std::string Get(rd_kafka_conf_t* conf, const char* name) {
  std::array<char, 512> value{};
  size_t size = value.size();
  if (rd_kafka_conf_get(conf, name, value.data(), &size) != RD_KAFKA_CONF_OK) return "<unset>";
  return value.data();
}

TEST(MakeClientConfTest, CarriesBrokersClientIdSecurityAndExtras) {
  absl::StatusOr<ConfPtr> conf =
      MakeClientConf("127.0.0.1:1", SaslSsl(), "klaxon-test", {{"linger.ms", "3"}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  EXPECT_EQ(Get(conf->get(), "bootstrap.servers"), "127.0.0.1:1");
  EXPECT_EQ(Get(conf->get(), "client.id"), "klaxon-test");
  EXPECT_EQ(Get(conf->get(), "security.protocol"), "sasl_ssl");
  EXPECT_EQ(Get(conf->get(), "sasl.mechanisms"), "SCRAM-SHA-512");
  EXPECT_EQ(Get(conf->get(), "sasl.username"), "klaxon");
  EXPECT_EQ(Get(conf->get(), "linger.ms"), "3");
  // The build of librdkafka supports SASL_SSL with SCRAM: a client can be made from it.
  EXPECT_TRUE(MakeClient(RD_KAFKA_PRODUCER, *std::move(conf)).ok());
}

TEST(MakeClientConfTest, ExtrasMayNotChangeSecurity) {
  for (const char* name :
       {"security.protocol", "sasl.mechanism", "ssl.ca.location", "bootstrap.servers"}) {
    EXPECT_EQ(MakeClientConf("127.0.0.1:1", SaslSsl(), "x", {{name, "x"}}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
}

TEST(DescribeLinkErrorTest, RefusedSaslNamesUserBrokersAndSettings) {
  const std::optional<std::string> message =
      DescribeLinkError(RD_KAFKA_RESP_ERR__AUTHENTICATION, "SASL authentication error: invalid",
                        "10.0.0.1:9093", SaslSsl());
  ASSERT_TRUE(message.has_value());
  EXPECT_THAT(*message, AllOf(HasSubstr("kafka: SASL authentication failed for user \"klaxon\" at "
                                        "10.0.0.1:9093: check KLAXON_KAFKA_SASL_USERNAME and "
                                        "KLAXON_KAFKA_SASL_PASSWORD"),
                              HasSubstr("SASL authentication error: invalid")));
  EXPECT_THAT(*message, Not(HasSubstr(kPassword)));
}

TEST(DescribeLinkErrorTest, FailedHandshakeNamesTheCaSetting) {
  const std::optional<std::string> message = DescribeLinkError(
      RD_KAFKA_RESP_ERR__SSL, "certificate verify failed", "10.0.0.1:9093", SaslSsl());
  ASSERT_TRUE(message.has_value());
  EXPECT_THAT(*message, AllOf(HasSubstr("kafka: TLS handshake with 10.0.0.1:9093 failed"),
                              HasSubstr("KLAXON_KAFKA_SSL_CA_FILE")));
}

TEST(DescribeLinkErrorTest, OtherErrorsAreNotAboutTheLink) {
  EXPECT_FALSE(DescribeLinkError(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "down", "b:1", SaslSsl()));
  EXPECT_FALSE(DescribeLinkError(RD_KAFKA_RESP_ERR__TRANSPORT, "Connection refused", "b:1", {}));
}

}  // namespace
}  // namespace klaxon::kafka
