#pragma once
// A child process for end-to-end tests: started with its own environment, output to a log file,
// stopped with SIGTERM (then SIGKILL) when the object goes away.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace klaxon::e2e {

class ChildProcess {
 public:
  // Starts `argv` with exactly `env` as its environment; stdout and stderr go to `log_path`.
  ChildProcess(std::vector<std::string> argv, const std::map<std::string, std::string>& env,
               std::string log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // SIGTERM, then waits up to `grace` before SIGKILL. Returns the exit code (128+signal if
  // killed).
  int Stop(absl::Duration grace = absl::Seconds(15));
  // The exit code if it has exited by `deadline`, nullopt if it still runs.
  std::optional<int> WaitForExit(absl::Duration timeout);
  bool Running();
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

// A loopback TCP port that was free a moment ago.
int FreePort();

// GET `url`, or POST `post_body` to it when given; the HTTP status, or 0 when nothing answered.
// The response body goes to `body` if given.
long HttpRequest(const std::string& url, const std::string* post_body, std::string* body);
long HttpGet(const std::string& url, std::string* body = nullptr);
long HttpPost(const std::string& url, const std::string& post_body, std::string* body = nullptr);

}  // namespace klaxon::e2e
