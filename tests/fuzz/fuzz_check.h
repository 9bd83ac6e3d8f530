// Property checks for Klaxon's fuzz targets. A violated property prints its name and aborts:
// libFuzzer reports that as a crash and keeps the input, and the replay test (replay_main.cc)
// fails.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace klaxon::fuzz {

inline void Require(bool holds, std::string_view property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property violated: %.*s\n", static_cast<int>(property.size()),
               property.data());
  std::abort();
}

}  // namespace klaxon::fuzz
