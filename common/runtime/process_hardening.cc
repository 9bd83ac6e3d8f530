#include "common/runtime/process_hardening.h"

#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace klaxon::runtime {
namespace {

absl::Status Failed(std::string_view call) {
  return absl::InternalError(absl::StrCat(std::string(call), " failed: ", std::strerror(errno)));
}

}  // namespace

absl::Status HardenProcess() {
  const rlimit no_core{.rlim_cur = 0, .rlim_max = 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return Failed("setrlimit(RLIMIT_CORE, 0)");
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Failed("prctl(PR_SET_DUMPABLE, 0)");
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return Failed("getrlimit(RLIMIT_NOFILE)");
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0) return Failed("setrlimit(RLIMIT_NOFILE)");
  }
  return absl::OkStatus();
}

void HardenProcessOrExit(std::string_view service) {
  const absl::Status hardened = HardenProcess();
  if (hardened.ok()) return;
  // Before the logger exists; the message holds no secret.
  std::fprintf(stderr,
               "{\"level\":\"error\",\"service\":\"%.*s\",\"event\":\"hardening_failed\","
               "\"error\":\"%s\"}\n",
               static_cast<int>(service.size()), service.data(),
               std::string(hardened.message()).c_str());
  std::exit(1);
}

void WipeSecret(std::string& secret) {
  // The whole buffer, not just size(): a moved-from or shortened string keeps old bytes there.
  secret.resize(secret.capacity());
  OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

}  // namespace klaxon::runtime
