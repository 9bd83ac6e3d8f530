#pragma once
// What every Klaxon process does to its own memory before it reads a secret: no core dumps
// (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0: no core even if a limit is raised later,
// and no ptrace or /proc/<pid>/mem reads by other processes of the same user), so an auth token,
// an API key hash or a data key never lands in a core file. Also raises the open-file soft limit
// to the hard limit, since a server's connection caps assume the descriptors exist. Secrets are
// wiped from buffers once they sit in their final holders (WipeSecret).

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace klaxon::runtime {

// kInternal naming the call that failed.
absl::Status HardenProcess();

// For mains, first thing: HardenProcess(), or a JSON line on stderr and exit code 1.
void HardenProcessOrExit(std::string_view service);

// Overwrites every byte of `secret`'s buffer (OPENSSL_cleanse: not optimised away) and empties
// it.
void WipeSecret(std::string& secret);

}  // namespace klaxon::runtime
