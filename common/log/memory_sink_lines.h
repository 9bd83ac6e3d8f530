#pragma once

// Reading what a log::MemorySink kept, for tests.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/log/log.h"

namespace klaxon::log {

// How many of `sink`'s lines hold `text` (an event's name, say).
inline int LinesContaining(const MemorySink& sink, std::string_view text) {
  const std::vector<std::string> lines = sink.Lines();
  return static_cast<int>(std::count_if(
      lines.begin(), lines.end(),
      [text](const std::string& line) { return line.find(text) != std::string::npos; }));
}

}  // namespace klaxon::log
