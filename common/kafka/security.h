#pragma once
// How every Klaxon Kafka client proves who it is and protects the link: librdkafka's TLS and SASL
// settings, read once from the environment (ReadClusterSettings, shared by every service and by
// klaxon-admin), validated as a whole, and turned into librdkafka properties by MakeClientConf,
// the one place a client configuration is built. Also says, for an error librdkafka reports
// about the link, what the operator should check, naming the setting (DescribeLinkError).

#include <librdkafka/rdkafka.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/kafka/client.h"

namespace klaxon::kafka {

// librdkafka's security.protocol.
enum class SecurityProtocol { kPlaintext, kSsl, kSaslPlaintext, kSaslSsl };
// librdkafka's sasl.mechanism (only for the SASL protocols).
enum class SaslMechanism { kScramSha512, kScramSha256, kPlain };

std::string_view ProtocolName(SecurityProtocol protocol);  // "SASL_SSL", ...
std::string_view MechanismName(SaslMechanism mechanism);   // "SCRAM-SHA-512", ...

struct Security {
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  SaslMechanism mechanism = SaslMechanism::kScramSha512;
  std::string sasl_username = {};
  std::string sasl_password = {};  // a secret: never logged
  std::string ssl_ca_file = {};    // PEM CA bundle; empty: the system's trust store
  std::string ssl_cert_file = {};  // PEM client certificate for mTLS, with ssl_key_file
  std::string ssl_key_file = {};

  bool UsesTls() const;
  bool UsesSasl() const;
};

// Where the cluster is and how to connect to it.
struct ClusterSettings {
  std::string brokers = {};  // host:port[,host:port]
  Security security = {};
};

// Reads KLAXON_KAFKA_BROKERS and the KLAXON_KAFKA_SECURITY_PROTOCOL, _SASL_MECHANISM,
// _SASL_USERNAME, _SASL_PASSWORD (or _SASL_PASSWORD_FILE), _SSL_CA_FILE, _SSL_CERT_FILE and
// _SSL_KEY_FILE settings (docs/configuration.md), recording every problem in `reader`: settings
// that the protocol would ignore, PLAIN without TLS, a certificate without its key, a file that
// cannot be read.
ClusterSettings ReadClusterSettings(config::Reader& reader);

// The librdkafka properties that carry `security` (security.protocol, sasl.*, ssl.*).
std::map<std::string, std::string> SecurityProperties(const Security& security);

// The configuration of a Klaxon client: bootstrap.servers, client.id and the security
// properties, then `properties` (which may not change the security properties). kInvalidArgument
// names a property librdkafka rejects.
absl::StatusOr<ConfPtr> MakeClientConf(std::string_view brokers, const Security& security,
                                       std::string_view client_id,
                                       const std::map<std::string, std::string>& properties);

// For an error librdkafka reports about the link itself (SASL authentication refused, TLS
// handshake failed), a message that names the link, the brokers, the user and the settings to
// check, e.g. "kafka: SASL authentication failed for user "klaxon" at 10.0.0.1:9093: check
// KLAXON_KAFKA_SASL_USERNAME and KLAXON_KAFKA_SASL_PASSWORD (...)". nullopt for other errors.
std::optional<std::string> DescribeLinkError(rd_kafka_resp_err_t error, std::string_view reason,
                                             std::string_view brokers, const Security& security);

// What an error librdkafka reports to a client's error callback means for that client.
struct ClientError {
  // Not OK when the client cannot go on: the brokers refused its credentials (read only at
  // start, so a restart with corrected or rotated ones is the way out) or librdkafka reports a
  // fatal error. Its message names the link or the cause.
  absl::Status fatal;
  // Otherwise librdkafka retries by itself and this is only logged: at "error" when it is a
  // link problem DescribeLinkError names, else at "warn".
  std::string_view level;
  std::string message;
};

// `role` ("producer", "consumer") goes into the fatal message.
ClientError ClassifyClientError(rd_kafka_t* client, rd_kafka_resp_err_t error,
                                std::string_view reason, std::string_view brokers,
                                const Security& security, std::string_view role);

}  // namespace klaxon::kafka
