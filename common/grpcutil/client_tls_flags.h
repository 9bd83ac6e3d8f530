#pragma once
// The --ca, --cert, --key, --tls and --plaintext flags of every Klaxon gRPC client, added to a
// CLI11 app in one place (channel_security.h has what they mean). Header-only: its users
// (klaxonctl, the bench load generators) compile with CLI11 already; klaxon_grpcutil does not.

#include "CLI/CLI.hpp"
#include "common/grpcutil/channel_security.h"

namespace klaxon::grpcutil {

// Binds the flags to `options`; pre-fill it from ClientTlsOptionsFromEnvironment so that the
// environment gives the defaults and flags override them.
inline void AddClientTlsFlags(CLI::App& app, ClientTlsOptions& options) {
  app.add_option("--ca", options.ca_file,
                 "trust this PEM CA bundle for the server's certificate (implies TLS) "
                 "[env KLAXON_CA_FILE]");
  app.add_option("--cert", options.cert_file,
                 "present this PEM client certificate, for servers that require one (with "
                 "--key; implies TLS) [env KLAXON_CERT_FILE]");
  app.add_option("--key", options.key_file,
                 "the PEM private key of --cert [env KLAXON_KEY_FILE]");
  app.add_flag("--tls", options.tls, "use TLS with gRPC's default root certificates");
  app.add_flag("--plaintext", options.plaintext,
               "no TLS, even to a remote server (without any of these flags, plaintext is used "
               "only to a loopback address and TLS to anything else)");
}

}  // namespace klaxon::grpcutil
