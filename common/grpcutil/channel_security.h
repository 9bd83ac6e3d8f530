#pragma once
// How Klaxon's gRPC clients (klaxonctl, the bench load generators) secure their channel, decided
// in one place from --ca/--cert/--key/--tls/--plaintext (or KLAXON_CA_FILE, KLAXON_CERT_FILE,
// KLAXON_KEY_FILE). The rule (docs/adr/0011):
//   - --ca, --cert/--key or --tls: TLS, trusting --ca's CA bundle, else gRPC's default roots, and
//     presenting --cert/--key (both or neither) to a server that asks for a client certificate;
//   - --plaintext: no TLS, to any target (contradicting flags are a usage error);
//   - none of them: plaintext only to a loopback target (127.0.0.1, ::1, localhost, a unix
//     socket), TLS with the default roots to anything else; so no flag ever sends an API key
//     across a network in clear text.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace klaxon::grpcutil {

// What a client was told, before any file is read.
struct ClientTlsOptions {
  std::string ca_file;     // PEM CA bundle to trust instead of gRPC's default roots
  std::string cert_file;   // PEM client certificate chain, for servers that require mTLS
  std::string key_file;    // its PEM private key
  bool tls = false;        // TLS even without a file
  bool plaintext = false;  // no TLS even to a remote target
};

inline constexpr char kCaFileEnv[] = "KLAXON_CA_FILE";
inline constexpr char kCertFileEnv[] = "KLAXON_CERT_FILE";
inline constexpr char kKeyFileEnv[] = "KLAXON_KEY_FILE";

// The file options from KLAXON_CA_FILE, KLAXON_CERT_FILE and KLAXON_KEY_FILE (unset or empty:
// none), for flags to override.
ClientTlsOptions ClientTlsOptionsFromEnvironment(
    const std::function<std::optional<std::string>(const std::string& name)>& get_env);

// The decided security of one channel, files read.
struct ChannelSecurity {
  bool tls = false;
  std::string ca_file;     // where root_certs came from; empty: gRPC's default roots
  std::string root_certs;  // PEM
  std::string cert_chain;  // PEM; with private_key, the client certificate
  std::string private_key;

  // "plaintext", "TLS (default roots)", "TLS (CA /etc/klaxon/ca.pem, client certificate)": for
  // messages about the link.
  std::string Describe() const;
};

using ReadFileFn = std::function<absl::StatusOr<std::string>(const std::string& path)>;

// Reads the whole file; an error names the path and the reason.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// Applies the rule above for a channel to `target` (host:port, [v6]:port, or a gRPC URI).
// kInvalidArgument for contradicting options, a certificate without its key (or the reverse), or
// a file that cannot be read (named).
absl::StatusOr<ChannelSecurity> ResolveChannelSecurity(const ClientTlsOptions& options,
                                                       std::string_view target,
                                                       const ReadFileFn& read_file = ReadWholeFile);

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const ChannelSecurity& security);

// A failed call's status with the link named when the channel failed rather than the server
// answering: "TLS handshake with <link> failed: ..." when TLS could not be set up, "cannot reach
// <link> (<security>): ..." when no connection was made. <link> is e.g. "ingress gRPC at
// 10.0.0.7:50051". Any other status, and any status when `link` is empty, is returned unchanged.
absl::Status NameLinkFailure(const absl::Status& status, std::string_view link,
                             const ChannelSecurity& security);

}  // namespace klaxon::grpcutil
