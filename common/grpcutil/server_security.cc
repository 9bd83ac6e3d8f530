#include "common/grpcutil/server_security.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace klaxon::grpcutil {
namespace {

constexpr char kCertFile[] = "KLAXON_GRPC_TLS_CERT_FILE";
constexpr char kKeyFile[] = "KLAXON_GRPC_TLS_KEY_FILE";
constexpr char kClientCaFile[] = "KLAXON_GRPC_TLS_CLIENT_CA_FILE";
constexpr char kPlaintext[] = "KLAXON_GRPC_PLAINTEXT";

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::StatusOr<BioPtr> OpenFile(const std::string& path) {
  errno = 0;
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    const int error = errno;
    ERR_clear_error();
    return absl::NotFoundError(absl::StrCat(path, ": cannot be read (",
                                            error != 0 ? std::strerror(error) : "unknown", ")"));
  }
  return bio;
}

// The first certificate of a PEM file; the rest of a chain is gRPC's to send.
absl::StatusOr<X509Ptr> ReadFirstCertificate(const std::string& path) {
  absl::StatusOr<BioPtr> bio = OpenFile(path);
  if (!bio.ok()) return bio.status();
  X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": holds no PEM certificate"));
  }
  return cert;
}

absl::StatusOr<PkeyPtr> ReadPrivateKey(const std::string& path) {
  absl::StatusOr<BioPtr> bio = OpenFile(path);
  if (!bio.ok()) return bio.status();
  // An empty passphrase callback result: an encrypted key fails here instead of prompting.
  PkeyPtr key(PEM_read_bio_PrivateKey(
      bio->get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": holds no unencrypted PEM private key"));
  }
  return key;
}

// Checks what gRPC will load, so that a bad file stops the service at start with the variable
// named, rather than failing each handshake with a log line from gRPC's watcher thread.
void CheckTlsFiles(const ServerTlsFiles& files, config::Reader& reader) {
  absl::StatusOr<X509Ptr> cert = ReadFirstCertificate(files.cert_file);
  if (!cert.ok()) reader.AddError(kCertFile, std::string(cert.status().message()));
  absl::StatusOr<PkeyPtr> key = ReadPrivateKey(files.key_file);
  if (!key.ok()) reader.AddError(kKeyFile, std::string(key.status().message()));
  if (cert.ok() && key.ok() && X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    reader.AddError(kKeyFile, absl::StrCat(files.key_file, ": is not the key of the certificate in ",
                                           kCertFile, " (", files.cert_file, ")"));
  }
  if (!files.client_ca_file.empty()) {
    absl::StatusOr<X509Ptr> ca = ReadFirstCertificate(files.client_ca_file);
    if (!ca.ok()) reader.AddError(kClientCaFile, std::string(ca.status().message()));
  }
}

}  // namespace

ServerSecurity ReadServerSecurity(config::Reader& reader) {
  const bool plaintext = reader.Bool(kPlaintext, false);
  ServerTlsFiles files{.cert_file = reader.Optional(kCertFile, ""),
                       .key_file = reader.Optional(kKeyFile, ""),
                       .client_ca_file = reader.Optional(kClientCaFile, "")};
  const bool any_tls =
      !files.cert_file.empty() || !files.key_file.empty() || !files.client_ca_file.empty();
  if (plaintext) {
    if (any_tls) {
      reader.AddError(kPlaintext, absl::StrCat("is true while TLS files are set (", kCertFile, ", ",
                                               kKeyFile, ", ", kClientCaFile,
                                               "); choose one"));
    }
    return ServerSecurity{};
  }
  if (!any_tls) {
    reader.AddError(kCertFile, absl::StrCat("is required with ", kKeyFile,
                                            " for TLS on the gRPC port; set ", kPlaintext,
                                            "=true instead for plaintext (development only)"));
    return ServerSecurity{};
  }
  if (files.cert_file.empty()) reader.AddError(kCertFile, "is required for TLS on the gRPC port");
  if (files.key_file.empty()) reader.AddError(kKeyFile, "is required for TLS on the gRPC port");
  if (!files.cert_file.empty() && !files.key_file.empty()) CheckTlsFiles(files, reader);
  return ServerSecurity{.tls = std::move(files)};
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const ServerSecurity& security, const log::Logger& logger,
    const ServerCredentialsOptions& options) {
  if (!security.tls.has_value()) {
    logger.Warn("grpc_plaintext",
                {{"detail", absl::StrCat(kPlaintext,
                                         "=true: the gRPC port serves without TLS, so API keys "
                                         "and personal data cross the network in clear text; "
                                         "development only")}});
    return grpc::InsecureServerCredentials();
  }
  const ServerTlsFiles& files = *security.tls;
  const auto refresh_seconds = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(options.refresh_interval)));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.client_ca_file, refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (files.client_ca_file.empty()) {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    tls.watch_root_certs();
    tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  logger.Info("grpc_tls", {{"cert_file", files.cert_file},
                           {"client_ca_file", files.client_ca_file},
                           {"client_certificate_required", !files.client_ca_file.empty()},
                           {"refresh_seconds", refresh_seconds}});
  return grpc::experimental::TlsServerCredentials(tls);
}

}  // namespace klaxon::grpcutil
