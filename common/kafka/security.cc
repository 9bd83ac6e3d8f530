#include "common/kafka/security.h"

#include <array>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace klaxon::kafka {
namespace {

constexpr char kProtocolVar[] = "KLAXON_KAFKA_SECURITY_PROTOCOL";
constexpr char kMechanismVar[] = "KLAXON_KAFKA_SASL_MECHANISM";
constexpr char kUsernameVar[] = "KLAXON_KAFKA_SASL_USERNAME";
constexpr char kPasswordVar[] = "KLAXON_KAFKA_SASL_PASSWORD";
constexpr char kCaFileVar[] = "KLAXON_KAFKA_SSL_CA_FILE";
constexpr char kCertFileVar[] = "KLAXON_KAFKA_SSL_CERT_FILE";
constexpr char kKeyFileVar[] = "KLAXON_KAFKA_SSL_KEY_FILE";

constexpr std::array<std::pair<SecurityProtocol, std::string_view>, 4> kProtocols{{
    {SecurityProtocol::kPlaintext, "PLAINTEXT"},
    {SecurityProtocol::kSsl, "SSL"},
    {SecurityProtocol::kSaslPlaintext, "SASL_PLAINTEXT"},
    {SecurityProtocol::kSaslSsl, "SASL_SSL"},
}};
constexpr std::array<std::pair<SaslMechanism, std::string_view>, 3> kMechanisms{{
    {SaslMechanism::kScramSha512, "SCRAM-SHA-512"},
    {SaslMechanism::kScramSha256, "SCRAM-SHA-256"},
    {SaslMechanism::kPlain, "PLAIN"},
}};

// The properties `security` owns; a caller's extra properties may not change them.
bool IsSecurityProperty(std::string_view name) {
  return name == "security.protocol" || name.starts_with("sasl.") || name.starts_with("ssl.");
}

template <typename Enum, size_t N>
std::vector<std::string> Names(const std::array<std::pair<Enum, std::string_view>, N>& table) {
  std::vector<std::string> names;
  for (const auto& [value, name] : table) names.emplace_back(name);
  return names;
}

template <typename Enum, size_t N>
Enum Parse(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view name) {
  for (const auto& [value, candidate] : table) {
    if (candidate == name) return value;
  }
  return table.front().first;  // Reader::Enum has recorded the error already
}

// A file setting: its path when it names a readable file, else records why not.
std::string ReadableFile(config::Reader& reader, const char* name) {
  std::string path = reader.Optional(name, "");
  if (!path.empty() && !std::ifstream(path).is_open()) {
    reader.AddError(name, absl::StrCat("cannot read \"", path, "\""));
  }
  return path;
}

}  // namespace

std::string_view ProtocolName(SecurityProtocol protocol) {
  for (const auto& [value, name] : kProtocols) {
    if (value == protocol) return name;
  }
  return "?";
}

std::string_view MechanismName(SaslMechanism mechanism) {
  for (const auto& [value, name] : kMechanisms) {
    if (value == mechanism) return name;
  }
  return "?";
}

bool Security::UsesTls() const {
  return protocol == SecurityProtocol::kSsl || protocol == SecurityProtocol::kSaslSsl;
}

bool Security::UsesSasl() const {
  return protocol == SecurityProtocol::kSaslPlaintext || protocol == SecurityProtocol::kSaslSsl;
}

ClusterSettings ReadClusterSettings(config::Reader& reader) {
  ClusterSettings cluster;
  cluster.brokers = absl::StrJoin(
      reader.HostPortList("KLAXON_KAFKA_BROKERS"), ",",
      [](std::string* out, const config::HostPort& broker) { out->append(broker.ToString()); });
  Security& security = cluster.security;
  const std::string protocol = reader.Enum(kProtocolVar, "PLAINTEXT", Names(kProtocols));
  security.protocol = Parse(kProtocols, protocol);
  const std::string protocol_is = absl::StrCat(kProtocolVar, " is ", protocol);

  const std::string mechanism = reader.Enum(kMechanismVar, "SCRAM-SHA-512", Names(kMechanisms));
  security.mechanism = Parse(kMechanisms, mechanism);
  if (security.UsesSasl()) {
    security.sasl_username = reader.Required(kUsernameVar);
    security.sasl_password = reader.Secret(kPasswordVar);
    if (security.mechanism == SaslMechanism::kPlain &&
        security.protocol != SecurityProtocol::kSaslSsl) {
      reader.AddError(kMechanismVar, absl::StrCat("PLAIN sends the password as it is, so it needs ",
                                                  kProtocolVar, "=SASL_SSL (", protocol_is, ")"));
    }
  } else {
    // A SASL setting under a protocol without SASL would be silently ignored: most likely the
    // protocol is what is wrong.
    const bool password_set = !reader.OptionalSecret(kPasswordVar).empty();
    for (const char* name : {kMechanismVar, kUsernameVar}) {
      if (!reader.Optional(name, "").empty()) {
        reader.AddError(
            name, absl::StrCat("is only used with SASL_PLAINTEXT or SASL_SSL (", protocol_is, ")"));
      }
    }
    if (password_set) {
      reader.AddError(kPasswordVar, absl::StrCat("is only used with SASL_PLAINTEXT or SASL_SSL (",
                                                 protocol_is, ")"));
    }
  }

  security.ssl_ca_file = ReadableFile(reader, kCaFileVar);
  security.ssl_cert_file = ReadableFile(reader, kCertFileVar);
  security.ssl_key_file = ReadableFile(reader, kKeyFileVar);
  if (!security.UsesTls()) {
    for (const char* name : {kCaFileVar, kCertFileVar, kKeyFileVar}) {
      if (!reader.Optional(name, "").empty()) {
        reader.AddError(name,
                        absl::StrCat("is only used with SSL or SASL_SSL (", protocol_is, ")"));
      }
    }
  } else if (security.ssl_cert_file.empty() != security.ssl_key_file.empty()) {
    reader.AddError(security.ssl_cert_file.empty() ? kCertFileVar : kKeyFileVar,
                    absl::StrCat("is required with ",
                                 security.ssl_cert_file.empty() ? kKeyFileVar : kCertFileVar,
                                 " (a client certificate needs its key)"));
  }
  return cluster;
}

