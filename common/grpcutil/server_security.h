#pragma once
// How a Klaxon gRPC server (ingress, audit) secures its port, read from the environment in one
// place for both: TLS from a certificate and key file that are re-read while the server runs
// (cert-manager rotates them in place), optionally requiring a client certificate signed by a
// given CA (mTLS, on top of the caller's API key), or plaintext, which only an explicit
// KLAXON_GRPC_PLAINTEXT=true gives and which is logged as a warning at start. docs/adr/0011.

#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "grpcpp/security/server_credentials.h"

namespace klaxon::grpcutil {

struct ServerTlsFiles {
  std::string cert_file;       // PEM chain, the server's certificate first
  std::string key_file;        // PEM private key of that certificate
  std::string client_ca_file;  // PEM CA bundle; empty: no client certificate is asked for
};

struct ServerSecurity {
  // nullopt means plaintext, which ReadServerSecurity returns only for KLAXON_GRPC_PLAINTEXT=true.
  std::optional<ServerTlsFiles> tls;
};

// Reads KLAXON_GRPC_TLS_CERT_FILE, KLAXON_GRPC_TLS_KEY_FILE, KLAXON_GRPC_TLS_CLIENT_CA_FILE and
// KLAXON_GRPC_PLAINTEXT. Records an error on `reader` (naming the variables and paths, never a
// key) when neither TLS files nor KLAXON_GRPC_PLAINTEXT=true are given, when both are, when only
// one of the certificate and key is given, when a file cannot be read or holds no PEM certificate
// or key, or when the key does not belong to the certificate: a bad file stops the service at
// start rather than failing every handshake later.
ServerSecurity ReadServerSecurity(config::Reader& reader);

struct ServerCredentialsOptions {
  // How often the files are re-read; a rotated certificate serves new handshakes after at most
  // this long. gRPC counts in whole seconds, at least one.
  absl::Duration refresh_interval = absl::Minutes(1);
};

// The credentials `security` asks for: gRPC's TLS credentials over a FileWatcherCertificateProvider
// (requiring and verifying a client certificate when a client CA is set), or insecure ones after
// a "grpc_plaintext" warning on `logger`. Pass as ServerOptions::credentials.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const ServerSecurity& security, const log::Logger& logger,
    const ServerCredentialsOptions& options = {});

}  // namespace klaxon::grpcutil
