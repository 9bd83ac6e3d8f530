#pragma once
// A child process for integration and end-to-end tests: a service, a tool or a broker started
// with its own environment, output to a log file, stopped with SIGTERM (then SIGKILL) or killed
// outright, and never outliving the test that started it.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace klaxon::testing {

class ChildProcess {
 public:
  // Starts `argv` (argv[0] is a path, PATH is not searched) with exactly `env` as its
  // environment; stdout and stderr go to `log_path`. The child gets SIGKILL if the thread that
  // started it dies, so a crashed or timed-out test leaves nothing running.
  ChildProcess(std::vector<std::string> argv, const std::map<std::string, std::string>& env,
               std::string log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // SIGTERM, then waits up to `grace` before SIGKILL. Returns the exit code (128+signal if
  // killed).
  int Stop(absl::Duration grace = absl::Seconds(15));
  // SIGTERM without waiting, so several processes drain at once; Stop() then waits (and signals
  // again, which Klaxon's services ignore once they are stopping).
  void RequestStop();
  // SIGKILL at once, as a crash or an OOM kill would end it; returns once it is gone.
  int Kill();
  // The exit code if it has exited by `deadline`, nullopt if it still runs.
  std::optional<int> WaitForExit(absl::Duration timeout);
  bool Running();
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

// What tells that a process serves: its readiness endpoint's 200, or any HTTP answer at all (a
// route that refuses the probe still proves its listener is up).
enum class Serving { kAnswers200, kAnswersAnything };

// Polls `url` until it answers as `serving` says (success), `process` exits or `timeout` passes
// (failure, with the process's log).
::testing::AssertionResult WaitUntilServing(ChildProcess& process, const std::string& url,
                                            absl::Duration timeout,
                                            Serving serving = Serving::kAnswers200);

// The sanitizer settings of the test run (ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS, those that
// are set), for the environment of the processes a test starts.
std::map<std::string, std::string> SanitizerEnvironment();

// The environment variables a test passes on to the tools it runs (PATH, HOME, KLAXON_CACHE,
// JAVA_HOME, those that are set), plus the sanitizer settings.
std::map<std::string, std::string> ToolEnvironment();

// A loopback TCP port that was free a moment ago, outside the kernel's ephemeral range, handed
// to no other caller in this process nor in any other test process while this one runs.
int FreePort();

}  // namespace klaxon::testing
