#include "common/grpcutil/channel_security.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/abseil/string_view.h"
#include "common/config/config.h"
#include "common/config/loopback.h"

namespace klaxon::grpcutil {
namespace {

using abseil::AbslView;

// Whether a channel to `target` stays on this machine: a unix socket, or host:port (possibly
// behind gRPC's "dns:///" or "ipv4:"/"ipv6:" schemes) with a loopback host.
bool IsLoopbackTarget(std::string_view target) {
  if (target.starts_with("unix:") || target.starts_with("unix-abstract:")) return true;
  for (std::string_view scheme : {"dns:///", "ipv4:", "ipv6:"}) {
    if (target.starts_with(scheme)) {
      target.remove_prefix(scheme.size());
      break;
    }
  }
  const absl::StatusOr<config::HostPort> parsed = config::ParseHostPort(target);
  return parsed.ok() && config::IsLoopbackHost(parsed->host);
}

// The channel failed at connecting or at the TLS handshake, as gRPC core words it; a server's
// own UNAVAILABLE (e.g. "Kafka did not acknowledge") matches none of these.
bool IsTransportFailure(std::string_view lower) {
  for (std::string_view sign : {"failed to connect", "connection refused", "socket closed",
                                "connection reset", "end of tcp stream", "handshake", "broken pipe",
                                "connection closed", "dns resolution failed"}) {
    if (absl::StrContains(AbslView(lower), AbslView(sign))) return true;
  }
  return false;
}

bool IsTlsFailure(std::string_view lower) {
  for (std::string_view sign : {"handshake", "ssl", "tls", "certificate"}) {
    if (absl::StrContains(AbslView(lower), AbslView(sign))) return true;
  }
  return false;
}

}  // namespace

ClientTlsOptions ClientTlsOptionsFromEnvironment(
    const std::function<std::optional<std::string>(const std::string& name)>& get_env) {
  const auto value = [&get_env](const char* name) { return get_env(name).value_or(""); };
  return ClientTlsOptions{.ca_file = value(kCaFileEnv),
                          .cert_file = value(kCertFileEnv),
                          .key_file = value(kKeyFileEnv)};
}

std::string ChannelSecurity::Describe() const {
  if (!tls) return "plaintext";
  std::vector<std::string> parts = {ca_file.empty() ? "default roots"
                                                    : absl::StrCat("CA ", ca_file)};
  if (!cert_chain.empty()) parts.emplace_back("client certificate");
  return absl::StrCat("TLS (", absl::StrJoin(parts, ", "), ")");
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) return absl::FailedPreconditionError(absl::StrCat(path, ": read error"));
  return content.str();
}

absl::StatusOr<ChannelSecurity> ResolveChannelSecurity(const ClientTlsOptions& options,
                                                       std::string_view target,
                                                       const ReadFileFn& read_file) {
  const bool asked_for_tls = options.tls || !options.ca_file.empty() ||
                             !options.cert_file.empty() || !options.key_file.empty();
  if (options.plaintext && asked_for_tls) {
    return absl::InvalidArgumentError(
        "--plaintext contradicts --tls, --ca, --cert and --key (and KLAXON_CA_FILE, "
        "KLAXON_CERT_FILE, KLAXON_KEY_FILE)");
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--cert and --key (KLAXON_CERT_FILE, KLAXON_KEY_FILE) go together");
  }
  ChannelSecurity security{
      .tls = asked_for_tls || (!options.plaintext && !IsLoopbackTarget(target)),
      .ca_file = options.ca_file};
  const auto read = [&read_file](const std::string& path, const char* what,
                                 std::string& into) -> absl::Status {
    if (path.empty()) return absl::OkStatus();
    absl::StatusOr<std::string> content = read_file(path);
    if (!content.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", content.status().message()));
    }
    into = *std::move(content);
    return absl::OkStatus();
  };
  for (absl::Status status : {read(options.ca_file, "--ca", security.root_certs),
                              read(options.cert_file, "--cert", security.cert_chain),
                              read(options.key_file, "--key", security.private_key)}) {
    if (!status.ok()) return status;
  }
  return security;
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const ChannelSecurity& security) {
  if (!security.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = security.root_certs;  // empty: gRPC's default roots
  ssl.pem_cert_chain = security.cert_chain;
  ssl.pem_private_key = security.private_key;
  return grpc::SslCredentials(ssl);
}

absl::Status NameLinkFailure(const absl::Status& status, std::string_view link,
                             const ChannelSecurity& security) {
  if (link.empty() || status.code() != absl::StatusCode::kUnavailable) return status;
  const std::string lower = absl::AsciiStrToLower(status.message());
  if (!IsTransportFailure(lower)) return status;
  if (security.tls && IsTlsFailure(lower)) {
    return absl::UnavailableError(absl::StrCat("TLS handshake with ", AbslView(link), " failed (",
                                               security.Describe(), "): ", status.message()));
  }
  // A plaintext client at a TLS port sees the connection closed, nothing about TLS.
  return absl::UnavailableError(absl::StrCat(
      "cannot reach ", AbslView(link), " (", security.Describe(), "): ", status.message(),
      security.tls ? "" : "; if it serves TLS, pass --ca (or --tls)"));
}

}  // namespace klaxon::grpcutil