std::map<std::string, std::string> SecurityProperties(const Security& security) {
  std::map<std::string, std::string> properties = {
      {"security.protocol", std::string(ProtocolName(security.protocol))}};
  if (security.UsesSasl()) {
    properties["sasl.mechanism"] = std::string(MechanismName(security.mechanism));
    properties["sasl.username"] = security.sasl_username;
    properties["sasl.password"] = security.sasl_password;
  }
  if (security.UsesTls()) {
    // librdkafka checks the broker's name against its certificate by default since 1.9; said
    // here so that no other property list can turn it off by accident.
    properties["ssl.endpoint.identification.algorithm"] = "https";
    if (!security.ssl_ca_file.empty()) properties["ssl.ca.location"] = security.ssl_ca_file;
    if (!security.ssl_cert_file.empty()) {
      properties["ssl.certificate.location"] = security.ssl_cert_file;
      properties["ssl.key.location"] = security.ssl_key_file;
    }
  }
  return properties;
}

absl::StatusOr<ConfPtr> MakeClientConf(std::string_view brokers, const Security& security,
                                       std::string_view client_id,
                                       const std::map<std::string, std::string>& properties) {
  std::map<std::string, std::string> all = SecurityProperties(security);
  all["bootstrap.servers"] = std::string(brokers);
  all["client.id"] = std::string(client_id);
  for (const auto& [name, value] : properties) {
    if (IsSecurityProperty(name) || name == "bootstrap.servers") {
      return absl::InvalidArgumentError(absl::StrCat(
          "kafka property ", name, " comes from the cluster settings, not from extra properties"));
    }
    all[name] = value;
  }
  return MakeConf(all);
}

std::optional<std::string> DescribeLinkError(rd_kafka_resp_err_t error, std::string_view reason,
                                             std::string_view brokers, const Security& security) {
  const std::string at(brokers);
  const std::string detail = absl::StrCat(" (librdkafka: ", std::string(reason), ")");
  if (error == RD_KAFKA_RESP_ERR__AUTHENTICATION && security.UsesSasl()) {
    return absl::StrCat("kafka: SASL authentication failed for user \"", security.sasl_username,
                        "\" at ", at, ": check ", kUsernameVar, " and ", kPasswordVar, " (",
                        std::string(MechanismName(security.mechanism)), ")", detail);
  }
  if (error == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
    return absl::StrCat("kafka: the brokers at ", at, " refused this client (",
                        std::string(ProtocolName(security.protocol)), "): check ", kProtocolVar,
                        " and ", kCertFileVar, detail);
  }
  if (error == RD_KAFKA_RESP_ERR__SSL) {
    return absl::StrCat("kafka: TLS handshake with ", at, " failed: check ", kCaFileVar,
                        " (the CA that signed the brokers' certificates, whose names must match ",
                        "KLAXON_KAFKA_BROKERS), ", kCertFileVar, " and ", kKeyFileVar, detail);
  }
  if (error == RD_KAFKA_RESP_ERR__TRANSPORT && !security.UsesTls() &&
      absl::StrContains(std::string(reason), "APIVERSION_QUERY")) {
    // A client speaking plaintext to a TLS listener sees the broker hang up on its first request.
    return absl::StrCat("kafka: the brokers at ", at, " closed the connection at its first request",
                        ": if they expect TLS, set ", kProtocolVar, "=SSL or SASL_SSL", detail);
  }
  return std::nullopt;
}

ClientError ClassifyClientError(rd_kafka_t* client, rd_kafka_resp_err_t error,
                                std::string_view reason, std::string_view brokers,
                                const Security& security, std::string_view role) {
  std::optional<std::string> link = DescribeLinkError(error, reason, brokers, security);
  if (error == RD_KAFKA_RESP_ERR__AUTHENTICATION && link.has_value()) {
    return {.fatal = absl::InternalError(*link)};
  }
  if (error != RD_KAFKA_RESP_ERR__FATAL) {
    if (link.has_value()) return {.level = "error", .message = std::move(*link)};
    return {.level = "warn",
            .message = absl::StrCat(rd_kafka_err2name(error), ": ", std::string(reason))};
  }
  std::array<char, 512> detail{};
  const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(client, detail.data(), detail.size());
  return {.fatal =
              absl::InternalError(absl::StrCat("fatal kafka ", std::string(role), " error ",
                                               rd_kafka_err2name(cause), ": ", detail.data()))};
}

}  // namespace klaxon::kafka
